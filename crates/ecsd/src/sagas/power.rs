//! Start, stop or reboot one server (a sub-job of a batch action).

use super::SagaParams;
use crate::context::{driver_step_error, step_error, Ctx};
use ecs_driver::VmSpec;
use ecs_model::state::VmState;
use ecs_saga::{Saga, Step, StepCx, StepError};
use ecs_types::Code;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The power action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Action {
    Start,
    Stop { hard: bool },
    Reboot { hard: bool },
}

/// What the saga needs.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Params {
    pub project_id: String,
    pub server_id: String,
    pub action: Action,
    pub prior_vm_state: VmState,
    pub boot_disk: Option<String>,
    pub vcpus: i64,
    pub ram_mb: i64,
}

impl SagaParams for Params {
    type Saga = Power;
}

/// The power saga: one driver call, then the new state.
pub struct Power;

fn vm_spec(p: &Params) -> Result<VmSpec, StepError> {
    let disk = p.boot_disk.clone().ok_or_else(|| step_error(Code::Ecs0105, Code::Ecs0105.default_message()))?;
    Ok(VmSpec { server_id: p.server_id.clone(), boot_disk: disk, vcpus: p.vcpus, ram_mb: p.ram_mb })
}

type Cx<'a> = StepCx<'a, Power>;

async fn power(cx: &Cx<'_>) -> Result<Value, StepError> {
    let p = cx.params;
    let d = &cx.ctx.driver;
    match p.action {
        Action::Start => d.vm_start(&vm_spec(p)?).await,
        Action::Stop { hard } => d.vm_stop(&p.server_id, hard).await,
        Action::Reboot { hard } => d.vm_reboot(&vm_spec(p)?, hard).await,
    }
    .map_err(driver_step_error)?;
    Ok(Value::Null)
}

/// Undo of `power`: the server is left as the driver has it.
async fn settle(cx: &Cx<'_>) -> Result<(), StepError> {
    let p = cx.params;
    super::settle_power_state(cx.ctx, &p.project_id, &p.server_id, p.prior_vm_state).await
}

async fn record_state(cx: &Cx<'_>) -> Result<Value, StepError> {
    let p = cx.params;
    let vm = if matches!(p.action, Action::Stop { .. }) { VmState::Stopped } else { VmState::Active };
    cx.ctx
        .update_server(&p.project_id, &p.server_id, |s| {
            s.vm_state = vm;
            s.task_state = None;
            s.fault = None;
            if vm == VmState::Active {
                s.launched_ms = Some(ecs_model::timefmt::now_ms());
            }
        })
        .await?;
    Ok(Value::Null)
}

impl Saga for Power {
    type Ctx = Ctx;
    type Params = Params;
    const KIND: &'static str = "power";
    const VERSION: u32 = 2;
    const STEPS: &'static [Step<Self>] = &[
        Step { name: "power", forward: |cx| Box::pin(power(cx)), undo: Some(|cx| Box::pin(settle(cx))) },
        Step { name: "record_state", forward: |cx| Box::pin(record_state(cx)), undo: None },
    ];

    fn operation(p: &Params) -> &'static str {
        match p.action {
            Action::Start => "startServer",
            Action::Stop { .. } => "stopServer",
            Action::Reboot { .. } => "rebootServer",
        }
    }

    /// Version 1 logged these same steps by position.
    fn positional_layout(version: u32) -> Option<&'static [&'static str]> {
        (version == 1).then_some(&["power", "record_state"][..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sagas::testing::Harness;

    #[tokio::test]
    async fn stop_start_reboot_with_every_step_run_twice() {
        let h = Harness::new().await;
        let id = h.create_server().await;
        let job = h.power(&id, "os-stop").await;
        h.assert_succeeded(&job).await;
        assert_eq!(h.server(&id).await.server.status(), "SHUTOFF");
        assert_eq!(h.vm_running(&id).await, Some(false));
        let job = h.power(&id, "os-start").await;
        h.assert_succeeded(&job).await;
        assert_eq!(h.server(&id).await.server.status(), "ACTIVE");
        assert_eq!(h.vm_running(&id).await, Some(true));
        let job = h.power(&id, "reboot").await;
        h.assert_succeeded(&job).await;
        assert_eq!(h.server(&id).await.server.status(), "ACTIVE");
    }

    #[tokio::test]
    async fn a_failed_stop_leaves_the_server_running() {
        for step in Power::STEPS.iter().map(|s| s.name) {
            let h = Harness::new_plain().await;
            let id = h.create_server().await;
            h.fail_next("stopServer", step);
            let job = h.power(&id, "os-stop").await;
            h.assert_failed(&job).await;
            let s = h.server(&id).await.server;
            assert!(s.task_state.is_none(), "step {step}");
            // Failing before the driver call keeps it running; failing after it reports the
            // driver's truth (stopped).
            let want = if step == "power" { "ACTIVE" } else { "SHUTOFF" };
            assert_eq!(s.status(), want, "step {step}");
        }
    }

    #[tokio::test]
    async fn a_driver_failure_fails_the_job_as_a_system_exception_without_the_hosts_details() {
        let h = Harness::new_plain().await;
        let id = h.create_server().await;
        h.assert_succeeded(&h.power(&id, "os-stop").await).await;
        // The system disk goes away behind ecsd's back: the start fails in the driver.
        let disk = h.server(&id).await.volumes[0].id.clone();
        h.app.ctx.driver.disk_delete(&disk).await.unwrap();
        let job = h.power(&id, "os-start").await;
        let v = crate::app::jobs::show(&h.app, &h.caller, &job).await.unwrap();
        assert_eq!((v.status.as_str(), v.error_code.as_deref()), ("FAIL", Some("Ecs.1000")));
        let reason = v.fail_reason.unwrap_or_default();
        assert_eq!(reason, "1 of 1 sub-jobs failed: A system exception occurred.");
        assert!(!reason.contains(&disk), "the driver's words stay in the log: {reason}");
    }
}
