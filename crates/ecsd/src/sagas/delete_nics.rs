//! Remove added NICs from one server: unplug each from the running VM (or drop it from what a
//! stopped one starts with), then drop them from the server's record and give their ports and
//! addresses back, in one transaction.
//!
//! A failure before the release plugs the NICs back: the server keeps them, as it was.

use super::SagaParams;
use crate::context::{driver_step_error, Ctx};
use ecs_driver::VmNic;
use ecs_saga::{Saga, Step, StepCx, StepError};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// What the saga needs; everything was decided when the request was accepted.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Params {
    pub project_id: String,
    pub server_id: String,
    /// The NICs removed (port id and MAC: the MAC plugs one back on undo).
    pub nics: Vec<VmNic>,
}

impl SagaParams for Params {
    type Saga = DeleteNics;
}

/// The delete-NICs saga.
pub struct DeleteNics;

type Cx<'a> = StepCx<'a, DeleteNics>;

async fn unplug_nics(cx: &Cx<'_>) -> Result<Value, StepError> {
    let p = cx.params;
    for n in &p.nics {
        cx.ctx.driver.nic_detach(&p.server_id, &n.id).await.map_err(driver_step_error)?;
    }
    Ok(Value::Null)
}

/// Undo of `unplug_nics`: the NICs plugged back and the server's operation over.
async fn replug(cx: &Cx<'_>) -> Result<(), StepError> {
    let p = cx.params;
    for n in &p.nics {
        cx.ctx.driver.nic_attach(&p.server_id, n).await.map_err(driver_step_error)?;
    }
    cx.ctx.update_server(&p.project_id, &p.server_id, |s| s.task_state = None).await?;
    Ok(())
}

async fn release_nics(cx: &Cx<'_>) -> Result<Value, StepError> {
    let p = cx.params;
    let ids: Vec<&str> = p.nics.iter().map(|n| n.id.as_str()).collect();
    super::add_nics::release(cx.ctx, &p.project_id, &p.server_id, &ids).await?;
    Ok(Value::Null)
}

impl Saga for DeleteNics {
    type Ctx = Ctx;
    type Params = Params;
    const KIND: &'static str = "delete_nics";
    const VERSION: u32 = 1;
    const STEPS: &'static [Step<Self>] = &[
        Step { name: "unplug_nics", forward: |cx| Box::pin(unplug_nics(cx)), undo: Some(|cx| Box::pin(replug(cx))) },
        Step { name: "release_nics", forward: |cx| Box::pin(release_nics(cx)), undo: None },
    ];

    fn operation(_: &Params) -> &'static str {
        ecs_model::job::job_type::DELETE_NICS
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sagas::testing::{Harness, PROJECT};

    #[tokio::test]
    async fn nics_are_unplugged_and_their_addresses_freed_with_every_step_run_twice() {
        let h = Harness::new().await;
        let id = h.create_server().await;
        h.assert_succeeded(&h.add_nics(&id, 2).await).await;
        let s = h.server(&id).await.server;
        let subnet = s.network.subnet_id.clone();
        let used = h.app.ctx.store.subnet_used(&subnet).await.unwrap();
        let first = s.extra_nics[0].port_id.clone();
        h.assert_succeeded(&h.delete_nics(&id, &[&first]).await).await;
        let s = h.server(&id).await.server;
        assert_eq!((s.extra_nics.len(), s.task_state), (1, None));
        assert_eq!(h.vm_nics(&id).await, vec![s.extra_nics[0].port_id.clone()]);
        assert_eq!(h.app.ctx.store.subnet_used(&subnet).await.unwrap(), used - 1);
        assert_eq!(h.app.ctx.store.port_get(PROJECT, &first).await.unwrap(), None);
    }

    #[tokio::test]
    async fn a_failure_at_any_step_leaves_the_nics_plugged() {
        for step in DeleteNics::STEPS.iter().map(|s| s.name) {
            let h = Harness::new_plain().await;
            let id = h.create_server().await;
            h.assert_succeeded(&h.add_nics(&id, 1).await).await;
            let before = h.server(&id).await.server;
            let port = before.extra_nics[0].port_id.clone();
            h.fail_next("batchDeleteServerNics", step).await;
            h.assert_failed(&h.delete_nics(&id, &[&port]).await).await;
            let s = h.server(&id).await.server;
            assert_eq!((s.extra_nics.clone(), s.task_state), (before.extra_nics.clone(), None), "step {step}");
            assert_eq!(h.vm_nics(&id).await, vec![port.clone()], "step {step}");
            assert!(h.app.ctx.store.port_get(PROJECT, &port).await.unwrap().is_some(), "step {step}");
            h.assert_succeeded(&h.delete_nics(&id, &[&port]).await).await;
            assert!(h.server(&id).await.server.extra_nics.is_empty(), "step {step}");
        }
    }
}
