//! The `/v1.1` create (what Terraform and the SDK's `create_servers` send) and the charging-mode
//! change, refused: every server of ecsd is pay-per-use.

use crate::app::create::{self, Created};
use crate::context::App;
use crate::http::json::parse;
use crate::http::openapi::{DryRunAccepted, GatewayRejections, ProjectPath};
use crate::http::{ApiError, Caller};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use ecs_model::Error;
use ecs_types::create::CreateServersV11Body;
use ecs_types::errors::EcsErrorBody;
use ecs_types::job::ServersCreated;

/// `POST /v1.1/{project_id}/cloudservers`.
#[utoipa::path(
    post,
    path = "/v1.1/{project_id}/cloudservers",
    operation_id = "CreateServers",
    tag = "ECS",
    summary = "Create servers (pay-per-use; yearly/monthly is refused)",
    params(ProjectPath),
    request_body = CreateServersV11Body,
    responses(
        (status = 200, description = "Accepted: the job and the new servers' ids (`order_id` is absent: \
            nothing is ordered for pay-per-use servers).", body = ServersCreated),
        (status = 202, description = "`dry_run`: the request would be accepted; nothing was created.",
            body = DryRunAccepted),
        (status = 400, description = "`Ecs.0001` (the project's quota would be exceeded), `Ecs.0005` (a field is \
            missing or invalid, `extendparam.chargingMode` `prePaid`, an unknown `availability_zone`), `Ecs.0011` \
            (password rules), `Ecs.0019` (flavor), `Ecs.0031`/`Ecs.0032` (image), `Ecs.0314` (key pair), \
            `Common.0002` (empty body), `Ecs.0023` (not the caller's project).", body = EcsErrorBody),
        GatewayRejections,
    ),
)]
pub async fn create_v11(
    State(app): State<App>,
    Extension(c): Extension<Caller>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let body: CreateServersV11Body = parse(&body)?;
    Ok(match create::create(&app, &c, body.server, body.dry_run).await? {
        Created::DryRun => (StatusCode::ACCEPTED, Json(DryRunAccepted {})).into_response(),
        Created::Accepted { job_id, server_ids } => Json(ServersCreated { job_id, server_ids }).into_response(),
    })
}

/// `POST /v1/{project_id}/cloudservers/actions/change-charge-mode`.
#[utoipa::path(
    post,
    path = "/v1/{project_id}/cloudservers/actions/change-charge-mode",
    operation_id = "ChangeServerChargeMode",
    tag = "ECS",
    summary = "Change servers' charging mode: refused, every server is pay-per-use",
    params(ProjectPath),
    responses(
        (status = 400, description = "`Ecs.0005`: charging modes cannot be changed (every server is \
            pay-per-use); `Ecs.0023`: not the caller's project.", body = EcsErrorBody),
        GatewayRejections,
    ),
)]
pub async fn change_charge_mode(Extension(_c): Extension<Caller>, _body: Bytes) -> ApiError {
    Error::invalid(
        "Changing the charging mode is not supported by this service: every server is pay-per-use and stays so.",
    )
    .into()
}
