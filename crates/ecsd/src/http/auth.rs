//! SDK-HMAC-SHA256 authentication of every request, as Huawei's API gateway does it.
//!
//! The body is read whole here, because the signature covers the hash of its exact bytes (the
//! Python SDK's `", "` separators included; re-serialised JSON would not match); the handler
//! gets the same bytes back.

use super::error::ApiError;
use super::request_id::RequestId;
use super::MAX_BODY;
use crate::accounts::{valid_project_id, Account};
use crate::context::App;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use ecs_model::Error;
use ecs_types::Code;
use std::time::SystemTime;

pub use crate::caller::Caller;

/// API families whose second path segment is a project id.
const PROJECT_PREFIXES: &[&str] = &["v1", "v1.1", "v2", "v2.1"];
/// Second segments that are resource names, not project ids (IMS `/v2/cloudimages`, ...).
const UNSCOPED: &[&str] = &["cloudimages", "images"];

/// The project id a path names, if its API family is project-scoped: the Huawei families,
/// ecsd's own (`/ecsd/v1/{project_id}/...`) and the trace service's (`/v3/{project_id}/traces`).
pub fn path_project(path: &str) -> Option<&str> {
    let mut seg = path.trim_start_matches('/').split('/');
    let mut version = seg.next()?;
    if version == "ecsd" {
        version = seg.next().filter(|v| *v == "v1")?;
    }
    let second = seg.next()?;
    if version == "v3" {
        return seg.next().filter(|third| *third == "traces").map(|_| second);
    }
    if PROJECT_PREFIXES.contains(&version) && !UNSCOPED.contains(&second) {
        Some(second)
    } else {
        None
    }
}

fn unauthorized(message: &str, rid: &str) -> Response {
    ApiError::gateway(Code::Apigw0301, message, rid).into_response()
}

/// How long a client may take to send its body once the headers are in.
const BODY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// The account a request authenticates as: an AK/SK signature, or an `X-Auth-Token`.
/// The error is the 401 message.
fn identify<'a>(app: &'a App, parts: &axum::http::request::Parts, body: &[u8]) -> Result<&'a Account, &'static str> {
    let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(value) = header("authorization") {
        let auth = ecs_auth::parse_authorization(value).map_err(|e| e.message())?;
        let account = app.accounts.get(&auth.access).ok_or(ecs_auth::AuthError::UnknownAccessKey.message())?;
        let signed = ecs_auth::RequestParts {
            method: parts.method.as_str(),
            path: parts.uri.path(),
            query: parts.uri.query(),
            headers: &parts.headers,
            body,
        };
        if let Err(e) = ecs_auth::verify(&signed, &auth, &account.sk, SystemTime::now()) {
            tracing::info!(ak = %auth.access, reason = %e, "signature rejected");
            return Err(e.message());
        }
        return Ok(account);
    }
    if let Some(token) = header("x-auth-token") {
        let claims = app.tokens.verify(token, SystemTime::now()).map_err(|e| e.message())?;
        // The account must still exist, with the same user and project.
        return match app.accounts.get(&claims.ak) {
            Some(a) if a.user_id == claims.user_id && a.project_id == claims.project_id => Ok(a),
            _ => Err(crate::iam::TokenError::Malformed.message()),
        };
    }
    Err("Incorrect IAM authentication information: Authorization not found, x-auth-token not found")
}

/// Verifies the caller, applies its rate limit, checks the project, and hands the request on
/// with a [`Caller`].
pub async fn authenticate(State(app): State<App>, req: Request, next: Next) -> Response {
    let rid = req.extensions().get::<RequestId>().map(|r| r.0.clone()).unwrap_or_default();
    let (mut parts, body) = req.into_parts();
    let bytes = match tokio::time::timeout(BODY_TIMEOUT, axum::body::to_bytes(body, MAX_BODY)).await {
        Ok(Ok(b)) => b,
        Ok(Err(_)) => {
            return ApiError::from(Error::invalid(format!("request body is illegal: larger than {MAX_BODY} bytes.")))
                .into_response()
        }
        Err(_) => {
            return ApiError::from(Error::invalid(format!(
                "request body is illegal: not received within {} s.",
                BODY_TIMEOUT.as_secs()
            )))
            .into_response()
        }
    };
    // Password authentication carries its credential in the body; it is unsigned, and so is the
    // API's own description.
    if (parts.method == axum::http::Method::POST && parts.uri.path().trim_end_matches('/') == "/v3/auth/tokens")
        || (parts.method == axum::http::Method::GET && parts.uri.path() == "/openapi.json")
        // A remote console URL carries its own credential, the ticket in its path; the web
        // console's files are public, and the page signs each API call it makes.
        || (parts.method == axum::http::Method::GET
            && (parts.uri.path() == "/console" || parts.uri.path().starts_with(super::web_console::PREFIX)))
    {
        return next.run(Request::from_parts(parts, Body::from(bytes))).await;
    }
    let account = match identify(&app, &parts, &bytes) {
        Ok(a) => a,
        Err(message) => {
            let body = serde_json::json!({"error_code": "APIGW.0301", "error_msg": message, "request_id": rid});
            super::audit::auth_failure(&app, &parts, &rid, message, body.to_string().as_bytes());
            return unauthorized(message, &rid);
        }
    };
    // The request's log lines name its project from here on (see `request_id::assign`).
    tracing::Span::current().record("project", account.project_id.as_str());
    if let Some(limiter) = &app.limiter {
        if limiter.check_key(&account.ak).is_err() {
            let msg = "The throttling threshold has been reached: policy user over ratelimit,time:1 second";
            return ApiError::gateway(Code::Apigw0308, msg, &rid).into_response();
        }
    }
    if let Some(p) = path_project(parts.uri.path()) {
        let header_project = parts.headers.get("x-project-id").and_then(|v| v.to_str().ok());
        if !valid_project_id(p) || p != account.project_id || header_project.is_some_and(|h| h != p) {
            return ApiError::from(Error::new(
                Code::Ecs0023,
                format!("project_id in token mismatches with project_id in url: {p:?}."),
            ))
            .into_response();
        }
    }
    let caller =
        Caller { user_id: account.user_id.clone(), project_id: account.project_id.clone(), ak: account.ak.clone() };
    // A write is traced once answered (reads are not): here, where the caller and the whole
    // body are at hand, rather than in a layer of its own that every read would pass through.
    if super::audit::traced_method(&parts.method) {
        return super::audit::traced(&app, caller, parts, bytes, next).await;
    }
    parts.extensions.insert(caller);
    next.run(Request::from_parts(parts, Body::from(bytes))).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn project_segments_are_found_only_where_they_are() {
        assert_eq!(path_project("/v1/abc/cloudservers/x"), Some("abc"));
        assert_eq!(path_project("/v2.1/abc/os-keypairs"), Some("abc"));
        assert_eq!(path_project("/v2/cloudimages"), None);
        assert_eq!(path_project("/v2/images/123"), None);
        assert_eq!(path_project("/v3/projects"), None);
        assert_eq!(path_project("/v1/%7Bproject_id%7D/jobs/x"), Some("%7Bproject_id%7D"));
        assert_eq!(path_project("/ecsd/v1/abc/jobs/x/events"), Some("abc"));
        assert_eq!(path_project("/ecsd-admin/v1/faults"), None);
        assert_eq!(path_project("/ecsd/v2/abc/jobs"), None);
        assert_eq!(path_project("/v3/abc/traces"), Some("abc"));
        assert_eq!(path_project("/v3/auth/tokens"), None);
    }
}
