//! The shared state: what sagas act through ([`Ctx`]) and what request handlers use ([`App`]).

use crate::accounts::Accounts;
use ecs_driver::{ComputeDriver, DriverError};
use ecs_model::server::Server;
use ecs_saga::{Executor, StepError};
use ecs_store::{Store, StoreError};
use std::sync::Arc;

/// What saga steps act through.
pub struct Ctx {
    pub store: Arc<dyn Store>,
    pub driver: Arc<dyn ComputeDriver>,
}

/// Everything a request handler needs.
#[derive(Clone)]
pub struct App {
    pub ctx: Arc<Ctx>,
    pub executor: Executor<Ctx>,
    pub accounts: Arc<Accounts>,
    /// Injected faults (also the executor's hook).
    pub faults: Arc<crate::faults::Faults>,
    /// Issues and checks `X-Auth-Token`s.
    pub tokens: Arc<crate::iam::Tokens>,
    /// Requests per second per credential; `None`: unlimited.
    pub limiter: Option<Arc<crate::rate_limit::RateLimiter>>,
}

/// A store failure inside a saga step. A full disk makes the step wait for space (see the
/// executor), rather than fail the operation.
pub fn store_step_error(e: StoreError) -> StepError {
    let message = format!("A system exception occurred: {e}");
    match e {
        StoreError::Full(_) => StepError::no_space("Ecs.1000", message),
        _ => StepError::new("Ecs.1000", message),
    }
}

/// A driver failure inside a saga step; the driver's "no space" waits like the store's.
pub fn driver_step_error(e: DriverError) -> StepError {
    if e.no_space {
        StepError::no_space(e.code, e.message)
    } else {
        StepError::new(e.code, e.message)
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
        for _ in 0..100 {
            let Some(mut s) = self.store.server_only(project_id, server_id).await.map_err(store_step_error)? else {
                return Ok(None);
            };
            change(&mut s);
            s.updated_ms = ecs_model::timefmt::now_ms();
            let written = if volumes.is_empty() {
                self.store.server_update(s).await
            } else {
                // `begin` applies the same compare-and-swap as `server_update`, with the volumes.
                let b = ecs_store::Begin {
                    update_servers: vec![s.clone()],
                    insert_volumes: volumes.clone(),
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
        Err(StepError::new("Ecs.1000", format!("server {server_id} kept changing; update abandoned")))
    }
}
