//! `GET /v1.1/{project_id}/cloudservers/detail` (SDK `list_cloud_servers`): its query string
//! and its answer, which differ from the `/v1` detail list: flat field names (`vm_state`,
//! `availability_zone`), integer flavor sizes and address versions, `servers_links` paging
//! instead of a count.

use crate::queries::uint;
use crate::server::{ImageRef, SecurityGroupRef, ServerFault};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::{IntoParams, ToSchema};

/// The filters of the `/v1.1` list that ecsd applies; the SDK's others (`spod_id`,
/// `launched_since`, `expect-fields`, ...) are accepted and ignored.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CloudServerListQuery {
    /// Comma-separated server ids.
    pub id: Option<String>,
    /// Name filter (substring).
    pub name: Option<String>,
    pub status: Option<String>,
    /// Only servers of this flavor.
    pub flavor_name: Option<String>,
    pub image_id: Option<String>,
    /// Comma-separated `key.value` tags the servers must all have.
    pub tags: Option<String>,
    /// Comma-separated tags the servers must not have.
    #[serde(rename = "not-tags")]
    pub not_tags: Option<String>,
    /// Zone name, substring.
    pub availability_zone: Option<String>,
    /// Zone name, exact.
    pub availability_zone_eq: Option<String>,
    pub key_name: Option<String>,
    pub enterprise_project_id: Option<String>,
    /// `postPaid` lists every server, `prePaid` none.
    pub charging_mode: Option<String>,
    /// `true` lists none (ecsd has no recycle bin).
    pub in_recycle_bin: Option<String>,
    /// Private IP address, substring.
    pub ip: Option<String>,
    /// Page size (default 50).
    #[serde(default, deserialize_with = "uint")]
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u64>,
    /// List from after this server id.
    pub marker: Option<String>,
}

/// `{"servers": [...], "servers_links": [...], "request_id": "..."}`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CloudServerList {
    pub servers: Vec<CloudServer>,
    /// A `next` link when more servers follow.
    pub servers_links: Vec<crate::volumes::Link>,
    pub request_id: String,
}

/// A server of the `/v1.1` list (SDK `CloudServer`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CloudServer {
    pub id: String,
    pub name: String,
    pub status: String,
    pub tenant_id: String,
    pub user_id: String,
    pub market_info: MarketInfo,
    pub availability_zone: String,
    pub vm_state: String,
    #[schema(required = true)]
    pub task_state: Option<String>,
    pub power_state: i64,
    pub created: String,
    pub updated: String,
    #[schema(required = true)]
    pub launched_at: Option<String>,
    pub in_recycle_bin: bool,
    pub spod_id: String,
    pub description: String,
    #[schema(required = true)]
    pub key_name: Option<String>,
    pub locked: bool,
    pub root_device_name: String,
    pub tenancy: String,
    pub dedicated_host_id: String,
    pub enterprise_project_id: String,
    pub metadata: BTreeMap<String, String>,
    pub tags: Vec<String>,
    pub addresses: BTreeMap<String, Vec<CloudServerAddress>>,
    pub security_groups: Vec<SecurityGroupRef>,
    pub volumes_attached: Vec<CloudServerVolume>,
    pub image: ImageRef,
    pub flavor: CloudServerFlavor,
    #[schema(required = true)]
    pub fault: Option<ServerFault>,
}

/// `{"charge_mode": "postPaid", "prepaid_info": null}`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MarketInfo {
    pub charge_mode: String,
    #[schema(required = true, value_type = Option<Object>)]
    pub prepaid_info: Option<serde_json::Value>,
}

/// An address; `version` is an integer here.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CloudServerAddress {
    pub addr: String,
    pub version: i64,
    #[serde(rename = "OS-EXT-IPS:port_id")]
    pub port_id: String,
    #[serde(rename = "OS-EXT-IPS-MAC:mac_addr")]
    pub mac_addr: String,
    #[serde(rename = "OS-EXT-IPS:type")]
    pub ip_type: String,
    pub primary: bool,
}

/// An attached volume (SDK `VolumeAttach`): `delete_on_termination` a boolean, `bootIndex` a
/// string, `size` an integer.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CloudServerVolume {
    pub id: String,
    pub delete_on_termination: bool,
    pub device: String,
    #[serde(rename = "bootIndex")]
    pub boot_index: String,
    pub size: i64,
}

/// The flavor (SDK `FlavorQuasar`): sizes are integers.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CloudServerFlavor {
    pub id: String,
    pub name: String,
    pub vcpus: i64,
    pub ram: i64,
    pub disk: i64,
    pub gpus: Vec<serde_json::Value>,
    pub asic_accelerators: Vec<serde_json::Value>,
}
