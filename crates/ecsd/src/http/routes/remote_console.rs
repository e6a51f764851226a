//! A server's remote console: the API call that hands out a console URL, and the URL itself,
//! a WebSocket that carries the bytes of the VM's VNC server both ways.

use crate::app::remote_console::{self, Origin};
use crate::context::App;
use crate::http::json::parse;
use crate::http::openapi::{GatewayRejections, ProjectPath};
use crate::http::{ApiError, Caller};
use crate::listener::Secure;
use axum::body::Bytes;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use ecs_types::errors::{EcsError, EcsErrorBody};
use ecs_types::nics::{RemoteConsoleBody, RemoteConsoleEnvelope};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixStream;

/// `POST /v1/{project_id}/cloudservers/{server_id}/remote_console`.
#[utoipa::path(
    post,
    path = "/v1/{project_id}/cloudservers/{server_id}/remote_console",
    operation_id = "ShowServerRemoteConsole",
    tag = "ECS",
    summary = "A URL for a server's VNC console",
    params(ProjectPath, ("server_id" = String, Path)),
    request_body = RemoteConsoleBody,
    responses(
        (status = 200, description = "`url`: a WebSocket (`ws://` or, over HTTPS, `wss://`) carrying the VM's \
            VNC stream, what noVNC connects to; it opens for ten minutes after it was handed out.", body = RemoteConsoleEnvelope),
        (status = 400, description = "`Ecs.0005`: no `remote_console`, or not `vnc` / `novnc`; `Ecs.0100`: the \
            server is not ACTIVE, its guest is not running, or it runs on another node; `Ecs.0000`: the driver \
            runs no display (the simulated driver).", body = EcsErrorBody),
        (status = 404, description = "`Ecs.0114`: no such server in the project.", body = EcsErrorBody),
        GatewayRejections,
    ),
)]
pub async fn open(
    State(app): State<App>,
    Extension(c): Extension<Caller>,
    secure: Option<Extension<Secure>>,
    headers: HeaderMap,
    Path((_, id)): Path<(String, String)>,
    body: Bytes,
) -> Result<Json<RemoteConsoleEnvelope>, ApiError> {
    let body: RemoteConsoleBody = parse(&body)?;
    let authority = headers.get(axum::http::header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("127.0.0.1");
    let origin = Origin { secure: secure.is_some_and(|Extension(Secure(s))| s), authority };
    let remote_console = remote_console::open(&app, &c, &id, body, origin).await?;
    Ok(Json(RemoteConsoleEnvelope { remote_console }))
}

/// A console URL's error: not part of Huawei's API, said in its shape.
fn refused(status: StatusCode, message: String) -> Response {
    let error = EcsError { code: "Ecs.0000".into(), message };
    (status, Json(EcsErrorBody { error })).into_response()
}

/// `GET /console/vnc/{token}`: the WebSocket of a console URL. Unsigned (a browser opens it):
/// the token is the credential.
pub async fn connect(
    State(app): State<App>,
    Path(token): Path<String>,
    ws: Result<WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>,
) -> Response {
    let Some(ticket) = app.consoles.check(&token) else {
        return refused(
            StatusCode::NOT_FOUND,
            "this console URL is unknown or has expired; ask for a new one with ShowServerRemoteConsole.".into(),
        );
    };
    let ws = match ws {
        Ok(ws) => ws,
        Err(e) => return refused(StatusCode::BAD_REQUEST, format!("a console URL is opened as a WebSocket: {e}")),
    };
    let path = match remote_console::socket(&app, &ticket.server_id).await {
        Ok(p) => p,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let vnc = match UnixStream::connect(&path).await {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(server = %ticket.server_id, error = %e, "cannot reach the VM's VNC server");
            return refused(
                StatusCode::SERVICE_UNAVAILABLE,
                format!("the console of server {} cannot be reached now.", ticket.server_id),
            );
        }
    };
    let server = ticket.server_id;
    // noVNC asks for the "binary" subprotocol; newer clients ask for none.
    ws.protocols(["binary"]).on_upgrade(move |socket| async move {
        tracing::info!(server = %server, "remote console opened");
        carry(socket, vnc).await;
        tracing::info!(server = %server, "remote console closed");
    })
}

/// Copies bytes both ways until either side closes: WebSocket messages into the VNC socket,
/// what the VNC server writes out as binary messages.
async fn carry(mut ws: WebSocket, mut vnc: UnixStream) {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        tokio::select! {
            m = ws.recv() => {
                let written = match m {
                    Some(Ok(Message::Binary(b))) => vnc.write_all(&b).await,
                    Some(Ok(Message::Text(t))) => vnc.write_all(t.as_bytes()).await,
                    // Pings are answered by the WebSocket itself.
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => Ok(()),
                    Some(Ok(Message::Close(_)) | Err(_)) | None => break,
                };
                if written.is_err() {
                    break;
                }
            }
            n = vnc.read(&mut buf) => match n {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if ws.send(Message::Binary(bytes::Bytes::copy_from_slice(&buf[..n]))).await.is_err() {
                        return;
                    }
                }
            },
        }
    }
    let _ = ws.send(Message::Close(None)).await;
}
