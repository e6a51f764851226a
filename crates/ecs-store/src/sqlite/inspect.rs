//! Offline inspection of a database file (`ecsd check`): read-only, and thorough where start-up
//! is cheap: every page and every record is read.

use super::catalog::decode;
use super::{backend, open, schema};
use crate::StoreError;
use ecs_model::job::Job;
use ecs_model::server::Server;
use ecs_model::volume::Volume;
use rusqlite::{Connection, OptionalExtension};
use std::collections::BTreeSet;
use std::path::Path;

/// What [`inspect`] found.
#[derive(Debug, Default)]
pub struct Inspection {
    /// Damage, one line each: what `PRAGMA integrity_check` reports, a schema that is not
    /// ecsd's, records that do not parse. Empty when the database is sound.
    pub problems: Vec<String>,
    /// The `meta` row `schema_version`: `None` when the schema could not be read, and then
    /// neither could the rest.
    pub schema_version: Option<i64>,
    /// The `meta` row `data_dir_id`.
    pub data_dir_id: Option<String>,
    /// Rows in the servers and jobs tables (`None`: the table could not be read to its end).
    pub servers: Option<usize>,
    pub jobs: Option<usize>,
    pub keypairs: Option<usize>,
    /// Every volume row's id, to compare with the driver's disks (`None`: unreadable).
    pub volumes: Option<BTreeSet<String>>,
    /// `(id, kind)` of every saga not finished: after a crash these are normal, and the next
    /// start resumes them.
    pub unfinished: Vec<(String, String)>,
}

/// Reads the whole database at `path` without writing to it. Fails only when it cannot be
/// opened as a database at all (not there, no SQLite header); damage found on the way is
/// listed in [`Inspection::problems`].
pub fn inspect(path: &Path) -> Result<Inspection, StoreError> {
    let mut out = Inspection::default();
    schema::check_header(path)?;
    let conn = open(path, true)?;
    // integrity_check reads every page: the B-trees, their order, the free list, and that each
    // index matches its table. Up to 100 problems are listed, the rest counted in the total.
    match integrity(&conn) {
        Ok(lines) => out.problems.extend(lines.into_iter().map(|l| format!("integrity check: {l}"))),
        // It gives up on a page too damaged to walk, with the error that page gives.
        Err(e) => out.problems.push(format!("integrity check stopped: {e}")),
    }
    match schema::verify(&conn) {
        Ok(true) => {}
        Ok(false) => out.problems.push("it holds no tables (an empty database)".into()),
        Err(e) => {
            out.problems.push(format!("schema: {e}"));
            return Ok(out);
        }
    }
    let meta = |key: &str| -> Result<Option<String>, StoreError> {
        conn.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0)).optional().map_err(backend)
    };
    match meta("schema_version") {
        Ok(v) => out.schema_version = v.and_then(|v| v.parse().ok()),
        Err(e) => out.problems.push(format!("schema version: {e}")),
    }
    match meta("data_dir_id") {
        Ok(v) => out.data_dir_id = v,
        Err(e) => out.problems.push(format!("data directory id: {e}")),
    }
    // Records are JSON bodies that SQLite does not look into: a page can be sound to SQLite
    // and still hold a body that no longer parses, which a request would trip over.
    let mut servers = 0;
    match records::<Server>(&conn, "SELECT id, body FROM servers", |_| servers += 1) {
        Ok(bad) => {
            out.servers = Some(servers);
            out.problems.extend(bad.into_iter().map(|id| format!("server {id}: its record does not parse")));
        }
        Err(e) => out.problems.push(format!("servers: {e}")),
    }
    let mut jobs = 0;
    match records::<Job>(&conn, "SELECT id, body FROM jobs", |_| jobs += 1) {
        Ok(bad) => {
            out.jobs = Some(jobs);
            out.problems.extend(bad.into_iter().map(|id| format!("job {id}: its record does not parse")));
        }
        Err(e) => out.problems.push(format!("jobs: {e}")),
    }
    match conn.query_row("SELECT COUNT(*) FROM keypairs", [], |r| r.get::<_, i64>(0)) {
        Ok(n) => out.keypairs = Some(n as usize),
        Err(e) => out.problems.push(format!("key pairs: {}", backend(e))),
    }
    let mut volumes = BTreeSet::new();
    match records::<Volume>(&conn, "SELECT id, body FROM volumes", |id| {
        volumes.insert(id.to_string());
    }) {
        Ok(bad) => {
            out.volumes = Some(volumes);
            out.problems.extend(bad.into_iter().map(|id| format!("volume {id}: its record does not parse")));
        }
        Err(e) => out.problems.push(format!("volumes: {e}")),
    }
    match unfinished(&conn) {
        Ok(u) => out.unfinished = u,
        Err(e) => out.problems.push(format!("sagas: {e}")),
    }
    Ok(out)
}

/// The lines of `PRAGMA integrity_check` other than its single `ok`.
fn integrity(c: &Connection) -> Result<Vec<String>, StoreError> {
    let mut st = c.prepare("PRAGMA integrity_check(100)").map_err(backend)?;
    let lines: Vec<String> =
        st.query_map([], |r| r.get(0)).map_err(backend)?.collect::<Result<_, _>>().map_err(backend)?;
    Ok(lines.into_iter().filter(|l| l != "ok").collect())
}

/// Calls `each` with the id of every row `sql` (id, body) returns; the ids of those whose body
/// does not decode as a `T`.
fn records<T: serde::de::DeserializeOwned>(
    c: &Connection,
    sql: &str,
    mut each: impl FnMut(&str),
) -> Result<Vec<String>, StoreError> {
    let mut st = c.prepare(sql).map_err(backend)?;
    let mut rows = st.query([]).map_err(backend)?;
    let mut bad = Vec::new();
    while let Some(r) = rows.next().map_err(backend)? {
        let id: String = r.get(0).map_err(backend)?;
        let body: String = r.get(1).map_err(backend)?;
        each(&id);
        if decode::<T>(&body).is_err() {
            bad.push(id);
        }
    }
    Ok(bad)
}

fn unfinished(c: &Connection) -> Result<Vec<(String, String)>, StoreError> {
    let mut st = c.prepare("SELECT id, kind FROM sagas WHERE done = 0 ORDER BY rowid").map_err(backend)?;
    let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).map_err(backend)?;
    rows.collect::<Result<_, _>>().map_err(backend)
}
