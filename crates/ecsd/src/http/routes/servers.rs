//! Servers and their operations.

use crate::app::os::{self, Variant};
use crate::app::servers::{self as srv, Created};
use crate::app::{power, servers as app_servers};
use crate::context::App;
use crate::http::json::{parse, parse_nova, query_pairs};
use crate::http::{ApiError, Caller};
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use ecs_model::Error;
use ecs_types::job::{JobAccepted, ServersCreated};
use ecs_types::requests::*;
use ecs_types::server::{ServerEnvelope, ServerList};
use ecs_types::Code;

type Res<T> = Result<Json<T>, ApiError>;

fn accepted(job_id: String) -> Json<JobAccepted> {
    Json(JobAccepted { job_id })
}

/// `POST /v1/{project_id}/cloudservers`.
pub async fn create(
    State(app): State<App>,
    Extension(c): Extension<Caller>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let body: CreateServersBody = parse(&body)?;
    Ok(match srv::create(&app, &c, body).await? {
        Created::DryRun => (StatusCode::ACCEPTED, Json(serde_json::json!({}))).into_response(),
        Created::Accepted { job_id, server_ids } => Json(ServersCreated { job_id, server_ids }).into_response(),
    })
}

/// `GET /v1/{project_id}/cloudservers/detail`.
pub async fn list(State(app): State<App>, Extension(c): Extension<Caller>, RawQuery(q): RawQuery) -> Res<ServerList> {
    Ok(Json(srv::list(&app, &c, &query_pairs(q.as_deref())).await?))
}

/// `GET /v1/{project_id}/cloudservers/{server_id}`.
pub async fn show(
    State(app): State<App>,
    Extension(c): Extension<Caller>,
    Path((_, id)): Path<(String, String)>,
) -> Res<ServerEnvelope> {
    Ok(Json(srv::show(&app, &c, &id).await?))
}

/// `PUT /v1/{project_id}/cloudservers/{server_id}`.
pub async fn update(
    State(app): State<App>,
    Extension(c): Extension<Caller>,
    Path((_, id)): Path<(String, String)>,
    body: Bytes,
) -> Res<serde_json::Value> {
    let body: UpdateServerBody = parse(&body)?;
    Ok(Json(srv::update(&app, &c, &id, body).await?))
}

/// `POST /v1/{project_id}/cloudservers/delete`.
pub async fn delete(State(app): State<App>, Extension(c): Extension<Caller>, body: Bytes) -> Res<JobAccepted> {
    let body: DeleteServersBody = parse(&body)?;
    Ok(accepted(srv::delete(&app, &c, body).await?))
}

/// `POST /v1/{project_id}/cloudservers/action`.
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
pub async fn reinstall_v1(
    State(app): State<App>,
    Extension(c): Extension<Caller>,
    Path((_, id)): Path<(String, String)>,
    body: Bytes,
) -> Res<JobAccepted> {
    rebuild(app, c, id, Variant { change: false, cloud_init: false }, body).await
}

/// `POST /v2/{project_id}/cloudservers/{server_id}/reinstallos`.
pub async fn reinstall_v2(
    State(app): State<App>,
    Extension(c): Extension<Caller>,
    Path((_, id)): Path<(String, String)>,
    body: Bytes,
) -> Res<JobAccepted> {
    rebuild(app, c, id, Variant { change: false, cloud_init: true }, body).await
}

/// `POST /v1/{project_id}/cloudservers/{server_id}/changeos`.
pub async fn changeos_v1(
    State(app): State<App>,
    Extension(c): Extension<Caller>,
    Path((_, id)): Path<(String, String)>,
    body: Bytes,
) -> Res<JobAccepted> {
    rebuild(app, c, id, Variant { change: true, cloud_init: false }, body).await
}

/// `POST /v2/{project_id}/cloudservers/{server_id}/changeos`.
pub async fn changeos_v2(
    State(app): State<App>,
    Extension(c): Extension<Caller>,
    Path((_, id)): Path<(String, String)>,
    body: Bytes,
) -> Res<JobAccepted> {
    rebuild(app, c, id, Variant { change: true, cloud_init: true }, body).await
}

/// Nova `POST /v2.1/{project_id}/servers/{server_id}/action`: `{"lock": null}` / `{"unlock": null}`.
pub async fn nova_action(
    State(app): State<App>,
    Extension(c): Extension<Caller>,
    Path((_, id)): Path<(String, String)>,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    let v: serde_json::Map<String, serde_json::Value> = parse_nova(&body)?;
    let lock = match (v.contains_key("lock"), v.contains_key("unlock"), v.len()) {
        (true, false, 1) => true,
        (false, true, 1) => false,
        _ => {
            return Err(Error::new(
                Code::NovaBadRequest,
                "Only the \"lock\" and \"unlock\" actions are supported, one at a time.",
            )
            .into())
        }
    };
    app_servers::set_lock(&app, &c, &id, lock).await?;
    Ok(StatusCode::ACCEPTED)
}
