//! `ServerDetail`, the server as `show_server` and `list_servers_details` return it.
//!
//! JSON types matter here: the Python SDK casts with `klass(value)`, so `locked` must be a JSON
//! boolean (the string "false" would become `True`), `power_state` an integer, and the flavor's
//! sizes strings.

use serde::Serialize;
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// `{"server": ServerDetail}`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ServerEnvelope {
    pub server: ServerDetail,
}

/// `{"count": N, "servers": [...]}`; `count` is the number of matches, not the page size.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ServerList {
    pub count: i64,
    pub servers: Vec<ServerDetail>,
}

/// Every field the spec lists as required, with `null`/`""` where there is no value.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ServerDetail {
    pub id: String,
    pub name: String,
    pub description: String,
    pub status: String,
    #[serde(rename = "OS-EXT-STS:vm_state")]
    pub vm_state: String,
    #[serde(rename = "OS-EXT-STS:task_state")]
    #[schema(required = true)]
    pub task_state: Option<String>,
    #[serde(rename = "OS-EXT-STS:power_state")]
    pub power_state: i64,
    pub image: ImageRef,
    pub flavor: ServerFlavor,
    pub metadata: BTreeMap<String, String>,
    #[schema(required = true)]
    pub key_name: Option<String>,
    #[serde(rename = "os-extended-volumes:volumes_attached")]
    pub volumes_attached: Vec<VolumeAttachment>,
    pub created: String,
    pub updated: String,
    pub locked: bool,
    pub addresses: BTreeMap<String, Vec<ServerAddress>>,
    pub security_groups: Vec<SecurityGroupRef>,
    pub tenant_id: String,
    pub user_id: String,
    #[serde(rename = "OS-EXT-AZ:availability_zone")]
    pub availability_zone: String,
    #[serde(rename = "OS-EXT-SRV-ATTR:host")]
    pub host: String,
    #[serde(rename = "OS-EXT-SRV-ATTR:hostname")]
    pub hostname: String,
    #[serde(rename = "OS-EXT-SRV-ATTR:hypervisor_hostname")]
    pub hypervisor_hostname: String,
    #[serde(rename = "OS-EXT-SRV-ATTR:instance_name")]
    pub instance_name: String,
    #[serde(rename = "OS-EXT-SRV-ATTR:kernel_id")]
    pub kernel_id: String,
    #[serde(rename = "OS-EXT-SRV-ATTR:ramdisk_id")]
    pub ramdisk_id: String,
    #[serde(rename = "OS-EXT-SRV-ATTR:root_device_name")]
    pub root_device_name: String,
    #[serde(rename = "OS-EXT-SRV-ATTR:reservation_id")]
    pub reservation_id: String,
    #[serde(rename = "OS-EXT-SRV-ATTR:user_data")]
    pub user_data: String,
    #[serde(rename = "OS-EXT-SRV-ATTR:launch_index")]
    pub launch_index: i64,
    #[serde(rename = "OS-SRV-USG:launched_at")]
    #[schema(required = true)]
    pub launched_at: Option<String>,
    #[serde(rename = "OS-SRV-USG:terminated_at")]
    #[schema(required = true)]
    pub terminated_at: Option<String>,
    #[serde(rename = "OS-DCF:diskConfig")]
    pub disk_config: String,
    #[serde(rename = "accessIPv4")]
    pub access_ipv4: String,
    #[serde(rename = "accessIPv6")]
    pub access_ipv6: String,
    pub config_drive: String,
    #[schema(required = true)]
    pub progress: Option<i64>,
    #[schema(required = true)]
    pub fault: Option<ServerFault>,
    pub host_status: String,
    #[serde(rename = "hostId")]
    pub host_id: String,
    pub enterprise_project_id: String,
    pub tags: Vec<String>,
    pub sys_tags: Vec<SysTag>,
    #[serde(rename = "os:scheduler_hints")]
    pub scheduler_hints: BTreeMap<String, Vec<String>>,
    /// When the server deletes itself (`2020-01-19T03:30:52Z`); `""` when it does not.
    pub auto_terminate_time: String,
}

/// `{"id": "<image uuid>"}`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ImageRef {
    pub id: String,
}

/// The flavor inside a server: every size is a string.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ServerFlavor {
    pub id: String,
    pub name: String,
    pub disk: String,
    pub vcpus: String,
    pub ram: String,
    pub gpus: Vec<serde_json::Value>,
    pub asic_accelerators: Vec<serde_json::Value>,
}

/// One attached volume; `bootIndex` "0" marks the system disk.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct VolumeAttachment {
    pub id: String,
    pub delete_on_termination: String,
    #[serde(rename = "bootIndex")]
    pub boot_index: String,
    pub device: String,
}

/// One address of a server; `version` is a string.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ServerAddress {
    pub version: String,
    pub addr: String,
    #[serde(rename = "OS-EXT-IPS:type")]
    pub ip_type: String,
    #[serde(rename = "OS-EXT-IPS-MAC:mac_addr")]
    pub mac_addr: String,
    #[serde(rename = "OS-EXT-IPS:port_id")]
    pub port_id: String,
    pub primary: bool,
}

/// A security group reference.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SecurityGroupRef {
    pub id: String,
    pub name: String,
}

/// The fault of a server in ERROR.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ServerFault {
    pub code: i64,
    pub created: String,
    pub message: String,
    pub details: String,
}

/// A system tag.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SysTag {
    pub key: String,
    pub value: String,
}

/// `{"server": ...}`, the answer of `PUT /v1/{project_id}/cloudservers/{server_id}`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UpdatedServerEnvelope {
    pub server: UpdatedServer,
}

/// The server as the update answer shows it (Nova's shorter form: `image` is the id).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UpdatedServer {
    pub id: String,
    pub name: String,
    pub description: String,
    pub status: String,
    pub tenant_id: String,
    pub user_id: String,
    pub image: String,
    pub flavor: UpdatedServerFlavor,
    pub metadata: BTreeMap<String, String>,
    pub addresses: BTreeMap<String, Vec<UpdatedServerAddress>>,
    pub created: String,
    pub updated: String,
    #[serde(rename = "hostId")]
    pub host_id: String,
    #[serde(rename = "accessIPv4")]
    pub access_ipv4: String,
    #[serde(rename = "accessIPv6")]
    pub access_ipv6: String,
    #[serde(rename = "OS-DCF:diskConfig")]
    pub disk_config: String,
    #[schema(required = true)]
    pub progress: Option<i64>,
    pub links: Vec<serde_json::Value>,
    pub locked: bool,
    pub tags: Vec<String>,
    #[serde(rename = "OS-EXT-SRV-ATTR:user_data")]
    pub user_data: String,
    #[serde(rename = "OS-EXT-SRV-ATTR:hostname")]
    pub hostname: String,
}

/// `{"id": ..., "links": []}`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UpdatedServerFlavor {
    pub id: String,
    pub links: Vec<serde_json::Value>,
}

/// An address in the update answer (`version` is an integer here).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UpdatedServerAddress {
    pub version: i64,
    pub addr: String,
}
