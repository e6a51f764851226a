//! Disks after a server is created: attach, detach, and whether a disk goes with its server.

use crate::app::attach;
use crate::app::query::{query_pairs, typed};
use crate::context::App;
use crate::http::json::parse;
use crate::http::openapi::{DryRunAccepted, GatewayRejections, ProjectPath};
use crate::http::{ApiError, Caller};
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use ecs_types::errors::EcsErrorBody;
use ecs_types::job::JobAccepted;
use ecs_types::queries::DetachVolumeQuery;
use ecs_types::requests::{AttachVolumeBody, UpdateBlockDeviceBody};

/// `POST /v1/{project_id}/cloudservers/{server_id}/attachvolume`.
#[utoipa::path(
    post,
    path = "/v1/{project_id}/cloudservers/{server_id}/attachvolume",
    operation_id = "AttachServerVolume",
    tag = "ECS",
    summary = "Attach a volume to a server (job type `attachVolume`)",
    params(ProjectPath, ("server_id" = String, Path)),
    request_body = AttachVolumeBody,
    responses(
        (status = 200, description = "Accepted: the job. A running server gets the disk at once (hot-plug), a \
            stopped one at its next start.", body = JobAccepted),
        (status = 202, description = "`dry_run`: the request would be accepted; nothing was changed.",
            body = DryRunAccepted),
        (status = 400, description = "`Ecs.0005`: no `volumeId`, an unknown volume, one attached (to this or \
            another server; a shared one to a second server is not supported) or busy, another availability zone, \
            an invalid or taken `device`, already 23 data disks, `hw:passthrough` true; `Ecs.0100`: the server is \
            busy, not ACTIVE or SHUTOFF (or not SHUTOFF for a system disk); `Ecs.0605`: locked; `Common.0002`: \
            empty body; `Ecs.0023`: not the caller's project. Nothing is changed.", body = EcsErrorBody),
        (status = 404, description = "`Ecs.0114`: no such server in the project.", body = EcsErrorBody),
        GatewayRejections,
    ),
)]
pub async fn attach_volume(
    State(app): State<App>,
    Extension(c): Extension<Caller>,
    Path((_, id)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let body: AttachVolumeBody = parse(&body)?;
    Ok(match attach::attach(&app, &c, &id, body).await? {
        Some(job_id) => Json(JobAccepted { job_id }).into_response(),
        None => (StatusCode::ACCEPTED, Json(DryRunAccepted {})).into_response(),
    })
}

/// `DELETE /v1/{project_id}/cloudservers/{server_id}/detachvolume/{volume_id}`.
#[utoipa::path(
    delete,
    path = "/v1/{project_id}/cloudservers/{server_id}/detachvolume/{volume_id}",
    operation_id = "DetachServerVolume",
    tag = "ECS",
    summary = "Detach a volume from a server (job type `detachVolume`)",
    params(ProjectPath, ("server_id" = String, Path), ("volume_id" = String, Path), DetachVolumeQuery),
    responses(
        (status = 200, description = "Accepted: the job. A running server's guest releases the disk first; the \
            disk keeps its data.", body = JobAccepted),
        (status = 400, description = "`Ecs.0005`: the volume is not attached to the server, or busy; a bad \
            `delete_flag`; `Ecs.0100`: the server is busy, not ACTIVE or SHUTOFF, or (for the system disk) not \
            SHUTOFF; `Ecs.0605`: locked; `Ecs.0023`: not the caller's project. Nothing is changed.",
            body = EcsErrorBody),
        (status = 404, description = "`Ecs.0114`: no such server in the project.", body = EcsErrorBody),
        GatewayRejections,
    ),
)]
pub async fn detach_volume(
    State(app): State<App>,
    Extension(c): Extension<Caller>,
    Path((_, id, volume_id)): Path<(String, String, String)>,
    RawQuery(q): RawQuery,
) -> Result<Json<JobAccepted>, ApiError> {
    let q: DetachVolumeQuery = typed(&query_pairs(q.as_deref()))?;
    Ok(Json(JobAccepted { job_id: attach::detach(&app, &c, &id, &volume_id, q.delete_flag.as_deref()).await? }))
}

/// `PUT /v1/{project_id}/cloudservers/{server_id}/block_device/{volume_id}`.
#[utoipa::path(
    put,
    path = "/v1/{project_id}/cloudservers/{server_id}/block_device/{volume_id}",
    operation_id = "UpdateServerBlockDevice",
    tag = "ECS",
    summary = "Change whether a disk is deleted with its server",
    params(ProjectPath, ("server_id" = String, Path), ("volume_id" = String, Path)),
    request_body = UpdateBlockDeviceBody,
    responses(
        (status = 204, description = "Changed."),
        (status = 400, description = "`Ecs.0005`: no `block_device.delete_on_termination`, the volume is not \
            attached to the server, is shared or busy, or is the system disk and `false` was asked (ecsd always \
            deletes a system disk with its server); `Ecs.0605`: locked; `Common.0002`: empty body; `Ecs.0023`: \
            not the caller's project.", body = EcsErrorBody),
        (status = 404, description = "`Ecs.0114`: no such server in the project.", body = EcsErrorBody),
        GatewayRejections,
    ),
)]
pub async fn update_block_device(
    State(app): State<App>,
    Extension(c): Extension<Caller>,
    Path((_, id, volume_id)): Path<(String, String, String)>,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    let body: UpdateBlockDeviceBody = parse(&body)?;
    attach::update_block_device(&app, &c, &id, &volume_id, body).await?;
    Ok(StatusCode::NO_CONTENT)
}
