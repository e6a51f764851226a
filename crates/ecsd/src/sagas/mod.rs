//! One file per long operation. Each is a [`ecs_saga::Saga`]: named, idempotent steps with
//! undo actions over typed parameters, run by the executor from a durable log.

pub mod create_server;
pub mod delete_server;
pub mod power;
pub mod rebuild_os;

use crate::context::Ctx;
use ecs_model::Error;
use ecs_saga::{ExecutorBuilder, SagaRecord};
use serde::Serialize;

/// Saga parameters that know which saga they belong to.
pub trait SagaParams: Serialize {
    /// The saga's kind.
    const KIND: &'static str;

    /// The log record that starts this saga under the job id `id`.
    fn record(&self, id: &str) -> Result<SagaRecord, Error> {
        let params = serde_json::to_value(self).map_err(|e| Error::internal(e.to_string()))?;
        Ok(SagaRecord::new(id, Self::KIND, params))
    }
}

/// Registers every saga kind.
pub fn register(b: ExecutorBuilder<Ctx>) -> ExecutorBuilder<Ctx> {
    b.register::<create_server::CreateServer>()
        .register::<delete_server::DeleteServer>()
        .register::<power::Power>()
        .register::<rebuild_os::RebuildOs>()
}

#[cfg(test)]
pub(crate) mod testing;
