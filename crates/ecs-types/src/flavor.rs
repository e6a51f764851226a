//! `GET /v1/{project_id}/cloudservers/flavors`.
//!
//! Note the JSON types: `vcpus`, `disk` and `swap` are strings, `ram` an integer, and the extra
//! specs travel under `os_extra_specs` (underscore).

use serde::{Deserialize, Serialize};
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

/// `GET /v1/{project_id}/cloudservers/flavors/{flavor_id}/resources` (SDK `ShowFlavorCapacity`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FlavorCapacity {
    /// The zones that can take the servers asked for; empty when none can.
    pub resources: Vec<FlavorCapacityZone>,
}

/// One zone with room for the flavor (SDK `QueryFlavorCapacityAzInfo`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FlavorCapacityZone {
    pub region_id: String,
    pub availability_zone: String,
    /// The zone new servers go to by default.
    pub prefer: bool,
}

/// The query of [`FlavorCapacity`].
#[derive(Debug, Clone, Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FlavorCapacityQuery {
    /// How many servers of the flavor are wanted (a string on the wire); 1 when absent.
    pub count: Option<String>,
    /// Regions to ask about, comma-separated; the caller's when absent.
    pub region_ids: Option<String>,
}

/// `GET /v1/{project_id}/cloudservers/flavor-sell-policies` (SDK `ListFlavorSellPolicies`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SellPolicyList {
    /// How many policies match the filters (all pages).
    pub count: i64,
    pub sell_policies: Vec<SellPolicy>,
}

/// How one flavor is sold in one zone (SDK `ListFlavorSellPoliciesResult`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SellPolicy {
    /// The policy's number: stable for a flavor and zone, the `marker` of the next page.
    pub id: i64,
    pub flavor_id: String,
    /// `available`, or `sellout` when no node has room for one server of the flavor.
    pub sell_status: String,
    pub availability_zone_id: String,
    /// `postPaid`: pay-per-use, the one mode offered.
    pub sell_mode: String,
}

/// The query of [`SellPolicyList`].
#[derive(Debug, Clone, Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SellPolicyQuery {
    pub flavor_id: Option<String>,
    /// `available` or `sellout`.
    pub sell_status: Option<String>,
    /// `postPaid`, `prePaid`, `spot` or `ri`; only `postPaid` has policies.
    pub sell_mode: Option<String>,
    pub availability_zone_id: Option<String>,
    /// Page size (default and most 1000).
    #[serde(default, deserialize_with = "crate::queries::int32")]
    #[param(value_type = Option<u32>, minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
    /// The `id` of the last policy of the previous page.
    #[serde(default, deserialize_with = "crate::queries::int32")]
    #[param(value_type = Option<u32>, maximum = 2147483647)]
    pub marker: Option<u32>,
}
