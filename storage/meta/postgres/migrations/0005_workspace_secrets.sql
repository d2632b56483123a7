-- Workspace secrets (issue 13). A rotated-out secret keeps verifying until
-- prev_secret_until so agents can switch.
ALTER TABLE workspaces ADD COLUMN prev_secret text NOT NULL DEFAULT '';
ALTER TABLE workspaces ADD COLUMN prev_secret_until timestamptz NOT NULL DEFAULT 'epoch';
-- allow_body_key: DATAFLUX signatures keyed by the body's MD5 are accepted.
-- Workspaces created before this migration keep their agents working
-- (true); the store writes the value of every new workspace explicitly.
ALTER TABLE workspaces ADD COLUMN allow_body_key boolean NOT NULL DEFAULT true;

-- Signatures seen within the replay window (-replay-cache), shared by the
-- replicas. key is a hash of scheme, key id and signature; expired rows
-- are deleted periodically.
CREATE TABLE seen_signatures (
    key     text        PRIMARY KEY,
    expires timestamptz NOT NULL
);
CREATE INDEX seen_signatures_by_expiry ON seen_signatures (expires);
