//! VPC API v1 security groups and rules (`/v1/{project_id}/security-groups`,
//! `/v1/{project_id}/security-group-rules`) and Nova's view of a server's groups
//! (`GET /v2.1/{project_id}/servers/{server_id}/os-security-groups`).
//!
//! Field names and types follow the official SDK's `SecurityGroup`, `SecurityGroupRule`,
//! `CreateSecurityGroupOption` and `CreateSecurityGroupRuleOption` models.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// `{"security_group": ...}`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SecurityGroupEnvelope {
    pub security_group: SecurityGroupView,
}

/// `{"security_groups": [...]}`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SecurityGroupList {
    pub security_groups: Vec<SecurityGroupView>,
}

/// One security group with its rules.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SecurityGroupView {
    pub id: String,
    pub name: String,
    pub description: String,
    pub vpc_id: String,
    pub enterprise_project_id: String,
    pub security_group_rules: Vec<SecurityGroupRuleView>,
}

/// `{"security_group_rule": ...}`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SecurityGroupRuleEnvelope {
    pub security_group_rule: SecurityGroupRuleView,
}

/// `{"security_group_rules": [...]}`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SecurityGroupRuleList {
    pub security_group_rules: Vec<SecurityGroupRuleView>,
}

/// One rule. Unset protocol, ports and remotes are `null`, as Neutron shows them.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SecurityGroupRuleView {
    pub id: String,
    pub description: String,
    pub security_group_id: String,
    pub direction: String,
    pub ethertype: String,
    pub protocol: Option<String>,
    pub port_range_min: Option<i64>,
    pub port_range_max: Option<i64>,
    pub remote_ip_prefix: Option<String>,
    pub remote_group_id: Option<String>,
    pub remote_address_group_id: Option<String>,
    pub tenant_id: String,
}

/// `POST /v1/{project_id}/security-groups`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct CreateSecurityGroupBody {
    pub security_group: Option<CreateSecurityGroup>,
}

/// The new group.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct CreateSecurityGroup {
    pub name: Option<String>,
    pub vpc_id: Option<String>,
    pub enterprise_project_id: Option<String>,
}

/// `POST /v1/{project_id}/security-group-rules`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct CreateSecurityGroupRuleBody {
    pub security_group_rule: Option<CreateSecurityGroupRule>,
}

/// The new rule.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct CreateSecurityGroupRule {
    pub security_group_id: Option<String>,
    pub description: Option<String>,
    pub direction: Option<String>,
    pub ethertype: Option<String>,
    pub protocol: Option<String>,
    pub port_range_min: Option<i64>,
    pub port_range_max: Option<i64>,
    pub remote_ip_prefix: Option<String>,
    pub remote_group_id: Option<String>,
    pub remote_address_group_id: Option<String>,
}

/// `GET /v1/{project_id}/security-groups`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SecurityGroupListQuery {
    /// Page size (default: all).
    #[serde(default, deserialize_with = "crate::queries::int32")]
    #[param(value_type = Option<i32>, minimum = 0)]
    pub limit: Option<u32>,
    /// The id of the last group of the previous page.
    pub marker: Option<String>,
    /// Only the groups of this VPC.
    pub vpc_id: Option<String>,
    pub enterprise_project_id: Option<String>,
}

/// `GET /v1/{project_id}/security-group-rules`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SecurityGroupRuleListQuery {
    /// Page size (default: all).
    #[serde(default, deserialize_with = "crate::queries::int32")]
    #[param(value_type = Option<i32>, minimum = 0)]
    pub limit: Option<u32>,
    /// The id of the last rule of the previous page.
    pub marker: Option<String>,
    /// Only the rules of this group.
    pub security_group_id: Option<String>,
}

/// Nova `{"security_groups": [...]}` of a server.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NovaSecurityGroupList {
    pub security_groups: Vec<NovaSecurityGroup>,
}

/// A security group as Nova shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NovaSecurityGroup {
    pub id: String,
    pub name: String,
    pub description: String,
    pub tenant_id: String,
    pub rules: Vec<NovaSecurityGroupRule>,
}

/// An ingress rule as Nova shows it (Nova lists only ingress rules).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NovaSecurityGroupRule {
    pub id: String,
    pub parent_group_id: String,
    pub ip_protocol: Option<String>,
    pub from_port: Option<i64>,
    pub to_port: Option<i64>,
    pub ip_range: NovaIpRange,
    pub group: NovaGroupRef,
}

/// `{"cidr": ...}`; empty when the rule names a group.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NovaIpRange {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cidr: Option<String>,
}

/// `{"name": ..., "tenant_id": ...}` of a rule's remote group; empty otherwise.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NovaGroupRef {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
}

/// Nova `addSecurityGroup` / `removeSecurityGroup`: `{"name": <group name or id>}`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct NovaSecurityGroupAction {
    pub name: Option<String>,
}
