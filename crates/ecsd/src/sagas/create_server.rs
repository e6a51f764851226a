//! Create one server (a `createSingleServer` sub-job): build its system disk from the image and
//! its blank data disks, write the login data into the system disk, boot it.

use super::SagaParams;
use crate::context::{driver_step_error, store_step_error, Ctx};
use ecs_driver::{DiskSpec, Injection, VmSpec};
use ecs_model::server::Fault;
use ecs_model::state::{TaskState, VmState};
use ecs_model::timefmt::now_ms;
use ecs_saga::{Saga, Step, StepCx, StepError};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// What the saga needs; ids were chosen when the request was accepted.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Params {
    pub project_id: String,
    pub server_id: String,
    pub disk_id: String,
    pub image_id: String,
    pub image_file: Option<String>,
    pub size_gb: i64,
    pub injection: Injection,
    pub vcpus: i64,
    pub ram_mb: i64,
    /// Blank data disks created with the system disk (none in logs written before data disks).
    #[serde(default)]
    pub data_disks: Vec<DataDisk>,
}

/// A data disk of a new server; its volume row was written when the request was accepted.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DataDisk {
    pub disk_id: String,
    pub size_gb: i64,
}

impl SagaParams for Params {
    type Saga = CreateServer;
}

/// The create-server saga.
pub struct CreateServer;

type Cx<'a> = StepCx<'a, CreateServer>;

async fn create_disk(cx: &Cx<'_>) -> Result<Value, StepError> {
    let p = cx.params;
    cx.ctx.update_server(&p.project_id, &p.server_id, |s| s.task_state = Some(TaskState::Spawning)).await?;
    let spec = DiskSpec::from_image(&p.disk_id, &p.image_id, p.image_file.clone(), p.size_gb);
    cx.ctx.driver.disk_create(&spec).await.map_err(driver_step_error)?;
    for d in &p.data_disks {
        cx.ctx.driver.disk_create(&DiskSpec::blank(&d.disk_id, d.size_gb)).await.map_err(driver_step_error)?;
    }
    Ok(Value::Null)
}

/// Undo of `create_disk`: the disks go (the data disks too), and the server stays, in ERROR, so
/// the user sees what happened and can delete it.
async fn delete_disk(cx: &Cx<'_>) -> Result<(), StepError> {
    let p = cx.params;
    for id in std::iter::once(&p.disk_id).chain(p.data_disks.iter().map(|d| &d.disk_id)) {
        cx.ctx.driver.disk_delete(id).await.map_err(driver_step_error)?;
        cx.ctx.store.volume_delete(id).await.map_err(store_step_error)?;
    }
    cx.ctx
        .update_server(&p.project_id, &p.server_id, |s| {
            s.vm_state = VmState::Error;
            s.task_state = None;
            s.fault = Some(Fault {
                code: 500,
                message: "Creating the server failed; see its job.".into(),
                created_ms: now_ms(),
            });
        })
        .await?;
    Ok(())
}

async fn inject(cx: &Cx<'_>) -> Result<Value, StepError> {
    cx.ctx.driver.disk_inject(&cx.params.disk_id, &cx.params.injection).await.map_err(driver_step_error)?;
    Ok(Value::Null)
}

async fn boot(cx: &Cx<'_>) -> Result<Value, StepError> {
    let p = cx.params;
    let vm = VmSpec {
        server_id: p.server_id.clone(),
        boot_disk: p.disk_id.clone(),
        // In the order of their devices, which is the order they were created in.
        data_disks: p.data_disks.iter().map(|d| d.disk_id.clone()).collect(),
        vcpus: p.vcpus,
        ram_mb: p.ram_mb,
        // NICs are added only to a server that exists.
        nics: vec![],
    };
    cx.ctx.driver.vm_start(&vm).await.map_err(driver_step_error)?;
    Ok(Value::Null)
}

/// Undo of `boot` and `mark_active`.
async fn destroy_vm(cx: &Cx<'_>) -> Result<(), StepError> {
    cx.ctx.driver.vm_destroy(&cx.params.server_id).await.map_err(driver_step_error)
}

async fn mark_active(cx: &Cx<'_>) -> Result<Value, StepError> {
    let p = cx.params;
    // Written with the step's record and the saga's end, in one transaction.
    cx.write_with_log(cx.ctx.server_write(&p.project_id, &p.server_id, |s| {
        s.vm_state = VmState::Active;
        s.task_state = None;
        s.launched_ms.get_or_insert(now_ms());
    }));
    Ok(Value::Null)
}

impl Saga for CreateServer {
    type Ctx = Ctx;
    type Params = Params;
    const KIND: &'static str = "create_server";
    const VERSION: u32 = 2;
    const STEPS: &'static [Step<Self>] = &[
        Step {
            name: "create_disk",
            forward: |cx| Box::pin(create_disk(cx)),
            undo: Some(|cx| Box::pin(delete_disk(cx))),
        },
        Step { name: "inject", forward: |cx| Box::pin(inject(cx)), undo: None },
        Step { name: "boot", forward: |cx| Box::pin(boot(cx)), undo: Some(|cx| Box::pin(destroy_vm(cx))) },
        Step {
            name: "mark_active",
            forward: |cx| Box::pin(mark_active(cx)),
            undo: Some(|cx| Box::pin(destroy_vm(cx))),
        },
    ];

    fn operation(_: &Params) -> &'static str {
        "createServer"
    }

    /// Version 1 logged these same steps by position.
    fn positional_layout(version: u32) -> Option<&'static [&'static str]> {
        (version == 1).then_some(&["create_disk", "inject", "boot", "mark_active"][..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sagas::testing::Harness;

    #[tokio::test]
    async fn every_step_is_idempotent() {
        let h = Harness::new().await;
        let id = h.create_server().await;
        let row = h.server(&id).await;
        assert_eq!(row.server.status(), "ACTIVE");
        assert_eq!(row.volumes.len(), 1);
        assert_eq!(h.disk_key(&row.volumes[0].id).await.as_deref(), Some(h.key_a.as_str()));
        assert_eq!(h.vm_running(&id).await, Some(true));
        h.assert_no_orphan_disks().await;
    }

    #[tokio::test]
    async fn the_data_disks_are_made_blank_and_attached_in_device_order() {
        let h = Harness::new().await;
        let id = h.create_server_with_data_disks().await;
        let data = h.data_disks(&id).await;
        assert_eq!(data.len(), 2);
        assert_eq!(h.vm_data_disks(&id).await, data);
        h.assert_no_orphan_disks().await;
    }

    #[tokio::test]
    async fn a_failure_at_each_step_leaves_an_error_server_and_no_disk() {
        for step in CreateServer::STEPS.iter().map(|s| s.name) {
            let h = Harness::new_plain().await;
            h.fail_next("createServer", step).await;
            let (job, id) = h.create_server_job().await;
            h.assert_failed(&job).await;
            let row = h.server(&id).await;
            assert_eq!(row.server.status(), "ERROR", "step {step}");
            assert!(row.volumes.is_empty(), "step {step}: the system disk row is gone");
            assert_eq!(h.vm_running(&id).await, None, "step {step}: no VM left");
            h.assert_no_orphan_disks().await;
        }
    }
}
