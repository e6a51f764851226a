//! The trace service's `ListTraces` (`GET /v3/{project_id}/traces`): the audit trail of the API
//! calls, in the shapes the official CTS SDK (`huaweicloudsdkcts` v3) reads.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// One recorded API call. `code` is the HTTP status as a string, `time` when the call was made
/// and `record_time` when it was recorded, both in milliseconds since the epoch.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, ToSchema)]
pub struct TraceView {
    pub trace_id: String,
    /// The operation (`reinstallOs`, `createServer`, `createKeypair`...).
    pub trace_name: String,
    /// `normal` (it succeeded), `warning` (it was refused) or `incident` (the service failed).
    pub trace_rating: String,
    /// How the call came: always `ApiCall` here.
    pub trace_type: String,
    /// The service (`ECS`, `EVS`, `VPC`, `IAM`...).
    pub service_type: String,
    /// `ecs`, `keypair`, `evs`...
    pub resource_type: String,
    pub resource_id: String,
    pub resource_name: String,
    /// The path the call was made on.
    pub resource_url: String,
    /// The API operation of ecsd's API document (`ReinstallServerWithoutCloudInit`).
    pub operation_id: String,
    pub api_version: String,
    pub code: String,
    /// Why the call was refused; empty when it succeeded.
    pub message: String,
    /// The call's request body is not kept (it may carry passwords and user data).
    pub request: Option<String>,
    /// The error body of a refused call; `null` for a success (whose answer may carry a key).
    pub response: Option<String>,
    pub time: i64,
    pub record_time: i64,
    pub request_id: String,
    pub source_ip: String,
    /// The host the call was addressed to.
    pub endpoint: String,
    pub location_info: String,
    pub read_only: bool,
    pub user: TraceUser,
}

/// Who made the call.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, ToSchema)]
pub struct TraceUser {
    pub id: String,
    pub name: String,
    pub user_name: String,
    pub access_key_id: String,
    pub domain: TraceDomain,
    /// `IAMUser` for a known credential; `Unknown` for a failed authentication.
    #[serde(rename = "type")]
    pub kind: String,
}

/// The account (domain) of the user.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, ToSchema)]
pub struct TraceDomain {
    pub id: String,
    pub name: String,
}

/// `ListTraces`: a page of traces, newest first.
#[derive(Debug, Clone, Serialize, PartialEq, ToSchema)]
pub struct TraceList {
    pub traces: Vec<TraceView>,
    pub meta_data: TraceMetaData,
}

/// `count`: the traces on this page; `marker`: the last one's id, to pass as `next` for the
/// page after it (`null` when there is none).
#[derive(Debug, Clone, Serialize, PartialEq, ToSchema)]
pub struct TraceMetaData {
    pub count: i64,
    pub marker: Option<String>,
}

/// The CTS error body (`{"error_code": "CTS.0001", "error_msg": "...", "request_id": "..."}`),
/// as the SDK reads it.
#[derive(Debug, Clone, Serialize, PartialEq, ToSchema)]
pub struct CtsErrorBody {
    pub error_code: String,
    pub error_msg: String,
    pub request_id: String,
}

/// A refused trace list: the trace service's shape for its own parameters, the ECS shape for a
/// project that is not the caller's (`Ecs.0023`, checked before any handler runs).
#[derive(Debug, Clone, Serialize, PartialEq, ToSchema)]
#[serde(untagged)]
pub enum CtsRejection {
    Cts(CtsErrorBody),
    Ecs(crate::errors::EcsErrorBody),
}
