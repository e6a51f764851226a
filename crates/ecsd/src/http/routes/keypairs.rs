//! Nova key pairs.

use crate::app::keypairs;
use crate::app::query::{query_pairs, typed};
use crate::context::App;
use crate::http::json::parse_nova;
use crate::http::openapi::{GatewayRejections, NovaOrEcsBadRequest, ProjectPath};
use crate::http::{ApiError, Caller};
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use ecs_model::Error;
use ecs_types::errors::{EcsErrorBody, NovaConflict, NovaItemNotFound};
use ecs_types::keypair::*;
use ecs_types::queries::KeypairListQuery;
use ecs_types::Code;

type Res<T> = Result<Json<T>, ApiError>;

/// `POST /v2.1/{project_id}/os-keypairs`.
#[utoipa::path(
    post,
    path = "/v2.1/{project_id}/os-keypairs",
    operation_id = "NovaCreateKeypair",
    tag = "Nova",
    summary = "Create (no `public_key`) or import a key pair",
    params(ProjectPath),
    request_body = CreateKeypairBody,
    responses(
        (status = 200, description = "The key pair; `private_key` only when it was generated.",
            body = KeypairEnvelope<CreatedKeypair>),
        (status = 400, description = "`badRequest`: an invalid name, type, user id or public key, or not JSON; \
            `Ecs.0023`: not the caller's project.", body = NovaOrEcsBadRequest),
        (status = 409, description = "`conflictingRequest`: the name is taken.", body = NovaConflict),
        GatewayRejections,
    ),
)]
pub async fn create(
    State(app): State<App>,
    Extension(c): Extension<Caller>,
    body: Bytes,
) -> Res<KeypairEnvelope<CreatedKeypair>> {
    let body: CreateKeypairBody = parse_nova(&body)?;
    Ok(Json(KeypairEnvelope { keypair: keypairs::create(&app, &c, body).await? }))
}

/// `GET /v2.1/{project_id}/os-keypairs`.
#[utoipa::path(
    get,
    path = "/v2.1/{project_id}/os-keypairs",
    operation_id = "NovaListKeypairs",
    tag = "Nova",
    summary = "List key pairs",
    params(
        ProjectPath,
        KeypairListQuery,
    ),
    responses(
        (status = 200, description = "The key pairs.", body = KeypairList),
        (status = 400, description = "`badRequest`: a malformed `limit` or an unknown `marker`; `Ecs.0023`: not \
            the caller's project.", body = NovaOrEcsBadRequest),
        GatewayRejections,
    ),
)]
pub async fn list(State(app): State<App>, Extension(c): Extension<Caller>, RawQuery(q): RawQuery) -> Res<KeypairList> {
    let q: KeypairListQuery =
        typed(&query_pairs(q.as_deref())).map_err(|e| Error::new(Code::NovaBadRequest, e.message))?;
    let limit = q.limit.map(|l| usize::try_from(l).unwrap_or(usize::MAX));
    Ok(Json(keypairs::list(&app, &c, limit, q.marker.as_deref()).await?))
}

/// `GET /v2.1/{project_id}/os-keypairs/{name}`.
#[utoipa::path(
    get,
    path = "/v2.1/{project_id}/os-keypairs/{name}",
    operation_id = "NovaShowKeypair",
    tag = "Nova",
    summary = "Show a key pair",
    params(ProjectPath, ("name" = String, Path, description = "The key pair's name.")),
    responses(
        (status = 200, description = "The key pair.", body = KeypairEnvelope<KeypairDetail>),
        (status = 400, description = "`Ecs.0023`: not the caller's project.", body = EcsErrorBody),
        (status = 404, description = "`itemNotFound`: no such key pair in the project.", body = NovaItemNotFound),
        GatewayRejections,
    ),
)]
pub async fn show(
    State(app): State<App>,
    Extension(c): Extension<Caller>,
    Path((_, name)): Path<(String, String)>,
) -> Res<KeypairEnvelope<KeypairDetail>> {
    Ok(Json(KeypairEnvelope { keypair: keypairs::show(&app, &c, &name).await? }))
}

/// `DELETE /v2.1/{project_id}/os-keypairs/{name}`: 204, as Nova answers from 2.2 on.
#[utoipa::path(
    delete,
    path = "/v2.1/{project_id}/os-keypairs/{name}",
    operation_id = "NovaDeleteKeypair",
    tag = "Nova",
    summary = "Delete a key pair",
    params(ProjectPath, ("name" = String, Path, description = "The key pair's name.")),
    responses(
        (status = 204, description = "Deleted."),
        (status = 400, description = "`Ecs.0023`: not the caller's project.", body = EcsErrorBody),
        (status = 404, description = "`itemNotFound`: no such key pair in the project.", body = NovaItemNotFound),
        GatewayRejections,
    ),
)]
pub async fn delete(
    State(app): State<App>,
    Extension(c): Extension<Caller>,
    Path((_, name)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    keypairs::delete(&app, &c, &name).await?;
    Ok(StatusCode::NO_CONTENT)
}
