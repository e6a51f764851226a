//! SDK-HMAC-SHA256 authentication of every request, as Huawei's API gateway does it.
//!
//! The body is read whole here, because the signature covers the hash of its exact bytes (the
//! Python SDK's `", "` separators included; re-serialised JSON would not match); the handler
//! gets the same bytes back.

use super::error::ApiError;
use super::request_id::RequestId;
use super::MAX_BODY;
use crate::accounts::valid_project_id;
use crate::context::App;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use ecs_model::Error;
use ecs_types::Code;

/// The authenticated caller, available to handlers as an extension.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user_id: String,
    pub project_id: String,
    pub ak: String,
}

/// API families whose second path segment is a project id.
const PROJECT_PREFIXES: &[&str] = &["v1", "v1.1", "v2", "v2.1"];
/// Second segments that are resource names, not project ids (IMS `/v2/cloudimages`, ...).
const UNSCOPED: &[&str] = &["cloudimages", "images"];

/// The project id a path names, if its API family is project-scoped.
pub fn path_project(path: &str) -> Option<&str> {
    let mut seg = path.trim_start_matches('/').split('/');
    let version = seg.next()?;
    let second = seg.next()?;
    if PROJECT_PREFIXES.contains(&version) && !UNSCOPED.contains(&second) {
        Some(second)
    } else {
        None
    }
}

fn unauthorized(e: &ecs_auth::AuthError, rid: &str) -> Response {
    ApiError::gateway(Code::Apigw0301, e.message(), rid).into_response()
}

/// Verifies the signature, checks the project, and hands the request on with a [`Caller`].
pub async fn authenticate(State(app): State<App>, req: Request, next: Next) -> Response {
    let rid = req.extensions().get::<RequestId>().map(|r| r.0.clone()).unwrap_or_default();
    let (mut parts, body) = req.into_parts();
    let bytes = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(b) => b,
        Err(_) => {
            return ApiError::from(Error::invalid(format!("request body is illegal: larger than {MAX_BODY} bytes.")))
                .into_response()
        }
    };
    let header = parts.headers.get(axum::http::header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    let auth = match header.map(ecs_auth::parse_authorization) {
        None => return unauthorized(&ecs_auth::AuthError::MissingAuthorization, &rid),
        Some(Err(e)) => return unauthorized(&e, &rid),
        Some(Ok(a)) => a,
    };
    let Some(account) = app.accounts.get(&auth.access) else {
        return unauthorized(&ecs_auth::AuthError::UnknownAccessKey, &rid);
    };
    let raw_path = parts.uri.path().to_string();
    let signed = ecs_auth::RequestParts {
        method: parts.method.as_str(),
        path: &raw_path,
        query: parts.uri.query(),
        headers: &parts.headers,
        body: &bytes,
    };
    if let Err(e) = ecs_auth::verify(&signed, &auth, &account.sk, std::time::SystemTime::now()) {
        tracing::info!(ak = %auth.access, reason = %e, "signature rejected");
        return unauthorized(&e, &rid);
    }
    if let Some(p) = path_project(&raw_path) {
        let header_project = parts.headers.get("x-project-id").and_then(|v| v.to_str().ok());
        if !valid_project_id(p) || p != account.project_id || header_project.is_some_and(|h| h != p) {
            return ApiError::from(Error::new(
                Code::Ecs0023,
                format!("project_id in token mismatches with project_id in url: {p:?}."),
            ))
            .into_response();
        }
    }
    parts.extensions.insert(Caller {
        user_id: account.user_id.clone(),
        project_id: account.project_id.clone(),
        ak: account.ak.clone(),
    });
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
    }
}
