//! The shared state: what sagas act through ([`Ctx`]) and what request handlers use ([`App`]).

use crate::accounts::Accounts;
use ecs_driver::{ComputeDriver, DriverError};
use ecs_model::server::Server;
use ecs_saga::{Executor, StepError};
use ecs_store::{Store, StoreError};
use ecs_types::Code;
use std::sync::Arc;

/// What saga steps act through.
pub struct Ctx {
    pub store: Arc<dyn Store>,
    pub driver: Arc<dyn ComputeDriver>,
    /// Servers as the sagas' handed writes left them ([`crate::step_writes`]).
    pub written: Arc<crate::step_writes::WrittenServers>,
}

/// Everything a request handler needs, behind one `Arc`: the router clones the state for
/// every request and each of its layers, and a clone of the fields themselves was an atomic
/// increment (and a decrement on drop) per shared field, on counters every core touches.
#[derive(Clone)]
pub struct App(Arc<AppState>);

impl App {
    pub fn new(state: AppState) -> App {
        App(Arc::new(state))
    }
}

impl std::ops::Deref for App {
    type Target = AppState;
    fn deref(&self) -> &AppState {
        &self.0
    }
}

/// The fields of [`App`].
#[derive(Clone)]
pub struct AppState {
    pub ctx: Arc<Ctx>,
    pub executor: Executor<Ctx>,
    pub accounts: Arc<Accounts>,
    /// Injected faults (also the executor's hook).
    pub faults: Arc<crate::faults::Faults>,
    /// Issues and checks `X-Auth-Token`s.
    pub tokens: Arc<crate::iam::Tokens>,
    /// Requests per second per credential; `None`: unlimited.
    pub limiter: Option<Arc<crate::rate_limit::RateLimiter>>,
    /// Every project's quotas on servers, vCPUs and memory.
    pub quotas: ecs_model::quota::Quotas,
    /// This process as a node and compute host (also the executor's fence).
    pub node: Arc<crate::cluster::Node>,
    /// The remote-console URLs handed out and not yet expired.
    pub consoles: Arc<crate::console_tickets::ConsoleTickets>,
    /// The audit trail's recorder.
    pub audit: crate::audit::Audit,
    /// Finished jobs' answers (they never change), so a poll of one skips the store.
    pub finished_jobs: Arc<crate::finished_jobs::FinishedJobs>,
    /// Servers' details as last answered, while the store says they are current.
    pub shown_servers: Arc<crate::shown_servers::ShownServers>,
}

/// A step failure with one of the codes of the table; `message` is what the job says.
pub fn step_error(code: Code, message: impl Into<String>) -> StepError {
    StepError::new(code.as_str(), message)
}

/// A store failure inside a saga step: a system exception for the job, the store's own words
/// for the log. A full disk makes the step wait for space (see the executor) rather than fail.
pub fn store_step_error(e: StoreError) -> StepError {
    let failure = step_error(Code::Ecs1000, Code::Ecs1000.default_message()).with_detail(e.to_string());
    match e {
        StoreError::Full(_) => failure.no_space(),
        _ => failure,
    }
}

/// A driver failure inside a saga step, said the same way (the driver's message can name the
/// host's files and tools); the driver's "no space" waits like the store's.
pub fn driver_step_error(e: DriverError) -> StepError {
    let failure = step_error(Code::Ecs1000, Code::Ecs1000.default_message()).with_detail(e.message);
    if e.no_space {
        failure.no_space()
    } else {
        failure
    }
}

impl Ctx {
    /// Reads a server, applies `change`, and writes it back with compare-and-swap, retrying
    /// when a concurrent writer (a rename, a lock) got there first. Returns `None` when the
    /// server no longer exists.
    ///
    /// For saga steps only: a saga holds the server through its `task_state` and its changes
    /// apply whatever else changed. A request checks a gate first and must check it again after
    /// a lost swap: `app::update_gated`.
    pub async fn update_server<F>(
        &self,
        project_id: &str,
        server_id: &str,
        change: F,
    ) -> Result<Option<Server>, StepError>
    where
        F: Fn(&mut Server) + Send + Sync,
    {
        self.update_server_and_volumes(project_id, server_id, change, Vec::new()).await
    }

    /// Like [`Ctx::update_server`], and writes `volumes` (inserted or replaced) in the same
    /// transaction: a disk swap and the state that announces it land together or not at all.
    pub async fn update_server_and_volumes<F>(
        &self,
        project_id: &str,
        server_id: &str,
        change: F,
        volumes: Vec<ecs_model::volume::Volume>,
    ) -> Result<Option<Server>, StepError>
    where
        F: Fn(&mut Server) + Send + Sync,
    {
        // A step's write on a shared store is fenced like its log: a node that stalled past its
        // lease must not put back a state the saga's adopter has moved past.
        let fence = ecs_saga::current_hold().filter(|_| self.store.cluster().is_some());
        for _ in 0..100 {
            let Some(mut s) = self.store.server_only(project_id, server_id).await.map_err(store_step_error)? else {
                return Ok(None);
            };
            change(&mut s);
            s.updated_ms = ecs_model::timefmt::now_ms();
            let written = if volumes.is_empty() && fence.is_none() {
                self.store.server_update(s).await
            } else {
                // `begin` applies the same compare-and-swap as `server_update`, with the volumes
                // and the fence.
                let b = ecs_store::Begin {
                    update_servers: vec![s.clone()],
                    insert_volumes: volumes.clone(),
                    fence: fence.clone(),
                    ..Default::default()
                };
                self.store.begin(b).await.map(|_| Server { generation: s.generation + 1, ..s })
            };
            match written {
                Ok(s) => return Ok(Some(s)),
                Err(StoreError::Conflict(_)) => continue,
                Err(e) => return Err(store_step_error(e)),
            }
        }
        Err(step_error(Code::Ecs1000, Code::Ecs1000.default_message())
            .with_detail(format!("server {server_id} kept changing; update abandoned")))
    }
}
