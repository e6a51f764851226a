//! Change one server's flavor: stop it if it runs (the request said `withStopServer`), start
//! it again on the new vCPU count and memory, and record the end state.
//!
//! The new `flavor_id` is written when the request is accepted, in the transaction that checks
//! the project's quota for what the new flavor adds: from then on the quota counts it, so two
//! resizes cannot both take the last vCPUs. A failure anywhere restores the old flavor and the
//! prior power state on the old size. A pending password reset is not delivered by the
//! restart (it stays pending for the next start or reboot, as after any restart the reset did
//! not ask for).

use super::SagaParams;
use crate::context::{driver_step_error, step_error, Ctx};
use ecs_driver::VmSpec;
use ecs_model::state::{TaskState, VmState};
use ecs_model::timefmt::now_ms;
use ecs_saga::{Saga, Step, StepCx, StepError};
use ecs_types::Code;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A flavor's id and the size the VM gets from it, as the catalog had it at acceptance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Size {
    pub flavor_id: String,
    pub vcpus: i64,
    pub ram_mb: i64,
}

/// What the saga needs; everything was decided when the request was accepted.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Params {
    pub project_id: String,
    pub server_id: String,
    pub from: Size,
    pub to: Size,
    /// The server was running (and the request carried `withStopServer`): it is stopped first
    /// and started again after.
    pub was_running: bool,
    pub boot_disk: Option<String>,
    /// The data disks, in device order: they stay attached across the restart.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub data_disks: Vec<String>,
    /// The NICs added to the server, for a start or restart (absent in logs written before
    /// NICs could be added).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub nics: Vec<ecs_driver::VmNic>,
}

impl SagaParams for Params {
    type Saga = ResizeServer;
}

/// The resize saga.
pub struct ResizeServer;

type Cx<'a> = StepCx<'a, ResizeServer>;

fn vm(p: &Params, size: &Size) -> Result<VmSpec, StepError> {
    let disk = p.boot_disk.clone().ok_or_else(|| step_error(Code::Ecs0105, Code::Ecs0105.default_message()))?;
    Ok(VmSpec {
        server_id: p.server_id.clone(),
        boot_disk: disk,
        data_disks: p.data_disks.clone(),
        vcpus: size.vcpus,
        ram_mb: size.ram_mb,
        nics: p.nics.clone(),
    })
}

async fn stop_server(cx: &Cx<'_>) -> Result<Value, StepError> {
    let p = cx.params;
    if p.was_running {
        cx.ctx.driver.vm_stop(&p.server_id, false).await.map_err(driver_step_error)?;
    }
    cx.ctx
        .update_server(&p.project_id, &p.server_id, |s| {
            s.vm_state = VmState::Stopped;
            s.task_state = Some(TaskState::ResizePrep);
        })
        .await?;
    Ok(Value::Null)
}

/// Undo of `stop_server` (and so of the whole resize): the old flavor again, and the prior
/// power state on the old size. Safe whether or not the stop happened.
async fn restore(cx: &Cx<'_>) -> Result<(), StepError> {
    let p = cx.params;
    if p.was_running {
        cx.ctx.driver.vm_start(&vm(p, &p.from)?).await.map_err(driver_step_error)?;
    }
    let from = p.from.flavor_id.clone();
    let vm_state = if p.was_running { VmState::Active } else { VmState::Stopped };
    cx.ctx
        .update_server(&p.project_id, &p.server_id, |s| {
            s.flavor_id = from.clone();
            s.vm_state = vm_state;
            s.task_state = None;
        })
        .await?;
    Ok(())
}

/// Starts the VM on the new size if it was running; a stopped server takes the new size at its
/// next start, which reads the flavor from the server record.
async fn start_resized(cx: &Cx<'_>) -> Result<Value, StepError> {
    let p = cx.params;
    cx.ctx.update_server(&p.project_id, &p.server_id, |s| s.task_state = Some(TaskState::ResizeFinish)).await?;
    if p.was_running {
        cx.ctx.driver.vm_start(&vm(p, &p.to)?).await.map_err(driver_step_error)?;
    }
    Ok(Value::Null)
}

/// Undo of `start_resized`: the VM stops (the undo of `stop_server` starts it on the old size).
async fn stop_resized(cx: &Cx<'_>) -> Result<(), StepError> {
    let p = cx.params;
    if p.was_running {
        cx.ctx.driver.vm_stop(&p.server_id, true).await.map_err(driver_step_error)?;
    }
    Ok(())
}

async fn record_state(cx: &Cx<'_>) -> Result<Value, StepError> {
    let p = cx.params;
    let to = p.to.flavor_id.clone();
    let running = p.was_running;
    cx.ctx
        .update_server(&p.project_id, &p.server_id, |s| {
            s.flavor_id = to.clone();
            s.vm_state = if running { VmState::Active } else { VmState::Stopped };
            s.task_state = None;
            s.fault = None;
            if running {
                s.launched_ms = Some(now_ms());
            }
        })
        .await?;
    Ok(Value::Null)
}

impl Saga for ResizeServer {
    type Ctx = Ctx;
    type Params = Params;
    const KIND: &'static str = "resize_server";
    const VERSION: u32 = 1;
    const STEPS: &'static [Step<Self>] = &[
        Step { name: "stop_server", forward: |cx| Box::pin(stop_server(cx)), undo: Some(|cx| Box::pin(restore(cx))) },
        Step {
            name: "start_resized",
            forward: |cx| Box::pin(start_resized(cx)),
            undo: Some(|cx| Box::pin(stop_resized(cx))),
        },
        Step { name: "record_state", forward: |cx| Box::pin(record_state(cx)), undo: None },
    ];

    fn operation(_: &Params) -> &'static str {
        ecs_model::job::job_type::RESIZE_SERVER
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sagas::testing::Harness;

    #[tokio::test]
    async fn a_running_server_is_resized_with_every_step_run_twice() {
        let h = Harness::new().await;
        let id = h.create_server().await;
        h.assert_succeeded(&h.resize(&id, "s6.large.2", true).await).await;
        let s = h.server(&id).await.server;
        assert_eq!((s.flavor_id.as_str(), s.status()), ("s6.large.2", "ACTIVE"));
        assert_eq!(h.vm_size(&id).await, Some((true, 2, 4096)));
    }

    #[tokio::test]
    async fn a_stopped_server_stays_stopped_and_starts_on_the_new_size() {
        let h = Harness::new().await;
        let id = h.create_server().await;
        h.assert_succeeded(&h.power(&id, "os-stop").await).await;
        h.assert_succeeded(&h.resize(&id, "c6.xlarge.4", false).await).await;
        let s = h.server(&id).await.server;
        assert_eq!((s.flavor_id.as_str(), s.status()), ("c6.xlarge.4", "SHUTOFF"));
        assert_eq!(h.vm_running(&id).await, Some(false));
        h.assert_succeeded(&h.power(&id, "os-start").await).await;
        assert_eq!(h.vm_size(&id).await, Some((true, 4, 16384)));
    }

    #[tokio::test]
    async fn a_failure_at_any_step_leaves_the_server_as_it_was() {
        for step in ResizeServer::STEPS.iter().map(|s| s.name) {
            for running in [true, false] {
                let h = Harness::new_plain().await;
                let id = h.create_server().await;
                if !running {
                    h.assert_succeeded(&h.power(&id, "os-stop").await).await;
                }
                let before = h.server(&id).await.server;
                h.fail_next("resizeServer", step).await;
                h.assert_failed(&h.resize(&id, "s6.large.2", running).await).await;
                let s = h.server(&id).await.server;
                let want = if running { "ACTIVE" } else { "SHUTOFF" };
                assert_eq!((s.flavor_id.as_str(), s.status()), ("s6.small.1", want), "step {step} running={running}");
                assert_eq!(s.task_state, before.task_state, "step {step}");
                assert_eq!(h.vm_running(&id).await, Some(running), "step {step}");
                if running {
                    assert_eq!(h.vm_size(&id).await, Some((true, 1, 1024)), "step {step}: the old size");
                }
                // Nothing is left held: the same resize now succeeds.
                h.assert_succeeded(&h.resize(&id, "s6.large.2", running).await).await;
                assert_eq!(h.server(&id).await.server.flavor_id, "s6.large.2", "step {step}");
            }
        }
    }
}
