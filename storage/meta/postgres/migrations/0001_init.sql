-- Kodo metadata schema, PostgreSQL dialect. Tables are created in the first
-- schema of search_path (tests use one schema each).

CREATE TABLE workspaces (
    uuid       text        PRIMARY KEY,
    name       text        NOT NULL,
    token      text        NOT NULL UNIQUE,
    secret     text        NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL
);

-- url is unique ('' is the embedded engine): two UUIDs for one server would
-- split its load figures.
CREATE TABLE instances (
    uuid text PRIMARY KEY,
    url  text NOT NULL UNIQUE
);

-- instance_uuid has no foreign key: placement may name an instance before
-- the gateway registered it, and InstanceLoad still counts it.
CREATE TABLE databases (
    uuid           text        PRIMARY KEY,
    workspace_uuid text        NOT NULL REFERENCES workspaces (uuid),
    name           text        NOT NULL,
    instance_uuid  text        NOT NULL,
    default_rp     text        NOT NULL,
    cq_rp          text        NOT NULL,
    rps            text[]      NOT NULL,
    created_at     timestamptz NOT NULL,
    UNIQUE (instance_uuid, name),
    UNIQUE (uuid, workspace_uuid) -- target of the CQ foreign key
);
CREATE INDEX databases_by_workspace ON databases (workspace_uuid, created_at);

CREATE TABLE measurement_rps (
    db_uuid     text NOT NULL REFERENCES databases (uuid) ON DELETE CASCADE,
    measurement text NOT NULL,
    rp          text NOT NULL,
    PRIMARY KEY (db_uuid, measurement)
);

CREATE TABLE key_pairs (
    access_key     text PRIMARY KEY,
    secret_key     text NOT NULL,
    workspace_uuid text NOT NULL REFERENCES workspaces (uuid)
);

-- Both keys of every pair, so one unique index forbids an access key that
-- equals another pair's secret key (KeyPairByID looks up either).
CREATE TABLE key_ids (
    id         text PRIMARY KEY,
    access_key text NOT NULL REFERENCES key_pairs (access_key) ON DELETE CASCADE
);
CREATE INDEX key_ids_by_access_key ON key_ids (access_key);

CREATE TABLE datakits_online (
    workspace_uuid text        NOT NULL REFERENCES workspaces (uuid),
    datakit_uuid   text        NOT NULL,
    last_seen      timestamptz NOT NULL,
    PRIMARY KEY (workspace_uuid, datakit_uuid)
);

CREATE TABLE dropping (
    db_uuid     text NOT NULL REFERENCES databases (uuid) ON DELETE CASCADE,
    measurement text NOT NULL,
    PRIMARY KEY (db_uuid, measurement)
);

-- The composite key makes a CQ name a database of its own workspace.
CREATE TABLE continuous_queries (
    uuid           text        PRIMARY KEY,
    workspace_uuid text        NOT NULL,
    db_uuid        text        NOT NULL,
    measurement    text        NOT NULL,
    aggr_func      text        NOT NULL,
    aggr_period    text        NOT NULL,
    aggr_every     text        NOT NULL,
    created_at     timestamptz NOT NULL,
    FOREIGN KEY (db_uuid, workspace_uuid) REFERENCES databases (uuid, workspace_uuid) ON DELETE CASCADE
);
CREATE INDEX continuous_queries_by_workspace ON continuous_queries (workspace_uuid, created_at);
CREATE INDEX continuous_queries_by_db ON continuous_queries (db_uuid);
