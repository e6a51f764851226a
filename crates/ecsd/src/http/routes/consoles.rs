//! A server's diagnostics: its console output, and a crash dump triggered on its guest.

use crate::app::query::{query_pairs, typed};
use crate::app::{consoles, dump};
use crate::context::App;
use crate::http::openapi::{GatewayRejections, ProjectPath};
use crate::http::{ApiError, Caller};
use axum::extract::{Path, RawQuery, State};
use axum::{Extension, Json};
use ecs_types::errors::EcsErrorBody;
use ecs_types::nics::{ConsoleOutput, ConsoleOutputQuery, CrashDumpTriggered};

/// `GET /v1/{project_id}/cloudservers/{server_id}/console-output`.
#[utoipa::path(
    get,
    path = "/v1/{project_id}/cloudservers/{server_id}/console-output",
    operation_id = "ShowServerConsoleOutput",
    tag = "ECS",
    summary = "The last lines of a server's serial console",
    params(ProjectPath, ("server_id" = String, Path), ConsoleOutputQuery),
    responses(
        (status = 200, description = "The console's last `length` lines (50 by default; -1: all): the guest's \
            serial log on QEMU, a synthetic boot log on the simulated driver.", body = ConsoleOutput),
        (status = 400, description = "`Ecs.0005`: `length` is not an integer of at least -1.", body = EcsErrorBody),
        (status = 404, description = "`Ecs.0114`: no such server in the project.", body = EcsErrorBody),
        GatewayRejections,
    ),
)]
pub async fn console_output(
    State(app): State<App>,
    Extension(c): Extension<Caller>,
    Path((_, id)): Path<(String, String)>,
    RawQuery(q): RawQuery,
) -> Result<Json<ConsoleOutput>, ApiError> {
    let q: ConsoleOutputQuery = typed(&query_pairs(q.as_deref()))?;
    Ok(Json(consoles::output(&app, &c, &id, &q).await?))
}

/// `POST /v1/{project_id}/cloudservers/{server_id}/actions/trigger-crash-dump`.
#[utoipa::path(
    post,
    path = "/v1/{project_id}/cloudservers/{server_id}/actions/trigger-crash-dump",
    operation_id = "ExecuteServerDump",
    tag = "ECS",
    summary = "Send a server's guest an NMI, which triggers its kernel's crash dump",
    params(ProjectPath, ("server_id" = String, Path)),
    responses(
        (status = 200, description = "`{}`: the NMI was delivered (QMP `inject-nmi` on QEMU). A guest set up \
            for kdump dumps and restarts; any other logs it on its serial console.", body = CrashDumpTriggered),
        (status = 400, description = "`Ecs.0100`: the server is not ACTIVE (or ERROR), an operation is under \
            way, its guest is not running, or it runs on another node; `Ecs.0605`: it is locked.", body = EcsErrorBody),
        (status = 404, description = "`Ecs.0114`: no such server in the project.", body = EcsErrorBody),
        GatewayRejections,
    ),
)]
pub async fn crash_dump(
    State(app): State<App>,
    Extension(c): Extension<Caller>,
    Path((_, id)): Path<(String, String)>,
) -> Result<Json<CrashDumpTriggered>, ApiError> {
    dump::trigger(&app, &c, &id).await?;
    Ok(Json(CrashDumpTriggered {}))
}
