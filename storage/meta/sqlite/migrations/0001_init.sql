-- Kodo metadata schema, SQLite dialect. Times are Unix nanoseconds (UTC).

CREATE TABLE workspaces (
    uuid       TEXT    PRIMARY KEY,
    name       TEXT    NOT NULL,
    token      TEXT    NOT NULL UNIQUE,
    secret     TEXT    NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL
);

-- url is unique ("" is the embedded engine): two UUIDs for one server would
-- split its load figures.
CREATE TABLE instances (
    uuid TEXT PRIMARY KEY,
    url  TEXT NOT NULL UNIQUE
);

-- rps is a JSON array so the RP order given by the API survives.
-- instance_uuid has no foreign key: placement may name an instance before
-- the gateway registered it, and InstanceLoad still counts it.
CREATE TABLE databases (
    uuid           TEXT    PRIMARY KEY,
    workspace_uuid TEXT    NOT NULL REFERENCES workspaces (uuid),
    name           TEXT    NOT NULL,
    instance_uuid  TEXT    NOT NULL,
    default_rp     TEXT    NOT NULL,
    cq_rp          TEXT    NOT NULL,
    rps            TEXT    NOT NULL,
    created_at     INTEGER NOT NULL,
    UNIQUE (instance_uuid, name),
    UNIQUE (uuid, workspace_uuid) -- target of the CQ foreign key
);
CREATE INDEX databases_by_workspace ON databases (workspace_uuid, created_at);

CREATE TABLE measurement_rps (
    db_uuid     TEXT NOT NULL REFERENCES databases (uuid) ON DELETE CASCADE,
    measurement TEXT NOT NULL,
    rp          TEXT NOT NULL,
    PRIMARY KEY (db_uuid, measurement)
) WITHOUT ROWID;

CREATE TABLE key_pairs (
    access_key     TEXT PRIMARY KEY,
    secret_key     TEXT NOT NULL,
    workspace_uuid TEXT NOT NULL REFERENCES workspaces (uuid)
);

-- Both keys of every pair, so one unique index forbids an access key that
-- equals another pair's secret key (KeyPairByID looks up either).
CREATE TABLE key_ids (
    id         TEXT PRIMARY KEY,
    access_key TEXT NOT NULL REFERENCES key_pairs (access_key) ON DELETE CASCADE
) WITHOUT ROWID;

CREATE TABLE datakits_online (
    workspace_uuid TEXT    NOT NULL REFERENCES workspaces (uuid),
    datakit_uuid   TEXT    NOT NULL,
    last_seen      INTEGER NOT NULL,
    PRIMARY KEY (workspace_uuid, datakit_uuid)
) WITHOUT ROWID;

CREATE TABLE dropping (
    db_uuid     TEXT NOT NULL REFERENCES databases (uuid) ON DELETE CASCADE,
    measurement TEXT NOT NULL,
    PRIMARY KEY (db_uuid, measurement)
) WITHOUT ROWID;

-- The composite key makes a CQ name a database of its own workspace.
CREATE TABLE continuous_queries (
    uuid           TEXT    PRIMARY KEY,
    workspace_uuid TEXT    NOT NULL,
    db_uuid        TEXT    NOT NULL,
    measurement    TEXT    NOT NULL,
    aggr_func      TEXT    NOT NULL,
    aggr_period    TEXT    NOT NULL,
    aggr_every     TEXT    NOT NULL,
    created_at     INTEGER NOT NULL,
    FOREIGN KEY (db_uuid, workspace_uuid) REFERENCES databases (uuid, workspace_uuid) ON DELETE CASCADE
);
CREATE INDEX continuous_queries_by_workspace ON continuous_queries (workspace_uuid, created_at);
CREATE INDEX continuous_queries_by_db ON continuous_queries (db_uuid);
