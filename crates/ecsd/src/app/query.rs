//! Query strings, read into their typed form (`ecs_types::queries`) with Huawei-shaped errors
//! (`Ecs.0005` naming the parameter).
//!
//! They are the application's input as much as a request body is, so they are read here rather
//! than in the HTTP layer, which only hands over the decoded pairs.

use ecs_model::Error;

/// The pairs of a raw query string, decoded.
pub fn query_pairs(raw: Option<&str>) -> Vec<(String, String)> {
    raw.and_then(|q| serde_urlencoded::from_str::<Vec<(String, String)>>(q).ok()).unwrap_or_default()
}

/// Reads the decoded pairs of a query string into its typed form (`ecs_types::queries`); the
/// last of a repeated parameter counts, and a malformed value is `Ecs.0005` naming it.
pub fn typed<T: serde::de::DeserializeOwned>(pairs: &[(String, String)]) -> Result<T, Error> {
    let map: serde_json::Map<String, serde_json::Value> =
        pairs.iter().map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone()))).collect();
    serde_path_to_error::deserialize(serde_json::Value::Object(map))
        .map_err(|e| Error::invalid(format!("Invalid query parameter {}: {}.", e.path(), e.inner())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ecs_types::queries::{ImageListQuery, ServerListQuery};

    #[test]
    fn the_last_of_a_repeated_parameter_counts_and_empty_numbers_are_absent() {
        let q: ServerListQuery = typed(&query_pairs(Some("limit=5&limit=7&offset=&not-tags=a,b&x=1"))).unwrap();
        assert_eq!((q.limit, q.offset, q.not_tags.as_deref()), (Some(7), None, Some("a,b")));
        let q: ImageListQuery = typed(&query_pairs(Some("__platform=Ubuntu&min_disk=40"))).unwrap();
        assert_eq!((q.platform.as_deref(), q.min_disk), (Some("Ubuntu"), Some(40)));
    }

    #[test]
    fn a_malformed_number_is_refused_naming_its_parameter() {
        let e = typed::<ImageListQuery>(&query_pairs(Some("limit=ten"))).unwrap_err();
        assert_eq!(e.code, ecs_types::Code::Ecs0005);
        assert_eq!(e.message, "Invalid query parameter limit: \"ten\" is not a non-negative integer.");
    }
}
