//! Server groups (`/v1/{project_id}/cloudservers/os-server-groups`), their members, batch
//! resize (`/v1/{project_id}/cloudservers/batch-resize`) and the scheduled deletion time
//! (`.../cloudservers/{server_id}/actions/update-auto-terminate-time`).
//!
//! Field names and types follow the official SDK's `CreateServerGroupOption`,
//! `CreateServerGroupResult`, `ListServerGroupsResult`, `ServerGroupMember`,
//! `BatchAddServerGroupMemberReq`, `BatchOperateResultResponse`, `BatchResizeServersOption` and
//! `UpdateServerAutoTerminateTimeRequestBody` models.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::{IntoParams, ToSchema};

/// `POST .../os-server-groups`: `{"server_group": {"name", "policies"}}`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct CreateServerGroupBody {
    pub server_group: Option<CreateServerGroupOption>,
}

/// The new group: a name of 1 to 255 characters and its policies (`["anti-affinity"]`).
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct CreateServerGroupOption {
    pub name: Option<String>,
    pub policies: Option<Vec<String>>,
}

/// One group as every answer shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ServerGroupView {
    pub id: String,
    pub name: String,
    pub policies: Vec<String>,
    /// The member servers' ids.
    pub members: Vec<String>,
    pub metadata: BTreeMap<String, String>,
}

/// `{"server_group": ...}` (create and show).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ServerGroupEnvelope {
    pub server_group: ServerGroupView,
}

/// `page_info` of the list: the last group's id when there may be more.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ServerGroupPageInfo {
    #[schema(required = true)]
    pub next_marker: Option<String>,
}

/// `{"server_groups": [...], "page_info": {...}}`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ServerGroupList {
    pub server_groups: Vec<ServerGroupView>,
    pub page_info: ServerGroupPageInfo,
}

/// The list's query string.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ServerGroupsQuery {
    /// At most this many groups.
    #[serde(default, deserialize_with = "crate::queries::uint")]
    #[param(value_type = Option<u32>, maximum = 1000)]
    pub limit: Option<u64>,
    /// The groups after the one with this id.
    pub marker: Option<String>,
}

/// `POST .../os-server-groups/{id}/action`: `{"add_member": {"instance_uuid"}}` or
/// `{"remove_member": {"instance_uuid"}}`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct ServerGroupActionBody {
    pub add_member: Option<ServerGroupMember>,
    pub remove_member: Option<ServerGroupMember>,
}

/// A member named in an action.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct ServerGroupMember {
    pub instance_uuid: Option<String>,
}

/// `POST .../os-server-groups/{id}/add_members` and `.../remove_members`: `{"server_ids": [...]}`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct ServerGroupMembersBody {
    pub server_ids: Option<Vec<String>>,
}

/// What a batch member change did to each server.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BatchOperateResult {
    pub server_id: String,
    /// `success`.
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fail_reason: Option<String>,
}

/// `{"status": "success", "servers": [...]}`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BatchMembersResult {
    pub status: String,
    pub servers: Vec<BatchOperateResult>,
}

/// `POST .../cloudservers/batch-resize`: `{"resize": {"flavorRef", "servers": [{"id"}], "mode"}}`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct BatchResizeBody {
    pub resize: Option<BatchResizeOption>,
    /// `true`: check the request only; nothing is changed (answered 202).
    pub dry_run: Option<bool>,
}

/// The flavor every server changes to, the servers, and `withStopServer`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct BatchResizeOption {
    #[serde(rename = "flavorRef")]
    pub flavor_ref: Option<String>,
    pub servers: Option<Vec<BatchResizeServer>>,
    #[schema(pattern = "^withStopServer$")]
    pub mode: Option<String>,
}

/// `{"id": "<server uuid>"}`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct BatchResizeServer {
    pub id: Option<String>,
}

/// `POST .../{server_id}/actions/update-auto-terminate-time`: `{"auto_terminate_time":
/// "2020-09-25T12:05:00Z"}`; an empty string cancels.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct AutoTerminateBody {
    pub auto_terminate_time: Option<String>,
}
