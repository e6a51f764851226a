//! User metadata of a server: merge keys in (`POST .../metadata`) and remove one
//! (`DELETE .../metadata/{key}`).
//!
//! `Server.metadata` holds both the keys the image gave the server (`image_name`, `os_type`,
//! ...) and the user's; the keys ecsd itself fills in (`vpc_id`, `charging_mode`, ...) are
//! added when the server is shown. Neither kind can be set or removed through these calls.

use super::server_of;
use crate::caller::Caller;
use crate::context::App;
use ecs_model::server::Server;
use ecs_model::{gates, Error};
use ecs_types::metadata::{MetadataView, UpdateMetadataBody};
use std::collections::BTreeMap;

/// Most user keys one server may carry (the `maxServerMeta` limit, 128 as in Nova's default
/// quota).
pub const MAX_KEYS: usize = 128;
/// Longest key and longest value, in characters.
pub const MAX_LEN: usize = 255;

/// Keys the service owns: derived from the image, or filled in when the server is shown.
pub const SYSTEM_KEYS: [&str; 12] = [
    "image_name",
    "os_type",
    "os_bit",
    "metering.image_id",
    "metering.imagetype",
    "metering.resourcespeccode",
    "metering.resourcetype",
    "vpc_id",
    "charging_mode",
    "virtual_env_type",
    "EcmResStatus",
    "ecsd.access",
];

fn is_system(key: &str) -> bool {
    SYSTEM_KEYS.contains(&key)
}

/// A key: 1–255 letters, digits, `-`, `_`, `:` and `.`, and not one the service owns.
pub fn check_key(key: &str) -> Result<(), Error> {
    let n = key.chars().count();
    if n == 0 || n > MAX_LEN {
        return Err(Error::invalid(format!("metadata key {key:?} must be 1 to {MAX_LEN} characters long.")));
    }
    if let Some(c) = key.chars().find(|&c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | ':' | '.'))) {
        return Err(Error::invalid(format!(
            "metadata key {key:?} contains {c:?}; only letters, digits, '-', '_', ':' and '.' are allowed."
        )));
    }
    if is_system(key) {
        return Err(Error::invalid(format!("metadata key {key:?} is reserved for the system and cannot be changed.")));
    }
    Ok(())
}

/// A value: at most 255 characters.
pub fn check_value(key: &str, value: &str) -> Result<(), Error> {
    if value.chars().count() > MAX_LEN {
        return Err(Error::invalid(format!(
            "the value of metadata key {key:?} must be at most {MAX_LEN} characters long."
        )));
    }
    Ok(())
}

/// The user's keys of a server.
pub fn user_metadata(s: &Server) -> BTreeMap<String, String> {
    s.metadata.iter().filter(|(k, _)| !is_system(k)).map(|(k, v)| (k.clone(), v.clone())).collect()
}

/// `POST /v1/{project_id}/cloudservers/{server_id}/metadata`: adds or changes the keys given
/// and answers every user key of the server afterwards. An empty `metadata` changes nothing.
pub async fn update(app: &App, caller: &Caller, id: &str, body: UpdateMetadataBody) -> Result<MetadataView, Error> {
    let meta = body.metadata.ok_or_else(|| Error::invalid("request body is illegal: metadata is required."))?;
    for (k, v) in &meta {
        check_key(k)?;
        check_value(k, v)?;
    }
    if meta.is_empty() {
        let row = server_of(app, &caller.project_id, id).await?;
        return Ok(MetadataView { metadata: user_metadata(&row.server) });
    }
    let gate = |s: &Server| {
        gates::update_allowed(s)?;
        let mut after = user_metadata(s);
        after.extend(meta.clone());
        if after.len() > MAX_KEYS {
            return Err(Error::invalid(format!(
                "server {} would have {} metadata keys; at most {MAX_KEYS} are allowed.",
                s.id,
                after.len()
            )));
        }
        Ok(())
    };
    let s = super::update_gated(app, &caller.project_id, id, gate, |s| s.metadata.extend(meta.clone())).await?;
    Ok(MetadataView { metadata: user_metadata(&s) })
}

/// `DELETE /v1/{project_id}/cloudservers/{server_id}/metadata/{key}`: a key the server does not
/// have, or one the service owns, is refused.
pub async fn delete(app: &App, caller: &Caller, id: &str, key: &str) -> Result<(), Error> {
    if is_system(key) {
        return Err(Error::invalid(format!("metadata key {key:?} is reserved for the system and cannot be deleted.")));
    }
    let gate = |s: &Server| {
        gates::update_allowed(s)?;
        if !s.metadata.contains_key(key) {
            return Err(Error::invalid(format!("server {} has no metadata key {key:?}.", s.id)));
        }
        Ok(())
    };
    super::update_gated(app, &caller.project_id, id, gate, |s| {
        s.metadata.remove(key);
    })
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_and_value_rules() {
        assert!(check_key("app:tier.v-1_a").is_ok());
        assert!(check_key("__support_agent_list").is_ok());
        assert!(check_key("").is_err());
        assert!(check_key(&"k".repeat(256)).is_err());
        assert!(check_key("a b").is_err());
        assert!(check_key("image_name").is_err());
        assert!(check_value("k", &"v".repeat(255)).is_ok());
        assert!(check_value("k", &"v".repeat(256)).is_err());
    }
}
