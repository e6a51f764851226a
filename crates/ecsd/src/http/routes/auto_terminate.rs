//! A server's scheduled deletion time.

use crate::app::auto_terminate;
use crate::context::App;
use crate::http::json::parse;
use crate::http::openapi::{GatewayRejections, ProjectPath};
use crate::http::{ApiError, Caller};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Extension;
use ecs_types::errors::EcsErrorBody;
use ecs_types::server_groups::AutoTerminateBody;

/// `POST /v1/{project_id}/cloudservers/{server_id}/actions/update-auto-terminate-time`.
#[utoipa::path(
    post,
    path = "/v1/{project_id}/cloudservers/{server_id}/actions/update-auto-terminate-time",
    operation_id = "UpdateServerAutoTerminateTime",
    tag = "ECS",
    summary = "Set (or, with an empty string, cancel) the time the server is deleted at",
    params(ProjectPath, ("server_id" = String, Path)),
    request_body = AutoTerminateBody,
    responses(
        (status = 204, description = "Set; the server is deleted at that time (job type `deleteServer`)."),
        (status = 400, description = "`Ecs.0005`: no `auto_terminate_time`, one that is not \
            `yyyy-MM-ddTHH:mm:ssZ`, not in the future or more than three years ahead; `Ecs.0605`: locked; \
            `Ecs.0023`: not the caller's project. Nothing is changed.", body = EcsErrorBody),
        (status = 404, description = "`Ecs.0114`: no such server in the project.", body = EcsErrorBody),
        GatewayRejections,
    ),
)]
pub async fn update(
    State(app): State<App>,
    Extension(c): Extension<Caller>,
    Path((_, id)): Path<(String, String)>,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    let body: AutoTerminateBody = parse(&body)?;
    auto_terminate::update(&app, &c, &id, body).await?;
    Ok(StatusCode::NO_CONTENT)
}
