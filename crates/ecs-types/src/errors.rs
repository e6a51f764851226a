//! The bodies of rejected requests, one type per shape the Huawei API families use.
//!
//! Which shape a code travels in is decided by [`crate::codes::Code::shape`]; these types are
//! what goes on the wire (and what the OpenAPI document describes).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// ECS shape: `{"error": {"code": "Ecs.0114", "message": "..."}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EcsErrorBody {
    pub error: EcsError,
}

/// The `error` object of an ECS error body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EcsError {
    /// The error code, such as `Ecs.0114` or `Common.0011`.
    #[schema(example = "Ecs.0114")]
    pub code: String,
    pub message: String,
}

/// API gateway shape (authentication, throttling, unknown paths):
/// `{"error_code": "APIGW.0301", "error_msg": "...", "request_id": "..."}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GatewayErrorBody {
    #[schema(example = "APIGW.0301")]
    pub error_code: String,
    pub error_msg: String,
    /// The request's id, also sent as the `X-Request-Id` header.
    pub request_id: String,
}

/// The fault object of a Nova error body; `code` is the HTTP status as an integer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NovaFault {
    #[schema(example = 404)]
    pub code: u16,
    pub message: String,
}

/// Nova 404: `{"itemNotFound": {"code": 404, "message": "..."}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NovaItemNotFound {
    #[serde(rename = "itemNotFound")]
    pub item_not_found: NovaFault,
}

/// Nova 400: `{"badRequest": {"code": 400, "message": "..."}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NovaBadRequest {
    #[serde(rename = "badRequest")]
    pub bad_request: NovaFault,
}

/// Nova 409: `{"conflictingRequest": {"code": 409, "message": "..."}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NovaConflict {
    #[serde(rename = "conflictingRequest")]
    pub conflicting_request: NovaFault,
}

/// Keystone (IAM) shape: `{"error": {"code": 401, "message": "...", "title": "Unauthorized"}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KeystoneErrorBody {
    pub error: KeystoneError,
}

/// The `error` object of a Keystone error body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KeystoneError {
    #[schema(example = 401)]
    pub code: u16,
    pub message: String,
    #[schema(example = "Unauthorized")]
    pub title: String,
}

/// VPC shape: `{"code": "VPC.0601", "message": "..."}`, the fields at the top level.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VpcErrorBody {
    #[schema(example = "VPC.0603")]
    pub code: String,
    pub message: String,
}
