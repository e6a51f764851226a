//! IMS `GET /v2/cloudimages` (and the Glance-style single image view).
//!
//! IMS encodes almost everything as strings, including booleans such as `__isregistered`.

use serde::Serialize;
use utoipa::ToSchema;

/// `{"images": [...], "page_info": {"next_marker": "..."}}`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ImageList {
    pub images: Vec<ImageInfo>,
    pub page_info: PageInfo,
}

/// Marker pagination: the id of the last image on this page ("" when it is the last page).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PageInfo {
    pub next_marker: String,
}

/// One image, with the fields the IMS SDK's `ImageInfo` reads.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ImageInfo {
    pub id: String,
    pub name: String,
    #[serde(rename = "__os_type")]
    pub os_type: String,
    #[serde(rename = "__platform")]
    pub platform: String,
    #[serde(rename = "__os_version")]
    pub os_version: String,
    #[serde(rename = "__os_bit")]
    pub os_bit: String,
    #[serde(rename = "__imagetype")]
    pub image_type: String,
    #[serde(rename = "__isregistered")]
    pub is_registered: String,
    #[serde(rename = "__image_size")]
    pub image_size: String,
    #[serde(rename = "__image_source_type")]
    pub image_source_type: String,
    #[serde(rename = "__support_kvm")]
    pub support_kvm: String,
    /// Whether the image runs Cloud-Init ("true"/"false"); the Glance view's field name.
    #[serde(rename = "__is_config_init")]
    pub is_config_init: String,
    #[serde(rename = "__description")]
    pub description: String,
    pub min_disk: i64,
    pub min_ram: i64,
    pub size: i64,
    pub status: String,
    pub visibility: String,
    pub owner: String,
    pub protected: bool,
    pub container_format: String,
    pub disk_format: String,
    pub virtual_env_type: String,
    pub tags: Vec<String>,
    pub created_at: String,
    pub updated_at: String,
    pub active_at: String,
    #[serde(rename = "self")]
    pub self_link: String,
    pub file: String,
    pub schema: String,
    pub architecture: String,
}
