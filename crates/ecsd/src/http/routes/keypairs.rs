//! Nova key pairs.

use crate::app::keypairs;
use crate::context::App;
use crate::http::json::{int_param, param, parse_nova, query_pairs};
use crate::http::{ApiError, Caller};
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use ecs_model::Error;
use ecs_types::keypair::*;
use ecs_types::Code;

type Res<T> = Result<Json<T>, ApiError>;

/// `POST /v2.1/{project_id}/os-keypairs`.
pub async fn create(
    State(app): State<App>,
    Extension(c): Extension<Caller>,
    body: Bytes,
) -> Res<KeypairEnvelope<CreatedKeypair>> {
    let body: CreateKeypairBody = parse_nova(&body)?;
    Ok(Json(KeypairEnvelope { keypair: keypairs::create(&app, &c, body).await? }))
}

/// `GET /v2.1/{project_id}/os-keypairs`.
pub async fn list(State(app): State<App>, Extension(c): Extension<Caller>, RawQuery(q): RawQuery) -> Res<KeypairList> {
    let q = query_pairs(q.as_deref());
    let limit = int_param(&q, "limit").map_err(|e| Error::new(Code::NovaBadRequest, e.message))?;
    Ok(Json(keypairs::list(&app, &c, limit, param(&q, "marker")).await?))
}

/// `GET /v2.1/{project_id}/os-keypairs/{name}`.
pub async fn show(
    State(app): State<App>,
    Extension(c): Extension<Caller>,
    Path((_, name)): Path<(String, String)>,
) -> Res<KeypairEnvelope<KeypairDetail>> {
    Ok(Json(KeypairEnvelope { keypair: keypairs::show(&app, &c, &name).await? }))
}

/// `DELETE /v2.1/{project_id}/os-keypairs/{name}`: 204, as Nova answers from 2.2 on.
pub async fn delete(
    State(app): State<App>,
    Extension(c): Extension<Caller>,
    Path((_, name)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    keypairs::delete(&app, &c, &name).await?;
    Ok(StatusCode::NO_CONTENT)
}
