//! Client-side signing, used by our own tests and load generator.

use crate::canonical::{assemble, header_text, push_header_line, string_to_sign};
use crate::digest::hmac_sha256;
use crate::{Authorization, RequestParts, DATE_HEADER};

/// Client side: returns the full `Authorization` header value.
///
/// The caller has already put `Host` and `X-Sdk-Date` (and whatever else) into `parts.headers`.
/// Every header in the map whose name has no `_` is signed, sorted, exactly as the Python SDK
/// does; the underscore rule exists because many proxies drop such headers. Headers a transport
/// adds afterwards (`Accept`, `Content-Length`, ...) are therefore unsigned, which is harmless.
///
/// Without an `X-Sdk-Date` header the date in the string to sign is empty and any verifier will
/// reject the request with [`crate::AuthError::MissingDate`].
pub fn sign(parts: &RequestParts<'_>, ak: &str, sk: &str) -> String {
    // HeaderMap names are already lower case; `keys()` yields each name once.
    let mut names: Vec<&str> =
        parts.headers.keys().map(|name| name.as_str()).filter(|name| !name.contains('_')).collect();
    names.sort_unstable();

    let mut header_block = String::new();
    for name in &names {
        push_header_line(&mut header_block, name, parts.headers.get_all(*name));
    }
    let canonical = assemble(parts, &header_block, &names.join(";"));

    let date = parts.headers.get(DATE_HEADER).map(header_text).unwrap_or_default();
    let to_sign = string_to_sign(date.trim(), &canonical);
    let signature = hmac_sha256(sk.as_bytes(), to_sign.as_bytes());

    Authorization {
        access: ak.to_owned(),
        signed_headers: names.into_iter().map(str::to_owned).collect(),
        signature: hex::encode(signature),
    }
    .to_string()
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use http::{HeaderMap, HeaderValue};

    use super::*;
    use crate::test_vectors::{AK, ALL, SK, V4};
    use crate::{parse_authorization, sdk_date, verify, AuthError};

    #[test]
    fn reproduces_the_sdk_authorization_for_every_vector() {
        for v in ALL {
            let headers = v.header_map();
            assert_eq!(sign(&v.parts(&headers), AK, SK), v.authorization(), "{}", v.name);
        }
    }

    #[test]
    fn skips_headers_with_underscores() {
        let headers = V4.header_map();
        assert!(headers.contains_key("x_custom"));
        let auth = parse_authorization(&sign(&V4.parts(&headers), AK, SK)).unwrap();
        assert!(!auth.signed_headers.iter().any(|h| h.contains('_')));
        assert_eq!(auth.signed_headers, V4.signed_headers());
        // Changing the unsigned header must not change the signature.
        let mut changed = headers.clone();
        changed.insert("x_custom", HeaderValue::from_static("different"));
        assert_eq!(sign(&V4.parts(&changed), AK, SK), sign(&V4.parts(&headers), AK, SK));
    }

    #[test]
    fn round_trips_with_verify() {
        let now = UNIX_EPOCH + Duration::from_secs(1_750_000_000);
        let mut headers = HeaderMap::new();
        headers.insert("host", HeaderValue::from_static("localhost:9000"));
        headers.insert("x-sdk-date", HeaderValue::from_str(&sdk_date(now)).unwrap());
        headers.insert("content-type", HeaderValue::from_static("application/json;charset=utf-8"));
        headers.insert("x-project-id", HeaderValue::from_static("p"));
        let body = br#"{"os-change": {"imageid": "abc"}}"#;
        let parts = RequestParts {
            method: "POST",
            path: "/v2/p/cloudservers/s%C3%BC/changeos",
            query: Some("b=2&a=%E2%9C%93"),
            headers: &headers,
            body,
        };
        let header = sign(&parts, "MYAK", "my secret");
        let auth = parse_authorization(&header).unwrap();
        assert_eq!(auth.access, "MYAK");
        assert_eq!(auth.signed_headers, ["content-type", "host", "x-project-id", "x-sdk-date"]);
        assert_eq!(verify(&parts, &auth, "my secret", now), Ok(()));
        assert_eq!(verify(&parts, &auth, "other secret", now), Err(AuthError::SignatureMismatch));

        // Headers a transport adds after signing do not disturb verification.
        let mut on_the_wire = headers.clone();
        on_the_wire.insert("accept", HeaderValue::from_static("*/*"));
        on_the_wire.insert("content-length", HeaderValue::from_static("33"));
        on_the_wire.insert("authorization", HeaderValue::from_str(&header).unwrap());
        let received = RequestParts { headers: &on_the_wire, ..parts };
        assert_eq!(verify(&received, &auth, "my secret", now), Ok(()));
    }
}
