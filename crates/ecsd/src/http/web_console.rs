//! The web console: its files, embedded in the binary at build time and served under
//! `/console/` on the API's own listeners.
//!
//! The files are static and public; everything the console shows comes from the API, which the
//! page calls as any client does (signed with the account's AK/SK in the browser, or with an IAM
//! token from a password sign-in). Nothing is fetched from elsewhere, and the content security
//! policy says so to the browser: scripts, styles and connections from this origin only, no
//! inline script, no framing.

use axum::extract::Path;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use sha2::{Digest, Sha256};
use std::sync::OnceLock;

/// Where the console is served; `/console/vnc/...` beside it is the remote console's WebSocket.
pub const PREFIX: &str = "/console/";

/// One embedded file: its name under [`PREFIX`], its type, its bytes.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static [u8],
}

macro_rules! asset {
    ($name:literal, $type:expr) => {
        Asset { name: $name, content_type: $type, body: include_bytes!(concat!("../../console/", $name)) }
    };
}

const JS: &str = "text/javascript; charset=utf-8";

/// Every file of the console. A file not listed here is not served, whatever is on disk.
static ASSETS: &[Asset] = &[
    asset!("index.html", "text/html; charset=utf-8"),
    asset!("style.css", "text/css; charset=utf-8"),
    asset!("favicon.svg", "image/svg+xml"),
    asset!("app.js", JS),
    asset!("api.js", JS),
    asset!("sign.js", JS),
    asset!("dom.js", JS),
    asset!("progress.js", JS),
    asset!("view_signin.js", JS),
    asset!("view_servers.js", JS),
    asset!("view_server.js", JS),
    asset!("view_create.js", JS),
    asset!("view_os.js", JS),
    asset!("view_keypairs.js", JS),
    asset!("view_images.js", JS),
    asset!("view_jobs.js", JS),
];

/// The policy every console answer carries. `connect-src 'self'` keeps the signed calls on this
/// origin; `frame-ancestors 'none'` stops another site from framing the page to steal clicks.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
    connect-src 'self'; font-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'";

/// `GET /console`: the console lives under the slash, so its relative links resolve.
pub async fn redirect() -> Redirect {
    Redirect::permanent(PREFIX)
}

/// `GET /console/`: the page.
pub async fn index(headers: HeaderMap) -> Response {
    serve("index.html", &headers)
}

/// `GET /console/{file}`: a script, the style sheet or the icon.
pub async fn file(Path(name): Path<String>, headers: HeaderMap) -> Response {
    serve(&name, &headers)
}

fn serve(name: &str, headers: &HeaderMap) -> Response {
    let Some((i, asset)) = ASSETS.iter().enumerate().find(|(_, a)| a.name == name) else {
        return (StatusCode::NOT_FOUND, security_headers(), "no such console file").into_response();
    };
    let etag = &etags()[i];
    // Revalidated on every load (`no-cache`), answered with 304 while unchanged: a new binary
    // is picked up at once, an unchanged one costs no transfer.
    if headers.get(header::IF_NONE_MATCH).is_some_and(|v| v.as_bytes() == etag.as_bytes()) {
        return (StatusCode::NOT_MODIFIED, security_headers(), [(header::ETAG, etag.clone())]).into_response();
    }
    (
        security_headers(),
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(asset.content_type)),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
            (header::ETAG, etag.clone()),
        ],
        asset.body,
    )
        .into_response()
}

/// The headers of every console answer.
fn security_headers() -> [(header::HeaderName, HeaderValue); 4] {
    [
        (header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP)),
        (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
        (header::REFERRER_POLICY, HeaderValue::from_static("no-referrer")),
        (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
    ]
}

/// Each asset's entity tag, a hash of its bytes, computed once.
fn etags() -> &'static [HeaderValue] {
    static TAGS: OnceLock<Vec<HeaderValue>> = OnceLock::new();
    TAGS.get_or_init(|| {
        ASSETS
            .iter()
            .map(|a| {
                let digest = Sha256::digest(a.body);
                HeaderValue::from_str(&format!("\"{}\"", hex::encode(&digest[..12]))).expect("hex is a valid header")
            })
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_script_the_page_imports_is_served() {
        // A module imported by another but missing from the table would fail only in a browser;
        // this finds it at `cargo test`.
        let names: Vec<&str> = ASSETS.iter().map(|a| a.name).collect();
        for asset in ASSETS.iter().filter(|a| a.name.ends_with(".js") || a.name.ends_with(".html")) {
            let text = std::str::from_utf8(asset.body).expect("console files are UTF-8");
            for quote in ["\"./", "'./"] {
                for part in text.split(quote).skip(1) {
                    let target = part.split(['"', '\'']).next().unwrap_or_default();
                    assert!(names.contains(&target), "{} refers to {target:?}, which is not served", asset.name);
                }
            }
        }
    }

    #[test]
    fn an_unchanged_file_is_answered_not_modified() {
        let first = serve("app.js", &HeaderMap::new());
        assert_eq!(first.status(), StatusCode::OK);
        let tag = first.headers().get(header::ETAG).unwrap().clone();
        let mut h = HeaderMap::new();
        h.insert(header::IF_NONE_MATCH, tag);
        assert_eq!(serve("app.js", &h).status(), StatusCode::NOT_MODIFIED);
        assert_eq!(serve("../Cargo.toml", &HeaderMap::new()).status(), StatusCode::NOT_FOUND);
    }
}
