//! The project's quotas and usage.

use crate::app::limits;
use crate::context::App;
use crate::http::openapi::{GatewayRejections, ProjectPath};
use crate::http::{ApiError, Caller};
use axum::extract::State;
use axum::{Extension, Json};
use ecs_types::errors::EcsErrorBody;
use ecs_types::limits::LimitsEnvelope;

/// `GET /v1/{project_id}/cloudservers/limits`.
#[utoipa::path(
    get,
    path = "/v1/{project_id}/cloudservers/limits",
    operation_id = "ShowServerLimits",
    tag = "ECS",
    summary = "Show the project's quotas and usage",
    params(ProjectPath),
    responses(
        (status = 200, description = "The limits; servers, vCPUs and memory are enforced on create.",
            body = LimitsEnvelope),
        (status = 400, description = "`Ecs.0023`: not the caller's project.", body = EcsErrorBody),
        GatewayRejections,
    ),
)]
pub async fn show(State(app): State<App>, Extension(c): Extension<Caller>) -> Result<Json<LimitsEnvelope>, ApiError> {
    Ok(Json(limits::show(&app, &c).await?))
}
