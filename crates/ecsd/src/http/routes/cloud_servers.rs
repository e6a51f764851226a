//! `GET /v1.1/{project_id}/cloudservers/detail`.

use crate::app::cloud_servers;
use crate::app::query::{query_pairs, typed};
use crate::context::App;
use crate::http::openapi::{GatewayRejections, ProjectPath};
use crate::http::request_id::RequestId;
use crate::http::{ApiError, Caller};
use axum::extract::{RawQuery, State};
use axum::{Extension, Json};
use ecs_types::cloud_server::{CloudServerList, CloudServerListQuery};
use ecs_types::errors::EcsErrorBody;

/// `GET /v1.1/{project_id}/cloudservers/detail`.
#[utoipa::path(
    get,
    path = "/v1.1/{project_id}/cloudservers/detail",
    operation_id = "ListCloudServers",
    tag = "ECS",
    summary = "List servers (the v1.1 shape), newest first, paged by marker",
    params(ProjectPath, CloudServerListQuery),
    responses(
        (status = 200, description = "One page of servers, with a `next` link when more follow.",
            body = CloudServerList),
        (status = 400, description = "`Ecs.0005`: a malformed parameter; `Ecs.0023`: not the caller's project.",
            body = EcsErrorBody),
        GatewayRejections,
    ),
)]
pub async fn list(
    State(app): State<App>,
    Extension(c): Extension<Caller>,
    Extension(rid): Extension<RequestId>,
    RawQuery(q): RawQuery,
) -> Result<Json<CloudServerList>, ApiError> {
    let q: CloudServerListQuery = typed(&query_pairs(q.as_deref()))?;
    Ok(Json(cloud_servers::list(&app, &c, &q, &rid.0).await?))
}
