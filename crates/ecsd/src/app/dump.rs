//! Triggering a server's crash dump (`actions/trigger-crash-dump`): a non-maskable interrupt
//! sent to its running guest, at once. A guest kernel set up for kdump writes its memory out
//! and restarts; any other logs the NMI on its serial console, where `console-output` shows it.

use super::{guest_not_running, server_of, vm_is_here};
use crate::caller::Caller;
use crate::context::App;
use ecs_model::{gates, Error};

/// `POST /v1/{project_id}/cloudservers/{server_id}/actions/trigger-crash-dump`.
pub async fn trigger(app: &App, caller: &Caller, server_id: &str) -> Result<(), Error> {
    let row = server_of(app, &caller.project_id, server_id).await?;
    let s = &row.server;
    gates::crash_dump_allowed(s)?;
    vm_is_here(app, s)?;
    if !app.ctx.driver.vm_nmi(&s.id).await.map_err(|e| Error::internal(e.message))? {
        return Err(guest_not_running(server_id));
    }
    tracing::info!(server = %server_id, "crash dump triggered");
    Ok(())
}
