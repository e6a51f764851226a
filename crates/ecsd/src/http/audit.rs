//! The audit trail's side of the authentication layer: a trace of every authenticated write
//! request once its answer is in (reads are not traced, as the trace service does not trace
//! them), and of every refused authentication.

use crate::audit::record::{self, Call};
use crate::context::App;
use crate::http::request_id::RequestId;
use crate::http::Caller;
use axum::body::{to_bytes, Body, Bytes};
use axum::extract::{ConnectInfo, MatchedPath, Request};
use axum::http::request::Parts;
use axum::http::{header, Method};
use axum::middleware::Next;
use axum::response::Response;
use ecs_types::cts::TraceUser;
use std::net::SocketAddr;

/// The source address of a request (the peer of its connection), or empty when not known.
pub fn source_ip(req: &Parts) -> String {
    req.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip().to_string()).unwrap_or_default()
}

/// Whether requests of this method are traced: the writes.
pub fn traced_method(method: &Method) -> bool {
    matches!(*method, Method::POST | Method::PUT | Method::PATCH | Method::DELETE)
}

/// Serves an authenticated write (its head and its whole body) and traces it once answered.
pub async fn traced(app: &App, caller: Caller, mut parts: Parts, request: Bytes, next: Next) -> Response {
    let time_ms = ecs_model::timefmt::now_ms();
    let route = parts.extensions.get::<MatchedPath>().cloned();
    let rid = parts.extensions.get::<RequestId>().map(|r| r.0.clone()).unwrap_or_default();
    let host = parts.headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    let (method, path, source_ip) = (parts.method.clone(), parts.uri.path().to_string(), source_ip(&parts));
    parts.extensions.insert(caller.clone());
    let resp = next.run(Request::from_parts(parts, Body::from(request.clone()))).await;
    let (rparts, rbody) = resp.into_parts();
    let answer = to_bytes(rbody, usize::MAX).await.unwrap_or_default();
    let account = app.accounts.get(&caller.ak);
    let user = record::known_user(
        &caller.ak,
        &caller.user_id,
        account.and_then(|a| a.user_name.as_deref()),
        account.map_or("", |a| a.domain_name.as_str()),
    );
    let route = route.as_ref().map(MatchedPath::as_str);
    let t = record::trace(Call {
        project_id: &caller.project_id,
        user,
        operation: route.and_then(|r| app.audit.operations.get(&method, r)),
        route,
        path: &path,
        host: &host,
        source_ip,
        request_id: &rid,
        time_ms,
        status: rparts.status.as_u16(),
        request: &request,
        response: &answer,
    });
    app.audit.record(t).await;
    Response::from_parts(rparts, Body::from(answer))
}

/// Traces a refused authentication, in the project the request names in its path (or that of
/// the access key it claims), if that is a project of this service: an unknown project's
/// trail has no reader, and a stranger must not be able to fill the database with one.
pub fn auth_failure(app: &App, parts: &Parts, rid: &str, message: &str, body: &[u8]) {
    let ak = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| ecs_auth::parse_authorization(v).ok())
        .map(|a| a.access)
        .unwrap_or_default();
    let path = parts.uri.path();
    let known = |p: &str| app.accounts.has_project(p);
    let project = match super::auth::path_project(path).filter(|p| known(p)) {
        Some(p) => p.to_string(),
        None => match app.accounts.get(&ak) {
            Some(a) => a.project_id.clone(),
            None => {
                tracing::info!(reason = message, "authentication refused (no project to trace it in)");
                return;
            }
        },
    };
    let rid = rid.to_string();
    record_now(app, parts, &project, record::unknown_user(&ak), 401, &rid, body);
}

/// Traces a password login (`POST /v3/auth/tokens`), which carries no signature: a success as
/// its user, a refusal in the project of the user it named, if that is a user of this service
/// (a login as nobody has no project whose trail it belongs in).
pub fn login(
    app: &App,
    parts: &Parts,
    outcome: Result<&crate::accounts::Account, (&str, Option<&str>)>,
    status: u16,
    body: &[u8],
) {
    let rid = parts.extensions.get::<RequestId>().map(|r| r.0.clone()).unwrap_or_default();
    let (project, user) = match outcome {
        Ok(a) => (a.project_id.clone(), record::known_user(&a.ak, &a.user_id, a.user_name.as_deref(), &a.domain_name)),
        Err((name, domain)) => match app.accounts.by_user_name(name, domain) {
            Some(a) => (a.project_id.clone(), record::claimed_user(name, &a.domain_name)),
            None => {
                tracing::info!("password login refused for a user this service does not have (not traced)");
                return;
            }
        },
    };
    record_now(app, parts, &project, user, status, &rid, body);
}

/// Records the trace of a request answered without reaching a handler's own trace.
fn record_now(app: &App, parts: &Parts, project: &str, user: TraceUser, status: u16, rid: &str, body: &[u8]) {
    let route = parts.extensions.get::<MatchedPath>().map(|m| m.as_str().to_string());
    let host = parts.headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let t = record::trace(Call {
        project_id: project,
        user,
        operation: route.as_deref().and_then(|r| app.audit.operations.get(&parts.method, r)),
        route: route.as_deref(),
        path: parts.uri.path(),
        host,
        source_ip: source_ip(parts),
        request_id: rid,
        time_ms: ecs_model::timefmt::now_ms(),
        status,
        request: b"",
        response: body,
    });
    app.audit.record_now(t);
}
