//! Availability zones, as `list_server_az_info` (ECS) and `nova_list_availability_zones`
//! (Nova) return them.

use serde::Serialize;
use utoipa::ToSchema;

/// `GET /v1/{project_id}/availability-zones`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AzList {
    pub availability_zones: Vec<AzInfo>,
}

/// One zone of the ECS list (SDK `ListServerAzInfo`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AzInfo {
    pub availability_zone_id: String,
    /// `core` (a regular zone) or `edge`.
    #[serde(rename = "type")]
    pub kind: String,
    /// `single` or `multi`.
    pub mode: String,
    pub public_border_group: String,
    pub alias: String,
    pub az_group_ids: Vec<String>,
    pub category: i64,
}

/// `GET /v2.1/{project_id}/os-availability-zone`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NovaAzList {
    #[serde(rename = "availabilityZoneInfo")]
    pub availability_zone_info: Vec<NovaAz>,
}

/// One zone of the Nova list; `hosts` is null, as Nova answers callers that are not admins.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NovaAz {
    #[schema(required = true)]
    pub hosts: Option<Vec<String>>,
    #[serde(rename = "zoneName")]
    pub zone_name: String,
    #[serde(rename = "zoneState")]
    pub zone_state: NovaAzState,
}

/// `{"available": true}`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NovaAzState {
    pub available: bool,
}
