//! Batch start, stop and reboot: `POST /v1/{project_id}/cloudservers/action`.

use super::servers::batch_ids;
use super::{begin, server_of};
use crate::caller::Caller;
use crate::context::App;
use crate::sagas::power::{Action, Params};
use crate::sagas::SagaParams;
use ecs_model::job::{job_type, Job};
use ecs_model::state::TaskState;
use ecs_model::timefmt::now_ms;
use ecs_model::{gates, Error};
use ecs_store::Begin;
use ecs_types::requests::ServersActionBody;

/// Accepts a batch action; every server must pass its gate or nothing is done.
pub async fn action(app: &App, caller: &Caller, body: ServersActionBody) -> Result<String, Error> {
    let (action, batch) = match (body.os_start, body.os_stop, body.reboot) {
        (Some(b), None, None) => (Action::Start, b),
        (None, Some(b), None) => {
            let hard = parse_type(b.kind.as_deref(), false)?;
            (Action::Stop { hard }, b)
        }
        (None, None, Some(b)) => {
            let hard = parse_type(b.kind.as_deref(), true)?;
            (Action::Reboot { hard }, b)
        }
        _ => {
            return Err(Error::invalid(
                "request body is illegal: exactly one of os-start, os-stop and reboot is required.",
            ))
        }
    };
    let ids = batch_ids(batch.servers)?;
    let now = now_ms();
    let (parent_type, child_type, task) = match action {
        Action::Start => (job_type::START_SERVER, job_type::START_SINGLE_SERVER, TaskState::PoweringOn),
        Action::Stop { .. } => (job_type::STOP_SERVER, job_type::STOP_SINGLE_SERVER, TaskState::PoweringOff),
        Action::Reboot { hard: false } => {
            (job_type::REBOOT_SERVER, job_type::REBOOT_SINGLE_SERVER, TaskState::Rebooting)
        }
        Action::Reboot { hard: true } => {
            (job_type::REBOOT_SERVER, job_type::REBOOT_SINGLE_SERVER, TaskState::RebootingHard)
        }
    };
    let parent = Job::new(&caller.project_id, parent_type, None, None, now);
    let mut b = Begin { jobs: vec![parent.clone()], ..Default::default() };
    for id in &ids {
        let row = server_of(app, &caller.project_id, id).await?;
        match action {
            Action::Start => gates::start_allowed(&row.server)?,
            Action::Stop { .. } => gates::stop_allowed(&row.server)?,
            Action::Reboot { .. } => gates::reboot_allowed(&row.server)?,
        }
        let boot_disk = row.volumes.iter().find(|v| v.boot_index == Some(0)).map(|v| v.id.clone());
        let mut s = row.server.clone();
        let prior = s.vm_state;
        s.task_state = Some(task);
        s.updated_ms = now;
        let child = Job::new(&caller.project_id, child_type, Some(&parent.id), Some(id), now);
        let flavor = ecs_model::flavor::find(&row.server.flavor_id);
        let params = Params {
            project_id: caller.project_id.clone(),
            server_id: id.clone(),
            action,
            prior_vm_state: prior,
            boot_disk,
            data_disks: crate::sagas::data_disk_ids(&row.volumes),
            vcpus: flavor.map(|f| f.vcpus).unwrap_or(1),
            ram_mb: flavor.map(|f| f.ram_mb).unwrap_or(1024),
            password_hash: match action {
                Action::Stop { .. } => None,
                Action::Start | Action::Reboot { .. } => row.server.pending_password_hash.clone(),
            },
            nics: crate::sagas::vm_nics(&row.server),
        };
        b.sagas.push(params.record(&child.id)?);
        b.jobs.push(child);
        b.update_servers.push(s);
    }
    begin(app, b).await?;
    Ok(parent.id)
}

/// `type`: SOFT or HARD; required for reboot, SOFT by default for stop.
fn parse_type(t: Option<&str>, required: bool) -> Result<bool, Error> {
    match t {
        Some("SOFT") => Ok(false),
        Some("HARD") => Ok(true),
        None if !required => Ok(false),
        None => Err(Error::invalid("reboot.type is required: \"SOFT\" or \"HARD\".")),
        Some(other) => Err(Error::invalid(format!("type {other:?} is invalid; use \"SOFT\" or \"HARD\"."))),
    }
}
