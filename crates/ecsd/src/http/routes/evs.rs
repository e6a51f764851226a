//! The disk service's writes: create volumes and delete one.

use crate::app::evs;
use crate::context::App;
use crate::http::json::parse_nova;
use crate::http::openapi::{GatewayRejections, ProjectPath};
use crate::http::{ApiError, Caller};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::{Extension, Json};
use ecs_types::errors::{NovaBadRequest, NovaItemNotFound};
use ecs_types::job::JobAccepted;
use ecs_types::requests::CreateVolumeBody;
use ecs_types::volumes::CreateVolumeAccepted;

async fn create_any(app: App, c: Caller, body: Bytes) -> Result<Json<CreateVolumeAccepted>, ApiError> {
    // The disk service answers malformed bodies in its (Cinder) `badRequest` shape too.
    let body: CreateVolumeBody = parse_nova(&body)?;
    Ok(Json(evs::create(&app, &c, body).await?))
}

/// `POST /v2/{project_id}/cloudvolumes`.
#[utoipa::path(
    post,
    path = "/v2/{project_id}/cloudvolumes",
    operation_id = "CreateVolumeV2",
    tag = "EVS",
    summary = "Create blank volumes (job type `createVolume`, or `batchCreateVolume` for several)",
    params(ProjectPath),
    request_body = CreateVolumeBody,
    responses(
        (status = 200, description = "Accepted: the job and the new volumes' ids (listed at once, `creating` \
            until the job ends).", body = CreateVolumeAccepted),
        (status = 400, description = "`badRequest`: no `volume`, an unknown `availability_zone`, a `volume_type` \
            outside the list, `size` outside 10–32768, `count` outside 1–100, a name over 255 bytes, a source \
            (`imageRef`, `snapshot_id`, `backup_id`), `server_id`, or a yearly/monthly `bssParam`; `Common.0002`: \
            empty body; `Ecs.0005`: malformed JSON; `Ecs.0023`: not the caller's project. Nothing is created.",
            body = NovaBadRequest),
        GatewayRejections,
    ),
)]
pub async fn create_volume_v2(
    State(app): State<App>,
    Extension(c): Extension<Caller>,
    body: Bytes,
) -> Result<Json<CreateVolumeAccepted>, ApiError> {
    create_any(app, c, body).await
}

/// `POST /v2.1/{project_id}/cloudvolumes`: the path the EVS SDK's `CreateVolume` calls.
#[utoipa::path(
    post,
    path = "/v2.1/{project_id}/cloudvolumes",
    operation_id = "CreateVolume",
    tag = "EVS",
    summary = "Create blank volumes (job type `createVolume`, or `batchCreateVolume` for several)",
    params(ProjectPath),
    request_body = CreateVolumeBody,
    responses(
        (status = 200, description = "Accepted: the job and the new volumes' ids.", body = CreateVolumeAccepted),
        (status = 400, description = "`badRequest`: as for `/v2`. Nothing is created.", body = NovaBadRequest),
        GatewayRejections,
    ),
)]
pub async fn create_volume(
    State(app): State<App>,
    Extension(c): Extension<Caller>,
    body: Bytes,
) -> Result<Json<CreateVolumeAccepted>, ApiError> {
    create_any(app, c, body).await
}

/// `DELETE /v2/{project_id}/cloudvolumes/{volume_id}`.
#[utoipa::path(
    delete,
    path = "/v2/{project_id}/cloudvolumes/{volume_id}",
    operation_id = "DeleteVolume",
    tag = "EVS",
    summary = "Delete a volume (job type `deleteVolume`)",
    params(ProjectPath, ("volume_id" = String, Path)),
    responses(
        (status = 200, description = "Accepted: the job.", body = JobAccepted),
        (status = 400, description = "`badRequest`: the volume is attached (in-use) or busy; `Ecs.0023`: not the \
            caller's project. Nothing is changed.", body = NovaBadRequest),
        (status = 404, description = "`itemNotFound`: no such volume in the project.", body = NovaItemNotFound),
        GatewayRejections,
    ),
)]
pub async fn delete_volume(
    State(app): State<App>,
    Extension(c): Extension<Caller>,
    Path((_, volume_id)): Path<(String, String)>,
) -> Result<Json<JobAccepted>, ApiError> {
    Ok(Json(JobAccepted { job_id: evs::delete(&app, &c, &volume_id).await? }))
}
