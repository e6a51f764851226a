//! Triggering a server's crash dump (`actions/trigger-crash-dump`): a non-maskable interrupt
//! sent to its running guest, at once. A guest kernel set up for kdump writes its memory out
//! and restarts; any other logs the NMI on its serial console, where `console-output` shows it.

use super::server_of;
use crate::caller::Caller;
use crate::context::App;
use ecs_model::{gates, Error};
use ecs_types::Code;

/// `POST /v1/{project_id}/cloudservers/{server_id}/actions/trigger-crash-dump`.
pub async fn trigger(app: &App, caller: &Caller, server_id: &str) -> Result<(), Error> {
    let row = server_of(app, &caller.project_id, server_id).await?;
    let s = &row.server;
    gates::crash_dump_allowed(s)?;
    // Only the node that runs a VM can reach it (QMP is a local socket). Inferred: Huawei has
    // no such case, so the refusal uses its status error and says where to go.
    if app.node.host_bound && !app.node.runs_here(s.host.as_deref()) {
        let host = s.host.as_deref().unwrap_or_default();
        return Err(Error::new(
            Code::Ecs0100,
            format!("server {server_id} runs on node {host}: send the request to that node's endpoint."),
        ));
    }
    let sent = app.ctx.driver.vm_nmi(&s.id).await.map_err(|e| Error::internal(e.message))?;
    if !sent {
        return Err(Error::new(
            Code::Ecs0100,
            format!("The ECS status does not meet requirements: the guest of server {server_id} is not running."),
        ));
    }
    tracing::info!(server = %server_id, "crash dump triggered");
    Ok(())
}
