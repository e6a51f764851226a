//! The SQLite schema. Records are JSON bodies plus the columns that queries filter or sort on.

use super::backend;
use crate::StoreError;
use rusqlite::Connection;

pub(super) const V1: &str = r#"
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS keypairs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id TEXT NOT NULL, name TEXT NOT NULL, body TEXT NOT NULL,
    UNIQUE (project_id, name));
CREATE TABLE IF NOT EXISTS images (id TEXT PRIMARY KEY, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS vpcs (id TEXT PRIMARY KEY, project_id TEXT NOT NULL, body TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS vpcs_project ON vpcs (project_id);
CREATE TABLE IF NOT EXISTS subnets (
    id TEXT PRIMARY KEY, project_id TEXT NOT NULL, vpc_id TEXT NOT NULL, body TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS subnets_project ON subnets (project_id);
CREATE TABLE IF NOT EXISTS servers (
    id TEXT PRIMARY KEY, project_id TEXT NOT NULL, seq INTEGER NOT NULL,
    name TEXT NOT NULL, status TEXT NOT NULL, flavor_id TEXT NOT NULL, ip TEXT NOT NULL,
    generation INTEGER NOT NULL, body TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS servers_project_seq ON servers (project_id, seq);
-- Keeps `MAX(seq)` (the next server's position) a lookup instead of a scan.
CREATE INDEX IF NOT EXISTS servers_seq ON servers (seq);
CREATE TABLE IF NOT EXISTS ip_alloc (
    subnet_id TEXT NOT NULL, n INTEGER NOT NULL, server_id TEXT NOT NULL,
    PRIMARY KEY (subnet_id, n)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS volumes (
    id TEXT PRIMARY KEY, server_id TEXT, body TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS volumes_server ON volumes (server_id);
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY, project_id TEXT NOT NULL, parent_id TEXT, status TEXT NOT NULL,
    end_ms INTEGER, body TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS jobs_parent ON jobs (parent_id) WHERE parent_id IS NOT NULL;
-- Expiry finds old finished jobs by range instead of scanning a table of a million jobs (which
-- held the writer for seconds, right at start-up).
CREATE INDEX IF NOT EXISTS jobs_end ON jobs (end_ms) WHERE end_ms IS NOT NULL;
CREATE TABLE IF NOT EXISTS sagas (
    id TEXT PRIMARY KEY, kind TEXT NOT NULL, params TEXT NOT NULL, done INTEGER NOT NULL DEFAULT 0,
    outcome TEXT);
CREATE INDEX IF NOT EXISTS sagas_open ON sagas (done) WHERE done = 0;
CREATE TABLE IF NOT EXISTS saga_events (
    saga_id TEXT NOT NULL, seq INTEGER NOT NULL, body TEXT NOT NULL,
    PRIMARY KEY (saga_id, seq)) WITHOUT ROWID;
"#;

/// Version 2: each saga records the version of its step table (its log names steps since;
/// the sagas of version 1 logged them by position, and keep `version` 1).
const V2: &str = "ALTER TABLE sagas ADD COLUMN version INTEGER NOT NULL DEFAULT 1;";

/// Brings the schema to the current version.
pub fn migrate(conn: &Connection) -> Result<(), StoreError> {
    conn.execute_batch(V1).map_err(backend)?;
    conn.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', '1')", []).map_err(backend)?;
    let version: String =
        conn.query_row("SELECT value FROM meta WHERE key = 'schema_version'", [], |r| r.get(0)).map_err(backend)?;
    if version == "1" {
        conn.execute_batch(&format!("BEGIN; {V2} UPDATE meta SET value = '2' WHERE key = 'schema_version'; COMMIT;"))
            .map_err(backend)?;
    }
    Ok(())
}
