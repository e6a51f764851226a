//! The canonical request and string to sign, rebuilt identically on both sides of the wire.

use std::borrow::Cow;

use http::header::GetAll;
use http::{HeaderMap, HeaderValue};
use percent_encoding::{percent_decode, percent_encode, AsciiSet, NON_ALPHANUMERIC};

use crate::digest::sha256_hex;
use crate::{AuthError, RequestParts, ALGORITHM, CONTENT_SHA256_HEADER};

/// Everything except `A-Z a-z 0-9 - _ . ~` is escaped, matching Python's `quote(s, safe='~')`.
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

/// Builds the canonical request for the headers named in `signed_headers`, in that order.
///
/// Fails with [`AuthError::MissingSignedHeader`] if one of them is absent from `parts.headers`.
pub fn canonical_request(parts: &RequestParts<'_>, signed_headers: &[String]) -> Result<String, AuthError> {
    let mut header_block = String::new();
    for name in signed_headers {
        let values = parts.headers.get_all(name.as_str());
        if values.iter().next().is_none() {
            return Err(AuthError::MissingSignedHeader(name.clone()));
        }
        push_header_line(&mut header_block, name, values);
    }
    Ok(assemble(parts, &header_block, &signed_headers.join(";")))
}

/// `"SDK-HMAC-SHA256\n" + date + "\n" + hex(sha256(canonical_request))`.
pub fn string_to_sign(sdk_date: &str, canonical_request: &str) -> String {
    format!("{ALGORITHM}\n{sdk_date}\n{}", sha256_hex(canonical_request.as_bytes()))
}

/// Appends `name:value\n` for one signed header.
///
/// A name repeated on the wire is folded into one comma-separated value, which is how HTTP
/// defines combining repeated fields; the SDKs never send duplicates of a header they sign.
pub(crate) fn push_header_line(block: &mut String, name: &str, values: GetAll<'_, HeaderValue>) {
    block.push_str(name);
    block.push(':');
    for (i, value) in values.iter().enumerate() {
        if i > 0 {
            block.push(',');
        }
        block.push_str(header_text(value).trim());
    }
    block.push('\n');
}

/// Joins the pieces once the header block is known; shared by the verifier (which looks headers
/// up by the client's list) and the signer (which walks the map).
pub(crate) fn assemble(parts: &RequestParts<'_>, header_block: &str, signed_line: &str) -> String {
    format!(
        "{}\n{}\n{}\n{}\n{}\n{}",
        parts.method,
        canonical_uri(parts.path),
        canonical_query(parts.query),
        header_block,
        signed_line,
        payload_hash(parts.headers, parts.body),
    )
}

/// Header text as the client most likely had it before sending.
///
/// UTF-8 is tried first (Go and Node send strings as UTF-8 bytes); anything else is read as
/// Latin-1, because Python's `requests` encodes header strings that way, so the Latin-1 reading
/// recovers the exact string the Python signer hashed.
pub(crate) fn header_text(value: &HeaderValue) -> Cow<'_, str> {
    match std::str::from_utf8(value.as_bytes()) {
        Ok(s) => Cow::Borrowed(s),
        Err(_) => Cow::Owned(value.as_bytes().iter().map(|&b| char::from(b)).collect()),
    }
}

/// Decode, split on `/`, re-encode each segment, and force a trailing `/`.
///
/// Decoding first means an encoded `%2F` becomes a separator, as in the Python SDK (which
/// unquotes before splitting). Work stays on bytes so invalid UTF-8 cannot make this fail.
fn canonical_uri(raw_path: &str) -> String {
    let decoded: Vec<u8> = percent_decode(raw_path.as_bytes()).collect();
    let mut uri = decoded
        .split(|&b| b == b'/')
        .map(|segment| percent_encode(segment, UNRESERVED).to_string())
        .collect::<Vec<_>>()
        .join("/");
    if !uri.ends_with('/') {
        uri.push('/');
    }
    uri
}

/// Decode the pairs, sort by key then value, and re-encode both with the unreserved set.
///
/// `+` is decoded as a space, like the `parse_qsl` the reference verifier used: form-style
/// encoders put `+` for spaces on the wire while signing `%20`, and every SDK escapes a literal
/// plus as `%2B`. Empty `&&` segments are dropped, as `parse_qsl` and Go's `ParseQuery` do.
fn canonical_query(raw_query: Option<&str>) -> String {
    let mut pairs: Vec<(Vec<u8>, Vec<u8>)> = raw_query
        .unwrap_or("")
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (query_decode(key), query_decode(value))
        })
        .collect();
    // Byte order on UTF-8 equals the code-point order Python sorts strings by.
    pairs.sort();
    pairs
        .iter()
        .map(|(key, value)| format!("{}={}", percent_encode(key, UNRESERVED), percent_encode(value, UNRESERVED)))
        .collect::<Vec<_>>()
        .join("&")
}

fn query_decode(s: &str) -> Vec<u8> {
    let plus_as_space: Vec<u8> = s.bytes().map(|b| if b == b'+' { b' ' } else { b }).collect();
    percent_decode(&plus_as_space).collect()
}

/// The `X-Sdk-Content-Sha256` header if present (e.g. `UNSIGNED-PAYLOAD`), else the body hash.
fn payload_hash(headers: &HeaderMap, body: &[u8]) -> String {
    // The SDK signs the hash of the empty body when there is none, even when it also sends
    // `X-Sdk-Content-Sha256: UNSIGNED-PAYLOAD` (a non-JSON Content-Type); the header only
    // replaces the hash of a body that exists.
    if body.is_empty() {
        return sha256_hex(body);
    }
    match headers.get(CONTENT_SHA256_HEADER) {
        Some(value) => header_text(value).trim().to_owned(),
        None => sha256_hex(body),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_vectors::{Vector, ALL};

    #[test]
    fn an_unsigned_payload_header_only_replaces_the_hash_of_a_real_body() {
        let mut h = HeaderMap::new();
        h.insert(CONTENT_SHA256_HEADER, http::HeaderValue::from_static("UNSIGNED-PAYLOAD"));
        assert_eq!(payload_hash(&h, b""), sha256_hex(b""));
        assert_eq!(payload_hash(&h, b"abc"), "UNSIGNED-PAYLOAD");
        assert_eq!(payload_hash(&HeaderMap::new(), b"abc"), sha256_hex(b"abc"));
    }

    #[test]
    fn vectors_canonical_request_hash_and_string_to_sign() {
        for v in ALL {
            let headers = v.header_map();
            let cr = canonical_request(&v.parts(&headers), &v.signed_headers()).unwrap();
            assert_eq!(cr, v.canonical_request, "{}", v.name);
            assert_eq!(sha256_hex(cr.as_bytes()), v.canonical_hash, "{}", v.name);
            assert_eq!(
                string_to_sign(v.date, &cr),
                format!("SDK-HMAC-SHA256\n20240101T120000Z\n{}", v.canonical_hash),
                "{}",
                v.name
            );
        }
    }

    #[test]
    fn v1_body_hash_and_uri() {
        let v = &crate::test_vectors::V1;
        assert_eq!(sha256_hex(v.body), "f89ecd695c6d704b5d77045dd7b0ee456fe46b1c643acbff1ef4a96a0bf7bf66");
        assert_eq!(
            canonical_uri(v.path),
            "/v1/0123456789abcdef0123456789abcdef/cloudservers/e6b99563-0000-4000-8000-1820d4fd2a67/reinstallos/"
        );
    }

    #[test]
    fn v3_query_is_sorted_and_reencoded() {
        let expected = "limit=25&name=web%2001%2F%C3%BC~x&offset=1&status=ACTIVE";
        // The SDK's wire form, in the caller's (unsorted) order.
        assert_eq!(canonical_query(Some("offset=1&limit=25&name=web%2001%2F%C3%BC~x&status=ACTIVE")), expected);
        // Other legal spellings of the same values: lower-case escapes, `+` for space, an
        // escaped tilde, an unescaped slash.
        assert_eq!(canonical_query(Some("status=ACTIVE&name=web+01/%c3%bc%7Ex&offset=1&limit=25")), expected);
    }

    #[test]
    fn query_edge_cases() {
        assert_eq!(canonical_query(None), "");
        assert_eq!(canonical_query(Some("")), "");
        // A bare key gets an empty value; repeated keys sort by value; empty segments vanish.
        assert_eq!(canonical_query(Some("b=2&&a&b=1&c=")), "a=&b=1&b=2&c=");
        // Sorting is on decoded keys: `%41` is `A`, which sorts before `B`.
        assert_eq!(canonical_query(Some("B=1&%41=2")), "A=2&B=1");
        // A literal plus must arrive as %2B to mean plus.
        assert_eq!(canonical_query(Some("q=a%2Bb")), "q=a%2Bb");
        // `=` inside a value is kept and escaped.
        assert_eq!(canonical_query(Some("q=a=b")), "q=a%3Db");
    }

    #[test]
    fn uri_edge_cases() {
        assert_eq!(canonical_uri(""), "/");
        assert_eq!(canonical_uri("/"), "/");
        assert_eq!(canonical_uri("/a/b/"), "/a/b/");
        assert_eq!(canonical_uri("/v2.1/p/os-keypairs/my%20key"), "/v2.1/p/os-keypairs/my%20key/");
        // Unescaped characters outside the unreserved set get escaped; needless escapes go.
        assert_eq!(canonical_uri("/v1/{project_id}/x"), "/v1/%7Bproject_id%7D/x/");
        assert_eq!(canonical_uri("/%7e%41b"), "/~Ab/");
        // An encoded slash is a separator once decoded.
        assert_eq!(canonical_uri("/a%2Fb"), "/a/b/");
        // Invalid escapes and non-UTF-8 bytes pass through byte-for-byte.
        assert_eq!(canonical_uri("/100%/%FF"), "/100%25/%FF/");
    }

    #[test]
    fn content_sha256_header_replaces_the_body_hash() {
        let mut headers = HeaderMap::new();
        headers.insert("host", HeaderValue::from_static("h"));
        headers.insert(CONTENT_SHA256_HEADER, HeaderValue::from_static("UNSIGNED-PAYLOAD"));
        let parts = RequestParts { method: "PUT", path: "/x", query: None, headers: &headers, body: b"anything" };
        let cr = canonical_request(&parts, &["host".to_owned()]).unwrap();
        assert_eq!(cr, "PUT\n/x/\n\nhost:h\n\nhost\nUNSIGNED-PAYLOAD");
    }

    #[test]
    fn header_values_are_trimmed_but_inner_space_kept() {
        let mut headers = HeaderMap::new();
        headers.insert("x-a", HeaderValue::from_static("  two  words \t"));
        headers.append("x-b", HeaderValue::from_static("1"));
        headers.append("x-b", HeaderValue::from_static(" 2"));
        let parts = RequestParts { method: "GET", path: "/", query: None, headers: &headers, body: b"" };
        let cr = canonical_request(&parts, &["x-a".to_owned(), "x-b".to_owned()]).unwrap();
        let block: Vec<&str> = cr.lines().skip(3).take(2).collect();
        assert_eq!(block, ["x-a:two  words", "x-b:1,2"]);
    }

    #[test]
    fn non_utf8_header_is_read_as_latin1() {
        let value = HeaderValue::from_bytes(b"caf\xe9").unwrap();
        assert_eq!(header_text(&value), "café");
        let utf8 = HeaderValue::from_bytes("café".as_bytes()).unwrap();
        assert_eq!(header_text(&utf8), "café");
    }

    #[test]
    fn absent_signed_header_is_reported_by_name() {
        let v: &Vector = &crate::test_vectors::V2;
        let mut headers = v.header_map();
        headers.remove("x-project-id");
        assert_eq!(
            canonical_request(&v.parts(&headers), &v.signed_headers()),
            Err(AuthError::MissingSignedHeader("x-project-id".into()))
        );
        // A name that is not even a valid header name cannot be present.
        assert_eq!(
            canonical_request(&v.parts(&headers), &["bad name".to_owned()]),
            Err(AuthError::MissingSignedHeader("bad name".into()))
        );
    }
}
