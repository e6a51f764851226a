//! VPC API v1 paths: `GET /v1/{project_id}/vpcs` and `GET /v1/{project_id}/subnets`.

use serde::Serialize;
use utoipa::ToSchema;

/// `{"vpcs": [...]}`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct VpcList {
    pub vpcs: Vec<VpcView>,
}

/// `{"vpc": ...}`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct VpcEnvelope {
    pub vpc: VpcView,
}

/// One VPC.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct VpcView {
    pub id: String,
    pub name: String,
    pub cidr: String,
    pub description: String,
    pub routes: Vec<Route>,
    pub status: String,
    pub enterprise_project_id: String,
    pub tenant_id: String,
    pub created_at: String,
    pub updated_at: String,
    pub block_service_endpoint_states: String,
    pub enable_network_address_usage_metrics: bool,
}

/// A route of a VPC.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Route {
    pub destination: String,
    pub nexthop: String,
}

/// `{"subnets": [...]}`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SubnetList {
    pub subnets: Vec<SubnetView>,
}

/// `{"subnet": ...}`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SubnetEnvelope {
    pub subnet: SubnetView,
}

/// One subnet.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SubnetView {
    pub id: String,
    pub name: String,
    pub description: String,
    pub cidr: String,
    pub gateway_ip: String,
    pub ipv6_enable: bool,
    pub cidr_v6: String,
    pub gateway_ip_v6: String,
    pub dhcp_enable: bool,
    pub primary_dns: String,
    pub secondary_dns: String,
    #[serde(rename = "dnsList")]
    pub dns_list: Vec<String>,
    pub availability_zone: String,
    pub vpc_id: String,
    pub status: String,
    pub neutron_network_id: String,
    pub neutron_subnet_id: String,
    pub neutron_subnet_id_v6: String,
    pub extra_dhcp_opts: Vec<serde_json::Value>,
    pub tenant_id: String,
    pub created_at: String,
    pub updated_at: String,
    pub available_ip_address_count: i64,
}
