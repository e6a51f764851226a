//! Delete one server (a `deleteSingleServer` sub-job): stop it, destroy its VM, delete its
//! disks, remove its record.

use super::SagaParams;
use crate::context::{driver_step_error, store_step_error, Ctx};
use ecs_model::state::VmState;
use ecs_saga::{Saga, Step, StepCx, StepError};
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
    type Saga = DeleteServer;
}

/// The delete-server saga. Once the VM is destroyed there is no way back: the remaining
/// steps are retried until they succeed.
pub struct DeleteServer;

type Cx<'a> = StepCx<'a, DeleteServer>;

async fn stop(cx: &Cx<'_>) -> Result<Value, StepError> {
    cx.ctx.driver.vm_stop(&cx.params.server_id, true).await.map_err(driver_step_error)?;
    Ok(Value::Null)
}

/// Undo of `stop`: the server is left as the driver has it.
async fn settle(cx: &Cx<'_>) -> Result<(), StepError> {
    let p = cx.params;
    super::settle_power_state(cx.ctx, &p.project_id, &p.server_id, p.prior_vm_state).await
}

async fn destroy_vm(cx: &Cx<'_>) -> Result<Value, StepError> {
    cx.ctx.driver.vm_destroy(&cx.params.server_id).await.map_err(driver_step_error)?;
    Ok(Value::Null)
}

async fn delete_disks(cx: &Cx<'_>) -> Result<Value, StepError> {
    for id in &cx.params.disk_ids {
        cx.ctx.driver.disk_delete(id).await.map_err(driver_step_error)?;
        cx.ctx.store.volume_delete(id).await.map_err(store_step_error)?;
    }
    Ok(Value::Null)
}

async fn remove_record(cx: &Cx<'_>) -> Result<Value, StepError> {
    let p = cx.params;
    cx.ctx.store.server_delete(&p.project_id, &p.server_id).await.map_err(store_step_error)?;
    Ok(Value::Null)
}

impl Saga for DeleteServer {
    type Ctx = Ctx;
    type Params = Params;
    const KIND: &'static str = "delete_server";
    const VERSION: u32 = 2;
    const STEPS: &'static [Step<Self>] = &[
        Step { name: "stop", forward: |cx| Box::pin(stop(cx)), undo: Some(|cx| Box::pin(settle(cx))) },
        Step { name: "destroy_vm", forward: |cx| Box::pin(destroy_vm(cx)), undo: None },
        Step { name: "delete_disks", forward: |cx| Box::pin(delete_disks(cx)), undo: None },
        Step { name: "remove_record", forward: |cx| Box::pin(remove_record(cx)), undo: None },
    ];
    const NO_RETURN: Option<&'static str> = Some("destroy_vm");

    fn operation(_: &Params) -> &'static str {
        "deleteServer"
    }

    /// Version 1 logged these same steps by position.
    fn positional_layout(version: u32) -> Option<&'static [&'static str]> {
        (version == 1).then_some(&["stop", "destroy_vm", "delete_disks", "remove_record"][..])
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
    async fn the_disks_of_the_volumes_that_go_go_and_the_others_stay() {
        let h = Harness::new().await;
        let id = h.create_server_with_data_disks().await;
        let data = h.data_disks(&id).await;
        h.assert_succeeded(&h.delete_server(&id).await).await;
        let rows: Vec<String> = h.app.ctx.store.volume_list().await.unwrap().into_iter().map(|v| v.id).collect();
        assert_eq!(rows, [data[1].clone()], "only the volume kept on termination is left");
        h.assert_no_orphan_disks().await;
    }

    #[tokio::test]
    async fn a_failed_stop_leaves_the_server_as_it_was() {
        let h = Harness::new_plain().await;
        let id = h.create_server().await;
        h.fail_next("deleteServer", "stop").await;
        let job = h.delete_server(&id).await;
        h.assert_failed(&job).await;
        let row = h.server(&id).await;
        assert_eq!(row.server.status(), "ACTIVE");
        assert_eq!(row.volumes.len(), 1);
    }
}
