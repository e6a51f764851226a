//! The SQLite schema. Records are JSON bodies plus the columns that queries filter or sort on.

use super::backend;
use crate::StoreError;
use rusqlite::{Connection, OptionalExtension};
use std::io::Read;
use std::path::Path;

/// The schema version this code writes (`meta` row `schema_version`).
pub const SCHEMA_VERSION: i64 = 7;

/// Every table, with the schema version that added it: a database of version `v` that lacks
/// one of the tables of versions up to `v` is damaged; one that has none of them but other
/// tables is some other program's. Tables of later versions are created by [`migrate`].
pub const TABLES: &[(i64, &str)] = &[
    (1, "meta"),
    (1, "keypairs"),
    (1, "images"),
    (1, "vpcs"),
    (1, "subnets"),
    (1, "servers"),
    (1, "ip_alloc"),
    (1, "volumes"),
    (1, "jobs"),
    (1, "sagas"),
    (1, "saga_events"),
    (3, "ports"),
    (3, "security_groups"),
    (3, "security_group_rules"),
    (4, "server_groups"),
    (4, "server_group_members"),
    (5, "traces"),
    (6, "server_counts"),
];

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

/// Version 3: the resources of the everyday ECS, EVS and VPC API. Each area's tables are a
/// constant of their own, listed here.
const V3: &[&str] = &[super::networks::V3_NETWORKS];

/// Version 4: server groups with their members (a server is in at most one group: the
/// primary key), and each server's scheduled deletion time, in a column the scheduler reads
/// through a partial index.
const V4: &str = r#"
CREATE TABLE IF NOT EXISTS server_groups (
    id TEXT PRIMARY KEY, project_id TEXT NOT NULL, name TEXT NOT NULL, policies TEXT NOT NULL,
    body TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS server_groups_project ON server_groups (project_id);
CREATE TABLE IF NOT EXISTS server_group_members (
    server_id TEXT PRIMARY KEY, group_id TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS server_group_members_group ON server_group_members (group_id);
ALTER TABLE servers ADD COLUMN auto_terminate_ms INTEGER;
CREATE INDEX IF NOT EXISTS servers_auto_terminate ON servers (auto_terminate_ms)
    WHERE auto_terminate_ms IS NOT NULL;
"#;

/// Version 5: when each saga event was written (NULL for older events), for a job's
/// step-by-step progress; and the audit trail, one row per recorded API call, with the columns
/// its queries filter on and the whole trace as the body.
const V5: &str = r#"
ALTER TABLE saga_events ADD COLUMN at_ms INTEGER;
CREATE TABLE IF NOT EXISTS traces (
    trace_id TEXT PRIMARY KEY, project_id TEXT NOT NULL, time_ms INTEGER NOT NULL,
    service_type TEXT NOT NULL, user_name TEXT NOT NULL, resource_type TEXT NOT NULL,
    resource_id TEXT NOT NULL, resource_name TEXT NOT NULL, trace_name TEXT NOT NULL,
    trace_rating TEXT NOT NULL, body TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS traces_project_time ON traces (project_id, time_ms);
CREATE INDEX IF NOT EXISTS traces_time ON traces (time_ms);
"#;

/// Version 6: how many servers of each flavor each project has, kept by triggers in the
/// transaction that adds, removes or resizes a server. A server list's exact `count` and the
/// quota check of every create read these few rows instead of the project's servers: counting
/// the index took 6.5 ms for 65,000 servers, most of a page's cost, and the quota check read
/// every server row in the writer, so creates slowed down as the project grew. Filled from the
/// servers on upgrade.
const V6: &str = r#"
CREATE TABLE IF NOT EXISTS server_counts (
    project_id TEXT NOT NULL, flavor_id TEXT NOT NULL, n INTEGER NOT NULL,
    PRIMARY KEY (project_id, flavor_id)) WITHOUT ROWID;
INSERT OR REPLACE INTO server_counts (project_id, flavor_id, n)
    SELECT project_id, flavor_id, COUNT(*) FROM servers GROUP BY project_id, flavor_id;
CREATE TRIGGER IF NOT EXISTS servers_count_insert AFTER INSERT ON servers BEGIN
    INSERT INTO server_counts (project_id, flavor_id, n) VALUES (NEW.project_id, NEW.flavor_id, 1)
        ON CONFLICT (project_id, flavor_id) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER IF NOT EXISTS servers_count_delete AFTER DELETE ON servers BEGIN
    UPDATE server_counts SET n = n - 1 WHERE project_id = OLD.project_id AND flavor_id = OLD.flavor_id;
END;
CREATE TRIGGER IF NOT EXISTS servers_count_change AFTER UPDATE OF project_id, flavor_id ON servers
    WHEN NEW.project_id IS NOT OLD.project_id OR NEW.flavor_id IS NOT OLD.flavor_id BEGIN
    UPDATE server_counts SET n = n - 1 WHERE project_id = OLD.project_id AND flavor_id = OLD.flavor_id;
    INSERT INTO server_counts (project_id, flavor_id, n) VALUES (NEW.project_id, NEW.flavor_id, 1)
        ON CONFLICT (project_id, flavor_id) DO UPDATE SET n = n + 1;
END;
"#;

/// Version 7: a volume that comes to a server (a new one, or one moved from another server or
/// from none) writes the server's row too, unchanged. The writer learns of every row it writes
/// from SQLite (`sqlite/changes.rs`) by its row id only; a volume's own row id is not one a
/// read of the server could have noted before the volume was there, the server's is. And a
/// list's page of ids is read from an index that holds them (`servers_project_seq` would make it
/// look each row up in the table, a B-tree descent per server). No new table.
const V7: &str = r#"
CREATE INDEX IF NOT EXISTS servers_project_seq_id ON servers (project_id, seq, id);
CREATE TRIGGER IF NOT EXISTS volumes_touch_server_insert AFTER INSERT ON volumes
    WHEN NEW.server_id IS NOT NULL BEGIN
    UPDATE servers SET generation = generation WHERE id = NEW.server_id;
END;
CREATE TRIGGER IF NOT EXISTS volumes_touch_server_move AFTER UPDATE OF server_id ON volumes
    WHEN NEW.server_id IS NOT OLD.server_id BEGIN
    UPDATE servers SET generation = generation WHERE id IN (OLD.server_id, NEW.server_id);
END;
"#;

/// Each version's upgrade from the one before, in order.
fn upgrades() -> [(i64, Vec<&'static str>); 6] {
    [(2, vec![V2]), (3, V3.to_vec()), (4, vec![V4]), (5, vec![V5]), (6, vec![V6]), (7, vec![V7])]
}

/// Brings the schema to the current version, in one transaction: a crash during the first
/// start must not leave half the tables behind, which the next start would take for damage.
pub fn migrate(conn: &Connection) -> Result<(), StoreError> {
    let tx = conn.unchecked_transaction().map_err(backend)?;
    tx.execute_batch(V1).map_err(backend)?;
    tx.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', '1')", []).map_err(backend)?;
    let version: String =
        tx.query_row("SELECT value FROM meta WHERE key = 'schema_version'", [], |r| r.get(0)).map_err(backend)?;
    let from: i64 = version.parse().map_err(|_| StoreError::Damaged(format!("schema version {version:?}")))?;
    for (to, statements) in upgrades() {
        if from < to {
            for sql in statements {
                tx.execute_batch(sql).map_err(backend)?;
            }
        }
    }
    if from < 3 {
        super::networks::upgrade_to_v3(&tx)?;
    }
    if from < SCHEMA_VERSION {
        tx.execute("UPDATE meta SET value = ?1 WHERE key = 'schema_version'", [SCHEMA_VERSION.to_string()])
            .map_err(backend)?;
    }
    tx.commit().map_err(backend)
}

/// The 16 bytes every SQLite database file starts with.
const HEADER: &[u8; 16] = b"SQLite format 3\0";

/// A file that exists and is not empty must start with SQLite's header. SQLite itself would
/// say "file is not a database" at the first statement; checking first names the file and
/// keeps the message the same whichever statement comes first.
pub fn check_header(path: &Path) -> Result<(), StoreError> {
    let mut f = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(StoreError::Backend(format!("cannot read {}: {e}", path.display()))),
    };
    let mut head = Vec::with_capacity(HEADER.len());
    f.by_ref().take(HEADER.len() as u64).read_to_end(&mut head).map_err(backend)?;
    if head.is_empty() || head.as_slice() == HEADER {
        return Ok(());
    }
    Err(StoreError::Damaged(format!("{} does not start with the SQLite header: it is not a database", path.display())))
}

/// The checks every start makes before using an existing database, chosen to cost the same
/// on a database of any size: reading the schema (page 1 and the pages of `sqlite_master`)
/// shows a damaged first page or a file that is not a database; the table list tells ours
/// from another program's and from one that lost tables; the `meta` row says which version
/// wrote it. Damage elsewhere (a page of the servers table) is found by the request that
/// reads it, which is then answered "the store is damaged", and by `ecsd check`.
///
/// `PRAGMA quick_check` is not among them although it is the cheapest full check: it reads
/// every page, which on a 1.45 GB database of a million jobs took 1.0 s with the file in the
/// page cache and 11 s from disk, against a start-up budget of 2 s. These checks took 0.5 ms
/// on that database, opening the connection included.
///
/// Returns whether the database holds ecsd's schema already (false: it is new and empty).
pub fn verify(conn: &Connection) -> Result<bool, StoreError> {
    let mut st = conn.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").map_err(backend)?;
    let names: Vec<String> =
        st.query_map([], |r| r.get(0)).map_err(backend)?.collect::<Result<_, _>>().map_err(backend)?;
    if names.is_empty() {
        return Ok(false);
    }
    let has = |t: &str| names.iter().any(|n| n == t);
    if !TABLES.iter().any(|(_, t)| has(t)) {
        return Err(StoreError::Damaged(format!(
            "it is not an ecsd database (it has the tables {}, none of ecsd's)",
            names.join(", ")
        )));
    }
    let version: Option<String> = if has("meta") {
        conn.query_row("SELECT value FROM meta WHERE key = 'schema_version'", [], |r| r.get(0))
            .optional()
            .map_err(backend)?
    } else {
        None
    };
    // Without a readable version, every table of the first version must be there.
    let v = match version.as_deref().map(str::parse::<i64>) {
        Some(Ok(v)) => v,
        _ => 1,
    };
    let missing: Vec<&str> = TABLES.iter().filter(|(since, t)| *since <= v && !has(t)).map(|(_, t)| *t).collect();
    if !missing.is_empty() {
        return Err(StoreError::Damaged(format!("tables are missing: {}", missing.join(", "))));
    }
    match version.as_deref().map(str::parse::<i64>) {
        Some(Ok(v)) if v <= SCHEMA_VERSION => Ok(true),
        Some(Ok(v)) => Err(StoreError::Backend(format!(
            "its schema is version {v}, written by a newer ecsd (this one knows version {SCHEMA_VERSION})"
        ))),
        _ => Err(StoreError::Damaged(format!("its schema version is unreadable ({version:?})"))),
    }
}
