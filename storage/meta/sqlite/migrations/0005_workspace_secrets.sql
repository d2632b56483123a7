-- Workspace secrets (issue 13). A rotated-out secret keeps verifying until
-- prev_secret_until (Unix nanoseconds) so agents can switch.
ALTER TABLE workspaces ADD COLUMN prev_secret TEXT NOT NULL DEFAULT '';
ALTER TABLE workspaces ADD COLUMN prev_secret_until INTEGER NOT NULL DEFAULT 0;
-- allow_body_key: DATAFLUX signatures keyed by the body's MD5 are accepted.
-- Workspaces created before this migration keep their agents working (1);
-- the store writes the value of every new workspace explicitly.
ALTER TABLE workspaces ADD COLUMN allow_body_key INTEGER NOT NULL DEFAULT 1;

-- Signatures seen within the replay window (-replay-cache). key is a hash
-- of scheme, key id and signature; expired rows are deleted periodically.
CREATE TABLE seen_signatures (
    key     TEXT    PRIMARY KEY,
    expires INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX seen_signatures_by_expiry ON seen_signatures (expires);
