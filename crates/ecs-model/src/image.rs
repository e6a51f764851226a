//! Images of the catalog: the built-in public images and, later, imported ones.

use serde::{Deserialize, Serialize};

/// An image a server can be built from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Image {
    pub id: String,
    pub name: String,
    /// "Linux" or "Windows" (`__os_type`).
    pub os_type: String,
    /// Distribution family, e.g. "Ubuntu" (`__platform`).
    pub platform: String,
    /// e.g. "Ubuntu 22.04 server 64bit" (`__os_version`).
    pub os_version: String,
    /// "32" or "64" (`__os_bit`).
    pub os_bit: String,
    pub min_disk: i64,
    pub min_ram: i64,
    pub size_bytes: i64,
    /// "active", "queued", "saving", "deleted", "killed".
    pub status: String,
    /// Whether the image runs Cloud-Init (the `/v2` reinstall and change-OS variants need it).
    pub cloud_init: bool,
    /// "gold" (public), "private" or "shared" (`__imagetype`).
    pub image_type: String,
    /// "public" or "private".
    pub visibility: String,
    /// The owning project of a private image; `None` for public ones.
    pub owner: Option<String>,
    pub disk_format: String,
    /// Where the driver finds the image's bytes (real drivers only).
    pub file: Option<String>,
    pub created_ms: i64,
}

/// The public images every fresh ecsd serves. Fixed ids, so scripts and docs can name them.
pub fn builtin_images(now_ms: i64) -> Vec<Image> {
    let img = |id: &str, name: &str, platform: &str, version: &str, cloud_init: bool, min_disk: i64| Image {
        id: id.to_string(),
        name: name.to_string(),
        os_type: "Linux".to_string(),
        platform: platform.to_string(),
        os_version: version.to_string(),
        os_bit: "64".to_string(),
        min_disk,
        min_ram: 0,
        size_bytes: min_disk * 1024 * 1024 * 1024 / 8,
        status: "active".to_string(),
        cloud_init,
        image_type: "gold".to_string(),
        visibility: "public".to_string(),
        owner: None,
        disk_format: "qcow2".to_string(),
        file: None,
        created_ms: now_ms,
    };
    vec![
        img(
            "6a6b4b4e-0e3a-4c38-9b64-1f1b2c3d4e01",
            "Ubuntu 22.04 server 64bit",
            "Ubuntu",
            "Ubuntu 22.04 server 64bit",
            true,
            40,
        ),
        img(
            "6a6b4b4e-0e3a-4c38-9b64-1f1b2c3d4e02",
            "Ubuntu 22.04 server 64bit (no Cloud-Init)",
            "Ubuntu",
            "Ubuntu 22.04 server 64bit",
            false,
            40,
        ),
        img(
            "6a6b4b4e-0e3a-4c38-9b64-1f1b2c3d4e03",
            "Debian 12.0.0 64bit",
            "Debian",
            "Debian GNU/Linux 12.0.0 64bit",
            true,
            40,
        ),
        img(
            "6a6b4b4e-0e3a-4c38-9b64-1f1b2c3d4e04",
            "Debian 12.0.0 64bit (no Cloud-Init)",
            "Debian",
            "Debian GNU/Linux 12.0.0 64bit",
            false,
            40,
        ),
        img("6a6b4b4e-0e3a-4c38-9b64-1f1b2c3d4e05", "CentOS 7.9 64bit", "CentOS", "CentOS 7.9 64bit", true, 40),
        img(
            "6a6b4b4e-0e3a-4c38-9b64-1f1b2c3d4e06",
            "Huawei Cloud EulerOS 2.0 Standard 64 bit",
            "EulerOS",
            "Huawei Cloud EulerOS 2.0 64bit",
            false,
            40,
        ),
    ]
}

/// The image-derived system metadata of a server (set at create, reinstall and change OS).
pub fn image_metadata(m: &mut std::collections::BTreeMap<String, String>, image: &Image) {
    m.insert("image_name".into(), image.name.clone());
    m.insert("os_type".into(), image.os_type.clone());
    m.insert("os_bit".into(), image.os_bit.clone());
    m.insert("metering.image_id".into(), image.id.clone());
    m.insert("metering.imagetype".into(), image.image_type.clone());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_catalog_has_both_kinds_and_unique_ids() {
        let imgs = builtin_images(0);
        assert!(imgs.iter().any(|i| i.cloud_init));
        assert!(imgs.iter().any(|i| !i.cloud_init));
        let mut ids: Vec<_> = imgs.iter().map(|i| i.id.clone()).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), imgs.len());
        assert!(imgs.iter().all(|i| crate::ids::is_uuid(&i.id)));
    }
}
