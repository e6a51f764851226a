//! Change a server's flavor (`/v1.1` and `/v1` `resize`), several servers' at once
//! (`batch-resize`), and the flavors a server can change to.
//!
//! The request is checked in the order a user can act on: the body's own rules (`Ecs.0005`),
//! then the server (`Ecs.0114`) and its state (`Ecs.0605`, `Ecs.0100`), then the flavor
//! (`Ecs.0019`: unknown, or the one the server has), and last the project's quota for what the
//! new flavor adds (`Ecs.0001`), which the store checks in the transaction that begins the
//! saga.

use super::{begin, internal, server_of, views};
use crate::caller::Caller;
use crate::context::App;
use crate::sagas::resize_server::{Params, Size};
use crate::sagas::SagaParams;
use ecs_model::flavor::{Flavor, FLAVORS};
use ecs_model::job::{job_type, Job};
use ecs_model::quota::Usage;
use ecs_model::server::Server;
use ecs_model::state::{TaskState, VmState};
use ecs_model::timefmt::now_ms;
use ecs_model::{gates, Error};
use ecs_store::{Begin, ServerRow};
use ecs_types::flavor::FlavorList;
use ecs_types::queries::ResizeFlavorsQuery;
use ecs_types::requests::{IdRef, ResizeOptions};
use ecs_types::server_groups::BatchResizeBody;
use ecs_types::Code;

/// The field rules of the body (no store access); returns the new flavor's id and whether the
/// server may be stopped for it.
fn check_fields(o: &ResizeOptions) -> Result<(&str, bool), Error> {
    let flavor =
        o.flavor_ref.as_deref().filter(|f| !f.is_empty()).ok_or_else(|| Error::invalid("flavorRef is required."))?;
    let with_stop = match o.mode.as_deref() {
        None => false,
        Some("withStopServer") => true,
        Some(m) => return Err(Error::invalid(format!("mode {m:?} is invalid; the only value is \"withStopServer\"."))),
    };
    // ecsd has no dedicated hosts: naming one cannot be honoured, so it is refused rather than
    // ignored.
    if o.dedicated_host_id.as_deref().is_some_and(|d| !d.is_empty()) {
        return Err(Error::invalid("dedicated_host_id is invalid: there are no dedicated hosts."));
    }
    if let Some(p) = o.extendparam.as_ref().and_then(|e| e.is_auto_pay.as_deref()) {
        if p != "true" && p != "false" {
            return Err(Error::invalid(format!("isAutoPay {p:?} is invalid; use \"true\" or \"false\".")));
        }
    }
    Ok((flavor, with_stop))
}

fn size(f: &Flavor) -> Size {
    Size { flavor_id: f.id.to_string(), vcpus: f.vcpus, ram_mb: f.ram_mb }
}

/// What an accepted request answers.
#[derive(Debug)]
pub enum Resized {
    Accepted {
        job_id: String,
    },
    /// `dry_run`: the request would be accepted; nothing was changed.
    DryRun,
}

/// Accepts a resize, or (`dry_run`) checks it only.
pub async fn request(
    app: &App,
    caller: &Caller,
    server_id: &str,
    opts: Option<ResizeOptions>,
    dry_run: bool,
) -> Result<Resized, Error> {
    let o = opts.ok_or_else(|| Error::invalid("request body is illegal: resize is required."))?;
    if dry_run {
        check(app, caller, server_id, &o).await?;
        return Ok(Resized::DryRun);
    }
    Ok(Resized::Accepted { job_id: resize(app, caller, server_id, o).await? })
}

/// Every check of [`resize`], the quota read outside any transaction (a dry run holds nothing).
async fn check(app: &App, caller: &Caller, server_id: &str, o: &ResizeOptions) -> Result<(), Error> {
    let (flavor, with_stop) = check_fields(o)?;
    let row = server_of(app, &caller.project_id, server_id).await?;
    gates::resize_allowed(&row.server, with_stop)?;
    let (from, to) = flavors(&row.server.flavor_id, flavor)?;
    let used = app.ctx.store.project_usage(&caller.project_id).await.map_err(internal)?;
    let grow = Usage::of(from.vcpus, from.ram_mb, 1).growth_to(Usage::of(to.vcpus, to.ram_mb, 1));
    match app.quotas.refusal(used, grow) {
        Some(why) => Err(Error::new(Code::Ecs0001, why)),
        None => Ok(()),
    }
}

/// The server's flavor and the one asked for: `Ecs.0019` when that is unknown or the same.
fn flavors(current: &str, wanted: &str) -> Result<(Size, Size), Error> {
    let to = ecs_model::flavor::find(wanted)
        .ok_or_else(|| Error::new(Code::Ecs0019, format!("Flavor {wanted} does not exist or is abandoned.")))?;
    if to.id == current {
        return Err(Error::new(Code::Ecs0019, format!("Flavor {wanted} is the server's current flavor.")));
    }
    // A server whose flavor has left the catalog counts as taking nothing (as the quota
    // usage counts it), so the new flavor's whole size is checked against the quota.
    let from = ecs_model::flavor::find(current).map(size).unwrap_or(Size {
        flavor_id: current.to_string(),
        vcpus: 0,
        ram_mb: 0,
    });
    Ok((from, size(to)))
}

/// Accepts a resize and starts its saga; returns the job id.
pub async fn resize(app: &App, caller: &Caller, server_id: &str, o: ResizeOptions) -> Result<String, Error> {
    let (flavor, with_stop) = check_fields(&o)?;
    let row = server_of(app, &caller.project_id, server_id).await?;
    gates::resize_allowed(&row.server, with_stop)?;
    let (from, to) = flavors(&row.server.flavor_id, flavor)?;
    let now = now_ms();
    let job = Job::new(&caller.project_id, job_type::RESIZE_SERVER, None, Some(server_id), now);
    let (s, params) = prepare(&row, from, to, now);
    let b = Begin {
        sagas: vec![params.record(&job.id)?],
        jobs: vec![job.clone()],
        update_servers: vec![s],
        quota: Some(app.quotas),
        ..Default::default()
    };
    begin(app, b).await?;
    Ok(job.id)
}

/// The server as the resize leaves it at acceptance (the new flavor, held), and its saga's
/// parameters.
fn prepare(row: &ServerRow, from: Size, to: Size, now: i64) -> (Server, Params) {
    let was_running = row.server.vm_state == VmState::Active;
    let mut s = row.server.clone();
    // The new flavor is the server's from now on, so the quota counts it (see the saga).
    s.flavor_id = to.flavor_id.clone();
    s.task_state = Some(if was_running { TaskState::PoweringOff } else { TaskState::ResizePrep });
    s.updated_ms = now;
    let params = Params {
        project_id: row.server.project_id.clone(),
        server_id: row.server.id.clone(),
        from,
        to,
        was_running,
        boot_disk: row.volumes.iter().find(|v| v.boot_index == Some(0)).map(|v| v.id.clone()),
        data_disks: crate::sagas::data_disk_ids(&row.volumes),
        nics: crate::sagas::vm_nics(&row.server),
    };
    (s, params)
}

/// `POST /v1/{project_id}/cloudservers/batch-resize`: every server to one flavor, as one job
/// with a sub-job (and a resize saga) per server. Each server passes the gates of a single
/// resize; the project's quota is checked for what all of them add together, in the
/// transaction that begins them. Refused whole if any server is refused; `dry_run` checks only.
pub async fn batch(app: &App, caller: &Caller, body: BatchResizeBody) -> Result<Resized, Error> {
    let o = body.resize.ok_or_else(|| Error::invalid("request body is illegal: resize is required."))?;
    let opts = ResizeOptions { flavor_ref: o.flavor_ref, mode: o.mode, ..Default::default() };
    let (flavor, with_stop) = check_fields(&opts)?;
    let servers = o.servers.map(|v| v.into_iter().map(|s| IdRef { id: s.id }).collect());
    let ids = super::servers::batch_ids(servers)?;
    let now = now_ms();
    let parent = Job::new(&caller.project_id, job_type::RESIZE_SERVER, None, None, now);
    let mut b = Begin { jobs: vec![parent.clone()], quota: Some(app.quotas), ..Default::default() };
    let mut grow = Usage::default();
    for id in &ids {
        let row = server_of(app, &caller.project_id, id).await?;
        gates::resize_allowed(&row.server, with_stop)?;
        let (from, to) = flavors(&row.server.flavor_id, flavor)?;
        grow = grow.plus(Usage::of(from.vcpus, from.ram_mb, 1).growth_to(Usage::of(to.vcpus, to.ram_mb, 1)));
        let child = Job::new(&caller.project_id, job_type::RESIZE_SINGLE_SERVER, Some(&parent.id), Some(id), now);
        let (s, params) = prepare(&row, from, to, now);
        b.sagas.push(params.record(&child.id)?);
        b.jobs.push(child);
        b.update_servers.push(s);
    }
    if body.dry_run.unwrap_or(false) {
        let used = app.ctx.store.project_usage(&caller.project_id).await.map_err(internal)?;
        return match app.quotas.refusal(used, grow) {
            Some(why) => Err(Error::new(Code::Ecs0001, why)),
            None => Ok(Resized::DryRun),
        };
    }
    begin(app, b).await?;
    Ok(Resized::Accepted { job_id: parent.id })
}

/// `GET /v1/{project_id}/cloudservers/resize_flavors`: every other flavor of the catalog (each
/// can be reached from any other by a restart), sorted and paged as asked.
pub async fn resize_flavors(app: &App, caller: &Caller, q: &ResizeFlavorsQuery) -> Result<FlavorList, Error> {
    let source = match (&q.instance_uuid, &q.source_flavor_id, &q.source_flavor_name) {
        (Some(id), _, _) => server_of(app, &caller.project_id, id).await?.server.flavor_id,
        (None, Some(f), _) | (None, None, Some(f)) => f.clone(),
        (None, None, None) => {
            return Err(Error::invalid("one of instance_uuid, source_flavor_id and source_flavor_name is required."))
        }
    };
    if ecs_model::flavor::find(&source).is_none() {
        return Err(Error::new(Code::Ecs0019, format!("Flavor {source} does not exist or is abandoned.")));
    }
    let mut list: Vec<&Flavor> = FLAVORS.iter().filter(|f| f.id != source).collect();
    match q.sort_key.as_deref().unwrap_or("flavorid") {
        // ecsd's flavor names are their ids.
        "flavorid" | "name" => list.sort_by_key(|f| f.id),
        "memory_mb" => list.sort_by_key(|f| (f.ram_mb, f.id)),
        "vcpus" => list.sort_by_key(|f| (f.vcpus, f.id)),
        "root_gb" => list.sort_by_key(|f| (f.disk_gb, f.id)),
        k => {
            return Err(Error::invalid(format!(
                "sort_key {k:?} is invalid; use flavorid, name, memory_mb, vcpus or root_gb."
            )))
        }
    }
    match q.sort_dir.as_deref().unwrap_or("asc") {
        "asc" => {}
        "desc" => list.reverse(),
        d => return Err(Error::invalid(format!("sort_dir {d:?} is invalid; use asc or desc."))),
    }
    if let Some(m) = &q.marker {
        let at = list
            .iter()
            .position(|f| f.id == m)
            .ok_or_else(|| Error::invalid(format!("marker {m} is not a flavor of this list.")))?;
        list.drain(..=at);
    }
    if let Some(n) = q.limit {
        list.truncate(usize::try_from(n).unwrap_or(usize::MAX));
    }
    Ok(FlavorList { flavors: list.into_iter().map(|f| views::flavor_view(f, &caller.project_id)).collect() })
}
