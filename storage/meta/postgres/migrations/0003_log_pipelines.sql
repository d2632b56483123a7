-- Log pipelines (/v1/cache/logging/set): logs of a workspace and source are
-- sent to url before they are stored. Here rather than beside the document
-- store so that every gateway replica sharing the metadata sees them.
CREATE TABLE log_pipelines (
    workspace_uuid text NOT NULL REFERENCES workspaces (uuid) ON DELETE CASCADE,
    source         text NOT NULL,
    url            text NOT NULL,
    PRIMARY KEY (workspace_uuid, source)
);
