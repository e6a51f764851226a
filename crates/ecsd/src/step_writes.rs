//! The writes saga steps hand to the executor ([`ecs_saga::StepCx::write_with_log`]): one
//! server's change and volume rows, committed in one transaction with the step's record.

use crate::context::Ctx;
use ecs_model::server::Server;
use ecs_store::{Store, StoreError};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// A saga step's changes to the store: one server's state, volumes written and deleted. The
/// step hands it to the executor, which commits it in one transaction with the step's record
/// instead of after a write of its own (a reinstall took 14 durable writes, of which 5 were
/// its steps' own).
pub struct StoreWrite {
    store: Arc<dyn Store>,
    written: Arc<WrittenServers>,
    server: Option<ServerChange>,
    volumes: Vec<ecs_model::volume::Volume>,
    delete_volumes: Vec<String>,
}

/// A change to one server, applied to the server as it is when the write commits.
struct ServerChange {
    project_id: String,
    server_id: String,
    change: Box<dyn Fn(&mut Server) + Send + Sync>,
}

/// The server each running saga's last handed write left, by saga id. The saga's next write
/// tries its compare-and-swap on that version instead of reading the server again first (a
/// read and a decode on a request thread, 15 % of their time during reinstalls, docs/benchmarks.md
/// run W2); a server someone else changed meanwhile fails the swap and is read afresh, so the
/// version kept is never written over anything newer. At most [`WrittenServers::MAX`] sagas
/// are kept (a running saga keeps one; the executor runs 1,024 at once), and a saga's is
/// forgotten when it ends: past the bound the table starts over, which only costs reads.
#[derive(Default)]
pub struct WrittenServers(Mutex<HashMap<String, Server>>);

impl WrittenServers {
    const MAX: usize = 4096;

    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<String, Server>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The server saga `saga_id` last wrote, if it is `server_id` (taken: a write that fails
    /// leaves nothing behind to trust).
    fn take(&self, saga_id: &str, server_id: &str) -> Option<Server> {
        let mut map = self.map();
        let s = map.remove(saga_id)?;
        (s.id == server_id).then_some(s)
    }

    /// Forgets what saga `saga_id` kept (it has ended).
    pub fn forget(&self, saga_id: &str) {
        self.map().remove(saga_id);
    }

    fn put(&self, saga_id: &str, server: Server) {
        let mut map = self.map();
        if map.len() >= Self::MAX {
            map.clear();
        }
        map.insert(saga_id.to_string(), server);
    }

    /// How many sagas' servers are kept (tests).
    pub fn len(&self) -> usize {
        self.map().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Ctx {
    /// A write of `change` to a server, as [`Ctx::update_server`] makes it (read, changed,
    /// compare-and-swap, again when a concurrent writer got there first), for a step to hand
    /// to the executor. A server that no longer exists is left alone, with the volumes the
    /// write carries for it.
    pub fn server_write(
        &self,
        project_id: &str,
        server_id: &str,
        change: impl Fn(&mut Server) + Send + Sync + 'static,
    ) -> StoreWrite {
        let server = ServerChange {
            project_id: project_id.to_string(),
            server_id: server_id.to_string(),
            change: Box::new(change),
        };
        StoreWrite { server: Some(server), ..self.store_write() }
    }

    /// A write that changes no server (volumes only).
    pub fn store_write(&self) -> StoreWrite {
        StoreWrite {
            store: self.store.clone(),
            written: self.written.clone(),
            server: None,
            volumes: Vec::new(),
            delete_volumes: Vec::new(),
        }
    }
}

impl StoreWrite {
    /// Also writes `volumes` (inserted or replaced) for the server.
    pub fn with_volumes(self, volumes: Vec<ecs_model::volume::Volume>) -> Self {
        StoreWrite { volumes, ..self }
    }

    /// Also deletes the volume `id`'s row.
    pub fn deleting_volume(mut self, id: &str) -> Self {
        self.delete_volumes.push(id.to_string());
        self
    }
}

#[async_trait::async_trait]
impl ecs_saga::StepWrite for StoreWrite {
    async fn commit(&self, log: ecs_saga::LogWrite) -> Result<(), ecs_saga::LogError> {
        let failed = |e: StoreError| ecs_saga::LogError::Failed(e.to_string());
        let mut kept = self.server.as_ref().and_then(|c| self.written.take(&log.saga_id, &c.server_id));
        for _ in 0..100 {
            let mut b = ecs_store::Begin {
                delete_volumes: self.delete_volumes.clone(),
                log: Some(log.clone()),
                ..Default::default()
            };
            let mut changed = None;
            if let Some(c) = &self.server {
                let current = match kept.take() {
                    Some(s) => Some(s),
                    None => self.store.server_only(&c.project_id, &c.server_id).await.map_err(failed)?,
                };
                if let Some(mut s) = current {
                    (c.change)(&mut s);
                    s.updated_ms = ecs_model::timefmt::now_ms();
                    // The saga's last write (it carries the end) is never kept: no copy.
                    if log.outcome.is_none() {
                        changed = Some(Server { generation: s.generation + 1, ..s.clone() });
                    }
                    b.update_servers.push(s);
                    b.insert_volumes = self.volumes.clone();
                }
            } else {
                b.insert_volumes = self.volumes.clone();
            }
            match self.store.begin(b).await {
                Ok(_) => {
                    match &log.outcome {
                        Some(outcome) => {
                            self.written.forget(&log.saga_id);
                            crate::metrics::job_finished(&log.saga_id, outcome);
                        }
                        None => {
                            if let Some(s) = changed {
                                self.written.put(&log.saga_id, s);
                            }
                        }
                    }
                    return Ok(());
                }
                // Changed by someone else since (or since the version kept): read it again.
                Err(StoreError::Conflict(_)) => continue,
                Err(StoreError::Fenced(id)) => return Err(ecs_saga::LogError::Fenced(id)),
                Err(e) => return Err(failed(e)),
            }
        }
        let id = self.server.as_ref().map(|c| c.server_id.as_str()).unwrap_or_default();
        Err(ecs_saga::LogError::Failed(format!("server {id} kept changing; the step's write is tried again")))
    }
}

#[cfg(test)]
mod tests {
    use crate::faults::{FaultAction, FaultSpec};
    use crate::sagas::testing::{Harness, PROJECT, USER};
    use ecs_model::state::TaskState;
    use std::time::Duration;

    /// A change someone else makes to the server between two steps is not written over by the
    /// next step, although the saga kept the server as its own last write left it.
    #[tokio::test]
    async fn a_change_made_between_two_steps_survives_the_next_steps_write() {
        let h = Harness::new_plain().await;
        let id = h.create_server().await;
        let hang = FaultSpec {
            operation: Some("reinstallOs".into()),
            step: Some("boot".into()),
            project_id: Some(PROJECT.into()),
            server_id: None,
            action: FaultAction::Hang,
            error_code: None,
            message: None,
            delay_ms: None,
            times: None,
        };
        h.app.faults.add(hang).await.unwrap();
        let opts =
            serde_json::from_value(serde_json::json!({"keyname": "key-b", "userid": USER, "mode": "withStopServer"}))
                .unwrap();
        let v = crate::app::os::Variant { change: false, cloud_init: false };
        let job = crate::app::os::rebuild(&h.app, &h.caller, &id, v, Some(opts)).await.unwrap();
        // Held before `boot`: the swap's write is the saga's last, and the one it kept.
        for _ in 0..200 {
            if h.server(&id).await.server.task_state == Some(TaskState::RebuildSpawning) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(h.server(&id).await.server.task_state, Some(TaskState::RebuildSpawning));
        assert_eq!(h.app.ctx.written.len(), 1, "the swap's write is kept for the next step");
        let mut s = h.server(&id).await.server;
        s.description = "changed meanwhile".into();
        h.app.ctx.store.server_update(s).await.unwrap();
        h.app.faults.clear(PROJECT).await.unwrap();
        tokio::time::timeout(Duration::from_secs(20), h.app.executor.wait_idle()).await.unwrap();
        h.assert_succeeded(&job).await;
        let s = h.server(&id).await.server;
        assert_eq!(s.description, "changed meanwhile", "the boot's write was made on the server as it was");
        assert_eq!((s.status(), s.key_name.as_deref()), ("ACTIVE", Some("key-b")));
        assert!(h.app.ctx.written.is_empty(), "nothing is kept for a saga that ended");
    }
}
