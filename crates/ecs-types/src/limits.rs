//! `GET /v1/{project_id}/cloudservers/limits` (SDK `show_server_limits`): every field of the
//! SDK's `ServerLimits`, each an integer.

use serde::Serialize;
use utoipa::ToSchema;

/// `{"absolute": {...}}`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LimitsEnvelope {
    pub absolute: ServerLimits,
}

/// The project's quotas and what it uses of them; -1 means unlimited.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ServerLimits {
    pub max_image_meta: i64,
    pub max_personality: i64,
    pub max_personality_size: i64,
    pub max_security_group_rules: i64,
    pub max_security_groups: i64,
    pub max_server_group_members: i64,
    pub max_server_groups: i64,
    pub max_server_meta: i64,
    pub max_total_cores: i64,
    pub max_total_floating_ips: i64,
    pub max_total_instances: i64,
    pub max_total_keypairs: i64,
    #[serde(rename = "maxTotalRAMSize")]
    pub max_total_ram_size: i64,
    pub total_cores_used: i64,
    pub total_floating_ips_used: i64,
    pub total_instances_used: i64,
    #[serde(rename = "totalRAMUsed")]
    pub total_ram_used: i64,
    pub total_security_groups_used: i64,
    pub total_server_groups_used: i64,
    pub max_total_spot_instances: i64,
    pub max_total_spot_cores: i64,
    #[serde(rename = "maxTotalSpotRAMSize")]
    pub max_total_spot_ram_size: i64,
    pub total_spot_instances_used: i64,
    pub total_spot_cores_used: i64,
    #[serde(rename = "totalSpotRAMUsed")]
    pub total_spot_ram_used: i64,
    /// Per-flavor limits; none are set.
    #[serde(rename = "limit_by_flavor")]
    pub limit_by_flavor: Vec<serde_json::Value>,
}
