//! Request bodies and query strings, parsed with Huawei-shaped errors instead of the
//! framework's plain-text rejections.

use ecs_model::Error;
use ecs_types::Code;
use serde::de::DeserializeOwned;

/// Parses a JSON body: an empty body is `Common.0002`, anything unparsable `Ecs.0005` with
/// the parser's explanation (position and expected type).
pub fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, Error> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(Error::code(Code::Common0002));
    }
    serde_json::from_slice(body).map_err(|e| Error::invalid(format!("request body is illegal: {e}.")))
}

/// Like [`parse`], but rejected with Nova's `badRequest` shape (for the `/v2.1` APIs).
pub fn parse_nova<T: DeserializeOwned>(body: &[u8]) -> Result<T, Error> {
    parse(body).map_err(|e| Error::new(Code::NovaBadRequest, e.message))
}

/// The pairs of a raw query string, decoded.
pub fn query_pairs(raw: Option<&str>) -> Vec<(String, String)> {
    raw.and_then(|q| serde_urlencoded::from_str::<Vec<(String, String)>>(q).ok()).unwrap_or_default()
}

/// The last value of a query parameter.
pub fn param<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

/// A non-negative integer query parameter; `Ecs.0005` naming the parameter when malformed.
pub fn int_param(pairs: &[(String, String)], key: &str) -> Result<Option<usize>, Error> {
    match param(pairs, key) {
        None | Some("") => Ok(None),
        Some(v) => v.parse::<usize>().map(Some).map_err(|_| {
            Error::invalid(format!("Invalid query parameter {key}: {v:?} is not a non-negative integer."))
        }),
    }
}
