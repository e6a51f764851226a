//! Which store the HTTP tests run on: SQLite in the data directory (the default), or, with
//! `ECSD_TEST_STORE=postgres`, a fresh database per data directory on the test binary's
//! throwaway PostgreSQL cluster. `Svc::start` and the process-starting helpers ask here.
//!
//! Every test runs on both stores but four, which are about SQLite's file and are skipped on
//! PostgreSQL with a line on stderr saying why: the damaged-pages and truncated-to-zero tests
//! (they damage `ecsd.db`), the `ecsd check` test (it inspects `ecsd.db` only), and the
//! full-disk test (it fills the filesystem holding `ecsd.db`; a PostgreSQL store is not on it).
//! The crash test runs on both: its closing check reads whichever store the service used.

use ecs_store::pg_cluster::Cluster;
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

/// `postgres` runs every test on PostgreSQL; unset (or `sqlite`) on SQLite.
pub const STORE_ENV: &str = "ECSD_TEST_STORE";

/// Whether this run is on PostgreSQL.
///
/// # Panics
/// On a value other than `sqlite` or `postgres`: a typo must not quietly test SQLite twice.
pub fn on_postgres() -> bool {
    match std::env::var(STORE_ENV).as_deref() {
        Err(_) | Ok("") | Ok("sqlite") => false,
        Ok("postgres") => true,
        Ok(other) => panic!("{STORE_ENV}={other}: expected sqlite or postgres"),
    }
}

/// On PostgreSQL, prints why the calling test does not apply and returns `true` (the test
/// then returns); on SQLite, `false`.
pub fn skip_on_postgres(test: &str, why: &str) -> bool {
    if on_postgres() {
        // Straight to stderr, not through `eprintln!`, which the test harness captures and
        // shows only for failed tests: a skip must be seen.
        let _ = writeln!(std::io::stderr(), "SKIPPED on PostgreSQL: {test}: {why}");
    }
    on_postgres()
}

/// On PostgreSQL, the URL of the database that belongs to data directory `data`: made on first
/// ask, the same one afterwards, so that a service restarted on its directory finds its data
/// again, as it would in `ecsd.db`. `None` on SQLite.
///
/// # Panics
/// When PostgreSQL is asked for and no cluster can be had: the run must not pass on SQLite.
pub fn database_for(data: &Path) -> Option<String> {
    if !on_postgres() {
        return None;
    }
    static BY_DIR: OnceLock<Mutex<HashMap<PathBuf, String>>> = OnceLock::new();
    let Some(cluster) = Cluster::shared() else {
        panic!("{STORE_ENV}=postgres, but PostgreSQL is not installed");
    };
    // A poisoned lock only means another test panicked while holding it; the map is sound.
    let mut map = BY_DIR.get_or_init(Default::default).lock().unwrap_or_else(|e| e.into_inner());
    Some(map.entry(data.to_path_buf()).or_insert_with(|| cluster.fresh_database()).clone())
}

/// The store a stopped service on data directory `data` left behind, opened for a test to read:
/// its database on the cluster on PostgreSQL, its `ecsd.db` on SQLite.
///
/// # Panics
/// When it cannot be opened: the test has nothing to check then.
pub async fn open_left_behind(data: &Path) -> Box<dyn ecs_store::Store> {
    match database_for(data) {
        Some(url) => Box::new(ecs_store::PgStore::open(&url).await.unwrap_or_else(|e| panic!("{url}: {e}"))),
        None => {
            let db = data.join("ecsd.db");
            Box::new(ecs_store::SqliteStore::open(&db).unwrap_or_else(|e| panic!("{}: {e}", db.display())))
        }
    }
}

/// On PostgreSQL, every row of every table of the database that belongs to `data`, as text
/// (for tests that look for what must never be stored); `None` on SQLite, whose `ecsd.db` is a
/// file in the directory and read with it.
///
/// # Panics
/// When the database cannot be read.
pub fn dump_database(data: &Path) -> Option<String> {
    let url = database_for(data)?;
    let cluster = Cluster::shared()?;
    let db = url.rsplit('/').next().unwrap_or_default();
    let sql = "SELECT string_agg(query_to_xml(format('SELECT * FROM %I.%I', table_schema, table_name), \
               true, false, '')::text, E'\\n') FROM information_schema.tables \
               WHERE table_schema NOT IN ('pg_catalog', 'information_schema')";
    Some(cluster.psql(db, sql).unwrap_or_else(|e| panic!("dumping {url}: {e}")))
}

/// What the simulated driver of the service on data directory `data` holds: the journal under
/// `data/sim` on SQLite, the rows of its database on PostgreSQL (where the nodes share them).
///
/// # Panics
/// When it cannot be read: the test has nothing to check then.
pub async fn sim_state(data: &Path) -> ecs_driver::sim::SimState {
    let store: std::sync::Arc<dyn ecs_store::Store> = match database_for(data) {
        Some(url) => std::sync::Arc::new(ecs_store::PgStore::open(&url).await.unwrap_or_else(|e| panic!("{url}: {e}"))),
        None => return ecs_driver::sim::SimState::load(&data.join("sim")).unwrap_or_else(|e| panic!("{e}")),
    };
    ecsd::sim_records::load_state(store, data).await.unwrap_or_else(|e| panic!("{e}"))
}
