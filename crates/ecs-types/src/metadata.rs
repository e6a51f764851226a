//! Server metadata: `POST /v1/{project_id}/cloudservers/{server_id}/metadata` and its answer
//! (SDK `UpdateServerMetadataRequestBody` / `UpdateServerMetadataResponse`).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// The keys to add or change; keys not named are kept.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct UpdateMetadataBody {
    pub metadata: Option<BTreeMap<String, String>>,
}

/// The server's whole user metadata after the change.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MetadataView {
    pub metadata: BTreeMap<String, String>,
}
