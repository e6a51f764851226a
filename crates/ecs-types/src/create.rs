//! Request parts of the server create operations beyond the minimal body: the `/v1.1` body,
//! `extendparam`, scheduler hints, data volumes and the system volume's extras.
//!
//! `POST /v1.1/{project_id}/cloudservers` takes the `server` object of the `/v1` create with
//! the yearly/monthly fields of `extendparam` besides (`periodType`, `periodNum`, ...): both
//! bodies parse into [`crate::requests::PostPaidServer`], whose [`ExtendParam`] carries the
//! fields of both, and one validation serves them.

use serde::Deserialize;
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// `POST /v1.1/{project_id}/cloudservers`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct CreateServersV11Body {
    pub server: Option<crate::requests::PostPaidServer>,
    pub dry_run: Option<bool>,
}

/// `extendparam` of a create. `chargingMode` is an integer in the `/v1` body (0 pay-per-use,
/// 1 yearly/monthly) and a string in the `/v1.1` body (`postPaid`, `prePaid`): either is read.
#[derive(Debug, Clone, Deserialize, Default, ToSchema)]
pub struct ExtendParam {
    #[serde(rename = "chargingMode")]
    #[schema(value_type = Option<String>, example = "postPaid")]
    pub charging_mode: Option<serde_json::Value>,
    #[serde(rename = "regionID")]
    pub region_id: Option<String>,
    /// `"0"` (the default enterprise project) or an enterprise project's UUID.
    pub enterprise_project_id: Option<String>,
    pub support_auto_recovery: Option<bool>,
    /// Yearly/monthly only (refused with `prePaid`).
    #[serde(rename = "periodType")]
    pub period_type: Option<String>,
    #[serde(rename = "periodNum")]
    pub period_num: Option<i64>,
    #[serde(rename = "isAutoRenew")]
    #[schema(value_type = Option<String>)]
    pub is_auto_renew: Option<serde_json::Value>,
    #[serde(rename = "isAutoPay")]
    #[schema(value_type = Option<String>)]
    pub is_auto_pay: Option<serde_json::Value>,
    /// Spot instances are not offered; `marketType` `spot` is refused.
    #[serde(rename = "marketType")]
    pub market_type: Option<String>,
}

/// `os:scheduler_hints` of a create.
#[derive(Debug, Clone, Deserialize, Default, ToSchema)]
pub struct SchedulerHints {
    /// A server group id (UUID).
    pub group: Option<String>,
    pub tenancy: Option<String>,
    pub dedicated_host_id: Option<String>,
}

/// `extendparam` of a system or data volume.
#[derive(Debug, Clone, Deserialize, Default, ToSchema)]
pub struct VolumeExtendParam {
    #[serde(rename = "resourceSpecCode")]
    pub resource_spec_code: Option<String>,
    #[serde(rename = "resourceType")]
    pub resource_type: Option<String>,
    #[serde(rename = "snapshotId")]
    pub snapshot_id: Option<String>,
}

/// A data volume of a create request: created with the server, attached to it as
/// `/dev/vdb`, `/dev/vdc`, ... (boot index -1).
#[derive(Debug, Clone, Deserialize, Default, ToSchema)]
pub struct DataVolume {
    #[schema(pattern = "^(SATA|SAS|SSD|GPSSD|co-p1|uh-l1|ESSD|GPSSD2|ESSD2)$")]
    pub volumetype: Option<String>,
    /// GB, 10 to 32768.
    #[schema(minimum = 10, maximum = 32768)]
    pub size: Option<i64>,
    pub iops: Option<i64>,
    pub throughput: Option<i64>,
    pub shareable: Option<bool>,
    pub multiattach: Option<bool>,
    #[serde(rename = "hw:passthrough")]
    pub passthrough: Option<bool>,
    pub extendparam: Option<VolumeExtendParam>,
    pub metadata: Option<BTreeMap<String, String>>,
    /// Creating a data disk from a data-disk image is not offered.
    pub data_image_id: Option<String>,
    /// Whether the disk is deleted with its server (default false).
    pub delete_on_termination: Option<bool>,
    pub cluster_type: Option<String>,
    pub cluster_id: Option<String>,
}
