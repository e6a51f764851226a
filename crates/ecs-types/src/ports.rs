//! VPC API v1 ports: `GET/PUT /v1/{project_id}/ports/{port_id}`, `GET /v1/{project_id}/ports`,
//! and the server interfaces built from them (ECS `os-interface`, Nova `os-interface`).
//!
//! Field names and types are those of the official SDK's `Port` model; `network_id` is the
//! subnet's id (the VPC v1 API's subnet id, which Terraform compares with the subnet it gave).

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// `{"port": ...}`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PortEnvelope {
    pub port: PortView,
}

/// `{"ports": [...]}`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PortList {
    pub ports: Vec<PortView>,
}

/// One port.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PortView {
    pub id: String,
    pub name: String,
    /// The id of the subnet (VPC v1) the port is on.
    pub network_id: String,
    pub admin_state_up: bool,
    pub mac_address: String,
    pub fixed_ips: Vec<FixedIp>,
    /// The server the port belongs to.
    pub device_id: String,
    /// `compute:<availability zone>`.
    pub device_owner: String,
    pub tenant_id: String,
    /// `ACTIVE` while the server runs, `DOWN` otherwise.
    pub status: String,
    /// Ids of the port's security groups.
    pub security_groups: Vec<String>,
    pub allowed_address_pairs: Vec<AddressPairView>,
    pub extra_dhcp_opts: Vec<DhcpOptView>,
    #[serde(rename = "binding:vnic_type")]
    pub binding_vnic_type: String,
    #[serde(rename = "binding:host_id")]
    pub binding_host_id: String,
    #[serde(rename = "binding:profile")]
    pub binding_profile: serde_json::Map<String, serde_json::Value>,
    #[serde(rename = "binding:vif_details")]
    pub binding_vif_details: VifDetails,
    pub dns_name: String,
    pub dns_assignment: Vec<DnsAssignment>,
    pub instance_id: String,
    pub instance_type: String,
    pub port_security_enabled: bool,
    pub zone_id: String,
    pub enable_efi: bool,
    pub ipv6_bandwidth_id: String,
}

/// An address of a port on a subnet.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct FixedIp {
    /// The Neutron subnet id (`neutron_subnet_id` of the VPC v1 subnet).
    pub subnet_id: String,
    pub ip_address: String,
}

/// An extra address the port may send from.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AddressPairView {
    pub ip_address: String,
    pub mac_address: String,
}

/// A DHCP option.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DhcpOptView {
    pub opt_name: String,
    pub opt_value: String,
}

/// `binding:vif_details`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct VifDetails {
    pub primary_interface: bool,
    pub port_filter: bool,
    pub ovs_hybrid_plug: bool,
}

/// A DNS name of a port address.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DnsAssignment {
    pub hostname: String,
    pub ip_address: String,
    pub fqdn: String,
}

/// `PUT /v1/{project_id}/ports/{port_id}`: `{"port": {...}}`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct UpdatePortBody {
    pub port: Option<UpdatePort>,
}

/// What a port update may change; absent fields stay as they are.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct UpdatePort {
    pub name: Option<String>,
    pub security_groups: Option<Vec<String>>,
    pub allowed_address_pairs: Option<Vec<AddressPairInput>>,
    pub extra_dhcp_opts: Option<Vec<DhcpOptInput>>,
}

/// An address pair as sent: `ip_address` is required, `mac_address` defaults to the port's.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct AddressPairInput {
    pub ip_address: Option<String>,
    pub mac_address: Option<String>,
}

/// A DHCP option as sent.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct DhcpOptInput {
    pub opt_name: Option<String>,
    pub opt_value: Option<String>,
}

/// `GET /v1/{project_id}/ports`. Of a repeated parameter the last counts, except `fixed_ips`,
/// which may be given several times (`fixed_ips=ip_address=192.168.0.2`,
/// `fixed_ips=subnet_id=...`) and must all match.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PortListQuery {
    pub id: Option<String>,
    pub name: Option<String>,
    pub admin_state_up: Option<String>,
    pub network_id: Option<String>,
    pub mac_address: Option<String>,
    /// Only the ports of this server.
    pub device_id: Option<String>,
    pub device_owner: Option<String>,
    pub status: Option<String>,
    /// Only ports in this security group.
    pub security_groups: Option<String>,
    /// `ip_address=<ip>` or `subnet_id=<neutron subnet id>`.
    pub fixed_ips: Option<String>,
    pub enterprise_project_id: Option<String>,
    /// Page size (default: all).
    #[serde(default, deserialize_with = "crate::queries::int32")]
    #[param(value_type = Option<i32>, minimum = 0)]
    pub limit: Option<u32>,
    /// The id of the last port of the previous page.
    pub marker: Option<String>,
}

/// ECS `GET /v1/{project_id}/cloudservers/{server_id}/os-interface`: `{"interfaceAttachments": [...]}`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct InterfaceList {
    #[serde(rename = "interfaceAttachments")]
    pub interface_attachments: Vec<InterfaceAttachment>,
}

/// Nova `GET .../os-interface/{port_id}`: `{"interfaceAttachment": ...}`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct InterfaceEnvelope {
    #[serde(rename = "interfaceAttachment")]
    pub interface_attachment: InterfaceAttachment,
}

/// A server's interface: its port seen from the server.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct InterfaceAttachment {
    pub port_state: String,
    pub fixed_ips: Vec<FixedIp>,
    /// The Neutron network id of the subnet.
    pub net_id: String,
    pub port_id: String,
    pub mac_addr: String,
    pub delete_on_termination: bool,
}
