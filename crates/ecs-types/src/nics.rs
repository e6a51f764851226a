//! NICs added to and removed from a server (`/v1 .../nics`, Nova `os-interface` attach), the
//! count of NICs a server can still take, the server's console output, remote console and crash dump.
//!
//! Field names and types are those of the official SDK's models (`BatchAddServerNicOption`,
//! `BatchDeleteServerNicOption`, `NovaAttachInterfaceOption`, `NovaServerInterfaceDetail`,
//! `ShowServerAttachableNicNumResponse`, `ShowServerConsoleOutputResponse`).

use crate::ports::{FixedIp, InterfaceAttachment};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// `POST /v1/{project_id}/cloudservers/{server_id}/nics`: `{"nics": [...]}`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct AddNicsBody {
    pub nics: Option<Vec<AddNicOption>>,
}

/// One NIC to add.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct AddNicOption {
    /// The subnet (VPC v1 id) the NIC is on: one of the server's VPC.
    pub subnet_id: Option<String>,
    /// An existing port to attach: refused, every port here is a server's.
    pub port_id: Option<String>,
    /// Security groups of the NIC: each must be one of the server's (a NIC shares its
    /// server's groups here).
    pub security_groups: Option<Vec<NicSecurityGroup>>,
    /// A fixed address in the subnet; absent: the next free one.
    pub ip_address: Option<String>,
    /// IPv6 is not offered: only `false` is accepted.
    pub ipv6_enable: Option<bool>,
    #[schema(value_type = Option<Object>)]
    pub ipv6_bandwidth: Option<serde_json::Value>,
    /// vRoCE: only `false` is accepted.
    pub efi_enable: Option<bool>,
}

/// `{"id": <security group id>}`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct NicSecurityGroup {
    pub id: Option<String>,
}

/// `POST /v1/{project_id}/cloudservers/{server_id}/nics/delete`: `{"nics": [{"id": port_id}]}`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct DeleteNicsBody {
    pub nics: Option<Vec<DeleteNicOption>>,
}

/// One NIC to delete, by its port id.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct DeleteNicOption {
    pub id: Option<String>,
}

/// Nova `POST /v2.1/{project_id}/servers/{server_id}/os-interface`: `{"interfaceAttachment": {...}}`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct NovaAttachBody {
    #[serde(rename = "interfaceAttachment")]
    pub interface_attachment: Option<NovaAttachOption>,
}

/// The NIC to attach: `net_id` (the subnet), optionally one fixed address.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct NovaAttachOption {
    pub fixed_ips: Option<Vec<NovaFixedIp>>,
    pub net_id: Option<String>,
    pub port_id: Option<String>,
}

/// `{"ip_address": ...}`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct NovaFixedIp {
    pub ip_address: Option<String>,
}

/// The answer of a Nova attach: `{"interfaceAttachment": {...}}`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NovaAttached {
    #[serde(rename = "interfaceAttachment")]
    pub interface_attachment: NovaInterfaceDetail,
}

/// The attached NIC (`NovaServerInterfaceDetail`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NovaInterfaceDetail {
    pub fixed_ips: Vec<FixedIp>,
    pub mac_addr: String,
    pub net_id: String,
    pub port_id: String,
    pub port_state: String,
}

/// `GET /v1/{project_id}/cloudservers/{server_id}/os-interface_extension`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AttachableNics {
    #[serde(rename = "attachableQuantity")]
    pub attachable_quantity: AttachableNicQuantity,
    #[serde(rename = "interfaceAttachments")]
    pub interface_attachments: Vec<InterfaceAttachment>,
}

/// How many more NICs (and disks) the server can take (`AttachableQuantityForNic`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AttachableNicQuantity {
    pub free_nic: i64,
    /// vRoCE NICs: none here.
    pub free_efi_nic: i64,
    pub free_scsi: i64,
    pub free_blk: i64,
    pub free_disk: i64,
}

/// `GET /v1/{project_id}/cloudservers/{server_id}/console-output?length=N`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ConsoleOutputQuery {
    /// Lines wanted, from the end: at least -1 (-1: everything); 50 when absent.
    #[serde(default, deserialize_with = "int")]
    #[param(value_type = Option<i64>, minimum = -1)]
    pub length: Option<i64>,
}

/// Reads an integer sent as text (negative ones too); empty is absent.
fn int<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    match Option::<String>::deserialize(d)? {
        None => Ok(None),
        Some(v) if v.is_empty() => Ok(None),
        Some(v) => v.parse().map(Some).map_err(|_| serde::de::Error::custom(format!("{v:?} is not an integer"))),
    }
}

/// `{"output": "..."}`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ConsoleOutput {
    pub output: String,
}

/// `POST /v1/{project_id}/cloudservers/{server_id}/remote_console`:
/// `{"remote_console": {"protocol": "vnc", "type": "novnc"}}` (SDK
/// `ShowServerRemoteConsoleRequestBody`, `GetServerRemoteConsoleOption`).
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct RemoteConsoleBody {
    pub remote_console: Option<RemoteConsoleOption>,
}

/// The console asked for: Huawei takes only `vnc` / `novnc`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct RemoteConsoleOption {
    pub protocol: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
}

/// `{"remote_console": {"protocol", "type", "url"}}` (SDK `ShowServerRemoteConsoleResponse`,
/// `ServerRemoteConsole`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RemoteConsoleEnvelope {
    pub remote_console: RemoteConsole,
}

/// A console URL: a WebSocket carrying the VM's VNC (RFB) stream, what noVNC connects to.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RemoteConsole {
    pub protocol: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub url: String,
}

/// `PUT /v1/{project_id}/cloudservers/{server_id}/os-interface/{port_id}`:
/// `{"interface_attachment": {"delete_on_termination": bool}}` (SDK `UpdateNicInfoRequestBody`;
/// Huawei lets only this field change).
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct UpdateInterfaceBody {
    pub interface_attachment: Option<UpdateInterfaceOption>,
}

/// What changes: whether the NIC's port is deleted when the NIC is.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct UpdateInterfaceOption {
    pub delete_on_termination: Option<bool>,
}

/// The answer to `os-interface/{port_id}` updates: `{}` (the SDK's `UpdateServerInterfaceResponse`
/// has no fields).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct InterfaceUpdated {}

/// The answer to `actions/trigger-crash-dump`: `{}` (Huawei's documented example; the SDK's
/// `ExecuteServerDumpResponse` has no fields).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CrashDumpTriggered {}

/// `PUT /v1/{project_id}/cloudservers/nics/{nic_id}`: `{"nic": {...}}`, both to associate a
/// virtual IP with a NIC and (empty `subnet_id` and `ip_address`) to disassociate it.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct VirtualIpBody {
    pub nic: Option<VirtualIpOption>,
}

/// `AssociateServerVirtualIpOption` / `DisassociateServerVirtualIpOption`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct VirtualIpOption {
    /// The NIC's subnet; empty to disassociate.
    pub subnet_id: Option<String>,
    /// The virtual IP; empty to disassociate.
    pub ip_address: Option<String>,
    /// Whether the virtual IP's own port lists the NIC's address pair: accepted, not modelled
    /// (a virtual IP here is an address pair of the NIC's port).
    pub reverse_binding: Option<bool>,
}

/// `{"port_id": ...}`: the NIC's port.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct VirtualIpAnswer {
    pub port_id: String,
}

/// `POST /v1/{project_id}/cloudservers/{server_id}/os-interface/{port_id}/change-network-interface`
/// (SDK `ChangeServerNetworkInterfaceRequestBody`): a new address for the primary NIC.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct ChangeNicBody {
    /// The NIC's subnet; required with `ip_address`.
    pub subnet_id: Option<String>,
    /// The new IPv4 address; empty: any free address of the subnet.
    pub ip_address: Option<String>,
    /// IPv6 is not offered: refused.
    pub ipv6_address: Option<String>,
}

/// The NIC with its new address (SDK `ChangeServerNetworkInterfaceResponse`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ChangedNic {
    /// The NIC's port.
    pub id: String,
    pub subnet_id: String,
    pub ip_address: String,
    pub ipv6_address: String,
}
