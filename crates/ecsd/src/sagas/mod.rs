//! One file per long operation. Each is a [`ecs_saga::Saga`]: named, idempotent steps with
//! undo actions over typed parameters, run by the executor from a durable log.

pub mod add_nics;
pub mod attach_volume;
pub mod create_server;
pub mod create_volume;
pub mod delete_nics;
pub mod delete_server;
pub mod delete_volume;
pub mod detach_volume;
pub mod power;
pub mod rebuild_os;
pub mod resize_server;

use crate::context::Ctx;
use ecs_model::Error;
use ecs_saga::{ExecutorBuilder, Saga, SagaRecord};
use serde::Serialize;

/// Saga parameters that know which saga they belong to.
pub trait SagaParams: Serialize {
    /// The saga these are the parameters of.
    type Saga: Saga;

    /// The log record that starts this saga under the job id `id`, with its first step's
    /// `Started` already in it: the request that accepts the operation writes it in the same
    /// transaction as the job, which saves the executor a write of its own (and the job is
    /// `RUNNING` from the start).
    fn record(&self, id: &str) -> Result<SagaRecord, Error> {
        let params = serde_json::to_value(self).map_err(|e| Error::internal(e.to_string()))?;
        let mut r = SagaRecord::new(id, Self::Saga::KIND, Self::Saga::VERSION, params);
        let first = Self::Saga::STEPS.first().ok_or_else(|| Error::internal("a saga without steps"))?;
        r.events.push(ecs_saga::StepEvent::Started { step: first.name.into() });
        Ok(r)
    }
}

/// The job types faults can name, and the steps of the saga that carries each out.
pub fn operations() -> Vec<(&'static str, Vec<&'static str>)> {
    fn steps<S: Saga>() -> Vec<&'static str> {
        S::STEPS.iter().map(|s| s.name).collect()
    }
    vec![
        ("reinstallOs", steps::<rebuild_os::RebuildOs>()),
        ("changeOs", steps::<rebuild_os::RebuildOs>()),
        ("createServer", steps::<create_server::CreateServer>()),
        ("deleteServer", steps::<delete_server::DeleteServer>()),
        ("startServer", steps::<power::Power>()),
        ("stopServer", steps::<power::Power>()),
        ("rebootServer", steps::<power::Power>()),
        ("resizeServer", steps::<resize_server::ResizeServer>()),
        ("batchAddServerNics", steps::<add_nics::AddNics>()),
        ("batchDeleteServerNics", steps::<delete_nics::DeleteNics>()),
        ("attachVolume", steps::<attach_volume::AttachVolume>()),
        ("detachVolume", steps::<detach_volume::DetachVolume>()),
        ("createVolume", steps::<create_volume::CreateVolume>()),
        ("batchCreateVolume", steps::<create_volume::CreateVolume>()),
        ("deleteVolume", steps::<delete_volume::DeleteVolume>()),
    ]
}

/// Registers every saga kind.
pub fn register(b: ExecutorBuilder<Ctx>) -> ExecutorBuilder<Ctx> {
    b.register::<create_server::CreateServer>()
        .register::<delete_server::DeleteServer>()
        .register::<power::Power>()
        .register::<rebuild_os::RebuildOs>()
        .register::<resize_server::ResizeServer>()
        .register::<add_nics::AddNics>()
        .register::<delete_nics::DeleteNics>()
        .register::<attach_volume::AttachVolume>()
        .register::<detach_volume::DetachVolume>()
        .register::<create_volume::CreateVolume>()
        .register::<delete_volume::DeleteVolume>()
}

/// The ids of a server's data disks in the order they are attached: by device (`/dev/vdb`,
/// `/dev/vdc`, ...; one letter each, so the names sort as the devices are numbered).
pub(crate) fn data_disk_ids(volumes: &[ecs_model::volume::Volume]) -> Vec<String> {
    let mut data: Vec<&ecs_model::volume::Volume> = volumes.iter().filter(|v| v.boot_index == Some(-1)).collect();
    data.sort_by(|a, b| a.device.cmp(&b.device));
    data.into_iter().map(|v| v.id.clone()).collect()
}

/// The NICs added to a server, as its VM is started with them.
pub(crate) fn vm_nics(s: &ecs_model::server::Server) -> Vec<ecs_driver::VmNic> {
    s.extra_nics.iter().map(|n| ecs_driver::VmNic { id: n.port_id.clone(), mac: n.mac.clone() }).collect()
}

/// Undo of a power change: ends the server's operation with the power state the driver really
/// has (a stop may have happened before the step failed), keeping ERROR and other non-power
/// states as they were.
pub(crate) async fn settle_power_state(
    ctx: &Ctx,
    project_id: &str,
    server_id: &str,
    prior: ecs_model::state::VmState,
) -> Result<(), ecs_saga::StepError> {
    use ecs_model::state::VmState;
    let power = ctx.driver.vm_power(server_id).await.map_err(crate::context::driver_step_error)?;
    let vm = match (prior, power) {
        (VmState::Active | VmState::Stopped, ecs_driver::Power::Running) => VmState::Active,
        (VmState::Active | VmState::Stopped, _) => VmState::Stopped,
        (other, _) => other,
    };
    ctx.update_server(project_id, server_id, |s| {
        s.vm_state = vm;
        s.task_state = None;
    })
    .await?;
    Ok(())
}

#[cfg(test)]
pub(crate) mod testing;
