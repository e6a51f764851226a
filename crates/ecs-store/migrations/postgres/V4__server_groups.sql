-- Server groups, their members, and the servers' scheduled deletion times.

-- A project's server groups. `policies` is the JSON array the group was created with (what
-- placement reads); the rest of the record is the body.
CREATE TABLE server_groups (
    id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL,
    name TEXT NOT NULL,
    policies TEXT NOT NULL,
    body TEXT NOT NULL,
    ord BIGINT GENERATED ALWAYS AS IDENTITY
);
CREATE INDEX server_groups_project ON server_groups (project_id, ord);

-- One row per member: a server is in at most one group (the primary key), and leaves it with
-- the group (the cascade) or when it is deleted (the server's delete removes the row).
-- `ord` keeps the order in which members joined.
CREATE TABLE server_group_members (
    server_id TEXT PRIMARY KEY,
    group_id TEXT NOT NULL REFERENCES server_groups (id) ON DELETE CASCADE,
    ord BIGINT GENERATED ALWAYS AS IDENTITY
);
CREATE INDEX server_group_members_group ON server_group_members (group_id, ord);

-- When a server deletes itself (milliseconds since the epoch; NULL: never). The scheduler of
-- every node reads the earliest ones through the partial index.
ALTER TABLE servers ADD COLUMN auto_terminate_ms BIGINT;
CREATE INDEX servers_auto_terminate ON servers (auto_terminate_ms) WHERE auto_terminate_ms IS NOT NULL;
