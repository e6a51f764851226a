//! Server tags: the batch create/delete body, the per-server and per-project tag lists, and
//! the query-by-tag body and answer (`/v1/{project_id}/cloudservers/.../tags...`).
//!
//! Field names and types follow the SDK models (`BatchCreateServerTagsRequestBody`,
//! `ShowServerTagsResponse`, `ListServerTagsResponse`, `ListServersByTagRequestBody`,
//! `ListServersByTagResponse`).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// `POST /v1/{project_id}/cloudservers/{server_id}/tags/action`: `action` is `create` or
/// `delete`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct BatchTagsBody {
    /// `create` or `delete`.
    pub action: Option<String>,
    pub tags: Option<Vec<TagInput>>,
}

/// One tag of a batch request; `value` may be absent (an empty value) and, on delete, only
/// `key` matters.
#[derive(Debug, Clone, Deserialize, Default, ToSchema)]
pub struct TagInput {
    pub key: Option<String>,
    pub value: Option<String>,
}

/// `{"key": ..., "value": ...}` as answered.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, ToSchema)]
pub struct ServerTag {
    pub key: String,
    pub value: String,
}

/// `GET /v1/{project_id}/cloudservers/{server_id}/tags`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ServerTags {
    pub tags: Vec<ServerTag>,
}

/// A key of the project's tags with every value it has on some server.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, ToSchema)]
pub struct ProjectTag {
    pub key: String,
    pub values: Vec<String>,
}

/// `GET /v1/{project_id}/cloudservers/tags`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProjectTags {
    pub tags: Vec<ProjectTag>,
}

/// A number the SDK sends as a string (`limit`, `offset` are `str` in its model) and other
/// clients may send as a JSON number.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum StrOrInt {
    Int(i64),
    Str(String),
}

/// A tag condition of the query: `key` with any of `values` (none: any value).
#[derive(Debug, Clone, Deserialize, Default, ToSchema)]
pub struct TagCondition {
    pub key: Option<String>,
    pub values: Option<Vec<String>>,
}

/// A search field of the query: only `resource_name` (a substring of the server name).
#[derive(Debug, Clone, Deserialize, Default, ToSchema)]
pub struct TagMatch {
    pub key: Option<String>,
    pub value: Option<String>,
}

/// `POST /v1/{project_id}/cloudservers/resource_instances/action`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct ListByTagBody {
    /// `filter` (one page of servers) or `count` (only `total_count`).
    pub action: Option<String>,
    /// 0–1000, default 1000; a string in the SDK's model.
    #[schema(value_type = Option<String>)]
    pub limit: Option<StrOrInt>,
    /// From 0, default 0; a string in the SDK's model.
    #[schema(value_type = Option<String>)]
    pub offset: Option<StrOrInt>,
    /// Servers that have every one of these tags.
    pub tags: Option<Vec<TagCondition>>,
    /// Servers that have at least one of these tags [inferred: the resource-tag convention].
    pub tags_any: Option<Vec<TagCondition>>,
    /// Servers that do not have all of these tags.
    pub not_tags: Option<Vec<TagCondition>>,
    /// Servers that have none of these tags [inferred: the resource-tag convention].
    pub not_tags_any: Option<Vec<TagCondition>>,
    pub matches: Option<Vec<TagMatch>>,
}

/// One server of a query-by-tag answer.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TaggedResource {
    pub resource_id: String,
    /// Reserved: always empty.
    pub resource_detail: String,
    pub tags: Vec<ServerTag>,
    pub resource_name: String,
}

/// The query-by-tag answer; `resources` is left out for `action: count`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TaggedResources {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resources: Option<Vec<TaggedResource>>,
    pub total_count: i64,
}
