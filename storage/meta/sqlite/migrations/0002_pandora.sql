-- Pandora TSDB v4: key pairs, repos, series and views. metadata is a JSON
-- object of strings; times are Unix nanoseconds (UTC).

CREATE TABLE pandora_key_pairs (
    access_key TEXT    PRIMARY KEY,
    secret_key TEXT    NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE pandora_repos (
    access_key TEXT    NOT NULL REFERENCES pandora_key_pairs (access_key),
    name       TEXT    NOT NULL,
    region     TEXT    NOT NULL,
    metadata   TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    deleting   INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (access_key, name)
) WITHOUT ROWID;

CREATE TABLE pandora_series (
    access_key TEXT    NOT NULL,
    repo       TEXT    NOT NULL,
    name       TEXT    NOT NULL,
    retention  TEXT    NOT NULL,
    metadata   TEXT    NOT NULL,
    type       INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    deleting   INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (access_key, repo, name),
    FOREIGN KEY (access_key, repo) REFERENCES pandora_repos (access_key, name) ON DELETE CASCADE
) WITHOUT ROWID;

CREATE TABLE pandora_views (
    access_key TEXT    NOT NULL,
    repo       TEXT    NOT NULL,
    name       TEXT    NOT NULL,
    sql        TEXT    NOT NULL,
    retention  TEXT    NOT NULL,
    metadata   TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (access_key, repo, name),
    FOREIGN KEY (access_key, repo) REFERENCES pandora_repos (access_key, name) ON DELETE CASCADE
) WITHOUT ROWID;

-- Deletions to resume at start-up are few; partial indexes find them fast.
CREATE INDEX pandora_repos_deleting ON pandora_repos (deleting) WHERE deleting = 1;
CREATE INDEX pandora_series_deleting ON pandora_series (deleting) WHERE deleting = 1;
