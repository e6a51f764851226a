//! `X-Request-Id` on every response, as the real service sends (the SDKs copy it into their
//! exceptions).

use axum::extract::{MatchedPath, Request};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use rand::Rng;
use tracing::Instrument;

/// The id of the request being served.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// 32 lower-case hex characters.
pub fn new_request_id() -> String {
    let n: u128 = rand::thread_rng().gen();
    format!("{n:032x}")
}

/// Assigns the id, makes it available to handlers, and sets the response header. Everything
/// logged while the request is served is in its span: the id, the method, the route template
/// (not the path, which holds ids) and, once authentication knows it, the project.
pub async fn assign(mut req: Request, next: Next) -> Response {
    let id = new_request_id();
    req.extensions_mut().insert(RequestId(id.clone()));
    // A shared string: cloning it allocates nothing. Unknown paths have no template.
    let matched = req.extensions().get::<MatchedPath>().cloned();
    let route = matched.as_ref().map_or("unmatched", MatchedPath::as_str);
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        method = %req.method(),
        route = %route,
        project = tracing::field::Empty,
    );
    let method = req.method().clone();
    let started = std::time::Instant::now();
    let mut resp = next.run(req).instrument(span).await;
    // Counted by route template: paths hold ids, and a label per id would grow without bound.
    crate::metrics::request_done(route, method.as_str(), resp.status(), started.elapsed().as_secs_f64());
    if let Ok(v) = HeaderValue::from_str(&id) {
        resp.headers_mut().insert("x-request-id", v);
    }
    resp
}
