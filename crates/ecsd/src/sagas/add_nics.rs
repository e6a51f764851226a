//! Add NICs to one server: plug each into the running VM (or record it for the next start of
//! a stopped one), then end the server's operation.
//!
//! The NICs, their addresses and their ports were written when the request was accepted, in
//! the transaction that recorded the job: the server shows them from then on. A failure
//! anywhere unplugs them again and gives their addresses and ports back.

use super::SagaParams;
use crate::context::{driver_step_error, step_error, store_step_error, Ctx};
use ecs_driver::VmNic;
use ecs_saga::{Saga, Step, StepCx, StepError};
use ecs_store::{Begin, NicRelease, StoreError};
use ecs_types::Code;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// What the saga needs; everything was decided when the request was accepted.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Params {
    pub project_id: String,
    pub server_id: String,
    /// The NICs added (port id and MAC), in the order the request gave them.
    pub nics: Vec<VmNic>,
}

impl SagaParams for Params {
    type Saga = AddNics;
}

/// The add-NICs saga.
pub struct AddNics;

type Cx<'a> = StepCx<'a, AddNics>;

async fn plug_nics(cx: &Cx<'_>) -> Result<Value, StepError> {
    let p = cx.params;
    for n in &p.nics {
        cx.ctx.driver.nic_attach(&p.server_id, n).await.map_err(driver_step_error)?;
    }
    Ok(Value::Null)
}

/// Undo of `plug_nics` (and so of the whole saga): each NIC unplugged, then its record, port
/// and address gone and the server's operation over. Safe whether or not the plug happened.
async fn unplug_and_release(cx: &Cx<'_>) -> Result<(), StepError> {
    let p = cx.params;
    for n in &p.nics {
        cx.ctx.driver.nic_detach(&p.server_id, &n.id).await.map_err(driver_step_error)?;
    }
    let ids: Vec<&str> = p.nics.iter().map(|n| n.id.as_str()).collect();
    release(cx.ctx, &p.project_id, &p.server_id, &ids).await
}

/// Drops the NICs `port_ids` from the server's record, deletes their ports and addresses, and
/// ends the server's operation, in one transaction (compare-and-swap, tried again when a
/// rename or a lock changed the server meanwhile). NICs already gone are skipped.
pub(crate) async fn release(ctx: &Ctx, project_id: &str, server_id: &str, port_ids: &[&str]) -> Result<(), StepError> {
    let fence = ecs_saga::current_hold().filter(|_| ctx.store.cluster().is_some());
    for _ in 0..100 {
        let Some(mut s) = ctx.store.server_only(project_id, server_id).await.map_err(store_step_error)? else {
            return Ok(());
        };
        let releases: Vec<NicRelease> = s
            .extra_nics
            .iter()
            .filter(|n| port_ids.contains(&n.port_id.as_str()))
            .map(|n| NicRelease {
                project_id: project_id.to_string(),
                server_id: server_id.to_string(),
                port_id: n.port_id.clone(),
                subnet_id: n.subnet_id.clone(),
                ip: n.ip.clone(),
            })
            .collect();
        s.extra_nics.retain(|n| !port_ids.contains(&n.port_id.as_str()));
        s.task_state = None;
        s.updated_ms = ecs_model::timefmt::now_ms();
        let b = Begin { update_servers: vec![s], release_nics: releases, fence: fence.clone(), ..Default::default() };
        match ctx.store.begin(b).await {
            Ok(_) => return Ok(()),
            Err(StoreError::Conflict(_)) => continue,
            Err(e) => return Err(store_step_error(e)),
        }
    }
    Err(step_error(Code::Ecs1000, Code::Ecs1000.default_message())
        .with_detail(format!("server {server_id} kept changing; NIC release abandoned")))
}

async fn record_state(cx: &Cx<'_>) -> Result<Value, StepError> {
    let p = cx.params;
    // Written with the step's record and the saga's end, in one transaction.
    cx.write_with_log(cx.ctx.server_write(&p.project_id, &p.server_id, |s| s.task_state = None));
    Ok(Value::Null)
}

impl Saga for AddNics {
    type Ctx = Ctx;
    type Params = Params;
    const KIND: &'static str = "add_nics";
    const VERSION: u32 = 1;
    const STEPS: &'static [Step<Self>] = &[
        Step {
            name: "plug_nics",
            forward: |cx| Box::pin(plug_nics(cx)),
            undo: Some(|cx| Box::pin(unplug_and_release(cx))),
        },
        Step { name: "record_state", forward: |cx| Box::pin(record_state(cx)), undo: None },
    ];

    fn operation(_: &Params) -> &'static str {
        ecs_model::job::job_type::ADD_NICS
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sagas::testing::Harness;

    #[tokio::test]
    async fn nics_are_plugged_into_a_running_server_with_every_step_run_twice() {
        let h = Harness::new().await;
        let id = h.create_server().await;
        h.assert_succeeded(&h.add_nics(&id, 2).await).await;
        let s = h.server(&id).await.server;
        assert_eq!((s.extra_nics.len(), s.status(), s.task_state), (2, "ACTIVE", None));
        let plugged = h.vm_nics(&id).await;
        assert_eq!(plugged, s.extra_nics.iter().map(|n| n.port_id.clone()).collect::<Vec<_>>());
        for n in &s.extra_nics {
            assert!(h.app.ctx.store.port_get(&s.project_id, &n.port_id).await.unwrap().is_some());
        }
    }

    #[tokio::test]
    async fn a_stopped_server_gets_its_nics_at_the_next_start() {
        let h = Harness::new().await;
        let id = h.create_server().await;
        h.assert_succeeded(&h.power(&id, "os-stop").await).await;
        h.assert_succeeded(&h.add_nics(&id, 1).await).await;
        assert_eq!(h.server(&id).await.server.status(), "SHUTOFF");
        h.assert_succeeded(&h.power(&id, "os-start").await).await;
        assert_eq!(h.vm_nics(&id).await.len(), 1);
    }

    #[tokio::test]
    async fn a_failure_at_any_step_leaves_no_nic_address_or_port() {
        for step in AddNics::STEPS.iter().map(|s| s.name) {
            let h = Harness::new_plain().await;
            let id = h.create_server().await;
            let subnet = h.server(&id).await.server.network.subnet_id;
            let used = h.app.ctx.store.subnet_used(&subnet).await.unwrap();
            let ports = h.app.ctx.store.port_list(crate::sagas::testing::PROJECT).await.unwrap().len();
            h.fail_next("batchAddServerNics", step).await;
            h.assert_failed(&h.add_nics(&id, 2).await).await;
            let s = h.server(&id).await.server;
            assert_eq!((s.extra_nics.len(), s.status(), s.task_state), (0, "ACTIVE", None), "step {step}");
            assert!(h.vm_nics(&id).await.is_empty(), "step {step}");
            assert_eq!(h.app.ctx.store.subnet_used(&subnet).await.unwrap(), used, "step {step}");
            let now = h.app.ctx.store.port_list(crate::sagas::testing::PROJECT).await.unwrap().len();
            assert_eq!(now, ports, "step {step}");
            // Nothing is left held: the same request now succeeds.
            h.assert_succeeded(&h.add_nics(&id, 2).await).await;
        }
    }
}
