//! Server-side verification of a received request against its `Authorization` header.

use std::time::SystemTime;

use subtle::ConstantTimeEq;

use crate::canonical::{canonical_request, header_text, string_to_sign};
use crate::date::{parse_sdk_date, unix_seconds};
use crate::digest::hmac_sha256;
use crate::{AuthError, Authorization, RequestParts, DATE_HEADER};

/// Allowed distance between `X-Sdk-Date` and the server clock, in either direction, as the
/// API gateway enforces it.
const MAX_SKEW_SECS: u64 = 15 * 60;

/// Checks the signature (constant-time compare) and that X-Sdk-Date is within 15 minutes of `now`.
///
/// The caller has already parsed `auth` and looked up `sk` for `auth.access`.
pub fn verify(parts: &RequestParts<'_>, auth: &Authorization, sk: &str, now: SystemTime) -> Result<(), AuthError> {
    let date_value = parts.headers.get(DATE_HEADER).ok_or(AuthError::MissingDate)?;
    let date = header_text(date_value);
    let date = date.trim();
    let signed_at = parse_sdk_date(date).ok_or(AuthError::MalformedDate)?;
    // Checked before any hashing: it is the cheapest rejection and bounds replay.
    if unix_seconds(now).abs_diff(signed_at) > MAX_SKEW_SECS {
        return Err(AuthError::DateOutOfWindow);
    }

    let canonical = canonical_request(parts, &auth.signed_headers)?;
    let expected = hmac_sha256(sk.as_bytes(), string_to_sign(date, &canonical).as_bytes());
    // Comparing decoded bytes accepts either hex case; a length mismatch compares unequal.
    let provided = hex::decode(&auth.signature).map_err(|_| AuthError::SignatureMismatch)?;
    if bool::from(expected.as_slice().ct_eq(&provided)) {
        Ok(())
    } else {
        Err(AuthError::SignatureMismatch)
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use http::HeaderValue;

    use super::*;
    use crate::parse_authorization;
    use crate::test_vectors::{Vector, AK, ALL, SK, V1, V2, V3, V4, VECTOR_UNIX};

    fn at(offset_secs: i64) -> SystemTime {
        let base = UNIX_EPOCH + Duration::from_secs(VECTOR_UNIX);
        if offset_secs >= 0 {
            base + Duration::from_secs(offset_secs as u64)
        } else {
            base - Duration::from_secs(offset_secs.unsigned_abs())
        }
    }

    fn check(v: &Vector, headers: &http::HeaderMap, sk: &str, now: SystemTime) -> Result<(), AuthError> {
        let auth = parse_authorization(&v.authorization())?;
        verify(&v.parts(headers), &auth, sk, now)
    }

    #[test]
    fn vectors_verify_at_the_signing_time() {
        for v in ALL {
            let auth = parse_authorization(&v.authorization()).unwrap();
            assert_eq!(auth.access, AK);
            assert_eq!(check(v, &v.header_map(), SK, at(0)), Ok(()), "{}", v.name);
        }
    }

    #[test]
    fn vectors_fail_outside_the_window() {
        for v in ALL {
            let headers = v.header_map();
            for offset in [16 * 60, -16 * 60] {
                assert_eq!(
                    check(v, &headers, SK, at(offset)),
                    Err(AuthError::DateOutOfWindow),
                    "{} at {offset}s",
                    v.name
                );
            }
        }
    }

    #[test]
    fn window_edges_are_inclusive() {
        let headers = V2.header_map();
        assert_eq!(check(&V2, &headers, SK, at(15 * 60)), Ok(()));
        assert_eq!(check(&V2, &headers, SK, at(-15 * 60)), Ok(()));
        assert_eq!(check(&V2, &headers, SK, at(15 * 60 + 1)), Err(AuthError::DateOutOfWindow));
        assert_eq!(check(&V2, &headers, SK, at(-15 * 60 - 1)), Err(AuthError::DateOutOfWindow));
    }

    #[test]
    fn tampered_body_fails() {
        let headers = V1.header_map();
        let tampered = V1.body.to_vec().into_iter().map(|b| if b == b'b' { b'c' } else { b }).collect::<Vec<_>>();
        assert_ne!(tampered, V1.body);
        let auth = parse_authorization(&V1.authorization()).unwrap();
        let parts = RequestParts { body: &tampered, ..V1.parts(&headers) };
        assert_eq!(verify(&parts, &auth, SK, at(0)), Err(AuthError::SignatureMismatch));
        // An empty body where one was signed is tampering too.
        let parts = RequestParts { body: b"", ..V1.parts(&headers) };
        assert_eq!(verify(&parts, &auth, SK, at(0)), Err(AuthError::SignatureMismatch));
    }

    #[test]
    fn tampered_signed_header_fails() {
        for (v, name) in [(&V1, "x-project-id"), (&V3, "host"), (&V4, "x-security-token")] {
            let mut headers = v.header_map();
            headers.insert(name, HeaderValue::from_static("tampered"));
            assert_eq!(check(v, &headers, SK, at(0)), Err(AuthError::SignatureMismatch), "{} {name}", v.name);
        }
    }

    #[test]
    fn tampered_path_query_or_method_fails() {
        let headers = V3.header_map();
        let auth = parse_authorization(&V3.authorization()).unwrap();
        let base = V3.parts(&headers);
        for parts in [
            RequestParts { method: "POST", ..base },
            RequestParts { path: "/v1/0123456789abcdef0123456789abcdef/cloudservers", ..base },
            RequestParts { query: Some("offset=1&limit=26&name=web%2001%2F%C3%BC~x&status=ACTIVE"), ..base },
            RequestParts { query: None, ..base },
        ] {
            assert_eq!(verify(&parts, &auth, SK, at(0)), Err(AuthError::SignatureMismatch));
        }
    }

    #[test]
    fn unsigned_header_changes_are_ignored() {
        let mut headers = V4.header_map();
        headers.insert("x_custom", HeaderValue::from_static("changed"));
        headers.insert("accept-encoding", HeaderValue::from_static("gzip, deflate"));
        assert_eq!(check(&V4, &headers, SK, at(0)), Ok(()));
    }

    #[test]
    fn wrong_sk_fails() {
        for v in ALL {
            assert_eq!(
                check(v, &v.header_map(), "HWSKEXAMPLE00000000000000000000000000003", at(0)),
                Err(AuthError::SignatureMismatch),
                "{}",
                v.name
            );
        }
    }

    #[test]
    fn missing_signed_header_fails() {
        let mut headers = V1.header_map();
        headers.remove("user-agent");
        assert_eq!(check(&V1, &headers, SK, at(0)), Err(AuthError::MissingSignedHeader("user-agent".into())));
    }

    #[test]
    fn missing_or_malformed_date_fails() {
        let mut headers = V2.header_map();
        headers.remove("x-sdk-date");
        assert_eq!(check(&V2, &headers, SK, at(0)), Err(AuthError::MissingDate));
        headers.insert("x-sdk-date", HeaderValue::from_static("2024-01-01T12:00:00Z"));
        assert_eq!(check(&V2, &headers, SK, at(0)), Err(AuthError::MalformedDate));
    }

    #[test]
    fn signature_mismatch_forms() {
        let headers = V2.header_map();
        let mut auth = parse_authorization(&V2.authorization()).unwrap();
        // Upper-case hex is the same signature.
        auth.signature = V2.signature.to_uppercase();
        assert_eq!(verify(&V2.parts(&headers), &auth, SK, at(0)), Ok(()));
        // A truncated signature or an odd number of digits never matches.
        auth.signature = V2.signature[..62].to_owned();
        assert_eq!(verify(&V2.parts(&headers), &auth, SK, at(0)), Err(AuthError::SignatureMismatch));
        auth.signature = V2.signature[..63].to_owned();
        assert_eq!(verify(&V2.parts(&headers), &auth, SK, at(0)), Err(AuthError::SignatureMismatch));
        // Dropping a header from SignedHeaders changes the canonical request.
        let mut auth = parse_authorization(&V2.authorization()).unwrap();
        auth.signed_headers.retain(|h| h != "user-agent");
        assert_eq!(verify(&V2.parts(&headers), &auth, SK, at(0)), Err(AuthError::SignatureMismatch));
    }

    #[test]
    fn errors_never_reveal_the_secret_or_expected_signature() {
        let mut headers = V1.header_map();
        headers.insert("x-project-id", HeaderValue::from_static("tampered"));
        let err = check(&V1, &headers, SK, at(0)).unwrap_err();
        assert_eq!(err, AuthError::SignatureMismatch);
        let expected = hex::encode(hmac_sha256(
            SK.as_bytes(),
            string_to_sign(V1.date, &canonical_request(&V1.parts(&headers), &V1.signed_headers()).unwrap()).as_bytes(),
        ));
        for text in [err.to_string(), format!("{err:?}"), err.message().to_owned()] {
            assert!(!text.contains(SK));
            assert!(!text.contains(&expected));
        }
    }
}
