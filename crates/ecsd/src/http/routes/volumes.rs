//! Disks, read side: a server's block devices (ECS) and the disk service's volumes (EVS v2).

use crate::app::query::{query_pairs, typed};
use crate::app::volumes::{self, VolumeFilter};
use crate::context::App;
use crate::http::openapi::{GatewayRejections, ProjectPath};
use crate::http::{ApiError, Caller};
use axum::extract::{Path, RawQuery, State};
use axum::{Extension, Json};
use ecs_model::Error;
use ecs_types::errors::{EcsErrorBody, NovaItemNotFound};
use ecs_types::volumes::*;

type Res<T> = Result<Json<T>, ApiError>;

/// `GET /v1/{project_id}/cloudservers/{server_id}/block_device`.
#[utoipa::path(
    get,
    path = "/v1/{project_id}/cloudservers/{server_id}/block_device",
    operation_id = "ListServerBlockDevices",
    tag = "ECS",
    summary = "List a server's disks",
    params(ProjectPath, ("server_id" = String, Path)),
    responses(
        (status = 200, description = "The system disk (boot index 0) and the data disks.", body = BlockDeviceList),
        (status = 400, description = "`Ecs.0023`: not the caller's project.", body = EcsErrorBody),
        (status = 404, description = "`Ecs.0114`: no such server in the project.", body = EcsErrorBody),
        GatewayRejections,
    ),
)]
pub async fn block_devices(
    State(app): State<App>,
    Extension(c): Extension<Caller>,
    Path((_, id)): Path<(String, String)>,
) -> Res<BlockDeviceList> {
    Ok(Json(volumes::block_devices(&app, &c, &id).await?))
}

/// `GET /v1/{project_id}/cloudservers/{server_id}/block_device/{volume_id}`.
#[utoipa::path(
    get,
    path = "/v1/{project_id}/cloudservers/{server_id}/block_device/{volume_id}",
    operation_id = "ShowServerBlockDevice",
    tag = "ECS",
    summary = "Show one of a server's disks",
    params(ProjectPath, ("server_id" = String, Path), ("volume_id" = String, Path)),
    responses(
        (status = 200, description = "The disk.", body = BlockDeviceEnvelope),
        (status = 400, description = "`Ecs.0005`: the volume is not attached to the server; `Ecs.0023`: not the \
            caller's project.", body = EcsErrorBody),
        (status = 404, description = "`Ecs.0114`: no such server in the project.", body = EcsErrorBody),
        GatewayRejections,
    ),
)]
pub async fn block_device(
    State(app): State<App>,
    Extension(c): Extension<Caller>,
    Path((_, id, volume_id)): Path<(String, String, String)>,
) -> Res<BlockDeviceEnvelope> {
    Ok(Json(volumes::block_device_of(&app, &c, &id, &volume_id).await?))
}

/// `GET /v1/{project_id}/cloudservers/{server_id}/os-volume_attachments`.
#[utoipa::path(
    get,
    path = "/v1/{project_id}/cloudservers/{server_id}/os-volume_attachments",
    operation_id = "ListServerVolumeAttachments",
    tag = "ECS",
    summary = "List a server's volume attachments",
    params(ProjectPath, ("server_id" = String, Path)),
    responses(
        (status = 200, description = "One attachment per disk.", body = VolumeAttachmentList),
        (status = 400, description = "`Ecs.0023`: not the caller's project.", body = EcsErrorBody),
        (status = 404, description = "`Ecs.0114`: no such server in the project.", body = EcsErrorBody),
        GatewayRejections,
    ),
)]
pub async fn attachments(
    State(app): State<App>,
    Extension(c): Extension<Caller>,
    Path((_, id)): Path<(String, String)>,
) -> Res<VolumeAttachmentList> {
    Ok(Json(volumes::attachments(&app, &c, &id).await?))
}

/// `GET /v1/{project_id}/cloudservers/{server_id}/appendvolumequota`.
#[utoipa::path(
    get,
    path = "/v1/{project_id}/cloudservers/{server_id}/appendvolumequota",
    operation_id = "ShowAppendableVolumeQuota",
    tag = "ECS",
    summary = "How many more disks a server can take",
    params(ProjectPath, ("server_id" = String, Path)),
    responses(
        (status = 200, description = "Free virtio (`free_blk`) and SCSI (`free_scsi`) slots.",
            body = AppendableVolumeQuota),
        (status = 400, description = "`Ecs.0023`: not the caller's project.", body = EcsErrorBody),
        (status = 404, description = "`Ecs.0114`: no such server in the project.", body = EcsErrorBody),
        GatewayRejections,
    ),
)]
pub async fn appendable(
    State(app): State<App>,
    Extension(c): Extension<Caller>,
    Path((_, id)): Path<(String, String)>,
) -> Res<AppendableVolumeQuota> {
    Ok(Json(volumes::appendable(&app, &c, &id).await?))
}

/// `GET /v2/{project_id}/cloudvolumes/{volume_id}`.
#[utoipa::path(
    get,
    path = "/v2/{project_id}/cloudvolumes/{volume_id}",
    operation_id = "ShowVolume",
    tag = "EVS",
    summary = "Show a disk",
    params(ProjectPath, ("volume_id" = String, Path)),
    responses(
        (status = 200, description = "The disk.", body = VolumeEnvelope),
        (status = 400, description = "`Ecs.0023`: not the caller's project.", body = EcsErrorBody),
        (status = 404, description = "`itemNotFound`: no such disk in the project.", body = NovaItemNotFound),
        GatewayRejections,
    ),
)]
pub async fn show(
    State(app): State<App>,
    Extension(c): Extension<Caller>,
    Path((_, id)): Path<(String, String)>,
) -> Res<VolumeEnvelope> {
    Ok(Json(volumes::show(&app, &c, &id).await?))
}

/// The query of both EVS lists, checked.
fn filter(q: Option<&str>) -> Result<VolumeFilter, Error> {
    let q: VolumeListQuery = typed(&query_pairs(q))?;
    let limit = q.limit.unwrap_or(1000);
    if limit == 0 || limit > 1000 {
        return Err(Error::invalid(format!("limit must be between 1 and 1000, got {limit}.")));
    }
    let mut ids: Option<Vec<String>> = match q.ids.as_deref().filter(|s| !s.is_empty()) {
        Some(s) => Some(
            serde_json::from_str(s)
                .map_err(|_| Error::invalid(format!("ids {s:?} is not a JSON list of volume ids.")))?,
        ),
        None => None,
    };
    if let Some(id) = q.id.filter(|s| !s.is_empty()) {
        ids.get_or_insert_with(Vec::new).push(id);
    }
    Ok(VolumeFilter {
        name: q.name.filter(|s| !s.is_empty()),
        status: q.status.filter(|s| !s.is_empty()),
        availability_zone: q.availability_zone.filter(|s| !s.is_empty()),
        server_id: q.server_id.filter(|s| !s.is_empty()),
        ids,
        limit: limit as usize,
        offset: q.offset.unwrap_or(0) as usize,
        marker: q.marker.filter(|s| !s.is_empty()),
    })
}

/// `GET /v2/{project_id}/cloudvolumes/detail`.
#[utoipa::path(
    get,
    path = "/v2/{project_id}/cloudvolumes/detail",
    operation_id = "ListVolumes",
    tag = "EVS",
    summary = "List disks with their details, newest first",
    params(ProjectPath, VolumeListQuery),
    responses(
        (status = 200, description = "`count` matching disks, one page of them.", body = VolumeDetailList),
        (status = 400, description = "`Ecs.0005`: a malformed parameter; `Ecs.0023`: not the caller's project.",
            body = EcsErrorBody),
        GatewayRejections,
    ),
)]
pub async fn list_detail(
    State(app): State<App>,
    Extension(c): Extension<Caller>,
    RawQuery(q): RawQuery,
) -> Res<VolumeDetailList> {
    let f = filter(q.as_deref())?;
    Ok(Json(volumes::list_detail(&app, &c, &f).await?))
}

/// `GET /v2/{project_id}/cloudvolumes`.
#[utoipa::path(
    get,
    path = "/v2/{project_id}/cloudvolumes",
    operation_id = "ListVolumesSummary",
    tag = "EVS",
    summary = "List disks: ids and names",
    params(ProjectPath, VolumeListQuery),
    responses(
        (status = 200, description = "One page of disks.", body = VolumeSummaryList),
        (status = 400, description = "`Ecs.0005`: a malformed parameter; `Ecs.0023`: not the caller's project.",
            body = EcsErrorBody),
        GatewayRejections,
    ),
)]
pub async fn list(
    State(app): State<App>,
    Extension(c): Extension<Caller>,
    RawQuery(q): RawQuery,
) -> Res<VolumeSummaryList> {
    let f = filter(q.as_deref())?;
    Ok(Json(volumes::list(&app, &c, &f).await?))
}
