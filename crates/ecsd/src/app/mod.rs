//! The application layer: one module per resource. Each operation validates its input,
//! checks the state gate, and (for long operations) records the job and its saga in one
//! transaction before answering with the job id; the saga does the work.

pub mod attach;
pub mod auto_terminate;
pub mod catalog;
pub mod change_nic;
pub mod cloud_servers;
pub mod consoles;
pub mod create;
pub mod dump;
pub mod evs;
pub mod job_events;
pub mod jobs;
pub mod keypairs;
pub mod limits;
pub mod metadata;
pub mod names;
pub mod nic_attachment;
pub mod nics;
pub mod nova;
pub mod os;
pub mod passwords;
pub mod ports;
pub mod power;
pub mod query;
pub mod remote_console;
pub mod resize;
pub mod security_group_rules;
pub mod security_groups;
pub mod server_groups;
pub mod servers;
pub mod tags;
pub mod traces;
pub mod validate;
pub mod views;
pub mod volumes;
pub mod zones;

#[cfg(test)]
mod race_tests;

use crate::context::App;
use ecs_model::Error;
use ecs_store::{Begin, ServerRow, StoreError};

/// Refuses an action that must reach a server's VM directly (QMP, its VNC socket: local
/// sockets) when another node runs it. Inferred: Huawei has no such case, so the refusal uses
/// its status error and says where to go.
pub fn vm_is_here(app: &App, s: &ecs_model::server::Server) -> Result<(), Error> {
    if app.node.host_bound && !app.node.runs_here(s.host.as_deref()) {
        let host = s.host.as_deref().unwrap_or_default();
        return Err(Error::new(
            ecs_types::Code::Ecs0100,
            format!("server {} runs on node {host}: send the request to that node's endpoint.", s.id),
        ));
    }
    Ok(())
}

/// The refusal of an action on a guest the driver finds not running.
pub fn guest_not_running(server_id: &str) -> Error {
    Error::new(
        ecs_types::Code::Ecs0100,
        format!("The ECS status does not meet requirements: the guest of server {server_id} is not running."),
    )
}

/// Looks a server of the caller's project up; `Ecs.0114` when there is none.
pub async fn server_of(app: &App, project_id: &str, id: &str) -> Result<ServerRow, Error> {
    if !ecs_model::ids::is_uuid(id) {
        return Err(Error::server_not_found(id));
    }
    app.ctx.store.server_get(project_id, id).await.map_err(internal)?.ok_or_else(|| Error::server_not_found(id))
}

/// [`server_of`] with what `also` asks to be read along with the server, in one read of the
/// store; the server's row is taken out of what is returned.
pub async fn server_with_of(
    app: &App,
    project_id: &str,
    id: &str,
    also: ecs_store::AlsoRead<'_>,
) -> Result<(ServerRow, ecs_store::ServerWith), Error> {
    if !ecs_model::ids::is_uuid(id) {
        return Err(Error::server_not_found(id));
    }
    let mut read = app.ctx.store.server_get_with(project_id, id, also).await.map_err(internal)?;
    let row = read.row.take().ok_or_else(|| Error::server_not_found(id))?;
    Ok((row, read))
}

/// A store failure while serving a request. A full disk and a damaged database are said as
/// such (the client can do something about the first, and should stop retrying the second);
/// anything else is an internal error whose detail goes to the log.
pub fn internal(e: StoreError) -> Error {
    match e {
        StoreError::Full(detail) => {
            tracing::error!(error = %detail, "the data volume is full; refusing writes until space is freed");
            Error::storage_full()
        }
        StoreError::Damaged(detail) => {
            tracing::error!(error = %detail, "the database is damaged");
            Error::store_damaged()
        }
        e => Error::internal(e.to_string()),
    }
}

/// Records an operation and starts its sagas. A lost compare-and-swap means another request
/// changed one of the servers since it was read: the operation is refused as "busy" rather
/// than retried, because the gate decision was made on the old state.
pub async fn begin(app: &App, mut begin: Begin) -> Result<Vec<ecs_model::server::Server>, Error> {
    // A server whose host is down cannot be acted on until the host is back: refused now
    // rather than accepted and left waiting.
    if let Some(s) = begin.update_servers.iter().find(|s| app.node.host_down(s.host.as_deref())) {
        return Err(Error::new(
            ecs_types::Code::Ecs0100,
            format!(
                "The ECS status does not meet requirements: its compute host {} is down; try again when it is back.",
                s.host.as_deref().unwrap_or_default()
            ),
        ));
    }
    place(app, &mut begin).await?;
    let sagas = begin.sagas.clone();
    let jobs = begin.jobs.clone();
    // Only a create on a shared store can find its placement stale and try again; every other
    // operation is written once, without a copy kept for a retry.
    let retries = !begin.insert_servers.is_empty() && app.ctx.store.cluster().is_some();
    let mut tries = 0;
    let inserted = loop {
        if !retries {
            break app.ctx.store.begin(begin).await;
        }
        match app.ctx.store.begin(begin.clone()).await {
            // The host chosen for a new server filled up or died since it was chosen: choose
            // again on what the nodes hold now.
            Err(StoreError::HostFull(why)) if !begin.insert_servers.is_empty() && tries < PLACEMENT_TRIES => {
                tracing::info!(reason = %why, "placement is chosen again");
                tries += 1;
                for s in &mut begin.insert_servers {
                    s.host = None;
                }
                place(app, &mut begin).await?;
            }
            other => break other,
        }
    };
    let inserted = inserted.map_err(|e| match e {
        StoreError::Conflict(_) => Error::new(
            ecs_types::Code::Ecs0100,
            "The ECS status does not meet requirements: another operation changed the server at the same time; try again.",
        ),
        StoreError::AddressesExhausted(s) => Error::invalid(format!("subnet {s} has no free IP address.")),
        StoreError::AddressInUse(ip) => Error::invalid(format!("The IP address {ip} is already in use.")),
        StoreError::QuotaExceeded(why) => Error::new(ecs_types::Code::Ecs0001, why),
        StoreError::HostFull(why) => no_host(why),
        // A server group named by a create was deleted after it was checked.
        StoreError::NotFound(what) if what.starts_with("server group") => {
            Error::invalid(format!("os:scheduler_hints.group: the {what} does not exist."))
        }
        e => internal(e),
    })?;
    crate::metrics::jobs_accepted(&jobs, &sagas, |s| app.node.runs_here(s.host.as_deref()));
    // A saga bound to another host is started there (that node claims what is recorded for it).
    for s in sagas {
        if app.node.runs_here(s.host.as_deref()) {
            app.executor.start(s);
        }
    }
    Ok(inserted)
}

/// How often a create chooses its hosts again when the store finds a choice no longer fits.
const PLACEMENT_TRIES: usize = 3;

/// No compute host can take the servers (inferred: Huawei answers a sold-out flavor in words
/// that vary; `Ecs.0000` is its generic request error).
fn no_host(why: String) -> Error {
    Error::new(ecs_types::Code::Ecs0000, why)
}

/// Chooses a host for each new server, and binds each saga to the host of its server when
/// only that host can act on the server's VM.
async fn place(app: &App, begin: &mut Begin) -> Result<(), Error> {
    use crate::cluster::placement::{place_all, NoHost};
    place_all(&*app.ctx.store, &app.node, &mut begin.insert_servers).await.map_err(|e| match e {
        NoHost::Full(why) => no_host(why),
        NoHost::Store(e) => internal(e),
    })?;
    // Only a store several nodes share records a saga's host: on one of its own, every saga
    // is this node's whatever it says.
    if app.node.host_bound && app.ctx.store.cluster().is_some() {
        let hosts: std::collections::HashMap<&str, &Option<String>> =
            begin.insert_servers.iter().chain(&begin.update_servers).map(|s| (s.id.as_str(), &s.host)).collect();
        for saga in &mut begin.sagas {
            let Some(server_id) = saga.params.get("server_id").and_then(|v| v.as_str()) else { continue };
            saga.host = hosts.get(server_id).and_then(|h| (*h).clone());
        }
    }
    Ok(())
}

/// How often a gated update is tried when other requests keep changing the server under it.
const GATED_TRIES: usize = 3;

/// Changes a server outside any long operation (rename, lock): reads it, checks `gate` on what
/// it read, applies `change` and writes it back with compare-and-swap. A lost swap means
/// another request changed the server since the read, so the gate is checked again on the new
/// state, which may now refuse (a server locked in between is not renamed); after a few lost
/// swaps in a row the request is refused as busy. `None` when the server does not exist.
pub async fn update_gated<G, F>(
    app: &App,
    project_id: &str,
    server_id: &str,
    gate: G,
    change: F,
) -> Result<ecs_model::server::Server, Error>
where
    G: Fn(&ecs_model::server::Server) -> Result<(), Error>,
    F: Fn(&mut ecs_model::server::Server),
{
    if !ecs_model::ids::is_uuid(server_id) {
        return Err(Error::server_not_found(server_id));
    }
    for _ in 0..GATED_TRIES {
        let mut s = app
            .ctx
            .store
            .server_only(project_id, server_id)
            .await
            .map_err(internal)?
            .ok_or_else(|| Error::server_not_found(server_id))?;
        gate(&s)?;
        change(&mut s);
        s.updated_ms = ecs_model::timefmt::now_ms();
        match app.ctx.store.server_update(s).await {
            Ok(s) => return Ok(s),
            Err(StoreError::Conflict(_)) => continue,
            Err(e) => return Err(internal(e)),
        }
    }
    Err(Error::new(
        ecs_types::Code::Ecs0100,
        "The ECS status does not meet requirements: other requests kept changing the server; try again.",
    ))
}

/// Hashes an admin password (SHA-512-crypt, about 1.5 ms of CPU) on the blocking pool, so that
/// a burst of reinstalls or creates does not hold up the async workers serving every other
/// request.
pub async fn hash_password(password: Option<&str>) -> Result<Option<String>, Error> {
    let Some(pw) = password else { return Ok(None) };
    let pw = pw.to_string();
    tokio::task::spawn_blocking(move || ecs_crypto::hash_password(&pw))
        .await
        .map(Some)
        .map_err(|e| Error::internal(format!("password hashing failed: {e}")))
}
