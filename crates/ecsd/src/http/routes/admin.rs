//! The admin API, outside the Huawei paths: fault injection.
//!
//! Authenticated like every other call; a caller acts on its own project's faults only, so a
//! shared ecsd cannot be used to break someone else's jobs.

use crate::app::internal;
use crate::context::App;
use crate::faults::{Fault, FaultSpec};
use crate::http::json::parse;
use crate::http::openapi::{FaultDoc, FaultListDoc, FaultSpecDoc, FaultsClearedDoc, GatewayRejections};
use crate::http::{ApiError, Caller};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use ecs_model::Error;
use ecs_types::errors::{EcsErrorBody, NovaItemNotFound};
use ecs_types::Code;
use serde_json::{json, Value};

/// `GET /ecsd-admin/v1/faults`.
#[utoipa::path(
    get,
    path = "/ecsd-admin/v1/faults",
    operation_id = "ListFaults",
    tag = "Admin",
    summary = "List the faults in force in the caller's project",
    responses(
        (status = 200, description = "The faults.", body = FaultListDoc),
        (status = 400, description = "`Ecs.0005`: the request is malformed (a body over 1 MiB).", body = EcsErrorBody),
        GatewayRejections,
    ),
)]
pub async fn list(State(app): State<App>, Extension(c): Extension<Caller>) -> Result<Json<Value>, ApiError> {
    let faults = app.faults.list(Some(&c.project_id)).await.map_err(internal)?;
    Ok(Json(json!({ "faults": faults })))
}

/// `POST /ecsd-admin/v1/faults`: 201 with the fault and its id.
#[utoipa::path(
    post,
    path = "/ecsd-admin/v1/faults",
    operation_id = "CreateFault",
    tag = "Admin",
    summary = "Inject a fault into the caller's project",
    request_body = FaultSpecDoc,
    responses(
        (status = 201, description = "The fault, with its id.", body = FaultDoc),
        (status = 400, description = "`Ecs.0005`: an invalid or unknown field, or another project; \
            `Common.0002`: empty body.", body = EcsErrorBody),
        GatewayRejections,
    ),
)]
pub async fn create(
    State(app): State<App>,
    Extension(c): Extension<Caller>,
    body: Bytes,
) -> Result<(StatusCode, Json<Fault>), ApiError> {
    let mut spec: FaultSpec = parse(&body)?;
    if spec.project_id.as_deref().is_some_and(|p| p != c.project_id) {
        return Err(Error::invalid("project_id: a fault can only target the caller's own project.").into());
    }
    spec.project_id = Some(c.project_id.clone());
    spec.validate()?;
    Ok((StatusCode::CREATED, Json(app.faults.add(spec).await.map_err(internal)?)))
}

/// `DELETE /ecsd-admin/v1/faults`: clears every fault of the project.
#[utoipa::path(
    delete,
    path = "/ecsd-admin/v1/faults",
    operation_id = "ClearFaults",
    tag = "Admin",
    summary = "Clear every fault of the caller's project",
    responses(
        (status = 200, description = "How many faults were cleared.", body = FaultsClearedDoc),
        (status = 400, description = "`Ecs.0005`: the request is malformed (a body over 1 MiB).", body = EcsErrorBody),
        GatewayRejections,
    ),
)]
pub async fn clear(State(app): State<App>, Extension(c): Extension<Caller>) -> Result<Json<Value>, ApiError> {
    let cleared = app.faults.clear(&c.project_id).await.map_err(internal)?;
    Ok(Json(json!({ "cleared": cleared })))
}

/// `DELETE /ecsd-admin/v1/faults/{id}`.
#[utoipa::path(
    delete,
    path = "/ecsd-admin/v1/faults/{id}",
    operation_id = "DeleteFault",
    tag = "Admin",
    summary = "Remove one fault",
    params(("id" = String, Path, description = "The fault's id.")),
    responses(
        (status = 204, description = "Removed."),
        (status = 400, description = "`Ecs.0005`: the request is malformed (a body over 1 MiB).", body = EcsErrorBody),
        (status = 404, description = "`itemNotFound`: no such fault in the caller's project.", body = NovaItemNotFound),
        GatewayRejections,
    ),
)]
pub async fn remove(
    State(app): State<App>,
    Extension(c): Extension<Caller>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    if app.faults.remove(&c.project_id, &id).await.map_err(internal)? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(Error::new(Code::NovaNotFound, format!("Fault {id} does not exist.")).into())
    }
}
