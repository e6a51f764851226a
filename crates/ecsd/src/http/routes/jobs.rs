//! Job polling, and following a job's progress step by step.

use crate::app;
use crate::context::App;
use crate::http::openapi::{GatewayRejections, ProjectPath};
use crate::http::{ApiError, Caller};
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap};
use axum::response::sse::{KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use ecs_types::errors::EcsErrorBody;
use ecs_types::job::JobView;
use ecs_types::job_events::JobEventsView;

/// `GET /v1/{project_id}/jobs/{job_id}`.
#[utoipa::path(
    get,
    path = "/v1/{project_id}/jobs/{job_id}",
    operation_id = "ShowJob",
    tag = "ECS",
    summary = "Show a job and its sub-jobs",
    params(ProjectPath, ("job_id" = String, Path, description = "The job id a call answered with.")),
    responses(
        (status = 200, description = "The job.", body = JobView),
        (status = 400, description = "`Common.0011`: no such job in the project; `Ecs.0023`: not the caller's \
            project.", body = EcsErrorBody),
        GatewayRejections,
    ),
)]
pub async fn show(
    State(app): State<App>,
    Extension(caller): Extension<Caller>,
    Path((_, job_id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let body = app::jobs::answer(&app, &caller, &job_id).await?;
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

/// `GET /ecsd/v1/{project_id}/jobs/{job_id}/events`: the job's steps and log as JSON, or, with
/// `Accept: text/event-stream`, a stream of them that follows the job until it ends.
#[utoipa::path(
    get,
    path = "/ecsd/v1/{project_id}/jobs/{job_id}/events",
    operation_id = "ShowJobEvents",
    tag = "Jobs",
    summary = "Follow a job's progress step by step",
    description = "The steps of the job's saga (and of its sub-jobs') with their start and end times, \
        attempts, undo and errors, and every entry of their logs. With `Accept: text/event-stream` \
        the answer is a stream of server-sent events: every log entry so far and each new one as \
        it is written (`step`), every change of a job's or sub-job's status (`status`), and, when \
        the job has ended, the whole view (`end`), after which the stream closes.",
    params(ProjectPath, ("job_id" = String, Path, description = "The job id a call answered with.")),
    responses(
        (status = 200, description = "The job's progress (or its event stream).", body = JobEventsView),
        (status = 400, description = "`Common.0011`: no such job in the project; `Ecs.0023`: not the caller's \
            project.", body = EcsErrorBody),
        GatewayRejections,
    ),
)]
pub async fn events(
    State(app): State<App>,
    Extension(caller): Extension<Caller>,
    Path((_, job_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (job, children, logged) = app::job_events::load(&app, &caller, &job_id).await?;
    let wants_stream = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.split(',').any(|t| t.trim().starts_with("text/event-stream")));
    if !wants_stream {
        return Ok(Json(app::job_events::view(&job, &children, &logged)).into_response());
    }
    let follow = super::job_stream::Follow::new(app, caller, job_id);
    Ok(Sse::new(follow.into_stream()).keep_alive(KeepAlive::default()).into_response())
}
