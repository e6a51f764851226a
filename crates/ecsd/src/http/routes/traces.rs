//! The trace service's trace list: the audit trail of the caller's project.

use crate::app::query::{query_pairs, typed};
use crate::app::traces::{self, TraceParams};
use crate::context::App;
use crate::http::openapi::{GatewayRejections, ProjectPath};
use crate::http::{ApiError, Caller};
use axum::extract::{RawQuery, State};
use axum::{Extension, Json};
use ecs_types::cts::{CtsRejection, TraceList};

/// `GET /v3/{project_id}/traces`.
#[utoipa::path(
    get,
    path = "/v3/{project_id}/traces",
    operation_id = "ListTraces",
    tag = "CTS",
    summary = "List the traces of the caller's project, newest first",
    description = "Every write request (and every refused authentication) of the project is a trace. \
        `from` and `to` are milliseconds since the epoch, both excluded (default: the last hour); \
        `next` is the `marker` of the page before. With `trace_id`, the other filters do not apply.",
    params(
        ProjectPath,
        ("trace_type" = String, Query, description = "`system` (management traces) or `data` (none here)."),
        ("limit" = Option<i64>, Query, description = "Traces per page, 1 to 200 (default 10)."),
        ("from" = Option<i64>, Query, description = "Start of the time range (ms, excluded)."),
        ("to" = Option<i64>, Query, description = "End of the time range (ms, excluded)."),
        ("next" = Option<String>, Query, description = "The previous page's `marker`."),
        ("tracker_name" = Option<String>, Query, description = "`system`, the only tracker."),
        ("service_type" = Option<String>, Query, description = "`ECS`, `EVS`, `VPC`..."),
        ("user" = Option<String>, Query, description = "The user name."),
        ("resource_id" = Option<String>, Query),
        ("resource_name" = Option<String>, Query),
        ("resource_type" = Option<String>, Query, description = "`ecs`, `keypair`, `evs`..."),
        ("trace_id" = Option<String>, Query),
        ("trace_name" = Option<String>, Query, description = "`reinstallOs`, `createServer`..."),
        ("trace_rating" = Option<String>, Query, description = "`normal`, `warning` or `incident`."),
    ),
    responses(
        (status = 200, description = "A page of traces.", body = TraceList),
        (status = 400, description = "`CTS.0001`: an invalid parameter (the message names it); `Ecs.0023`: not \
            the caller's project.", body = CtsRejection),
        GatewayRejections,
    ),
)]
pub async fn list(
    State(app): State<App>,
    Extension(caller): Extension<Caller>,
    RawQuery(q): RawQuery,
) -> Result<Json<TraceList>, ApiError> {
    let params: TraceParams = typed(&query_pairs(q.as_deref()))?;
    Ok(Json(traces::list(&app, &caller, params).await?))
}
