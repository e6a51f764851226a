//! Server tags: batch create/delete, a server's tags, the project's tags, the query by tag.

use crate::app::tags;
use crate::context::App;
use crate::http::json::parse;
use crate::http::openapi::{GatewayRejections, ProjectPath};
use crate::http::{ApiError, Caller};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use ecs_types::errors::EcsErrorBody;
use ecs_types::tags::{BatchTagsBody, ListByTagBody, ProjectTags, ServerTags, TaggedResources};

/// `POST /v1/{project_id}/cloudservers/{server_id}/tags/action`.
#[utoipa::path(
    post,
    path = "/v1/{project_id}/cloudservers/{server_id}/tags/action",
    operation_id = "BatchCreateOrDeleteServerTags",
    tag = "ECS",
    summary = "Add tags to a server or remove them (`action`: create or delete)",
    params(ProjectPath, ("server_id" = String, Path)),
    request_body = BatchTagsBody,
    responses(
        (status = 204, description = "Done."),
        (status = 400, description = "`Ecs.0005`: an invalid action, key or value, a key named twice, more \
            than 10 tags on the server; `Ecs.0605`: locked; `Ecs.0100`: other requests kept changing the \
            server; `Common.0002`: empty body; `Ecs.0023`: not the caller's project. Nothing is changed.",
            body = EcsErrorBody),
        (status = 404, description = "`Ecs.0114`: no such server in the project.", body = EcsErrorBody),
        GatewayRejections,
    ),
)]
pub async fn batch(
    State(app): State<App>,
    Extension(c): Extension<Caller>,
    Path((_, id)): Path<(String, String)>,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    let body: BatchTagsBody = parse(&body)?;
    tags::batch(&app, &c, &id, body).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /v1/{project_id}/cloudservers/{server_id}/tags`.
#[utoipa::path(
    get,
    path = "/v1/{project_id}/cloudservers/{server_id}/tags",
    operation_id = "ShowServerTags",
    tag = "ECS",
    summary = "List a server's tags",
    params(ProjectPath, ("server_id" = String, Path)),
    responses(
        (status = 200, description = "The server's tags, in key order.", body = ServerTags),
        (status = 400, description = "`Ecs.0023`: not the caller's project.", body = EcsErrorBody),
        (status = 404, description = "`Ecs.0114`: no such server in the project.", body = EcsErrorBody),
        GatewayRejections,
    ),
)]
pub async fn show(
    State(app): State<App>,
    Extension(c): Extension<Caller>,
    Path((_, id)): Path<(String, String)>,
) -> Result<Json<ServerTags>, ApiError> {
    Ok(Json(tags::show(&app, &c, &id).await?))
}

/// `GET /v1/{project_id}/cloudservers/tags`.
#[utoipa::path(
    get,
    path = "/v1/{project_id}/cloudservers/tags",
    operation_id = "ListServerTags",
    tag = "ECS",
    summary = "List the tags used in the project, each key with its values",
    params(ProjectPath),
    responses(
        (status = 200, description = "Every key, with every value it has on some server.", body = ProjectTags),
        (status = 400, description = "`Ecs.0023`: not the caller's project.", body = EcsErrorBody),
        GatewayRejections,
    ),
)]
pub async fn project(State(app): State<App>, Extension(c): Extension<Caller>) -> Result<Json<ProjectTags>, ApiError> {
    Ok(Json(tags::project(&app, &c).await?))
}

/// `POST /v1/{project_id}/cloudservers/resource_instances/action`.
#[utoipa::path(
    post,
    path = "/v1/{project_id}/cloudservers/resource_instances/action",
    operation_id = "ListServersByTag",
    tag = "ECS",
    summary = "Find servers by tag (`action`: filter or count)",
    params(ProjectPath),
    request_body = ListByTagBody,
    responses(
        (status = 200, description = "The matching servers (one page, `filter`) and their number.",
            body = TaggedResources),
        (status = 400, description = "`Ecs.0005`: an invalid action, condition, match, limit or offset; \
            `Common.0002`: empty body; `Ecs.0023`: not the caller's project.", body = EcsErrorBody),
        GatewayRejections,
    ),
)]
pub async fn query(
    State(app): State<App>,
    Extension(c): Extension<Caller>,
    body: Bytes,
) -> Result<Json<TaggedResources>, ApiError> {
    let body: ListByTagBody = parse(&body)?;
    Ok(Json(tags::query(&app, &c, body).await?))
}
