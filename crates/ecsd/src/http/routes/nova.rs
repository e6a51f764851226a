//! The Nova server API, version discovery and flavor extra specs (`/v2.1`, `/`).

use crate::app::nova::{self, nova_error, NovaCreateAnswer};
use crate::app::query::{query_pairs, typed};
use crate::context::App;
use crate::http::json::parse_nova;
use crate::http::openapi::{GatewayRejections, ProjectPath};
use crate::http::request_id::RequestId;
use crate::http::{ApiError, Caller};
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use ecs_types::errors::{NovaBadRequest, NovaConflict, NovaItemNotFound};
use ecs_types::nova::*;
use ecs_types::Code;

type Res<T> = Result<Json<T>, ApiError>;

fn query(raw: Option<String>) -> Result<NovaListQuery, ApiError> {
    Ok(typed(&query_pairs(raw.as_deref())).map_err(nova_error)?)
}

/// `GET /v2.1/{project_id}/servers`.
#[utoipa::path(
    get,
    path = "/v2.1/{project_id}/servers",
    operation_id = "NovaListServers",
    tag = "Nova",
    summary = "List servers: ids, names and links (newest first, marker pagination)",
    params(ProjectPath, NovaListQuery),
    responses(
        (status = 200, description = "One page of servers.", body = NovaServerList),
        (status = 400, description = "`badRequest`: a malformed filter or an unknown `marker`.", body = NovaBadRequest),
        GatewayRejections,
    ),
)]
pub async fn list(
    State(app): State<App>,
    Extension(c): Extension<Caller>,
    RawQuery(q): RawQuery,
) -> Res<NovaServerList> {
    Ok(Json(nova::list(&app, &c, &query(q)?).await?))
}

/// `GET /v2.1/{project_id}/servers/detail`.
#[utoipa::path(
    get,
    path = "/v2.1/{project_id}/servers/detail",
    operation_id = "NovaListServersDetails",
    tag = "Nova",
    summary = "List servers with their details (newest first, marker pagination)",
    params(ProjectPath, NovaListQuery),
    responses(
        (status = 200, description = "One page of servers.", body = NovaServerDetailList),
        (status = 400, description = "`badRequest`: a malformed filter or an unknown `marker`.", body = NovaBadRequest),
        GatewayRejections,
    ),
)]
pub async fn list_detail(
    State(app): State<App>,
    Extension(c): Extension<Caller>,
    RawQuery(q): RawQuery,
) -> Res<NovaServerDetailList> {
    Ok(Json(nova::list_detail(&app, &c, &query(q)?).await?))
}

/// `POST /v2.1/{project_id}/servers`.
#[utoipa::path(
    post,
    path = "/v2.1/{project_id}/servers",
    operation_id = "NovaCreateServers",
    tag = "Nova",
    summary = "Create servers (as the ECS create: the same checks and saga)",
    params(ProjectPath),
    request_body = NovaCreateBody,
    responses(
        (status = 202, description = "Accepted: the first server's id (or the reservation id when asked).", body = NovaCreatedEnvelope),
        (status = 400, description = "`badRequest`: a missing or invalid field, an unknown image, flavor, network or key pair.", body = NovaBadRequest),
        (status = 404, description = "`itemNotFound`: a security group that does not exist.", body = NovaItemNotFound),
        GatewayRejections,
    ),
)]
pub async fn create(
    State(app): State<App>,
    Extension(c): Extension<Caller>,
    Path(_): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let body: NovaCreateBody = parse_nova(&body)?;
    Ok(match nova::create(&app, &c, body).await? {
        NovaCreateAnswer::Server(s) => (StatusCode::ACCEPTED, Json(s)).into_response(),
        NovaCreateAnswer::Reservation(r) => (StatusCode::ACCEPTED, Json(r)).into_response(),
    })
}

/// `GET /v2.1/{project_id}/servers/{server_id}`.
#[utoipa::path(
    get,
    path = "/v2.1/{project_id}/servers/{server_id}",
    operation_id = "NovaShowServer",
    tag = "Nova",
    summary = "Show a server (Nova view)",
    params(ProjectPath, ("server_id" = String, Path)),
    responses(
        (status = 200, description = "The server.", body = NovaServerEnvelope),
        (status = 404, description = "`itemNotFound`: no such server in the project.", body = NovaItemNotFound),
        GatewayRejections,
    ),
)]
pub async fn show(
    State(app): State<App>,
    Extension(c): Extension<Caller>,
    Path((_, id)): Path<(String, String)>,
) -> Res<NovaServerEnvelope> {
    Ok(Json(nova::show(&app, &c, &id).await?))
}

/// `DELETE /v2.1/{project_id}/servers/{server_id}`.
#[utoipa::path(
    delete,
    path = "/v2.1/{project_id}/servers/{server_id}",
    operation_id = "NovaDeleteServer",
    tag = "Nova",
    summary = "Delete a server and the disks that go with it",
    params(ProjectPath, ("server_id" = String, Path)),
    responses(
        (status = 204, description = "Accepted: the server is being deleted."),
        (status = 404, description = "`itemNotFound`: no such server in the project.", body = NovaItemNotFound),
        (status = 409, description = "`conflictingRequest`: the server is busy with another operation.", body = NovaConflict),
        GatewayRejections,
    ),
)]
pub async fn delete(
    State(app): State<App>,
    Extension(c): Extension<Caller>,
    Path((_, id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    nova::delete(&app, &c, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /v2.1/{project_id}/flavors/{flavor_id}/os-extra_specs`.
#[utoipa::path(
    get,
    path = "/v2.1/{project_id}/flavors/{flavor_id}/os-extra_specs",
    operation_id = "NovaShowFlavorExtraSpecs",
    tag = "Nova",
    summary = "A flavor's extra specs",
    params(ProjectPath, ("flavor_id" = String, Path)),
    responses(
        (status = 200, description = "The extra specs, as ListFlavors shows them.", body = NovaExtraSpecs),
        (status = 404, description = "`itemNotFound`: no such flavor.", body = NovaItemNotFound),
        GatewayRejections,
    ),
)]
pub async fn extra_specs(Path((_, flavor)): Path<(String, String)>) -> Res<NovaExtraSpecs> {
    Ok(Json(nova::extra_specs(&flavor)?))
}

/// `GET /`.
#[utoipa::path(
    get,
    path = "/",
    operation_id = "NovaListVersions",
    tag = "Nova",
    summary = "The API versions of the compute endpoint",
    responses(
        (status = 200, description = "v2.0 and v2.1.", body = NovaVersionList),
        GatewayRejections,
    ),
)]
pub async fn versions() -> Json<NovaVersionList> {
    Json(nova::versions())
}

/// `GET /{api_version}`.
#[utoipa::path(
    get,
    path = "/{api_version}",
    operation_id = "NovaShowVersion",
    tag = "Nova",
    summary = "One API version, with its microversion range",
    params(("api_version" = String, Path, pattern = "^v[0-9]+(\\.[0-9]+)?$", description = "`v2.1`, `v2.0` or `v2`; a segment that is no version is an unknown path (404 `APIGW.0101`)")),
    responses(
        (status = 200, description = "The version.", body = NovaVersionEnvelope),
        (status = 404, description = "`itemNotFound`: no such version; `APIGW.0101` (the gateway's shape): not a version name.", body = VersionNotFound),
        GatewayRejections,
    ),
)]
pub async fn version(Path(v): Path<String>, Extension(rid): Extension<RequestId>) -> Res<NovaVersionEnvelope> {
    // The one path whose parameter can be anything: only a name that looks like a version is
    // asked about; any other single segment is an unknown path, as it is without this route.
    if !looks_like_api_version(&v) {
        return Err(ApiError::gateway(Code::Apigw0101, Code::Apigw0101.default_message(), &rid.0));
    }
    Ok(Json(nova::version(&v)?))
}

/// The two answers of `GET /{api_version}` for 404, for the document: Nova's for a version
/// that does not exist, the gateway's for a segment that is no version name.
#[derive(serde::Serialize, utoipa::ToSchema)]
#[serde(untagged)]
#[allow(dead_code)]
pub enum VersionNotFound {
    Nova(NovaItemNotFound),
    Gateway(ecs_types::errors::GatewayErrorBody),
}

/// Whether a path segment names an API version: `v` and a number, with at most one dotted part.
fn looks_like_api_version(s: &str) -> bool {
    let Some(rest) = s.strip_prefix('v') else { return false };
    let (major, minor) = match rest.split_once('.') {
        Some((a, b)) => (a, Some(b)),
        None => (rest, None),
    };
    let digits = |d: &str| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit());
    digits(major) && minor.is_none_or(digits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_version_names_are_versions() {
        for v in ["v1", "v2.1", "v10.22"] {
            assert!(looks_like_api_version(v), "{v}");
        }
        for v in ["", "v", "v.1", "v1.", "x1", "v1.2.3", "openapi.json", "v1a"] {
            assert!(!looks_like_api_version(v), "{v}");
        }
    }
}
