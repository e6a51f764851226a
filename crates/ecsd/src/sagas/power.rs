//! Start, stop or reboot one server (a sub-job of a batch action).
//!
//! A start or reboot also delivers a pending password reset (`app::passwords`): with the VM
//! off (a reboot stops it first), the new hash is written into the system disk's
//! `/etc/shadow`, then the VM boots, then the hash becomes the server's password. A start of a
//! server that is already running cannot write the disk, so the reset stays pending for the
//! next reboot.

use super::SagaParams;
use crate::context::{driver_step_error, step_error, Ctx};
use ecs_driver::{Injection, VmSpec};
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
    /// The data disks to attach at a start or reboot, in device order. Absent in logs written
    /// before data disks were attached: those servers had none on a real driver.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub data_disks: Vec<String>,
    pub vcpus: i64,
    pub ram_mb: i64,
    /// The pending password reset to deliver (start and reboot only), as the server had it when
    /// the action was accepted. Absent in the logs of earlier versions: nothing to deliver.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_hash: Option<String>,
    /// The NICs added to the server, for a start or restart (absent in logs written before
    /// NICs could be added).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub nics: Vec<ecs_driver::VmNic>,
}

impl SagaParams for Params {
    type Saga = Power;
}

/// The power saga: one driver call, then the new state.
pub struct Power;

fn vm_spec(p: &Params) -> Result<VmSpec, StepError> {
    let disk = p.boot_disk.clone().ok_or_else(|| step_error(Code::Ecs0105, Code::Ecs0105.default_message()))?;
    Ok(VmSpec {
        server_id: p.server_id.clone(),
        boot_disk: disk,
        data_disks: p.data_disks.clone(),
        vcpus: p.vcpus,
        ram_mb: p.ram_mb,
        nics: p.nics.clone(),
    })
}

type Cx<'a> = StepCx<'a, Power>;

/// Whether `apply_password` wrote the pending password into the disk.
const APPLIED: ecs_saga::Key<bool> = ecs_saga::Key::new("apply_password");

/// Writes the pending password into the boot disk while the VM is off. Running it again
/// writes the same hash again; a log of version 2 (which had no such step) replays it after
/// `power` with no hash, which does nothing.
async fn apply_password(cx: &Cx<'_>) -> Result<Value, StepError> {
    let p = cx.params;
    let d = &cx.ctx.driver;
    let (Some(hash), Some(disk)) = (&p.password_hash, &p.boot_disk) else { return Ok(Value::Bool(false)) };
    match p.action {
        Action::Stop { .. } => return Ok(Value::Bool(false)),
        Action::Start => {
            if d.vm_power(&p.server_id).await.map_err(driver_step_error)? == ecs_driver::Power::Running {
                return Ok(Value::Bool(false));
            }
        }
        // The reboot's own stop, done here so that the disk is written with the VM off; the
        // `power` step then starts it (a reboot of a stopped VM is a start).
        Action::Reboot { hard } => d.vm_stop(&p.server_id, hard).await.map_err(driver_step_error)?,
    }
    let injection = Injection { password_hash: Some(hash.clone()), ..Default::default() };
    d.disk_inject(disk, &injection).await.map_err(driver_step_error)?;
    Ok(Value::Bool(true))
}

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
    let delivered = if cx.outputs.try_get(&APPLIED).unwrap_or(false) { p.password_hash.clone() } else { None };
    // Written with the step's record and the saga's end, in one transaction.
    cx.write_with_log(cx.ctx.server_write(&p.project_id, &p.server_id, move |s| {
        if let Some(h) = &delivered {
            s.admin_pass_hash = Some(h.clone());
            // A reset made while this action ran is newer: it stays pending.
            if s.pending_password_hash.as_ref() == Some(h) {
                s.pending_password_hash = None;
            }
        }
        s.vm_state = vm;
        s.task_state = None;
        s.fault = None;
        if vm == VmState::Active {
            s.launched_ms = Some(ecs_model::timefmt::now_ms());
        }
    }));
    Ok(Value::Null)
}

impl Saga for Power {
    type Ctx = Ctx;
    type Params = Params;
    const KIND: &'static str = "power";
    /// 3: `apply_password` before `power`.
    const VERSION: u32 = 3;
    const STEPS: &'static [Step<Self>] = &[
        Step {
            name: "apply_password",
            forward: |cx| Box::pin(apply_password(cx)),
            undo: Some(|cx| Box::pin(settle(cx))),
        },
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

    const NEW_PASSWORD: &str = "Reset-Pw1x";

    async fn reset(h: &Harness, id: &str) {
        let body: ecs_types::passwords::ResetPasswordBody =
            serde_json::from_value(serde_json::json!({"reset-password": {"new_password": NEW_PASSWORD}})).unwrap();
        crate::app::passwords::reset(&h.app, &h.caller, id, body).await.unwrap();
    }

    async fn delivered(h: &Harness, id: &str) -> bool {
        let row = h.server(id).await;
        let disk = row.volumes[0].id.clone();
        let on_disk = h.disk_password_hash(&disk).await.is_some_and(|x| ecs_crypto::verify_password(NEW_PASSWORD, &x));
        let recorded =
            row.server.admin_pass_hash.as_deref().is_some_and(|x| ecs_crypto::verify_password(NEW_PASSWORD, x));
        on_disk && recorded && row.server.pending_password_hash.is_none()
    }

    #[tokio::test]
    async fn a_reset_reaches_the_disk_at_the_next_reboot_or_start_with_every_step_run_twice() {
        for (stop_first, action) in [(false, "reboot"), (true, "os-start")] {
            let h = Harness::new().await;
            let id = h.create_server().await;
            if stop_first {
                h.assert_succeeded(&h.power(&id, "os-stop").await).await;
            }
            reset(&h, &id).await;
            assert!(h.server(&id).await.server.pending_password_hash.is_some());
            assert!(!delivered(&h, &id).await, "{action}: nothing is written before the VM restarts");
            h.assert_succeeded(&h.power(&id, action).await).await;
            assert!(delivered(&h, &id).await, "{action}");
            assert_eq!(h.server(&id).await.server.status(), "ACTIVE");
            assert_eq!(h.vm_running(&id).await, Some(true));
        }
    }

    #[tokio::test]
    async fn a_start_of_a_running_server_and_a_stop_leave_the_reset_pending() {
        let h = Harness::new().await;
        let id = h.create_server().await;
        reset(&h, &id).await;
        h.assert_succeeded(&h.power(&id, "os-start").await).await;
        assert!(!delivered(&h, &id).await);
        h.assert_succeeded(&h.power(&id, "os-stop").await).await;
        assert!(!delivered(&h, &id).await);
        assert!(h.server(&id).await.server.pending_password_hash.is_some());
    }

    #[tokio::test]
    async fn a_failed_reboot_keeps_the_reset_pending_and_a_retry_delivers_it() {
        for step in Power::STEPS.iter().map(|s| s.name) {
            let h = Harness::new_plain().await;
            let id = h.create_server().await;
            reset(&h, &id).await;
            h.fail_next("rebootServer", step).await;
            h.assert_failed(&h.power(&id, "reboot").await).await;
            let s = h.server(&id).await.server;
            assert!(s.task_state.is_none(), "step {step}");
            assert!(s.pending_password_hash.is_some(), "step {step}: the reset is still pending");
            assert!(s.admin_pass_hash.is_none(), "step {step}: the old password is still the server's");
            // Whatever power state the failure left, the next start or reboot delivers it.
            let retry = if s.status() == "ACTIVE" { "reboot" } else { "os-start" };
            h.assert_succeeded(&h.power(&id, retry).await).await;
            assert!(delivered(&h, &id).await, "step {step}");
        }
    }

    #[tokio::test]
    async fn a_failed_stop_leaves_the_server_running() {
        for step in Power::STEPS.iter().map(|s| s.name) {
            let h = Harness::new_plain().await;
            let id = h.create_server().await;
            h.fail_next("stopServer", step).await;
            let job = h.power(&id, "os-stop").await;
            h.assert_failed(&job).await;
            let s = h.server(&id).await.server;
            assert!(s.task_state.is_none(), "step {step}");
            // Failing at or before the driver call keeps it running; failing after it reports
            // the driver's truth (stopped).
            let want = if step == "record_state" { "SHUTOFF" } else { "ACTIVE" };
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
