//! Job polling.

use crate::app;
use crate::context::App;
use crate::http::openapi::{GatewayRejections, ProjectPath};
use crate::http::{ApiError, Caller};
use axum::extract::{Path, State};
use axum::{Extension, Json};
use ecs_types::errors::EcsErrorBody;
use ecs_types::job::JobView;

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
) -> Result<Json<JobView>, ApiError> {
    Ok(Json(app::jobs::show(&app, &caller, &job_id).await?))
}
