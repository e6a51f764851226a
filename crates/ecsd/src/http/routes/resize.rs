//! Flavor changes: `/v1.1` and `/v1` `resize`, `batch-resize`, and the flavors a server can change to.

use crate::app::query::{query_pairs, typed};
use crate::app::resize::{self, Resized};
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
use ecs_types::flavor::FlavorList;
use ecs_types::job::JobAccepted;
use ecs_types::queries::ResizeFlavorsQuery;
use ecs_types::requests::ResizeBody;
use ecs_types::server_groups::BatchResizeBody;
use utoipa::IntoResponses;

/// What both resize calls refuse with.
#[derive(IntoResponses)]
#[allow(dead_code)]
pub enum ResizeRejections {
    #[response(
        status = 400,
        description = "`Ecs.0005`: an invalid body (no `flavorRef`, another `mode`, a `dedicated_host_id`); \
            `Ecs.0019`: the flavor is unknown or the server's own; `Ecs.0100`: the server is busy, or running \
            without `\"mode\": \"withStopServer\"`; `Ecs.0605`: locked; `Ecs.0001`: the project's vCPU or memory \
            quota has no room for what the new flavor adds; `Common.0002`: empty body; `Ecs.0023`: not the \
            caller's project. Nothing is changed."
    )]
    Invalid(EcsErrorBody),
    #[response(status = 404, description = "`Ecs.0114`: no such server in the project.")]
    NoServer(EcsErrorBody),
}

async fn resize_any(app: App, c: Caller, id: String, body: Bytes) -> Result<Response, ApiError> {
    let body: ResizeBody = parse(&body)?;
    Ok(match resize::request(&app, &c, &id, body.resize, body.dry_run.unwrap_or(false)).await? {
        Resized::DryRun => (StatusCode::ACCEPTED, Json(DryRunAccepted {})).into_response(),
        Resized::Accepted { job_id } => Json(JobAccepted { job_id }).into_response(),
    })
}

/// `POST /v1.1/{project_id}/cloudservers/{server_id}/resize`.
#[utoipa::path(
    post,
    path = "/v1.1/{project_id}/cloudservers/{server_id}/resize",
    operation_id = "ResizeServer",
    tag = "ECS",
    summary = "Change a server's flavor (job type `resizeServer`)",
    params(ProjectPath, ("server_id" = String, Path)),
    request_body = ResizeBody,
    responses(
        (status = 200, description = "Accepted: the job (`order_id` is absent: nothing is ordered for \
            pay-per-use servers).", body = JobAccepted),
        (status = 202, description = "`dry_run`: the request would be accepted; nothing was changed.",
            body = DryRunAccepted),
        ResizeRejections,
        GatewayRejections,
    ),
)]
pub async fn resize_v11(
    State(app): State<App>,
    Extension(c): Extension<Caller>,
    Path((_, id)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, ApiError> {
    resize_any(app, c, id, body).await
}

/// `POST /v1/{project_id}/cloudservers/{server_id}/resize`.
#[utoipa::path(
    post,
    path = "/v1/{project_id}/cloudservers/{server_id}/resize",
    operation_id = "ResizePostPaidServer",
    tag = "ECS",
    summary = "Change a pay-per-use server's flavor (job type `resizeServer`)",
    params(ProjectPath, ("server_id" = String, Path)),
    request_body = ResizeBody,
    responses(
        (status = 200, description = "Accepted: the job.", body = JobAccepted),
        (status = 202, description = "`dry_run`: the request would be accepted; nothing was changed.",
            body = DryRunAccepted),
        ResizeRejections,
        GatewayRejections,
    ),
)]
pub async fn resize_v1(
    State(app): State<App>,
    Extension(c): Extension<Caller>,
    Path((_, id)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, ApiError> {
    resize_any(app, c, id, body).await
}

/// `GET /v1/{project_id}/cloudservers/resize_flavors`.
#[utoipa::path(
    get,
    path = "/v1/{project_id}/cloudservers/resize_flavors",
    operation_id = "ListResizeFlavors",
    tag = "ECS",
    summary = "List the flavors a server or flavor can change to",
    params(ProjectPath, ResizeFlavorsQuery),
    responses(
        (status = 200, description = "The flavors.", body = FlavorList),
        (status = 400, description = "`Ecs.0005`: none of `instance_uuid`, `source_flavor_id` and \
            `source_flavor_name`, or a bad `sort_key`, `sort_dir`, `marker` or `limit`; `Ecs.0019`: an unknown \
            source flavor; `Ecs.0023`: not the caller's project.", body = EcsErrorBody),
        (status = 404, description = "`Ecs.0114`: `instance_uuid` names no server of the project.",
            body = EcsErrorBody),
        GatewayRejections,
    ),
)]
pub async fn resize_flavors(
    State(app): State<App>,
    Extension(c): Extension<Caller>,
    RawQuery(q): RawQuery,
) -> Result<Json<FlavorList>, ApiError> {
    let q: ResizeFlavorsQuery = typed(&query_pairs(q.as_deref()))?;
    Ok(Json(resize::resize_flavors(&app, &c, &q).await?))
}

/// `POST /v1/{project_id}/cloudservers/batch-resize`.
#[utoipa::path(
    post,
    path = "/v1/{project_id}/cloudservers/batch-resize",
    operation_id = "BatchResizeServers",
    tag = "ECS",
    summary = "Change several servers to one flavor (job type `resizeServer`, a `resizeSingleServer` sub-job each)",
    params(ProjectPath),
    request_body = BatchResizeBody,
    responses(
        (status = 200, description = "Accepted: the job.", body = JobAccepted),
        (status = 202, description = "`dry_run`: the request would be accepted; nothing was changed.",
            body = DryRunAccepted),
        (status = 400, description = "As for a single resize, for any of the servers (the whole request is \
            refused, nothing is changed); `Ecs.0005` also for no `servers` or a server without `id`; `Ecs.0118`: \
            more than 1000 servers; `Ecs.0001`: the quota has no room for what all of them add.",
            body = EcsErrorBody),
        (status = 404, description = "`Ecs.0114`: a server is not in the project.", body = EcsErrorBody),
        GatewayRejections,
    ),
)]
pub async fn batch(State(app): State<App>, Extension(c): Extension<Caller>, body: Bytes) -> Result<Response, ApiError> {
    let body: BatchResizeBody = parse(&body)?;
    Ok(match resize::batch(&app, &c, body).await? {
        Resized::DryRun => (StatusCode::ACCEPTED, Json(DryRunAccepted {})).into_response(),
        Resized::Accepted { job_id } => Json(JobAccepted { job_id }).into_response(),
    })
}
