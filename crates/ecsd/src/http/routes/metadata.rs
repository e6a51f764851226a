//! Server metadata: merge keys in, remove one.

use crate::app::metadata;
use crate::context::App;
use crate::http::json::parse;
use crate::http::openapi::{GatewayRejections, ProjectPath};
use crate::http::{ApiError, Caller};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use ecs_types::errors::EcsErrorBody;
use ecs_types::metadata::{MetadataView, UpdateMetadataBody};

/// `POST /v1/{project_id}/cloudservers/{server_id}/metadata`.
#[utoipa::path(
    post,
    path = "/v1/{project_id}/cloudservers/{server_id}/metadata",
    operation_id = "UpdateServerMetadata",
    tag = "ECS",
    summary = "Add or change user metadata keys of a server",
    params(ProjectPath, ("server_id" = String, Path)),
    request_body = UpdateMetadataBody,
    responses(
        (status = 200, description = "The server's whole user metadata afterwards.", body = MetadataView),
        (status = 400, description = "`Ecs.0005`: an invalid or reserved key, a value too long, more than \
            128 keys; `Ecs.0605`: locked; `Ecs.0100`: other requests kept changing the server; `Common.0002`: \
            empty body; `Ecs.0023`: not the caller's project. Nothing is changed.", body = EcsErrorBody),
        (status = 404, description = "`Ecs.0114`: no such server in the project.", body = EcsErrorBody),
        GatewayRejections,
    ),
)]
pub async fn update(
    State(app): State<App>,
    Extension(c): Extension<Caller>,
    Path((_, id)): Path<(String, String)>,
    body: Bytes,
) -> Result<Json<MetadataView>, ApiError> {
    let body: UpdateMetadataBody = parse(&body)?;
    Ok(Json(metadata::update(&app, &c, &id, body).await?))
}

/// `DELETE /v1/{project_id}/cloudservers/{server_id}/metadata/{key}`.
#[utoipa::path(
    delete,
    path = "/v1/{project_id}/cloudservers/{server_id}/metadata/{key}",
    operation_id = "DeleteServerMetadata",
    tag = "ECS",
    summary = "Remove a user metadata key of a server",
    params(ProjectPath, ("server_id" = String, Path), ("key" = String, Path, description = "The key to remove.")),
    responses(
        (status = 204, description = "Removed."),
        (status = 400, description = "`Ecs.0005`: the server has no such key, or the key is reserved; \
            `Ecs.0605`: locked; `Ecs.0023`: not the caller's project. Nothing is changed.", body = EcsErrorBody),
        (status = 404, description = "`Ecs.0114`: no such server in the project.", body = EcsErrorBody),
        GatewayRejections,
    ),
)]
pub async fn delete(
    State(app): State<App>,
    Extension(c): Extension<Caller>,
    Path((_, id, key)): Path<(String, String, String)>,
) -> Result<StatusCode, ApiError> {
    metadata::delete(&app, &c, &id, &key).await?;
    Ok(StatusCode::NO_CONTENT)
}
