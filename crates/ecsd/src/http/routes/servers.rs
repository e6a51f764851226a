//! Servers and their operations.

use crate::app::os::{self, Variant};
use crate::app::query::{query_pairs, typed};
use crate::app::servers::{self as srv, Created};
use crate::app::{power, servers as app_servers};
use crate::context::App;
use crate::http::json::{parse, parse_nova};
use crate::http::openapi::{
    BatchRejections, DryRunAccepted, GatewayRejections, NovaOrEcsBadRequest, NovaServerActionDoc, OsRebuildRejections,
    ProjectPath,
};
use crate::http::{ApiError, Caller};
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use ecs_model::Error;
use ecs_types::errors::{EcsErrorBody, NovaItemNotFound};
use ecs_types::job::{JobAccepted, ServersCreated};
use ecs_types::queries::ServerListQuery;
use ecs_types::requests::*;
use ecs_types::server::{ServerEnvelope, ServerList};
use ecs_types::Code;

type Res<T> = Result<Json<T>, ApiError>;

fn accepted(job_id: String) -> Json<JobAccepted> {
    Json(JobAccepted { job_id })
}

/// `POST /v1/{project_id}/cloudservers`.
#[utoipa::path(
    post,
    path = "/v1/{project_id}/cloudservers",
    operation_id = "CreatePostPaidServers",
    tag = "ECS",
    summary = "Create pay-per-use servers",
    params(ProjectPath),
    request_body = CreateServersBody,
    responses(
        (status = 200, description = "Accepted: the job and the new servers' ids.", body = ServersCreated),
        (status = 202, description = "`dry_run`: the request would be accepted; nothing was created.",
            body = DryRunAccepted),
        (status = 400, description = "`Ecs.0005` (a field is missing or invalid), `Ecs.0011` (password rules), \
            `Ecs.0019` (flavor), `Ecs.0031`/`Ecs.0032` (image), `Ecs.0314` (key pair), `Common.0002` (empty body), \
            `Ecs.0023` (not the caller's project).", body = EcsErrorBody),
        GatewayRejections,
    ),
)]
pub async fn create(
    State(app): State<App>,
    Extension(c): Extension<Caller>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let body: CreateServersBody = parse(&body)?;
    Ok(match srv::create(&app, &c, body).await? {
        Created::DryRun => (StatusCode::ACCEPTED, Json(DryRunAccepted {})).into_response(),
        Created::Accepted { job_id, server_ids } => Json(ServersCreated { job_id, server_ids }).into_response(),
    })
}

/// `GET /v1/{project_id}/cloudservers/detail`.
#[utoipa::path(
    get,
    path = "/v1/{project_id}/cloudservers/detail",
    operation_id = "ListServersDetails",
    tag = "ECS",
    summary = "List servers with their details",
    params(
        ProjectPath,
        ServerListQuery,
    ),
    responses(
        (status = 200, description = "`count` matching servers, one page of them.", body = ServerList),
        (status = 400, description = "`Ecs.0005`: a malformed parameter; `Ecs.0023`: not the caller's project.",
            body = EcsErrorBody),
        GatewayRejections,
    ),
)]
pub async fn list(
    State(app): State<App>,
    Extension(c): Extension<Caller>,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    let q: ServerListQuery = typed(&query_pairs(q.as_deref()))?;
    let body = srv::list_answer(&app, &c, &q).await?;
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

/// `GET /v1/{project_id}/cloudservers/{server_id}`.
#[utoipa::path(
    get,
    path = "/v1/{project_id}/cloudservers/{server_id}",
    operation_id = "ShowServer",
    tag = "ECS",
    summary = "Show a server",
    params(ProjectPath, ("server_id" = String, Path)),
    responses(
        (status = 200, description = "The server.", body = ServerEnvelope),
        (status = 400, description = "`Ecs.0023`: not the caller's project.", body = EcsErrorBody),
        (status = 404, description = "`Ecs.0114`: no such server in the project.", body = EcsErrorBody),
        GatewayRejections,
    ),
)]
pub async fn show(
    State(app): State<App>,
    Extension(c): Extension<Caller>,
    Path((_, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let body = srv::answer(&app, &c, &id).await?;
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

/// `PUT /v1/{project_id}/cloudservers/{server_id}`.
#[utoipa::path(
    put,
    path = "/v1/{project_id}/cloudservers/{server_id}",
    operation_id = "UpdateServer",
    tag = "ECS",
    summary = "Rename a server, change its description or host name",
    params(ProjectPath, ("server_id" = String, Path)),
    request_body = UpdateServerBody,
    responses(
        (status = 200, description = "The updated server.", body = ecs_types::server::UpdatedServerEnvelope),
        (status = 400, description = "`Ecs.0005`: an invalid field; `Ecs.0100`: the server's state does not \
            allow it; `Common.0002`: empty body; `Ecs.0023`: not the caller's project.", body = EcsErrorBody),
        (status = 404, description = "`Ecs.0114`: no such server in the project.", body = EcsErrorBody),
        GatewayRejections,
    ),
)]
pub async fn update(
    State(app): State<App>,
    Extension(c): Extension<Caller>,
    Path((_, id)): Path<(String, String)>,
    body: Bytes,
) -> Res<ecs_types::server::UpdatedServerEnvelope> {
    let body: UpdateServerBody = parse(&body)?;
    Ok(Json(srv::update(&app, &c, &id, body).await?))
}

/// `POST /v1/{project_id}/cloudservers/delete`.
#[utoipa::path(
    post,
    path = "/v1/{project_id}/cloudservers/delete",
    operation_id = "DeleteServers",
    tag = "ECS",
    summary = "Delete servers",
    params(ProjectPath),
    request_body = DeleteServersBody,
    responses(
        (status = 200, description = "Accepted: the job.", body = JobAccepted),
        BatchRejections,
        GatewayRejections,
    ),
)]
pub async fn delete(State(app): State<App>, Extension(c): Extension<Caller>, body: Bytes) -> Res<JobAccepted> {
    let body: DeleteServersBody = parse(&body)?;
    Ok(accepted(srv::delete(&app, &c, body).await?))
}

/// `POST /v1/{project_id}/cloudservers/action`.
#[utoipa::path(
    post,
    path = "/v1/{project_id}/cloudservers/action",
    operation_id = "BatchServersAction",
    tag = "ECS",
    summary = "Start, stop or reboot servers (exactly one of `os-start`, `os-stop`, `reboot`)",
    params(ProjectPath),
    request_body = ServersActionBody,
    responses(
        (status = 200, description = "Accepted: the job.", body = JobAccepted),
        BatchRejections,
        GatewayRejections,
    ),
)]
pub async fn action(State(app): State<App>, Extension(c): Extension<Caller>, body: Bytes) -> Res<JobAccepted> {
    let body: ServersActionBody = parse(&body)?;
    Ok(accepted(power::action(&app, &c, body).await?))
}

async fn rebuild(app: App, c: Caller, id: String, v: Variant, body: Bytes) -> Res<JobAccepted> {
    let opts =
        if v.change { parse::<ChangeOsBody>(&body)?.os_change } else { parse::<ReinstallBody>(&body)?.os_reinstall };
    Ok(accepted(os::rebuild(&app, &c, &id, v, opts).await?))
}

/// `POST /v1/{project_id}/cloudservers/{server_id}/reinstallos`.
#[utoipa::path(
    post,
    path = "/v1/{project_id}/cloudservers/{server_id}/reinstallos",
    operation_id = "ReinstallServerWithoutCloudInit",
    tag = "ECS",
    summary = "Reinstall the OS (image without Cloud-Init)",
    params(ProjectPath, ("server_id" = String, Path)),
    request_body = ReinstallBody,
    responses(
        (status = 200, description = "Accepted: the job.", body = JobAccepted),
        OsRebuildRejections,
        GatewayRejections,
    ),
)]
pub async fn reinstall_v1(
    State(app): State<App>,
    Extension(c): Extension<Caller>,
    Path((_, id)): Path<(String, String)>,
    body: Bytes,
) -> Res<JobAccepted> {
    rebuild(app, c, id, Variant { change: false, cloud_init: false }, body).await
}

/// `POST /v2/{project_id}/cloudservers/{server_id}/reinstallos`.
#[utoipa::path(
    post,
    path = "/v2/{project_id}/cloudservers/{server_id}/reinstallos",
    operation_id = "ReinstallServerWithCloudInit",
    tag = "ECS",
    summary = "Reinstall the OS (image with Cloud-Init)",
    params(ProjectPath, ("server_id" = String, Path)),
    request_body = ReinstallBody,
    responses(
        (status = 200, description = "Accepted: the job.", body = JobAccepted),
        OsRebuildRejections,
        GatewayRejections,
    ),
)]
pub async fn reinstall_v2(
    State(app): State<App>,
    Extension(c): Extension<Caller>,
    Path((_, id)): Path<(String, String)>,
    body: Bytes,
) -> Res<JobAccepted> {
    rebuild(app, c, id, Variant { change: false, cloud_init: true }, body).await
}

/// `POST /v1/{project_id}/cloudservers/{server_id}/changeos`.
#[utoipa::path(
    post,
    path = "/v1/{project_id}/cloudservers/{server_id}/changeos",
    operation_id = "ChangeServerOsWithoutCloudInit",
    tag = "ECS",
    summary = "Change the OS (image without Cloud-Init)",
    params(ProjectPath, ("server_id" = String, Path)),
    request_body = ChangeOsBody,
    responses(
        (status = 200, description = "Accepted: the job.", body = JobAccepted),
        OsRebuildRejections,
        GatewayRejections,
    ),
)]
pub async fn changeos_v1(
    State(app): State<App>,
    Extension(c): Extension<Caller>,
    Path((_, id)): Path<(String, String)>,
    body: Bytes,
) -> Res<JobAccepted> {
    rebuild(app, c, id, Variant { change: true, cloud_init: false }, body).await
}

/// `POST /v2/{project_id}/cloudservers/{server_id}/changeos`.
#[utoipa::path(
    post,
    path = "/v2/{project_id}/cloudservers/{server_id}/changeos",
    operation_id = "ChangeServerOsWithCloudInit",
    tag = "ECS",
    summary = "Change the OS (image with Cloud-Init)",
    params(ProjectPath, ("server_id" = String, Path)),
    request_body = ChangeOsBody,
    responses(
        (status = 200, description = "Accepted: the job.", body = JobAccepted),
        OsRebuildRejections,
        GatewayRejections,
    ),
)]
pub async fn changeos_v2(
    State(app): State<App>,
    Extension(c): Extension<Caller>,
    Path((_, id)): Path<(String, String)>,
    body: Bytes,
) -> Res<JobAccepted> {
    rebuild(app, c, id, Variant { change: true, cloud_init: true }, body).await
}

/// Nova `POST /v2.1/{project_id}/servers/{server_id}/action`: `{"lock": null}` / `{"unlock": null}`.
#[utoipa::path(
    post,
    path = "/v2.1/{project_id}/servers/{server_id}/action",
    operation_id = "NovaServerAction",
    tag = "Nova",
    summary = "Lock or unlock a server",
    params(ProjectPath, ("server_id" = String, Path)),
    request_body = NovaServerActionDoc,
    responses(
        (status = 202, description = "Done."),
        (status = 400, description = "`badRequest`: not exactly one of `lock` and `unlock`, or not JSON; \
            `Ecs.0023`: not the caller's project.", body = NovaOrEcsBadRequest),
        (status = 404, description = "`itemNotFound`: no such server in the project.", body = NovaItemNotFound),
        GatewayRejections,
    ),
)]
pub async fn nova_action(
    State(app): State<App>,
    Extension(c): Extension<Caller>,
    Path((_, id)): Path<(String, String)>,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    let v: serde_json::Map<String, serde_json::Value> = parse_nova(&body)?;
    if let Some((add, group)) = crate::app::security_groups::nova_action_of(&v)? {
        crate::app::security_groups::nova_change(&app, &c, &id, &group, add).await?;
        return Ok(StatusCode::ACCEPTED);
    }
    let lock = match (v.contains_key("lock"), v.contains_key("unlock"), v.len()) {
        (true, false, 1) => true,
        (false, true, 1) => false,
        _ => {
            return Err(Error::new(
                Code::NovaBadRequest,
                "Only the \"lock\", \"unlock\", \"addSecurityGroup\" and \"removeSecurityGroup\" actions are supported, one at a time.",
            )
            .into())
        }
    };
    app_servers::set_lock(&app, &c, &id, lock).await.map_err(nova_not_found)?;
    Ok(StatusCode::ACCEPTED)
}

/// The Nova API answers a missing server with its own `itemNotFound`, not ECS's `Ecs.0114`.
fn nova_not_found(e: Error) -> Error {
    if e.code == Code::Ecs0114 {
        Error::new(Code::NovaNotFound, e.message)
    } else {
        e
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(q: &str) -> Vec<(String, String)> {
        query_pairs(Some(q))
    }

    #[test]
    fn a_huge_offset_is_refused_not_multiplied() {
        let check = |q: &str| typed::<ServerListQuery>(&pairs(q)).and_then(|q| crate::app::servers::paging(&q));
        assert_eq!(check("offset=2147483647&limit=1000").unwrap(), (1000, 2147483647));
        assert_eq!(check("limit=5&offset=").unwrap(), (5, 1));
        let e = check("offset=9223372036854775808").unwrap_err();
        assert_eq!(e.code, Code::Ecs0005);
        assert_eq!(check("offset=2147483648").unwrap_err().code, Code::Ecs0005);
        let e = check("offset=-1").unwrap_err();
        assert_eq!(e.message, "Invalid query parameter offset: \"-1\" is not a non-negative integer.");
    }

    #[test]
    fn the_lock_api_answers_a_missing_server_in_nova_shape() {
        let e = nova_not_found(Error::server_not_found("x"));
        assert_eq!((e.code, e.code.http_status()), (Code::NovaNotFound, 404));
        assert_eq!(nova_not_found(Error::code(Code::Ecs0605)).code, Code::Ecs0605, "other errors pass through");
    }
}
