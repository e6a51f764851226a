//! The PostgreSQL store: the same [`crate::Store`] as SQLite's, on a database that several
//! ecsd nodes can share.
//!
//! Connections come from a pool (deadpool-postgres); each keeps its own cache of prepared
//! statements, so the statements every request runs are parsed once per connection. Every
//! write that SQLite makes in one savepoint of its group commit is one transaction here, at
//! READ COMMITTED, set explicitly so that a server whose default is stricter does not turn
//! row-lock waits into serialization failures. Where two transactions could both pass a
//! check and then both write (a quota, an address, a group being deleted), the check first
//! takes a row lock, and READ COMMITTED then lets its next statement see what the lock holder
//! committed; each place says which lock it takes and why.

mod catalog;
mod group_commit;
mod jobs;
mod networks;
mod nodes;
mod one_server_op;
mod quotas;
mod schema;
mod server_groups;
mod server_with;
mod servers;
mod shared;
mod traces;
mod volumes;

pub use schema::SCHEMA_VERSION;

use crate::StoreError;
use deadpool_postgres::{GenericClient, Manager, ManagerConfig, Object, Pool, RecyclingMethod, Runtime, Transaction};
use serde::de::DeserializeOwned;
use std::str::FromStr;
use std::time::Duration;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::{FromSql, ToSql};
use tokio_postgres::{IsolationLevel, NoTls, Row};

/// Connections a store keeps at most. Requests beyond it wait for one (up to
/// [`POOL_WAIT`]): PostgreSQL serves many connections worse than a few busy ones.
pub const DEFAULT_POOL_SIZE: usize = 16;

/// How long a request waits for a free connection before it fails as a backend error.
const POOL_WAIT: Duration = Duration::from_secs(30);
/// How long connecting to the server may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The PostgreSQL implementation of [`crate::Store`].
pub struct PgStore {
    pool: Pool,
    /// What [`PgStore::describe`] says: the URL without its password.
    described: String,
    /// The node this process joined the database as ([`crate::cluster::Cluster::node_join`]):
    /// the holder of the sagas it records, and the writer named in their logs.
    member: std::sync::RwLock<Option<crate::cluster::Member>>,
    /// The batches one-server acceptances commit in, started with the first of them (on the
    /// runtime that serves requests).
    group_commit: std::sync::OnceLock<group_commit::GroupCommit>,
}

impl PgStore {
    /// Connects to the database `url` (`postgres://USER[:PASSWORD]@HOST[:PORT]/DB`), creates or
    /// migrates its schema, and refuses a schema newer than this build knows.
    pub async fn open(url: &str) -> Result<PgStore, StoreError> {
        PgStore::open_with(url, DEFAULT_POOL_SIZE).await
    }

    /// [`PgStore::open`] with a pool of at most `pool_size` connections.
    pub async fn open_with(url: &str, pool_size: usize) -> Result<PgStore, StoreError> {
        PgStore::open_for_node(url, pool_size, None).await
    }

    /// [`PgStore::open_with`] for a node of a cluster whose lease is `idle_limit`: the server
    /// ends any of this store's sessions whose transaction has been idle that long
    /// (`idle_in_transaction_session_timeout`). A node stalled in the middle of a transaction
    /// (a stopped process, a paused VM) would otherwise hold its row locks for as long as it
    /// is stalled, and the sagas it had locked (a log write holds its saga's row) could not be
    /// adopted by the others, which skip locked rows. Its transaction is rolled back; the
    /// node finds the connection gone when it comes back, as a fenced write would.
    pub async fn open_for_node(
        url: &str,
        pool_size: usize,
        idle_limit: Option<Duration>,
    ) -> Result<PgStore, StoreError> {
        let mut config = tokio_postgres::Config::from_str(url)
            .map_err(|e| StoreError::Backend(format!("{}: not a PostgreSQL URL: {e}", redact(url))))?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        if let Some(limit) = idle_limit {
            let ms = limit.as_millis().max(1);
            let options = match config.get_options() {
                Some(o) if !o.is_empty() => format!("{o} -c idle_in_transaction_session_timeout={ms}"),
                _ => format!("-c idle_in_transaction_session_timeout={ms}"),
            };
            config.options(&options);
        }
        config.application_name("ecsd");
        let described = describe(&config);
        let named = |e: StoreError| match e {
            StoreError::Backend(m) => StoreError::Backend(format!("{described}: {m}")),
            StoreError::Damaged(m) => StoreError::Damaged(format!("{described}: {m}")),
            e => e,
        };
        schema::migrate(&config).await.map_err(named)?;
        let manager = Manager::from_config(config, NoTls, ManagerConfig { recycling_method: RecyclingMethod::Fast });
        let pool = Pool::builder(manager)
            .max_size(pool_size.max(1))
            .wait_timeout(Some(POOL_WAIT))
            .create_timeout(Some(CONNECT_TIMEOUT))
            .runtime(Runtime::Tokio1)
            .build()
            .map_err(|e| StoreError::Backend(e.to_string()))?;
        Ok(PgStore { pool, described, member: std::sync::RwLock::new(None), group_commit: std::sync::OnceLock::new() })
    }

    /// The database, for messages and the start-up banner: `postgres://USER@HOST:PORT/DB`,
    /// never the password.
    pub fn describe(&self) -> &str {
        &self.described
    }

    /// Whether the database holds anything a project owns (a server or a key pair).
    pub async fn has_project_resources(&self) -> Result<bool, StoreError> {
        let c = self.client().await?;
        let row = one(&c, "SELECT EXISTS (SELECT 1 FROM servers) OR EXISTS (SELECT 1 FROM keypairs)", &[]).await?;
        get(&row, 0)
    }

    /// The group commit of one-server acceptances: a lane for every four connections of the
    /// pool, so that the batches leave connections to the reads.
    fn group_commit(&self) -> &group_commit::GroupCommit {
        self.group_commit
            .get_or_init(|| group_commit::GroupCommit::start(self.pool.clone(), self.pool.status().max_size / 4))
    }

    /// A connection from the pool.
    pub(crate) async fn client(&self) -> Result<Object, StoreError> {
        self.pool.get().await.map_err(pool_err)
    }
}

/// A connection the pool could not give, as a [`StoreError`].
pub(crate) fn pool_err(e: deadpool_postgres::PoolError) -> StoreError {
    match e {
        deadpool_postgres::PoolError::Backend(e) => pg_err(e),
        e => StoreError::Backend(format!("no database connection: {e}")),
    }
}

/// Starts a READ COMMITTED transaction on `c`. Dropped without `commit`, it rolls back: every
/// `?` in a write leaves nothing behind.
pub(crate) async fn transaction(c: &mut Object) -> Result<Transaction<'_>, StoreError> {
    c.build_transaction().isolation_level(IsolationLevel::ReadCommitted).start().await.map_err(pg_err)
}

/// Commits `tx`.
pub(crate) async fn commit(tx: Transaction<'_>) -> Result<(), StoreError> {
    let began = std::time::Instant::now();
    tx.commit().await.map_err(pg_err)?;
    // One transaction, one write: PostgreSQL's own group commit is not visible from here.
    crate::observe::committed(began.elapsed(), 1);
    Ok(())
}

/// A PostgreSQL error as a [`StoreError`], by its SQLSTATE: the service answers a full disk, a
/// damaged database and a lost race differently from any other failure.
pub(crate) fn pg_err(e: tokio_postgres::Error) -> StoreError {
    let Some(code) = e.code() else {
        // No SQLSTATE: the connection failed, closed, or a value did not convert.
        return StoreError::Backend(e.to_string());
    };
    let message = match e.as_db_error() {
        Some(db) => db.message().to_string(),
        None => e.to_string(),
    };
    if *code == SqlState::UNIQUE_VIOLATION {
        StoreError::Conflict(message)
    } else if *code == SqlState::T_R_DEADLOCK_DETECTED || *code == SqlState::T_R_SERIALIZATION_FAILURE {
        // A lost race between two writers, as a lost compare-and-swap is: the request is
        // refused, not retried (it was decided on the state it read).
        StoreError::Conflict(message)
    } else if *code == SqlState::DISK_FULL {
        StoreError::Full(message)
    } else if *code == SqlState::DATA_CORRUPTED || *code == SqlState::INDEX_CORRUPTED {
        StoreError::Damaged(message)
    } else {
        // Connection exceptions (class 08), too many connections, an administrator's shutdown,
        // and everything else.
        StoreError::Backend(format!("{message} (SQLSTATE {})", code.code()))
    }
}

/// A record body as stored (JSON text) decoded; a body that does not parse is damage.
pub(crate) fn decode<T: DeserializeOwned>(body: &str) -> Result<T, StoreError> {
    serde_json::from_str(body).map_err(|e| StoreError::Damaged(format!("a stored record does not parse: {e}")))
}

/// A record as its stored JSON text.
pub(crate) fn encode<T: serde::Serialize>(v: &T) -> Result<String, StoreError> {
    serde_json::to_string(v).map_err(|e| StoreError::Backend(e.to_string()))
}

/// Column `i` of `row`. A column that does not convert is a schema that is not ours.
pub(crate) fn get<'a, T: FromSql<'a>>(row: &'a Row, i: usize) -> Result<T, StoreError> {
    row.try_get(i).map_err(|e| StoreError::Damaged(format!("a stored column does not read: {e}")))
}

/// The `body` (column 0) of each row, decoded.
pub(crate) fn bodies<T: DeserializeOwned>(rows: &[Row]) -> Result<Vec<T>, StoreError> {
    rows.iter().map(|r| get::<&str>(r, 0).and_then(decode)).collect()
}

type Params<'a> = &'a [&'a (dyn ToSql + Sync)];

/// The rows of `sql`, through the connection's statement cache.
pub(crate) async fn query(c: &impl GenericClient, sql: &str, p: Params<'_>) -> Result<Vec<Row>, StoreError> {
    let st = c.prepare_cached(sql).await.map_err(pg_err)?;
    c.query(&st, p).await.map_err(pg_err)
}

/// The row of `sql`, if it returns one.
pub(crate) async fn query_opt(c: &impl GenericClient, sql: &str, p: Params<'_>) -> Result<Option<Row>, StoreError> {
    let st = c.prepare_cached(sql).await.map_err(pg_err)?;
    c.query_opt(&st, p).await.map_err(pg_err)
}

/// The one row of `sql`.
pub(crate) async fn one(c: &impl GenericClient, sql: &str, p: Params<'_>) -> Result<Row, StoreError> {
    let st = c.prepare_cached(sql).await.map_err(pg_err)?;
    c.query_one(&st, p).await.map_err(pg_err)
}

/// Runs `sql`; the number of rows it changed.
pub(crate) async fn execute(c: &impl GenericClient, sql: &str, p: Params<'_>) -> Result<u64, StoreError> {
    let st = c.prepare_cached(sql).await.map_err(pg_err)?;
    c.execute(&st, p).await.map_err(pg_err)
}

/// `postgres://USER@HOST:PORT/DB` of a configuration: what a message may show.
fn describe(config: &tokio_postgres::Config) -> String {
    use tokio_postgres::config::Host;
    let host = match config.get_hosts().first() {
        Some(Host::Tcp(h)) => h.clone(),
        #[cfg(unix)]
        Some(Host::Unix(p)) => p.display().to_string(),
        None => "localhost".into(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let user = config.get_user().map(|u| format!("{u}@")).unwrap_or_default();
    let db = config.get_dbname().unwrap_or("");
    format!("postgres://{user}{host}:{port}/{db}")
}

/// A URL that did not parse, shown without what could be a password (anything between `:`
/// and `@` of its authority).
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let auth = &url[s + 3..at];
            match auth.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

#[async_trait::async_trait]
impl crate::Store for PgStore {
    fn cluster(&self) -> Option<&dyn crate::cluster::Cluster> {
        Some(self)
    }

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
        let c = self.client().await?;
        quotas::usage_in(&c, project_id).await
    }
    async fn volume_list_project(&self, project_id: &str) -> Result<Vec<ecs_model::volume::Volume>, StoreError> {
        let c = self.client().await?;
        volumes::of_project(&c, project_id).await
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
        let c = self.client().await?;
        let rows = query(&c, "SELECT status, COUNT(*) FROM servers GROUP BY status", &[]).await?;
        rows.iter().map(|r| Ok((get(r, 0)?, get(r, 1)?))).collect()
    }
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

    // --- state shared by the nodes of one database (`shared.rs`)
    fn shared(&self) -> bool {
        true
    }
    async fn sim_record_get(&self, kind: crate::SimKind, id: &str) -> Result<Option<String>, StoreError> {
        self.sim_get(kind, id).await
    }
    async fn sim_record_put(&self, kind: crate::SimKind, id: &str, body: &str) -> Result<(), StoreError> {
        self.sim_put(kind, id, body).await
    }
    async fn sim_record_delete(&self, kind: crate::SimKind, id: &str) -> Result<bool, StoreError> {
        self.sim_delete(kind, id).await
    }
    async fn sim_record_list(&self, kind: crate::SimKind) -> Result<Vec<(String, String)>, StoreError> {
        self.sim_list(kind).await
    }
    async fn fault_insert(&self, fault: &crate::SharedFault) -> Result<(), StoreError> {
        self.faults_insert(fault).await
    }
    async fn fault_list(&self) -> Result<Vec<crate::SharedFault>, StoreError> {
        self.faults_list().await
    }
    async fn fault_remove(&self, project_id: &str, id: &str) -> Result<bool, StoreError> {
        self.faults_remove(project_id, id).await
    }
    async fn fault_clear(&self, project_id: &str) -> Result<u64, StoreError> {
        self.faults_clear(project_id).await
    }
    async fn fault_hit(&self, id: &str) -> Result<Option<crate::SharedFault>, StoreError> {
        self.faults_hit(id).await
    }
    async fn fault_add_hits(&self, id: &str, n: i64) -> Result<(), StoreError> {
        let c = self.client().await?;
        execute(&c, "UPDATE faults SET hits = hits + $2 WHERE id = $1", &[&id, &n]).await?;
        Ok(())
    }
    async fn setting_get(&self, key: &str) -> Result<Option<String>, StoreError> {
        self.settings_get(key).await
    }
    async fn setting_init(&self, key: &str, value: &str) -> Result<String, StoreError> {
        self.settings_init(key, value).await
    }
}

#[cfg(test)]
mod cluster_tests;
#[cfg(test)]
mod tests;
