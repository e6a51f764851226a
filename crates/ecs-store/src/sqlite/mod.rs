//! The embedded SQLite store: one writer thread with group commit, a small pool of readers.
//!
//! SQLite allows one writer at a time. Rather than have every request contend for the write
//! lock (and pay one fsync each), writes are queued to a single thread that runs everything
//! waiting in one transaction, each request in its own savepoint so one failure does not undo
//! the others, and answers every request only after the commit is on disk. Readers use their own
//! connections (WAL mode lets them run while the writer writes).

mod catalog;
mod changes;
mod inspect;
mod jobs;
mod networks;
mod quotas;
mod scans;
mod schema;
mod server_groups;
mod servers;
mod traces;
mod volumes;

pub use inspect::{inspect, Inspection};
pub use schema::SCHEMA_VERSION;

use crate::StoreError;
use rusqlite::{Connection, OpenFlags, OptionalExtension};
use std::path::{Path, PathBuf};
use std::sync::{mpsc, Arc, Mutex};

/// Most write requests one group commit takes; bounds the latency of the first of them.
const MAX_BATCH: usize = 512;

type Deliver = Box<dyn FnOnce(Result<(), StoreError>) + Send>;
/// A queued write: run against the writer's connection, or (`None`) told that the transaction
/// could not begin, in which case it only produces its answer.
type WriteJob = Box<dyn FnOnce(Option<&Connection>) -> (bool, Deliver) + Send>;

/// The SQLite implementation of [`crate::Store`].
pub struct SqliteStore {
    path: PathBuf,
    writer: Mutex<mpsc::Sender<WriteJob>>,
    readers: Arc<Readers>,
    scans: scans::Scans,
    /// The rows the writer wrote, for [`crate::Store::unchanged_since`].
    changes: Arc<changes::Changes>,
    /// Dropped with the store, which ends the checkpoint thread.
    _stop_checkpoints: mpsc::Sender<()>,
}

/// A failure of the database layer as a [`StoreError`]: SQLite's "disk full" and "damaged"
/// results are told apart from the rest, because the service answers them differently (a
/// full disk is the operator's to free and the client's to retry; a damaged database must be
/// looked at).
pub(crate) fn backend<E: std::fmt::Display + 'static>(e: E) -> StoreError {
    match (&e as &dyn std::any::Any).downcast_ref::<rusqlite::Error>() {
        Some(sql) => classify(sql),
        None => StoreError::Backend(e.to_string()),
    }
}

/// Sorts a SQLite error into full, damaged or other.
pub(crate) fn classify(e: &rusqlite::Error) -> StoreError {
    use rusqlite::ErrorCode;
    match e.sqlite_error_code() {
        Some(ErrorCode::DiskFull) => StoreError::Full(e.to_string()),
        Some(ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase) => StoreError::Damaged(e.to_string()),
        _ => StoreError::Backend(e.to_string()),
    }
}

/// `Connection::execute` through the statement cache: the writer runs the same few statements
/// thousands of times a second, and parsing them each time was a measurable share of its work.
pub(crate) fn execute_cached(c: &Connection, sql: &str, p: impl rusqlite::Params) -> rusqlite::Result<usize> {
    c.prepare_cached(sql)?.execute(p)
}

/// `Connection::query_row` through the statement cache.
pub(crate) fn query_row_cached<T>(
    c: &Connection,
    sql: &str,
    p: impl rusqlite::Params,
    f: impl FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
) -> rusqlite::Result<T> {
    c.prepare_cached(sql)?.query_row(p, f)
}

pub(crate) fn open(path: &Path, read_only: bool) -> Result<Connection, StoreError> {
    let flags = if read_only {
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX
    } else {
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX
    };
    let conn = Connection::open_with_flags(path, flags).map_err(backend)?;
    conn.busy_timeout(std::time::Duration::from_secs(10)).map_err(backend)?;
    // FULL: a job id we have answered with survives a power loss (see docs/benchmarks.md for
    // what relaxing it would buy).
    conn.execute_batch("PRAGMA synchronous=FULL; PRAGMA foreign_keys=OFF;").map_err(backend)?;
    Ok(conn)
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` and starts its writer thread.
    ///
    /// An existing database is checked first, in time that does not grow with its size (see
    /// [`schema::verify`]); a damaged one is refused with [`StoreError::Damaged`] naming the
    /// file, rather than opened to fail request after request.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        let path = path.as_ref().to_path_buf();
        let named = |e: StoreError| match e {
            StoreError::Damaged(m) => StoreError::Damaged(format!("{}: {m}", path.display())),
            StoreError::Backend(m) => StoreError::Backend(format!("{}: {m}", path.display())),
            e => e,
        };
        schema::check_header(&path)?;
        let mut conn = open(&path, false).map_err(named)?;
        conn.execute_batch("PRAGMA journal_mode=WAL;").map_err(backend).map_err(named)?;
        schema::verify(&conn).map_err(named)?;
        schema::migrate(&conn)?;
        // The writer keeps the B-tree pages it keeps touching (the last jobs, the servers being
        // changed) in its own cache rather than reading them again from the OS. Copying the WAL
        // into the database is left to a thread of its own (below), which does it while the
        // writer goes on; the writer checkpoints only once the WAL holds 8,192 pages, finding
        // nearly everything copied already. That checkpoint is still needed: only one run right
        // after a commit can catch up with the last frame, and the WAL starts over from its
        // beginning only once it has (the background one always trails the writer by a few
        // frames, and alone let the WAL grow to gigabytes under a sustained write load).
        conn.execute_batch(
            "PRAGMA cache_size=-32768; PRAGMA wal_autocheckpoint=8192; PRAGMA journal_size_limit=67108864;",
        )
        .map_err(backend)?;
        let changes = Arc::new(changes::Changes::default());
        changes.watch(&mut conn).map_err(backend)?;
        let (tx, rx) = mpsc::channel::<WriteJob>();
        let published = changes.clone();
        std::thread::Builder::new()
            .name("ecsd-sqlite-writer".into())
            .spawn(move || writer_loop(conn, rx, &published))
            .map_err(backend)?;
        let checkpoints = open(&path, false)?;
        let (stop_checkpoints, stopped) = mpsc::channel::<()>();
        std::thread::Builder::new()
            .name("ecsd-sqlite-checkpoint".into())
            .spawn(move || checkpoint_loop(checkpoints, stopped))
            .map_err(backend)?;
        let readers = Arc::new(Readers { path: path.clone(), idle: Mutex::new(Vec::new()) });
        let scans = scans::Scans::start(scans::scan_threads()).map_err(backend)?;
        Ok(SqliteStore { path, writer: Mutex::new(tx), readers, scans, changes, _stop_checkpoints: stop_checkpoints })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The id of the data directory this database belongs to (`meta` row `data_dir_id`), or
    /// `None` if it has not been given one (a new database, or one from before ids).
    pub fn data_dir_id(&self) -> Result<Option<String>, StoreError> {
        self.readers.with(|c| {
            c.query_row("SELECT value FROM meta WHERE key = 'data_dir_id'", [], |r| r.get(0))
                .optional()
                .map_err(backend)
        })
    }

    /// Whether the database holds anything a project owns (a server or a key pair): what a
    /// new account, in a new project, would not see. Two index lookups.
    pub fn has_project_resources(&self) -> Result<bool, StoreError> {
        self.readers.with(|c| {
            c.query_row("SELECT EXISTS (SELECT 1 FROM servers) OR EXISTS (SELECT 1 FROM keypairs)", [], |r| r.get(0))
                .map_err(backend)
        })
    }

    /// Gives the database its data directory id. An id, once given, is never replaced: a
    /// database that already has another one is refused with `Conflict`.
    pub async fn set_data_dir_id(&self, id: &str) -> Result<(), StoreError> {
        let id = id.to_string();
        self.write(move |c| {
            c.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('data_dir_id', ?1)", [&id]).map_err(backend)?;
            let kept: String =
                c.query_row("SELECT value FROM meta WHERE key = 'data_dir_id'", [], |r| r.get(0)).map_err(backend)?;
            if kept != id {
                return Err(StoreError::Conflict(format!("the database belongs to data directory {kept}")));
            }
            Ok(())
        })
        .await
    }

    /// Runs `f` in the writer's transaction; resolves once the transaction is committed.
    pub(crate) async fn write<R, F>(&self, f: F) -> Result<R, StoreError>
    where
        R: Send + 'static,
        F: FnOnce(&Connection) -> Result<R, StoreError> + Send + 'static,
    {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let job: WriteJob = Box::new(move |conn| {
            let r = match conn {
                Some(c) => f(c),
                None => Err(StoreError::Backend("the write transaction could not begin".into())),
            };
            let ok = r.is_ok();
            let deliver: Deliver = Box::new(move |commit| {
                let _ = tx.send(commit.and(r));
            });
            (ok, deliver)
        });
        self.writer
            .lock()
            .map_err(|e| StoreError::Backend(e.to_string()))?
            .send(job)
            .map_err(|_| StoreError::Backend("writer thread has stopped".into()))?;
        rx.await.map_err(|_| StoreError::Backend("writer thread dropped the request".into()))?
    }

    /// Runs `f` on a reader connection on one of the store's scan threads ([`scans`]): for
    /// scans, whose time grows with the data.
    pub(crate) async fn read<R, F>(&self, f: F) -> Result<R, StoreError>
    where
        R: Send + 'static,
        F: FnOnce(&Connection) -> Result<R, StoreError> + Send + 'static,
    {
        let readers = self.readers.clone();
        self.scans.run(move || readers.with(f)).await?
    }

    /// Runs `f` on a reader connection on the calling thread: for lookups by key, which take a
    /// few microseconds on a cached statement, less than handing them to another thread and
    /// back would cost (two context switches and the blocking pool's bookkeeping).
    pub(crate) async fn read_now<R, F>(&self, f: F) -> Result<R, StoreError>
    where
        F: FnOnce(&Connection) -> Result<R, StoreError>,
    {
        self.readers.with(f)
    }
}

/// Read-only connections, kept for reuse: each one holds its compiled statements.
pub(crate) struct Readers {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

/// Connections kept idle at most; more are opened under load and closed after.
const MAX_IDLE_READERS: usize = 32;

impl Readers {
    fn with<R>(&self, f: impl FnOnce(&Connection) -> Result<R, StoreError>) -> Result<R, StoreError> {
        let taken = self.idle.lock().map_err(|e| StoreError::Backend(e.to_string()))?.pop();
        let conn = match taken {
            Some(c) => c,
            None => open(&self.path, true)?,
        };
        let r = f(&conn);
        if let Ok(mut idle) = self.idle.lock() {
            if idle.len() < MAX_IDLE_READERS {
                idle.push(conn);
            }
        }
        r
    }
}

/// Runs `f`'s statements in one read transaction: they see one snapshot (a server and its
/// volumes read together cannot straddle a write), and SQLite takes its WAL read lock once
/// instead of once per statement (under 64 connections that lock, a mutex and `fcntl` on the
/// shared-memory file, was a quarter of a server lookup's time).
pub(crate) fn in_snapshot<R>(
    c: &Connection,
    f: impl FnOnce(&Connection) -> Result<R, StoreError>,
) -> Result<R, StoreError> {
    exec_cached(c, "BEGIN").map_err(backend)?;
    let r = f(c);
    // A read transaction has nothing to keep: COMMIT and ROLLBACK both just end it.
    let end = exec_cached(c, if r.is_ok() { "COMMIT" } else { "ROLLBACK" }).map_err(backend);
    let r = r?;
    end.map(|()| r)
}

/// Runs a statement without parameters from the connection's statement cache: the
/// transaction-control statements run several times per batch and would otherwise be parsed
/// every time.
fn exec_cached(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([]).map(|_| ())
}

/// How often the WAL is copied into the database. SQLite's own default is every 1,000 pages
/// (4 MB); under a full write load that many pages are written in a few hundred milliseconds.
const CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_millis(250);

/// Copies committed WAL frames into the database file in the background (a PASSIVE checkpoint
/// waits for nobody: it copies what no reader still needs and leaves the rest for next time).
/// Once everything is copied, the writer's next transaction starts the WAL over from the top,
/// so it stays bounded.
fn checkpoint_loop(conn: Connection, stop: mpsc::Receiver<()>) {
    while let Err(mpsc::RecvTimeoutError::Timeout) = stop.recv_timeout(CHECKPOINT_EVERY) {
        if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
            tracing::warn!(error = %e, "WAL checkpoint failed; will try again");
        }
    }
}

fn writer_loop(conn: Connection, rx: mpsc::Receiver<WriteJob>, changes: &changes::Changes) {
    conn.set_prepared_statement_cache_capacity(64);
    while let Ok(first) = rx.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(j) => batch.push(j),
                Err(_) => break,
            }
        }
        let mut delivers = Vec::with_capacity(batch.len());
        let began = std::time::Instant::now();
        let writes = batch.len();
        if let Err(e) = exec_cached(&conn, "BEGIN IMMEDIATE") {
            tracing::error!(error = %e, "cannot begin a write transaction");
            for job in batch {
                let (_, d) = job(None);
                d(Err(classify(&e)));
            }
            continue;
        }
        for job in batch {
            let _ = exec_cached(&conn, "SAVEPOINT req");
            let (ok, d) = job(Some(&conn));
            if !ok {
                let _ = exec_cached(&conn, "ROLLBACK TO req");
            }
            let _ = exec_cached(&conn, "RELEASE req");
            delivers.push(d);
        }
        match exec_cached(&conn, "COMMIT") {
            Ok(()) => {
                crate::observe::committed(began.elapsed(), writes);
                // Before the answers: a read that starts once a write is answered must find
                // it published, or it could take an answer kept from before for current.
                changes.publish();
                delivers.into_iter().for_each(|d| d(Ok(())))
            }
            Err(e) => {
                tracing::error!(error = %e, "commit failed; rolling back the batch");
                let _ = exec_cached(&conn, "ROLLBACK");
                changes.publish();
                let err = classify(&e);
                delivers.into_iter().for_each(|d| d(Err(err.clone())));
            }
        }
    }
}

#[cfg(test)]
mod tests;

#[async_trait::async_trait]
impl crate::Store for SqliteStore {
    async fn keypair_insert(&self, kp: ecs_model::keypair::Keypair) -> Result<ecs_model::keypair::Keypair, StoreError> {
        self.kp_insert(kp).await
    }
    async fn keypair_get(
        &self,
        project_id: &str,
        name: &str,
    ) -> Result<Option<ecs_model::keypair::Keypair>, StoreError> {
        self.kp_get(project_id, name).await
    }
    async fn keypair_list(
        &self,
        project_id: &str,
        limit: Option<usize>,
        marker: Option<&str>,
    ) -> Result<Vec<ecs_model::keypair::Keypair>, StoreError> {
        self.kp_list(project_id, limit, marker).await
    }
    async fn keypair_delete(&self, project_id: &str, name: &str) -> Result<bool, StoreError> {
        self.kp_delete(project_id, name).await
    }
    async fn image_put(&self, image: ecs_model::image::Image) -> Result<(), StoreError> {
        self.img_put(image).await
    }
    async fn image_get(&self, id: &str) -> Result<Option<ecs_model::image::Image>, StoreError> {
        self.img_get(id).await
    }
    async fn image_list(&self) -> Result<Vec<ecs_model::image::Image>, StoreError> {
        self.img_list().await
    }
    async fn network_default(
        &self,
        project_id: &str,
    ) -> Result<(ecs_model::network::Vpc, ecs_model::network::Subnet), StoreError> {
        self.net_default(project_id).await
    }
    async fn vpc_list(&self, project_id: &str) -> Result<Vec<ecs_model::network::Vpc>, StoreError> {
        self.vpcs(project_id).await
    }
    async fn subnet_list(&self, project_id: &str) -> Result<Vec<ecs_model::network::Subnet>, StoreError> {
        self.subnets(project_id).await
    }
    async fn subnet_used(&self, subnet_id: &str) -> Result<i64, StoreError> {
        self.subnet_used_count(subnet_id).await
    }
    async fn server_get(&self, project_id: &str, id: &str) -> Result<Option<crate::ServerRow>, StoreError> {
        self.srv_get(project_id, id).await
    }
    async fn server_get_with(
        &self,
        project_id: &str,
        id: &str,
        also: crate::AlsoRead<'_>,
    ) -> Result<crate::ServerWith, StoreError> {
        self.srv_get_with(project_id, id, also).await
    }
    async fn server_list_ids(
        &self,
        project_id: &str,
        filter: &crate::ServerFilter,
    ) -> Result<Option<(i64, Vec<String>)>, StoreError> {
        self.srv_list_ids(project_id, filter).await
    }
    fn unchanged_since(&self, seen: &crate::Seen) -> bool {
        self.srv_unchanged_since(seen)
    }
    async fn server_only(&self, project_id: &str, id: &str) -> Result<Option<ecs_model::server::Server>, StoreError> {
        self.srv_only(project_id, id).await
    }
    async fn server_list(
        &self,
        project_id: &str,
        filter: &crate::ServerFilter,
    ) -> Result<crate::ServerPage, StoreError> {
        self.srv_list(project_id, filter).await
    }
    async fn server_ids_with_status(&self, status: &str) -> Result<Vec<(String, String)>, StoreError> {
        self.srv_ids_with_status(status).await
    }
    async fn server_update(&self, server: ecs_model::server::Server) -> Result<ecs_model::server::Server, StoreError> {
        self.srv_update(server).await
    }
    async fn server_delete(&self, project_id: &str, id: &str) -> Result<(), StoreError> {
        self.srv_delete(project_id, id).await
    }
    async fn volume_put(&self, volume: ecs_model::volume::Volume) -> Result<(), StoreError> {
        self.vol_put(volume).await
    }
    async fn volume_get(&self, id: &str) -> Result<Option<ecs_model::volume::Volume>, StoreError> {
        self.vol_get(id).await
    }
    async fn volume_delete(&self, id: &str) -> Result<(), StoreError> {
        self.vol_delete(id).await
    }
    async fn volume_list(&self) -> Result<Vec<ecs_model::volume::Volume>, StoreError> {
        self.vol_list().await
    }
    async fn project_usage(&self, project_id: &str) -> Result<ecs_model::quota::Usage, StoreError> {
        let p = project_id.to_string();
        self.read_now(move |c| quotas::usage_in(c, &p)).await
    }
    async fn volume_list_project(&self, project_id: &str) -> Result<Vec<ecs_model::volume::Volume>, StoreError> {
        let p = project_id.to_string();
        self.read(move |c| volumes::of_project(c, &p)).await
    }
    async fn begin(&self, begin: crate::Begin) -> Result<Vec<ecs_model::server::Server>, StoreError> {
        self.begin_op(begin).await
    }
    async fn job_get(
        &self,
        project_id: &str,
        id: &str,
    ) -> Result<Option<(ecs_model::job::Job, Vec<ecs_model::job::Job>)>, StoreError> {
        self.job_with_children(project_id, id).await
    }
    async fn job_expire(&self, before_ms: i64) -> Result<u64, StoreError> {
        self.jobs_expire(before_ms).await
    }
    async fn saga_events(&self, saga_ids: &[String]) -> Result<Vec<crate::LoggedEvent>, StoreError> {
        self.events_of(saga_ids).await
    }
    async fn trace_insert(&self, traces: Vec<crate::TraceRecord>) -> Result<(), StoreError> {
        self.traces_insert(traces).await
    }
    async fn trace_list(&self, query: &crate::TraceQuery) -> Result<(Vec<crate::TraceRecord>, bool), StoreError> {
        self.traces_list(query).await
    }
    async fn trace_expire(&self, before_ms: i64) -> Result<u64, StoreError> {
        self.traces_expire(before_ms).await
    }
    async fn server_status_counts(&self) -> Result<Vec<(String, i64)>, StoreError> {
        self.read(|c| {
            let mut st = c.prepare_cached("SELECT status, COUNT(*) FROM servers GROUP BY status").map_err(backend)?;
            let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).map_err(backend)?;
            rows.collect::<Result<Vec<_>, _>>().map_err(backend)
        })
        .await
    }
    // --- ports and security groups
    async fn port_get(&self, project_id: &str, id: &str) -> Result<Option<ecs_model::port::Port>, StoreError> {
        self.port_by_id(project_id, id).await
    }
    async fn port_list(&self, project_id: &str) -> Result<Vec<ecs_model::port::Port>, StoreError> {
        self.ports_of_project(project_id).await
    }
    async fn port_update(&self, port: ecs_model::port::Port) -> Result<(), StoreError> {
        self.port_put(port).await
    }
    async fn server_update_security_groups(
        &self,
        server: ecs_model::server::Server,
    ) -> Result<ecs_model::server::Server, StoreError> {
        self.server_groups_update(server).await
    }
    async fn security_group_insert(
        &self,
        group: ecs_model::security_group::SecurityGroup,
        rules: Vec<ecs_model::security_group::SecurityGroupRule>,
    ) -> Result<(), StoreError> {
        self.group_insert(group, rules).await
    }
    async fn security_group_get(
        &self,
        project_id: &str,
        id: &str,
    ) -> Result<Option<ecs_model::security_group::SecurityGroup>, StoreError> {
        self.group_get(project_id, id).await
    }
    async fn security_group_list(
        &self,
        project_id: &str,
    ) -> Result<Vec<ecs_model::security_group::SecurityGroup>, StoreError> {
        self.groups_of_project(project_id).await
    }
    async fn security_group_delete(&self, project_id: &str, id: &str) -> Result<(), StoreError> {
        self.group_delete(project_id, id).await
    }
    async fn security_group_rules(
        &self,
        project_id: &str,
        group_id: Option<&str>,
    ) -> Result<Vec<ecs_model::security_group::SecurityGroupRule>, StoreError> {
        self.rules_of(project_id, group_id).await
    }
    async fn security_group_rule_insert(
        &self,
        rule: ecs_model::security_group::SecurityGroupRule,
    ) -> Result<(), StoreError> {
        self.rule_insert(rule).await
    }
    async fn security_group_rule_delete(&self, project_id: &str, id: &str) -> Result<bool, StoreError> {
        self.rule_delete(project_id, id).await
    }
    async fn server_group_insert(
        &self,
        group: ecs_model::server_group::ServerGroup,
        max: i64,
    ) -> Result<(), StoreError> {
        self.sg_insert(group, max).await
    }
    async fn server_group_get(
        &self,
        project_id: &str,
        id: &str,
    ) -> Result<Option<ecs_model::server_group::ServerGroup>, StoreError> {
        self.sg_get(project_id, id).await
    }
    async fn server_group_list(
        &self,
        project_id: &str,
    ) -> Result<Vec<ecs_model::server_group::ServerGroup>, StoreError> {
        self.sg_list(project_id).await
    }
    async fn server_group_delete(&self, project_id: &str, id: &str) -> Result<bool, StoreError> {
        self.sg_delete(project_id, id).await
    }
    async fn server_group_add(&self, project_id: &str, id: &str, server_ids: &[String]) -> Result<(), StoreError> {
        self.sg_add(project_id, id, server_ids).await
    }
    async fn server_group_remove(&self, project_id: &str, id: &str, server_ids: &[String]) -> Result<(), StoreError> {
        self.sg_remove(project_id, id, server_ids).await
    }
    async fn server_deadlines(&self, limit: i64) -> Result<Vec<(String, String, i64)>, StoreError> {
        self.srv_deadlines(limit).await
    }
}
