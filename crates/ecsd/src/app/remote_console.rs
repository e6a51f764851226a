//! A server's remote console (`remote_console`): a URL whose WebSocket carries the VM's VNC
//! stream, for noVNC or any RFB client. The URL's token is the credential (see
//! `console_tickets`); the VM's VNC server itself listens only on a local unix socket.

use super::{guest_not_running, server_of, vm_is_here};
use crate::caller::Caller;
use crate::context::App;
use ecs_driver::VncConsole;
use ecs_model::{gates, Error};
use ecs_types::nics::{RemoteConsole, RemoteConsoleBody};
use ecs_types::Code;
use std::path::PathBuf;

/// Where a console URL points: `{scheme}://{authority}/console/vnc/{token}`.
pub const CONSOLE_PATH: &str = "/console/vnc";

/// How the client reached this service, for the URL handed back: WebSocket over TLS or not,
/// and the authority it used (its `Host` header).
pub struct Origin<'a> {
    pub secure: bool,
    pub authority: &'a str,
}

/// `POST /v1/{project_id}/cloudservers/{server_id}/remote_console`.
pub async fn open(
    app: &App,
    caller: &Caller,
    server_id: &str,
    body: RemoteConsoleBody,
    origin: Origin<'_>,
) -> Result<RemoteConsole, Error> {
    let want = body.remote_console.ok_or_else(|| Error::invalid("remote_console is required."))?;
    let protocol = want.protocol.as_deref().unwrap_or_default();
    let kind = want.kind.as_deref().unwrap_or_default();
    // The only pair Huawei documents ("set protocol to vnc", "set type to novnc").
    if protocol != "vnc" {
        return Err(Error::invalid(format!("remote_console.protocol {protocol:?} is invalid: it must be \"vnc\".")));
    }
    if kind != "novnc" {
        return Err(Error::invalid(format!("remote_console.type {kind:?} is invalid: it must be \"novnc\".")));
    }
    let row = server_of(app, &caller.project_id, server_id).await?;
    let s = &row.server;
    gates::remote_console_allowed(s)?;
    vm_is_here(app, s)?;
    socket(app, server_id).await?;
    let token = app.consoles.issue(server_id);
    let scheme = if origin.secure { "wss" } else { "ws" };
    Ok(RemoteConsole {
        protocol: "vnc".into(),
        kind: "novnc".into(),
        url: format!("{scheme}://{}{CONSOLE_PATH}/{token}", origin.authority),
    })
}

/// The VNC socket of `server_id`'s running VM, or the error a client is told.
pub async fn socket(app: &App, server_id: &str) -> Result<PathBuf, Error> {
    match app.ctx.driver.vnc_console(server_id).await.map_err(|e| Error::internal(e.message))? {
        VncConsole::Socket(path) => Ok(path),
        VncConsole::NotRunning => Err(guest_not_running(server_id)),
        // Inferred: Huawei's servers all have a console; ecsd's simulated ones have no display.
        VncConsole::Unavailable => Err(Error::new(
            Code::Ecs0000,
            format!(
                "server {server_id} has no remote console: the {} driver runs no display (remote consoles are \
                 served with the qemu driver); read what its serial console shows with ShowServerConsoleOutput.",
                app.ctx.driver.name()
            ),
        )),
    }
}
