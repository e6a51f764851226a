//! Server groups and their members (`/v1/{project_id}/cloudservers/os-server-groups`).

use crate::app::query::{query_pairs, typed};
use crate::app::server_groups as groups;
use crate::context::App;
use crate::http::json::parse;
use crate::http::openapi::{GatewayRejections, ProjectPath};
use crate::http::{ApiError, Caller};
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use ecs_model::Error;
use ecs_types::errors::EcsErrorBody;
use ecs_types::server_groups::*;

type Res<T> = Result<Json<T>, ApiError>;

/// `POST /v1/{project_id}/cloudservers/os-server-groups`.
#[utoipa::path(
    post,
    path = "/v1/{project_id}/cloudservers/os-server-groups",
    operation_id = "CreateServerGroup",
    tag = "ECS",
    summary = "Create a server group (anti-affinity)",
    params(ProjectPath),
    request_body = CreateServerGroupBody,
    responses(
        (status = 200, description = "The new group, without members.", body = ServerGroupEnvelope),
        (status = 400, description = "`Ecs.0005`: no `server_group`, a name that is empty or longer than 255 \
            characters, no policy or one other than `anti-affinity`; `Ecs.0001`: the project has 10 groups \
            already; `Ecs.0023`: not the caller's project.", body = EcsErrorBody),
        GatewayRejections,
    ),
)]
pub async fn create(State(app): State<App>, Extension(c): Extension<Caller>, body: Bytes) -> Res<ServerGroupEnvelope> {
    let body: CreateServerGroupBody = parse(&body)?;
    Ok(Json(groups::create(&app, &c, body).await?))
}

/// `GET /v1/{project_id}/cloudservers/os-server-groups`.
#[utoipa::path(
    get,
    path = "/v1/{project_id}/cloudservers/os-server-groups",
    operation_id = "ListServerGroups",
    tag = "ECS",
    summary = "List the project's server groups, oldest first",
    params(ProjectPath, ServerGroupsQuery),
    responses(
        (status = 200, description = "The groups with their members; `page_info.next_marker` names the last \
            one when the page is full.", body = ServerGroupList),
        (status = 400, description = "`Ecs.0005`: a `limit` of 0 or a `marker` that is no group of the \
            project; `Ecs.0023`: not the caller's project.", body = EcsErrorBody),
        GatewayRejections,
    ),
)]
pub async fn list(
    State(app): State<App>,
    Extension(c): Extension<Caller>,
    RawQuery(q): RawQuery,
) -> Res<ServerGroupList> {
    let q: ServerGroupsQuery = typed(&query_pairs(q.as_deref()))?;
    Ok(Json(groups::list(&app, &c, &q).await?))
}

/// `GET /v1/{project_id}/cloudservers/os-server-groups/{server_group_id}`.
#[utoipa::path(
    get,
    path = "/v1/{project_id}/cloudservers/os-server-groups/{server_group_id}",
    operation_id = "ShowServerGroup",
    tag = "ECS",
    summary = "Show a server group with its members",
    params(ProjectPath, ("server_group_id" = String, Path)),
    responses(
        (status = 200, description = "The group.", body = ServerGroupEnvelope),
        (status = 404, description = "`Ecs.0114`: no such group in the project.", body = EcsErrorBody),
        GatewayRejections,
    ),
)]
pub async fn show(
    State(app): State<App>,
    Extension(c): Extension<Caller>,
    Path((_, id)): Path<(String, String)>,
) -> Res<ServerGroupEnvelope> {
    Ok(Json(groups::show(&app, &c, &id).await?))
}

/// `DELETE /v1/{project_id}/cloudservers/os-server-groups/{server_group_id}`.
#[utoipa::path(
    delete,
    path = "/v1/{project_id}/cloudservers/os-server-groups/{server_group_id}",
    operation_id = "DeleteServerGroup",
    tag = "ECS",
    summary = "Delete a server group; its members stay, in no group",
    params(ProjectPath, ("server_group_id" = String, Path)),
    responses(
        (status = 204, description = "Deleted."),
        (status = 404, description = "`Ecs.0114`: no such group in the project.", body = EcsErrorBody),
        GatewayRejections,
    ),
)]
pub async fn delete(
    State(app): State<App>,
    Extension(c): Extension<Caller>,
    Path((_, id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    groups::delete(&app, &c, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /v1/{project_id}/cloudservers/os-server-groups/{server_group_id}/action`.
#[utoipa::path(
    post,
    path = "/v1/{project_id}/cloudservers/os-server-groups/{server_group_id}/action",
    operation_id = "AddServerGroupMemberOrDeleteServerGroupMember",
    tag = "ECS",
    summary = "Add a server to a group (`add_member`) or remove one (`remove_member`)",
    params(ProjectPath, ("server_group_id" = String, Path)),
    request_body = ServerGroupActionBody,
    responses(
        (status = 200, description = "Done (no body)."),
        (status = 400, description = "`Ecs.0005`: neither or both of `add_member` and `remove_member`, no \
            `instance_uuid`, a server in a group already (add), one that is no member (remove), or (add, \
            anti-affinity, more than one host) a server whose host runs another member; `Ecs.0001`: the group \
            has 16 members; `Ecs.0023`: not the caller's project.", body = EcsErrorBody),
        (status = 404, description = "`Ecs.0114`: no such group or server in the project.", body = EcsErrorBody),
        GatewayRejections,
    ),
)]
pub async fn action(
    State(app): State<App>,
    Extension(c): Extension<Caller>,
    Path((_, id)): Path<(String, String)>,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    let body: ServerGroupActionBody = parse(&body)?;
    let server = |m: ServerGroupMember, key: &str| {
        m.instance_uuid
            .filter(|s| !s.is_empty())
            .ok_or_else(|| Error::invalid(format!("{key}.instance_uuid is required.")))
    };
    match (body.add_member, body.remove_member) {
        (Some(m), None) => groups::add(&app, &c, &id, vec![server(m, "add_member")?]).await?,
        (None, Some(m)) => groups::remove(&app, &c, &id, vec![server(m, "remove_member")?]).await?,
        _ => return Err(Error::invalid("request body is illegal: give one of add_member and remove_member.").into()),
    };
    Ok(StatusCode::OK)
}

fn member_ids(body: &Bytes) -> Result<Vec<String>, ApiError> {
    let body: ServerGroupMembersBody = parse(body)?;
    Ok(body.server_ids.ok_or_else(|| Error::invalid("server_ids is required."))?)
}

/// `POST /v1/{project_id}/cloudservers/os-server-groups/{server_group_id}/add_members`.
#[utoipa::path(
    post,
    path = "/v1/{project_id}/cloudservers/os-server-groups/{server_group_id}/add_members",
    operation_id = "BatchAddServerGroupMember",
    tag = "ECS",
    summary = "Add servers to a group, all or none",
    params(ProjectPath, ("server_group_id" = String, Path)),
    request_body = ServerGroupMembersBody,
    responses(
        (status = 200, description = "Every server joined.", body = BatchMembersResult),
        (status = 400, description = "`Ecs.0005`: no `server_ids`, a server named twice, one in a group \
            already, or (anti-affinity, more than one host) two on one host; `Ecs.0118`: more than 16 servers; \
            `Ecs.0001`: the group would have more than 16 members; `Ecs.0023`: not the caller's project. \
            Nothing is changed.", body = EcsErrorBody),
        (status = 404, description = "`Ecs.0114`: no such group or server in the project.", body = EcsErrorBody),
        GatewayRejections,
    ),
)]
pub async fn add_members(
    State(app): State<App>,
    Extension(c): Extension<Caller>,
    Path((_, id)): Path<(String, String)>,
    body: Bytes,
) -> Res<BatchMembersResult> {
    Ok(Json(groups::add(&app, &c, &id, member_ids(&body)?).await?))
}

/// `POST /v1/{project_id}/cloudservers/os-server-groups/{server_group_id}/remove_members`.
#[utoipa::path(
    post,
    path = "/v1/{project_id}/cloudservers/os-server-groups/{server_group_id}/remove_members",
    operation_id = "BatchDeleteServerGroupMember",
    tag = "ECS",
    summary = "Remove servers from a group, all or none",
    params(ProjectPath, ("server_group_id" = String, Path)),
    request_body = ServerGroupMembersBody,
    responses(
        (status = 200, description = "Every server left.", body = BatchMembersResult),
        (status = 400, description = "`Ecs.0005`: no `server_ids`, a server named twice or one that is no \
            member; `Ecs.0118`: more than 16 servers; `Ecs.0023`: not the caller's project. Nothing is \
            changed.", body = EcsErrorBody),
        (status = 404, description = "`Ecs.0114`: no such group in the project.", body = EcsErrorBody),
        GatewayRejections,
    ),
)]
pub async fn remove_members(
    State(app): State<App>,
    Extension(c): Extension<Caller>,
    Path((_, id)): Path<(String, String)>,
    body: Bytes,
) -> Res<BatchMembersResult> {
    Ok(Json(groups::remove(&app, &c, &id, member_ids(&body)?).await?))
}
