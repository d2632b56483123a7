package kodoapi

// CardinalityLimits are a database's write limits as a request sets them;
// nil keeps the current value (the gateway default for a new database),
// 0 means the gateway default and -1 no limit.
type CardinalityLimits struct {
	MaxSeriesPerDB  *int `json:"max_series_per_db,omitempty"`
	MaxValuesPerTag *int `json:"max_values_per_tag,omitempty"`
}

// CreateWorkspaceRequest is the body of /v1/workspace/create; every field
// is optional (CQRP nil: autogen).
type CreateWorkspaceRequest struct {
	Name      string   `json:"name,omitempty"`
	DefaultRP string   `json:"default_rp,omitempty"`
	CQRP      *string  `json:"cqrp,omitempty"`
	RPList    []string `json:"rp_list,omitempty"`
	CardinalityLimits
}

// Workspace is the answer of /v1/workspace/create: the new workspace, its
// token and its database.
type Workspace struct {
	CQRP   string         `json:"cqrp"`
	DB     string         `json:"db"`
	DBUUID string         `json:"db_uuid"`
	Limits DatabaseLimits `json:"limits"`
	RP     string         `json:"rp"`
	RPList []string       `json:"rp_list"`
	// Secret signs the workspace's writes. It is shown only here and by
	// /v1/workspace/secret/rotate: keep it.
	Secret        string `json:"secret"`
	Token         string `json:"token"`
	InstanceUUID  string `json:"uuid"`
	WorkspaceUUID string `json:"workspace_uuid"`
}

// WorkspaceRef is the body of the calls that name only a workspace
// (/v1/workspace/delete, /v1/workspace/keypair/create).
type WorkspaceRef struct {
	WorkspaceUUID string `json:"workspace_uuid"`
}

// WorkspaceDeleted is the answer of /v1/workspace/delete.
type WorkspaceDeleted struct {
	DeletedDatabases []string `json:"deleted_databases"`
	WorkspaceUUID    string   `json:"workspace_uuid"`
}

// RotateSecretRequest is the body of /v1/workspace/secret/rotate.
type RotateSecretRequest struct {
	WorkspaceUUID string `json:"workspace_uuid"`
	// Overlap is how long the replaced secret still verifies ("24h",
	// "0s"); empty: the gateway's -secret-overlap.
	Overlap string `json:"overlap,omitempty"`
}

// Secret is the answer of /v1/workspace/secret/rotate.
type Secret struct {
	AllowMD5Key bool `json:"allow_md5_key"`
	// PreviousValidUntil is when the replaced secret stops verifying
	// (RFC 3339); absent when it stopped at once or there was none.
	PreviousValidUntil string `json:"previous_secret_valid_until,omitempty"`
	Secret             string `json:"secret"`
	WorkspaceUUID      string `json:"workspace_uuid"`
}

// SigningRequest is the body of /v1/workspace/signing: whether DATAFLUX
// signatures keyed by the body's MD5 (agents without the secret) verify.
type SigningRequest struct {
	WorkspaceUUID string `json:"workspace_uuid"`
	AllowMD5Key   *bool  `json:"allow_md5_key"`
}

// Signing is the answer of /v1/workspace/signing.
type Signing struct {
	AllowMD5Key   bool   `json:"allow_md5_key"`
	WorkspaceUUID string `json:"workspace_uuid"`
}

// KeyPair is a DWAY access key / secret key pair of a workspace, the
// answer of /v1/workspace/keypair/create.
type KeyPair struct {
	AccessKey     string `json:"access_key"`
	SecretKey     string `json:"secret_key"`
	WorkspaceUUID string `json:"workspace_uuid"`
}

// WorkspaceLimitsRequest is the body of /v1/workspace/limits: the limits
// given apply to every database of the workspace.
type WorkspaceLimitsRequest struct {
	WorkspaceUUID string `json:"workspace_uuid"`
	CardinalityLimits
}

// DatabaseLimits are a database's write limits: as set (0: the gateway
// default) and in effect (-1: no limit).
type DatabaseLimits struct {
	DBUUID                   string `json:"db_uuid"`
	MaxSeriesPerDB           int    `json:"max_series_per_db"`
	MaxValuesPerTag          int    `json:"max_values_per_tag"`
	EffectiveMaxSeriesPerDB  int    `json:"effective_max_series_per_db"`
	EffectiveMaxValuesPerTag int    `json:"effective_max_values_per_tag"`
}

// WorkspaceLimits is the answer of /v1/workspace/limits.
type WorkspaceLimits struct {
	WorkspaceUUID string           `json:"workspace_uuid"`
	Databases     []DatabaseLimits `json:"databases"`
}
