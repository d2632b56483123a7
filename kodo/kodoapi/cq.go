package kodoapi

// CQSpec is one CQ to create: aggr_func(*) of measurement per
// aggr_period, run every aggr_every, into the database's CQ RP. Durations
// look like 1w, 1d, 1h, 1m, 1s.
type CQSpec struct {
	Measurement string `json:"measurement"`
	AggrFunc    string `json:"aggr_func"`
	AggrPeriod  string `json:"aggr_period"`
	AggrEvery   string `json:"aggr_every"`
}

// CQCreateRequest is the body of /v1/cq/create; DBUUID "" names the
// workspace's first database. Either every entry is created or none.
type CQCreateRequest struct {
	DBUUID        string   `json:"db_uuid"`
	WorkspaceUUID string   `json:"workspace_uuid"`
	Measurements  []CQSpec `json:"measurements"`
}

// CQModifyRequest is the body of /v1/cq/modify: the CQ's function, period
// or interval change where set. Measurement cannot change.
type CQModifyRequest struct {
	CQUUID        string `json:"cq_uuid"`
	WorkspaceUUID string `json:"workspace_uuid"`
	AggrFunc      string `json:"aggr_func,omitempty"`
	AggrPeriod    string `json:"aggr_period,omitempty"`
	AggrEvery     string `json:"aggr_every,omitempty"`
}

// CQRef is the body of /v1/cq/delete.
type CQRef struct {
	CQUUID        string `json:"cq_uuid"`
	WorkspaceUUID string `json:"workspace_uuid"`
}

// CQ is a continuous query as the gateway records it; /v1/cq/create
// answers a list of them and /v1/cq/modify one. Field order is the API
// text's.
type CQ struct {
	AggrEvery     string `json:"aggr_every"`
	WorkspaceUUID string `json:"workspace_uuid"`
	CQUUID        string `json:"cq_uuid"`
	DBUUID        string `json:"db_uuid"`
	DB            string `json:"db"`
	RP            string `json:"rp"`
	CQRP          string `json:"cqrp"`
	Measurement   string `json:"measurement"`
	AggrPeriod    string `json:"aggr_period"`
	AggrFunc      string `json:"aggr_func"`
}

// CQSyncReport says what /v1/cq/syncupdate changed in the engines (CQ
// UUIDs).
type CQSyncReport struct {
	Created   []string `json:"created"`
	Updated   []string `json:"updated"`
	Deleted   []string `json:"deleted"`
	Unchanged []string `json:"unchanged"`
	// Refused lists recorded CQs that today's rules refuse (a limit
	// tightened since they were made); the engine no longer runs them.
	Refused []CQRefusal `json:"refused,omitempty"`
}

// CQRefusal is a recorded CQ the gateway no longer runs, and why.
type CQRefusal struct {
	CQUUID string `json:"cq_uuid"`
	Reason string `json:"reason"`
}
