//! Delete one server (a `deleteSingleServer` sub-job): stop it, destroy its VM, delete its
//! disks, remove its record.

use super::SagaParams;
use crate::context::{driver_step_error, store_step_error, Ctx};
use async_trait::async_trait;
use ecs_model::state::VmState;
use ecs_saga::{Saga, StepCx, StepError};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// What the saga needs.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Params {
    pub project_id: String,
    pub server_id: String,
    /// Restored if the stop fails (the only step that is undone).
    pub prior_vm_state: VmState,
    /// Volumes to delete with the server (the system disk always).
    pub disk_ids: Vec<String>,
}

impl SagaParams for Params {
    const KIND: &'static str = DeleteServer::KIND;
}

/// The delete-server saga. Once the VM is destroyed there is no way back: the remaining
/// steps are retried until they succeed.
pub struct DeleteServer;

/// The step names, in order.
pub const STEP_NAMES: &[&str] = &["stop", "destroy_vm", "delete_disks", "remove_record"];

#[async_trait]
impl Saga for DeleteServer {
    type Ctx = Ctx;
    type Params = Params;
    const KIND: &'static str = "delete_server";
    const STEPS: &'static [&'static str] = STEP_NAMES;
    const NO_RETURN: usize = 1;

    async fn forward(step: usize, cx: &StepCx<'_, Self>) -> Result<Value, StepError> {
        let p = cx.params;
        let d = &cx.ctx.driver;
        match step {
            0 => d.vm_stop(&p.server_id, true).await.map_err(driver_step_error)?,
            1 => d.vm_destroy(&p.server_id).await.map_err(driver_step_error)?,
            2 => {
                for id in &p.disk_ids {
                    d.disk_delete(id).await.map_err(driver_step_error)?;
                    cx.ctx.store.volume_delete(id).await.map_err(store_step_error)?;
                }
            }
            _ => cx.ctx.store.server_delete(&p.project_id, &p.server_id).await.map_err(store_step_error)?,
        }
        Ok(Value::Null)
    }

    async fn undo(step: usize, cx: &StepCx<'_, Self>) -> Result<(), StepError> {
        if step == 0 {
            let p = cx.params;
            super::settle_power_state(cx.ctx, &p.project_id, &p.server_id, p.prior_vm_state).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::sagas::testing::Harness;

    #[tokio::test]
    async fn deleting_twice_per_step_removes_everything() {
        let h = Harness::new().await;
        let id = h.create_server().await;
        let job = h.delete_server(&id).await;
        h.assert_succeeded(&job).await;
        assert!(h.try_server(&id).await.is_none());
        h.assert_no_orphan_disks().await;
    }

    #[tokio::test]
    async fn a_failed_stop_leaves_the_server_as_it_was() {
        let h = Harness::new_plain().await;
        let id = h.create_server().await;
        h.fail_next("deleteServer", "stop");
        let job = h.delete_server(&id).await;
        h.assert_failed(&job).await;
        let row = h.server(&id).await;
        assert_eq!(row.server.status(), "ACTIVE");
        assert_eq!(row.volumes.len(), 1);
    }
}
