//! Fuzz target: `SDK-HMAC-SHA256` request signatures (parsing, canonicalisation, signing and
//! verification).
//!
//! The input is read as a raw HTTP/1.1 request so that real requests make useful seeds: a
//! request line `METHOD TARGET [VERSION]`, `Name: value` header lines (lines that are not valid
//! headers are skipped), an empty line, then the body. The secret key is taken from an
//! `x_fuzz_sk` header if there is one (the underscore keeps it out of every signature).
//!
//! Invariants checked:
//! - nothing panics;
//! - `parse_authorization` accepts its own `Display` output and yields the same value;
//! - canonicalisation is deterministic;
//! - a request signed with `sign` never fails `verify` on anything but its date, and verifies
//!   once it carries a valid `X-Sdk-Date` and the clock is within the allowed skew.

#![no_main]

use std::borrow::Cow;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ecs_auth::{canonical_request, parse_authorization, sdk_date, sign, verify, AuthError, RequestParts, DATE_HEADER};
use http::{HeaderMap, HeaderName, HeaderValue};
use libfuzzer_sys::fuzz_target;

const DEFAULT_AK: &str = "HWAKEXAMPLE0000000001";
const DEFAULT_SK: &str = "HWSKEXAMPLE00000000000000000000000000002";
const SECRET_HEADER: &str = "x_fuzz_sk";
/// 2024-01-01T12:00:00Z, the signing time of the spec's test vectors: signed seeds verify then.
const VECTOR_UNIX: i64 = 1_704_110_400;
/// 0000-01-01T00:00:00Z ..= 9999-12-31T23:59:59Z, the times a four-digit year can express.
const MIN_SECS: i64 = -62_167_219_200;
const MAX_SECS: i64 = 253_402_300_799;
/// The verifier's allowed clock skew, in seconds.
const MAX_SKEW: i64 = 15 * 60;

struct Request {
    method: String,
    path: String,
    query: Option<String>,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Request {
    fn parts<'a>(&'a self, headers: &'a HeaderMap) -> RequestParts<'a> {
        RequestParts { method: &self.method, path: &self.path, query: self.query.as_deref(), headers, body: &self.body }
    }
}

fuzz_target!(|data: &[u8]| {
    let request = parse_request(data);
    let headers = &request.headers;
    let parts = request.parts(headers);
    let sk = headers.get(SECRET_HEADER).map(text).unwrap_or(Cow::Borrowed(DEFAULT_SK));
    let seed = fnv1a(data);

    // Canonicalisation over every header present never misses one and is deterministic.
    let all_names: Vec<String> = headers.keys().map(|name| name.as_str().to_owned()).collect();
    let canonical = canonical_request(&parts, &all_names).expect("every listed header is present");
    assert_eq!(Ok(canonical), canonical_request(&parts, &all_names), "canonical request is not deterministic");

    // Whatever Authorization the input carries: parse, canonicalise, verify.
    let mut ak = Cow::Borrowed(DEFAULT_AK);
    if let Some(value) = headers.get(http::header::AUTHORIZATION) {
        if let Ok(auth) = parse_authorization(&text(value)) {
            assert_eq!(parse_authorization(&auth.to_string()), Ok(auth.clone()), "Display does not round-trip");
            let first = canonical_request(&parts, &auth.signed_headers);
            assert_eq!(
                first,
                canonical_request(&parts, &auth.signed_headers),
                "canonical request is not deterministic"
            );
            let now = at(VECTOR_UNIX);
            let verdict = verify(&parts, &auth, &sk, now);
            assert_eq!(verdict, verify(&parts, &auth, &sk, now), "verify is not deterministic");
            ak = Cow::Owned(auth.access);
        }
    }

    // Sign the request as it is: whatever its date header says, only the date may fail.
    let signable = headers.keys().any(|name| !name.as_str().contains('_'));
    let header = sign(&parts, &ak, &sk);
    assert_eq!(header, sign(&parts, &ak, &sk), "sign is not deterministic");
    match parse_authorization(&header) {
        Ok(auth) => {
            assert!(signable);
            assert_eq!(auth.access, ak);
            match verify(&parts, &auth, &sk, at(VECTOR_UNIX)) {
                Ok(()) | Err(AuthError::MissingDate | AuthError::MalformedDate | AuthError::DateOutOfWindow) => {}
                Err(other) => panic!("a freshly signed request failed verification: {other:?}\n{header}"),
            }
        }
        // Only a request without a single signable header yields an empty SignedHeaders.
        Err(err) => assert!(!signable, "sign produced an unparseable header ({err:?}): {header}"),
    }

    // With a valid X-Sdk-Date and a clock within the skew, the signed request verifies.
    let signed_at = MIN_SECS + (seed % (MAX_SECS - MIN_SECS + 1) as u64) as i64;
    let skew = ((seed >> 40) % (2 * MAX_SKEW as u64 + 1)) as i64 - MAX_SKEW;
    let mut dated = headers.clone();
    let date = sdk_date(at(signed_at));
    dated.insert(DATE_HEADER, HeaderValue::from_str(&date).expect("an SDK date is a valid header value"));
    let parts = request.parts(&dated);
    let header = sign(&parts, &ak, &sk);
    let auth = parse_authorization(&header).unwrap_or_else(|err| panic!("{err:?}: {header}"));
    assert_eq!(
        verify(&parts, &auth, &sk, at(signed_at + skew)),
        Ok(()),
        "signed at {date}, verified {skew}s later\n{header}"
    );
});

/// Splits the input into request line, headers and body, keeping whatever is well-formed.
fn parse_request(data: &[u8]) -> Request {
    let (head, body) = split_head(data);
    let mut lines = head.split(|&b| b == b'\n').map(|line| line.strip_suffix(b"\r").unwrap_or(line));

    let request_line = String::from_utf8_lossy(lines.next().unwrap_or_default()).into_owned();
    let mut words = request_line.split(' ');
    let method = words.next().unwrap_or_default().to_owned();
    let target = words.next().unwrap_or_default();
    let (path, query) = match target.split_once('?') {
        Some((path, query)) => (path.to_owned(), Some(query.to_owned())),
        None => (target.to_owned(), None),
    };

    let mut headers = HeaderMap::new();
    for line in lines {
        let Some(colon) = line.iter().position(|&b| b == b':') else { continue };
        let value = &line[colon + 1..];
        let value = &value[value.iter().take_while(|&&b| b == b' ' || b == b'\t').count()..];
        if let (Ok(name), Ok(value)) = (HeaderName::from_bytes(&line[..colon]), HeaderValue::from_bytes(value)) {
            headers.append(name, value);
        }
    }
    Request { method, path, query, headers, body: body.to_vec() }
}

/// Head and body around the first empty line (`\n\n` or `\n\r\n`); no empty line, no body.
fn split_head(data: &[u8]) -> (&[u8], &[u8]) {
    for i in 0..data.len() {
        if data[i] != b'\n' {
            continue;
        }
        if data[i + 1..].starts_with(b"\n") {
            return (&data[..i], &data[i + 2..]);
        }
        if data[i + 1..].starts_with(b"\r\n") {
            return (&data[..i], &data[i + 3..]);
        }
    }
    (data, &[])
}

/// A header value as text: UTF-8 if it is, else Latin-1.
fn text(value: &HeaderValue) -> Cow<'_, str> {
    match std::str::from_utf8(value.as_bytes()) {
        Ok(s) => Cow::Borrowed(s),
        Err(_) => Cow::Owned(value.as_bytes().iter().map(|&b| char::from(b)).collect()),
    }
}

fn at(unix: i64) -> SystemTime {
    if unix >= 0 {
        UNIX_EPOCH + Duration::from_secs(unix.unsigned_abs())
    } else {
        UNIX_EPOCH - Duration::from_secs(unix.unsigned_abs())
    }
}

/// FNV-1a: a cheap, stable way to derive the signing time and clock skew from the input.
fn fnv1a(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}
