-- Pandora TSDB v4: key pairs, repos, series and views. metadata is a JSON
-- object of strings.

CREATE TABLE pandora_key_pairs (
    access_key text        PRIMARY KEY,
    secret_key text        NOT NULL,
    created_at timestamptz NOT NULL
);

CREATE TABLE pandora_repos (
    access_key text        NOT NULL REFERENCES pandora_key_pairs (access_key),
    name       text        NOT NULL,
    region     text        NOT NULL,
    metadata   text        NOT NULL,
    created_at timestamptz NOT NULL,
    deleting   boolean     NOT NULL DEFAULT false,
    PRIMARY KEY (access_key, name)
);

CREATE TABLE pandora_series (
    access_key text        NOT NULL,
    repo       text        NOT NULL,
    name       text        NOT NULL,
    retention  text        NOT NULL,
    metadata   text        NOT NULL,
    type       integer     NOT NULL,
    created_at timestamptz NOT NULL,
    deleting   boolean     NOT NULL DEFAULT false,
    PRIMARY KEY (access_key, repo, name),
    FOREIGN KEY (access_key, repo) REFERENCES pandora_repos (access_key, name) ON DELETE CASCADE
);

CREATE TABLE pandora_views (
    access_key text        NOT NULL,
    repo       text        NOT NULL,
    name       text        NOT NULL,
    sql        text        NOT NULL,
    retention  text        NOT NULL,
    metadata   text        NOT NULL,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (access_key, repo, name),
    FOREIGN KEY (access_key, repo) REFERENCES pandora_repos (access_key, name) ON DELETE CASCADE
);

CREATE INDEX pandora_repos_deleting ON pandora_repos (deleting) WHERE deleting;
CREATE INDEX pandora_series_deleting ON pandora_series (deleting) WHERE deleting;
