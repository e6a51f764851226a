//! The Nova (OpenStack Compute v2.1) server API as Huawei Cloud serves it beside ECS: server
//! show, list and detail, create and delete, version discovery and flavor extra specs. Field
//! names follow the SDK's `Nova*` models (`huaweicloudsdkecs` 3.1.219), which follow Nova's.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::{IntoParams, ToSchema};

/// A link of a Nova resource (`self`, `bookmark`, `next`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NovaLink {
    pub href: String,
    pub rel: String,
}

/// `GET /v2.1/{project_id}/servers/{server_id}`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NovaServerEnvelope {
    pub server: NovaServer,
}

/// `GET /v2.1/{project_id}/servers/detail`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NovaServerDetailList {
    pub servers: Vec<NovaServer>,
    /// A `next` link when the page is full (Nova's marker pagination).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub servers_links: Vec<NovaLink>,
}

/// `GET /v2.1/{project_id}/servers`: ids, names and links only.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NovaServerList {
    pub servers: Vec<NovaSimpleServer>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub servers_links: Vec<NovaLink>,
}

/// One server of the short list (SDK `NovaSimpleServer`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NovaSimpleServer {
    pub id: String,
    pub name: String,
    pub links: Vec<NovaLink>,
}

/// A server in Nova's shape (SDK `NovaServer`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NovaServer {
    pub id: String,
    pub name: String,
    pub status: String,
    pub created: String,
    pub updated: String,
    pub flavor: NovaServerFlavor,
    pub image: NovaServerImage,
    pub tenant_id: String,
    pub key_name: Option<String>,
    pub user_id: String,
    pub metadata: BTreeMap<String, String>,
    #[serde(rename = "hostId")]
    pub host_id: String,
    /// Addresses by network (the VPC's id, as the ECS view keys them).
    pub addresses: BTreeMap<String, Vec<NovaAddress>>,
    pub security_groups: Vec<NovaSecurityGroupName>,
    pub links: Vec<NovaLink>,
    #[serde(rename = "OS-DCF:diskConfig")]
    pub disk_config: String,
    #[serde(rename = "OS-EXT-AZ:availability_zone")]
    pub availability_zone: String,
    #[serde(rename = "OS-EXT-SRV-ATTR:host")]
    pub host: String,
    #[serde(rename = "OS-EXT-SRV-ATTR:hypervisor_hostname")]
    pub hypervisor_hostname: String,
    #[serde(rename = "OS-EXT-SRV-ATTR:instance_name")]
    pub instance_name: String,
    #[serde(rename = "OS-EXT-STS:power_state")]
    pub power_state: i64,
    #[serde(rename = "OS-EXT-STS:task_state")]
    pub task_state: Option<String>,
    #[serde(rename = "OS-EXT-STS:vm_state")]
    pub vm_state: String,
    #[serde(rename = "OS-SRV-USG:launched_at")]
    pub launched_at: Option<String>,
    #[serde(rename = "OS-SRV-USG:terminated_at")]
    pub terminated_at: Option<String>,
    #[serde(rename = "os-extended-volumes:volumes_attached")]
    pub volumes_attached: Vec<NovaServerVolume>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fault: Option<NovaServerFault>,
    pub description: String,
    pub host_status: String,
    #[serde(rename = "OS-EXT-SRV-ATTR:hostname")]
    pub hostname: String,
    #[serde(rename = "OS-EXT-SRV-ATTR:reservation_id")]
    pub reservation_id: String,
    #[serde(rename = "OS-EXT-SRV-ATTR:launch_index")]
    pub launch_index: i64,
    #[serde(rename = "OS-EXT-SRV-ATTR:kernel_id")]
    pub kernel_id: String,
    #[serde(rename = "OS-EXT-SRV-ATTR:ramdisk_id")]
    pub ramdisk_id: String,
    #[serde(rename = "OS-EXT-SRV-ATTR:root_device_name")]
    pub root_device_name: String,
    #[serde(rename = "OS-EXT-SRV-ATTR:user_data")]
    pub user_data: Option<String>,
    pub tags: Vec<String>,
    pub locked: bool,
    #[serde(rename = "accessIPv4")]
    pub access_ipv4: String,
    #[serde(rename = "accessIPv6")]
    pub access_ipv6: String,
    pub config_drive: String,
    pub progress: i64,
    #[serde(rename = "os:scheduler_hints")]
    pub scheduler_hints: BTreeMap<String, Vec<String>>,
}

/// The flavor of a Nova server: Nova 2.47 and later embed it whole (SDK `NovaServerFlavor`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NovaServerFlavor {
    pub id: String,
    pub links: Vec<NovaLink>,
    pub vcpus: i64,
    pub ram: i64,
    pub disk: i64,
    pub ephemeral: i64,
    pub swap: i64,
    pub original_name: String,
    pub extra_specs: BTreeMap<String, String>,
}

/// The image a Nova server was created from.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NovaServerImage {
    pub id: String,
    pub links: Vec<NovaLink>,
}

/// One address of a Nova server (SDK `NovaNetwork`): `version` is a number here, unlike ECS's.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NovaAddress {
    pub addr: String,
    pub version: i64,
    #[serde(rename = "OS-EXT-IPS-MAC:mac_addr")]
    pub mac_addr: String,
    #[serde(rename = "OS-EXT-IPS:type")]
    pub ip_type: String,
}

/// A security group as Nova names it: by name only.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct NovaSecurityGroupName {
    pub name: String,
}

/// A volume attached to a Nova server.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NovaServerVolume {
    pub id: String,
    pub delete_on_termination: bool,
}

/// Why a Nova server is in ERROR.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NovaServerFault {
    pub code: i64,
    pub created: String,
    pub message: String,
    pub details: String,
}

/// `POST /v2.1/{project_id}/servers`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct NovaCreateBody {
    pub server: Option<NovaCreateServer>,
}

/// What a Nova create asks for (SDK `NovaCreateServersOption`).
#[derive(Debug, Clone, Deserialize, Default, ToSchema)]
pub struct NovaCreateServer {
    pub name: Option<String>,
    #[serde(rename = "imageRef")]
    pub image_ref: Option<String>,
    #[serde(rename = "flavorRef")]
    pub flavor_ref: Option<String>,
    pub metadata: Option<BTreeMap<String, String>>,
    #[serde(rename = "adminPass")]
    pub admin_pass: Option<String>,
    pub block_device_mapping_v2: Option<Vec<NovaBlockDeviceMapping>>,
    pub security_groups: Option<Vec<NovaSecurityGroupName>>,
    /// The networks to attach: `uuid` is a subnet's id (the network id of the VPC API), `port`
    /// an existing port, `fixed_ip` the address to take.
    pub networks: Option<Vec<NovaCreateNetwork>>,
    pub key_name: Option<String>,
    pub user_data: Option<String>,
    pub availability_zone: Option<String>,
    pub return_reservation_id: Option<bool>,
    pub min_count: Option<i64>,
    pub max_count: Option<i64>,
    #[serde(rename = "OS-DCF:diskConfig")]
    pub disk_config: Option<String>,
    pub description: Option<String>,
    pub config_drive: Option<String>,
    pub auto_terminate_time: Option<String>,
    #[serde(rename = "os:scheduler_hints")]
    #[schema(value_type = Option<Object>)]
    pub scheduler_hints: Option<serde_json::Value>,
}

/// A disk of a Nova create (SDK `NovaServerBlockDeviceMapping`).
#[derive(Debug, Clone, Deserialize, Default, ToSchema)]
pub struct NovaBlockDeviceMapping {
    pub source_type: Option<String>,
    pub destination_type: Option<String>,
    pub guest_format: Option<String>,
    pub device_name: Option<String>,
    pub delete_on_termination: Option<bool>,
    /// A string in the SDK's model ("0" for the boot disk); Nova accepts a number too.
    #[schema(value_type = Option<String>)]
    pub boot_index: Option<serde_json::Value>,
    pub uuid: Option<String>,
    pub volume_size: Option<i64>,
    pub volume_type: Option<String>,
}

/// A network of a Nova create (SDK `NovaServerNetwork`).
#[derive(Debug, Clone, Deserialize, Default, ToSchema)]
pub struct NovaCreateNetwork {
    pub uuid: Option<String>,
    pub port: Option<String>,
    pub fixed_ip: Option<String>,
}

/// The answer to a Nova create (SDK `NovaCreateServersResult`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NovaCreatedEnvelope {
    pub server: NovaCreated,
}

/// The first server a Nova create made.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NovaCreated {
    pub id: String,
    pub links: Vec<NovaLink>,
    pub security_groups: Vec<NovaSecurityGroupName>,
    #[serde(rename = "OS-DCF:diskConfig")]
    pub disk_config: String,
    #[serde(rename = "adminPass", skip_serializing_if = "Option::is_none")]
    pub admin_pass: Option<String>,
}

/// The answer to a Nova create that asked for `return_reservation_id`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NovaReservation {
    pub reservation_id: String,
}

/// `GET /`: the API versions (SDK `NovaListVersionsResponse`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NovaVersionList {
    pub versions: Vec<NovaVersion>,
}

/// `GET /{api_version}` (SDK `NovaShowVersionResponse`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NovaVersionEnvelope {
    pub version: NovaVersion,
}

/// One API version. `version` and `min_version` are the microversion range of v2.1, empty for
/// v2.0, which has none.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NovaVersion {
    pub id: String,
    pub links: Vec<NovaLink>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub media_types: Vec<NovaMediaType>,
    pub min_version: String,
    pub status: String,
    pub updated: String,
    pub version: String,
}

/// A media type a version serves.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NovaMediaType {
    pub base: String,
    #[serde(rename = "type")]
    pub kind: String,
}

/// `GET /v2.1/{project_id}/flavors/{flavor_id}/os-extra_specs`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NovaExtraSpecs {
    pub extra_specs: BTreeMap<String, String>,
}

/// The query of the Nova server lists (`changes-since` and `not-tags` as Nova spells them).
#[derive(Debug, Clone, Deserialize, Default, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NovaListQuery {
    /// Servers changed at or after this ISO 8601 time.
    #[serde(rename = "changes-since")]
    pub changes_since: Option<String>,
    pub flavor: Option<String>,
    pub image: Option<String>,
    /// Servers whose address contains this text.
    pub ip: Option<String>,
    /// Page size; at most (and by default) 1000.
    #[serde(default, deserialize_with = "crate::queries::int32")]
    #[param(value_type = Option<u32>, maximum = 2147483647)]
    pub limit: Option<u32>,
    /// The last server of the previous page.
    pub marker: Option<String>,
    pub name: Option<String>,
    #[serde(rename = "not-tags")]
    pub not_tags: Option<String>,
    pub reservation_id: Option<String>,
    /// `created_at` only (the order servers are listed in).
    pub sort_key: Option<String>,
    pub status: Option<String>,
    pub tags: Option<String>,
    /// The compute host (an ecsd node).
    pub host: Option<String>,
}
