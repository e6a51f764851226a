//! Query-string parameters, read with Huawei-shaped errors (`Ecs.0005` naming the parameter).
//!
//! They are the application's input as much as a request body is, so they are read here rather
//! than in the HTTP layer, which only hands over the decoded pairs.

use ecs_model::Error;

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
