//! Job polling.

use crate::app;
use crate::context::App;
use crate::http::{ApiError, Caller};
use axum::extract::{Path, State};
use axum::{Extension, Json};
use ecs_types::job::JobView;

/// `GET /v1/{project_id}/jobs/{job_id}`.
pub async fn show(
    State(app): State<App>,
    Extension(caller): Extension<Caller>,
    Path((_, job_id)): Path<(String, String)>,
) -> Result<Json<JobView>, ApiError> {
    Ok(Json(app::jobs::show(&app, &caller, &job_id).await?))
}
