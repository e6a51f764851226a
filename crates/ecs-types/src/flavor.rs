//! `GET /v1/{project_id}/cloudservers/flavors`.
//!
//! Note the JSON types: `vcpus`, `disk` and `swap` are strings, `ram` an integer, and the extra
//! specs travel under `os_extra_specs` (underscore).

use serde::Serialize;
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// `{"flavors": [...]}`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FlavorList {
    pub flavors: Vec<FlavorView>,
}

/// One flavor.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FlavorView {
    pub id: String,
    pub name: String,
    pub vcpus: String,
    pub ram: i64,
    pub disk: String,
    pub swap: String,
    #[serde(rename = "OS-FLV-EXT-DATA:ephemeral")]
    pub ephemeral: i64,
    #[serde(rename = "OS-FLV-DISABLED:disabled")]
    pub disabled: bool,
    pub rxtx_factor: f64,
    pub rxtx_quota: String,
    pub rxtx_cap: String,
    #[serde(rename = "os-flavor-access:is_public")]
    pub is_public: bool,
    pub links: Vec<FlavorLink>,
    pub os_extra_specs: BTreeMap<String, String>,
    #[serde(rename = "attachableQuantity")]
    pub attachable_quantity: AttachableQuantity,
}

/// A flavor link.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FlavorLink {
    pub href: String,
    pub rel: String,
    #[serde(rename = "type")]
    pub link_type: String,
}

/// How many more devices a server of this flavor can take.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AttachableQuantity {
    pub free_scsi: i64,
    pub free_blk: i64,
    pub free_disk: i64,
    pub free_nic: i64,
}
