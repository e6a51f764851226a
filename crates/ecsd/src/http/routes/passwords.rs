//! Passwords (one-click reset, the Windows password, the reset flag) and the batch rename,
//! which shares the batch reset's request and answer shape.

use crate::app::names;
use crate::app::passwords::{self, Batch};
use crate::context::App;
use crate::http::json::parse;
use crate::http::openapi::{DryRunAccepted, GatewayRejections, ProjectPath};
use crate::http::{ApiError, Caller};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use ecs_types::errors::EcsErrorBody;
use ecs_types::passwords::*;

fn batch_answer(b: Batch) -> Response {
    match b {
        Batch::DryRun => (StatusCode::ACCEPTED, Json(DryRunAccepted {})).into_response(),
        Batch::Done(answer) => Json(answer).into_response(),
    }
}

/// `PUT /v1/{project_id}/cloudservers/{server_id}/os-reset-password`.
#[utoipa::path(
    put,
    path = "/v1/{project_id}/cloudservers/{server_id}/os-reset-password",
    operation_id = "ResetServerPassword",
    tag = "ECS",
    summary = "Reset the root password; it takes effect at the next start or reboot",
    params(ProjectPath, ("server_id" = String, Path)),
    request_body = ResetPasswordBody,
    responses(
        (status = 204, description = "Recorded; written into the system disk before the VM next boots."),
        (status = 400, description = "`Ecs.0005`: a missing field; `Ecs.0011`: password rules (all of them \
            with `is_check_password`); `Ecs.0100`: busy, or neither ACTIVE nor SHUTOFF; `Ecs.0605`: locked; \
            `Common.0002`: empty body; `Ecs.0023`: not the caller's project. Nothing is changed.",
            body = EcsErrorBody),
        (status = 404, description = "`Ecs.0114`: no such server in the project.", body = EcsErrorBody),
        GatewayRejections,
    ),
)]
pub async fn reset(
    State(app): State<App>,
    Extension(c): Extension<Caller>,
    Path((_, id)): Path<(String, String)>,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    let body: ResetPasswordBody = parse(&body)?;
    passwords::reset(&app, &c, &id, body).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `PUT /v1/{project_id}/cloudservers/os-reset-passwords`.
#[utoipa::path(
    put,
    path = "/v1/{project_id}/cloudservers/os-reset-passwords",
    operation_id = "BatchResetServersPassword",
    tag = "ECS",
    summary = "Reset the root password of several servers; it takes effect at each one's next start or reboot",
    params(ProjectPath),
    request_body = BatchResetPasswordBody,
    responses(
        (status = 200, description = "Recorded for every server named.", body = BatchServersAnswer),
        (status = 202, description = "`dry_run`: the request would be accepted; nothing was changed.",
            body = DryRunAccepted),
        (status = 400, description = "`Ecs.0005`: a missing field; `Ecs.0011`: password rules; `Ecs.0118`: \
            too many servers; `Ecs.0100`: a server is busy or neither ACTIVE nor SHUTOFF; `Ecs.0605`: a server \
            is locked; `Common.0002`: empty body; `Ecs.0023`: not the caller's project. Nothing is changed \
            unless every server passes.", body = EcsErrorBody),
        (status = 404, description = "`Ecs.0114`: a server does not exist in the project.", body = EcsErrorBody),
        GatewayRejections,
    ),
)]
pub async fn batch_reset(
    State(app): State<App>,
    Extension(c): Extension<Caller>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let body: BatchResetPasswordBody = parse(&body)?;
    Ok(batch_answer(passwords::batch_reset(&app, &c, body).await?))
}

/// `PUT /v1/{project_id}/cloudservers/server-name`.
#[utoipa::path(
    put,
    path = "/v1/{project_id}/cloudservers/server-name",
    operation_id = "BatchUpdateServersName",
    tag = "ECS",
    summary = "Give several servers one name",
    params(ProjectPath),
    request_body = BatchRenameBody,
    responses(
        (status = 200, description = "Renamed, every server named.", body = BatchServersAnswer),
        (status = 202, description = "`dry_run`: the request would be accepted; nothing was changed.",
            body = DryRunAccepted),
        (status = 400, description = "`Ecs.0005`: a missing field or an invalid name; `Ecs.0118`: too many \
            servers; `Ecs.0605`: a server is locked; `Ecs.0100`: another request changed a server at the same \
            moment; `Common.0002`: empty body; `Ecs.0023`: not the caller's project. Nothing is changed unless \
            every server passes.", body = EcsErrorBody),
        (status = 404, description = "`Ecs.0114`: a server does not exist in the project.", body = EcsErrorBody),
        GatewayRejections,
    ),
)]
pub async fn rename(
    State(app): State<App>,
    Extension(c): Extension<Caller>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let body: BatchRenameBody = parse(&body)?;
    Ok(batch_answer(names::rename(&app, &c, body).await?))
}

/// `GET /v1/{project_id}/cloudservers/{server_id}/os-server-password`.
#[utoipa::path(
    get,
    path = "/v1/{project_id}/cloudservers/{server_id}/os-server-password",
    operation_id = "ShowServerPassword",
    tag = "ECS",
    summary = "Show the encrypted Windows password (always empty: Linux servers only)",
    params(ProjectPath, ("server_id" = String, Path)),
    responses(
        (status = 200, description = "`password` is empty.", body = ServerPassword),
        (status = 400, description = "`Ecs.0023`: not the caller's project.", body = EcsErrorBody),
        (status = 404, description = "`Ecs.0114`: no such server in the project.", body = EcsErrorBody),
        GatewayRejections,
    ),
)]
pub async fn show_windows(
    State(app): State<App>,
    Extension(c): Extension<Caller>,
    Path((_, id)): Path<(String, String)>,
) -> Result<Json<ServerPassword>, ApiError> {
    Ok(Json(passwords::show_windows_password(&app, &c, &id).await?))
}

/// `DELETE /v1/{project_id}/cloudservers/{server_id}/os-server-password`.
#[utoipa::path(
    delete,
    path = "/v1/{project_id}/cloudservers/{server_id}/os-server-password",
    operation_id = "DeleteServerPassword",
    tag = "ECS",
    summary = "Clear the encrypted Windows password (nothing is kept)",
    params(ProjectPath, ("server_id" = String, Path)),
    responses(
        (status = 204, description = "Cleared."),
        (status = 400, description = "`Ecs.0023`: not the caller's project.", body = EcsErrorBody),
        (status = 404, description = "`Ecs.0114`: no such server in the project.", body = EcsErrorBody),
        GatewayRejections,
    ),
)]
pub async fn delete_windows(
    State(app): State<App>,
    Extension(c): Extension<Caller>,
    Path((_, id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    passwords::delete_windows_password(&app, &c, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /v1/{project_id}/cloudservers/{server_id}/os-resetpwd-flag`.
#[utoipa::path(
    get,
    path = "/v1/{project_id}/cloudservers/{server_id}/os-resetpwd-flag",
    operation_id = "ShowResetPasswordFlag",
    tag = "ECS",
    summary = "Whether the server supports the one-click (offline) password reset",
    params(ProjectPath, ("server_id" = String, Path)),
    responses(
        (status = 200, description = "`resetpwd_flag`: the string \"True\".", body = ResetPasswordFlag),
        (status = 400, description = "`Ecs.0023`: not the caller's project.", body = EcsErrorBody),
        (status = 404, description = "`Ecs.0114`: no such server in the project.", body = EcsErrorBody),
        GatewayRejections,
    ),
)]
pub async fn reset_flag(
    State(app): State<App>,
    Extension(c): Extension<Caller>,
    Path((_, id)): Path<(String, String)>,
) -> Result<Json<ResetPasswordFlag>, ApiError> {
    Ok(Json(passwords::reset_flag(&app, &c, &id).await?))
}
