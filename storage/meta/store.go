package meta

import (
	"context"
	"errors"
	"time"
)

// ErrNotFound is returned when a record does not exist.
var ErrNotFound = errors.New("not found")

// ErrConflict is returned when a unique name, token or key is already taken.
var ErrConflict = errors.New("already exists")

// ErrLimit is returned when a record would exceed a count limit the
// caller set (CreatePandoraSeries' maxPerRepo).
var ErrLimit = errors.New("limit reached")

// ErrInvalid is returned when a record is rejected before it reaches the
// backend (an empty UUID, a database that names another workspace, ...).
var ErrInvalid = errors.New("invalid record")

// Workspace owns a token and one InfluxDB database.
type Workspace struct {
	UUID      string // wksp_ + 32 hex
	Name      string
	Token     string // tkn_ + 32 hex
	Secret    string // optional DATAFLUX signing secret; "" = key on the body's MD5
	CreatedAt time.Time
	// PrevSecret is the secret a rotation replaced; it still verifies
	// until PrevSecretUntil, so agents can switch.
	PrevSecret      string
	PrevSecretUntil time.Time
	// AllowBodyKey accepts DATAFLUX signatures keyed by the MD5 of the
	// body, which anyone who saw the token can make. False (refused) for
	// workspaces created by the gateway; the schema migration sets it for
	// workspaces that existed before secrets, until an operator turns it off.
	AllowBodyKey bool
}

// Database is a workspace's InfluxDB database, placed on one instance.
type Database struct {
	UUID          string // ifdb_ + 32 hex
	WorkspaceUUID string
	Name          string // the database name inside the engine
	InstanceUUID  string // iflx_ + 32 hex
	DefaultRP     string
	CQRP          string
	RPs           []string
	CreatedAt     time.Time
	Limits        DatabaseLimits
}

// DatabaseLimits override the gateway's write limits for one database:
// 0 takes the gateway's default, -1 lifts the limit, n > 0 sets it.
type DatabaseLimits struct {
	MaxSeries       int // series in the database
	MaxValuesPerTag int // values of one tag key of a measurement
}

// Instance is a time-series engine instance. URL is empty for the embedded engine.
type Instance struct {
	UUID string
	URL  string
}

// KeyPair is an access key / secret key pair of a workspace (DWAY signatures).
type KeyPair struct {
	AccessKey     string
	SecretKey     string
	WorkspaceUUID string
}

// ContinuousQuery is a downsampling rule of a database.
type ContinuousQuery struct {
	UUID          string // cq_ + 32 hex
	WorkspaceUUID string
	DBUUID        string
	Measurement   string
	AggrFunc      string
	AggrPeriod    string
	AggrEvery     string
	CreatedAt     time.Time
}

// PandoraKeyPair is a Pandora TSDB v4 access key and its secret.
type PandoraKeyPair struct {
	AccessKey string
	SecretKey string
	CreatedAt time.Time
}

// PandoraRepo is a Pandora repo: one engine database owned by one access key.
type PandoraRepo struct {
	AccessKey string
	Name      string
	Region    string
	Metadata  map[string]string // never nil when read from a Store
	CreatedAt time.Time
	Deleting  bool
}

// PandoraSeries is a measurement of a repo with its own retention.
type PandoraSeries struct {
	AccessKey string
	Repo      string
	Name      string
	Retention string // "1d".."30d"
	Metadata  map[string]string
	Type      int // 1: created by the user
	CreatedAt time.Time
	Deleting  bool
}

// PandoraView is a named SELECT over a repo's series.
type PandoraView struct {
	AccessKey string
	Repo      string
	Name      string
	SQL       string
	Retention string
	Metadata  map[string]string
	CreatedAt time.Time
}

// Store keeps the gateway's metadata. SQLite (embedded default) and
// PostgreSQL implement it and pass the same suite (metatest).
// Methods return ErrNotFound / ErrConflict / ErrInvalid wrapped in an *Error
// where they apply; test them with errors.Is. Lists and maps are never nil.
// A zero CreatedAt is stored as the time of the call. Deleting a database
// also deletes its measurement RPs, dropping records and CQs.
type Store interface {
	// CreateWorkspace stores a workspace and its database in one transaction.
	// An empty db.WorkspaceUUID is taken from w. ErrConflict: UUID, token,
	// database UUID or (instance, database name) taken. Workspace names
	// need not be unique.
	CreateWorkspace(ctx context.Context, w Workspace, db Database) error
	// WorkspaceByToken is on every write request. Errors never quote the token.
	WorkspaceByToken(ctx context.Context, token string) (Workspace, error)
	Workspace(ctx context.Context, uuid string) (Workspace, error)
	// RotateWorkspaceSecret makes secret the workspace's secret in one
	// step; the one it replaces (if any) keeps verifying until prevUntil.
	// Returns the updated workspace; ErrNotFound for an unknown uuid.
	RotateWorkspaceSecret(ctx context.Context, uuid, secret string, prevUntil time.Time) (Workspace, error)
	// SetWorkspaceBodyKey sets AllowBodyKey; ErrNotFound for an unknown uuid.
	SetWorkspaceBodyKey(ctx context.Context, uuid string, allow bool) error

	// RememberSignature records a signature key until expires (the replay
	// cache). It returns false, recording nothing, when the key is already
	// recorded with an expiry after now: the signature was seen before.
	// Concurrent calls with one key from any number of gateways sharing
	// the store: exactly one gets true.
	RememberSignature(ctx context.Context, key string, now, expires time.Time) (bool, error)
	// ForgetSignatures deletes the records that expired at or before now.
	ForgetSignatures(ctx context.Context, now time.Time) error
	// ForgetSignature deletes one record (a request refused for capacity
	// had no effect, so its client may send it again); absent is no error.
	ForgetSignature(ctx context.Context, key string) error

	// CreateDatabase: ErrNotFound when the workspace does not exist.
	CreateDatabase(ctx context.Context, db Database) error
	Database(ctx context.Context, uuid string) (Database, error)
	// DatabasesByWorkspace lists oldest first (CreatedAt, then UUID).
	DatabasesByWorkspace(ctx context.Context, workspaceUUID string) ([]Database, error)
	// UpdateDatabase rewrites DefaultRP, CQRP and RPs of an existing database.
	UpdateDatabase(ctx context.Context, db Database) error
	// SetDatabaseLimits rewrites the Limits of an existing database.
	SetDatabaseLimits(ctx context.Context, uuid string, l DatabaseLimits) error
	DeleteDatabase(ctx context.Context, uuid string) error

	// UpsertInstance records an engine instance or changes its URL
	// (idempotent). A URL registered under another UUID is ErrConflict.
	UpsertInstance(ctx context.Context, in Instance) error
	// Instances lists by UUID.
	Instances(ctx context.Context) ([]Instance, error)
	// InstanceLoad counts the databases placed on each instance, for
	// placement: registered instances (0 included) and any instance a
	// database names without being registered.
	InstanceLoad(ctx context.Context) (map[string]int, error)

	// SetMeasurementRPs upserts which RP each measurement of a db was
	// written to (ErrNotFound for an unknown db; an empty map is a no-op).
	SetMeasurementRPs(ctx context.Context, dbUUID string, rpByMeasurement map[string]string) error
	MeasurementRPs(ctx context.Context, dbUUID string) (map[string]string, error)
	DeleteMeasurementRP(ctx context.Context, dbUUID, measurement string) error

	// AddKeyPair: ErrConflict when either key equals any key of another pair.
	AddKeyPair(ctx context.Context, kp KeyPair) error
	// KeyPairByID finds the pair whose access key or secret key equals id.
	KeyPairByID(ctx context.Context, id string) (KeyPair, error)

	// DatakitOnline records that these datakits of a workspace were seen at
	// t; a datakit's time only moves forward.
	DatakitOnline(ctx context.Context, workspaceUUID string, datakitUUIDs []string, t time.Time) error
	// DatakitsOnline lists, sorted, the datakits seen at or after since.
	DatakitsOnline(ctx context.Context, workspaceUUID string, since time.Time) ([]string, error)

	// Dropping measurements: an asynchronous drop is recorded before it starts
	// and removed when it finishes, so a restart can resume it. AddDropping
	// of a measurement already being dropped is ErrConflict; lists are sorted.
	AddDropping(ctx context.Context, dbUUID, measurement string) error
	RemoveDropping(ctx context.Context, dbUUID, measurement string) error
	Dropping(ctx context.Context, dbUUID string) ([]string, error)
	AllDropping(ctx context.Context) (map[string][]string, error)

	// CreateCQ: ErrNotFound unless DBUUID is a database of WorkspaceUUID.
	// SetLogPipeline stores the pipeline url of a workspace's log source,
	// replacing any; an empty url removes it. An unknown workspace is
	// ErrNotFound.
	SetLogPipeline(ctx context.Context, workspaceUUID, source, url string) error
	// LogPipeline returns the pipeline url of a workspace's log source;
	// ErrNotFound when there is none.
	LogPipeline(ctx context.Context, workspaceUUID, source string) (string, error)

	CreateCQ(ctx context.Context, cq ContinuousQuery) error
	// UpdateCQ rewrites Measurement and the Aggr fields of the CQ with this
	// UUID in this workspace (ErrNotFound otherwise); DBUUID and CreatedAt stay.
	UpdateCQ(ctx context.Context, cq ContinuousQuery) error
	DeleteCQ(ctx context.Context, uuid string) error
	CQ(ctx context.Context, uuid string) (ContinuousQuery, error)
	// CQsByWorkspace lists oldest first (CreatedAt, then UUID).
	CQsByWorkspace(ctx context.Context, workspaceUUID string) ([]ContinuousQuery, error)

	// Pandora TSDB v4 records, keyed by access key first so two key pairs
	// never see each other's repos. Creating a series or view of a missing
	// repo is ErrNotFound; deleting a repo removes its series and views.
	AddPandoraKeyPair(ctx context.Context, kp PandoraKeyPair) error
	PandoraKeyPair(ctx context.Context, accessKey string) (PandoraKeyPair, error)
	CreatePandoraRepo(ctx context.Context, r PandoraRepo) error
	PandoraRepo(ctx context.Context, ak, name string) (PandoraRepo, error)
	PandoraRepos(ctx context.Context, ak string) ([]PandoraRepo, error)
	// UpdatePandoraRepo rewrites Metadata and Deleting of an existing repo.
	UpdatePandoraRepo(ctx context.Context, r PandoraRepo) error
	DeletePandoraRepo(ctx context.Context, ak, name string) error
	// CreatePandoraSeries stores a series. When maxPerRepo > 0 and the
	// repo already holds that many series it stores nothing and returns
	// ErrLimit; the count and the insert are one atomic step, so
	// concurrent creations (from any gateway sharing the store) cannot
	// overshoot the limit.
	CreatePandoraSeries(ctx context.Context, s PandoraSeries, maxPerRepo int) error
	PandoraSeries(ctx context.Context, ak, repo, name string) (PandoraSeries, error)
	PandoraSeriesList(ctx context.Context, ak, repo string) ([]PandoraSeries, error)
	// UpdatePandoraSeries rewrites Metadata and Deleting of an existing series.
	UpdatePandoraSeries(ctx context.Context, s PandoraSeries) error
	DeletePandoraSeries(ctx context.Context, ak, repo, name string) error
	CreatePandoraView(ctx context.Context, v PandoraView) error
	PandoraView(ctx context.Context, ak, repo, name string) (PandoraView, error)
	PandoraViews(ctx context.Context, ak, repo string) ([]PandoraView, error)
	DeletePandoraView(ctx context.Context, ak, repo, name string) error
	// PandoraDeleting lists the repos and series marked deleting, of every
	// access key, so a restarted service finishes their deletion.
	PandoraDeleting(ctx context.Context) ([]PandoraRepo, []PandoraSeries, error)

	// Close releases the backend; calling it again is harmless.
	Close() error
}
