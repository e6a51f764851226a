//! Nova-compatible key pairs, `/v2.1/{project_id}/os-keypairs`.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// `POST /v2.1/{project_id}/os-keypairs` body.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct CreateKeypairBody {
    pub keypair: CreateKeypair,
}

/// The `keypair` object of a create/import request.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct CreateKeypair {
    /// 1 to 64 letters, digits, `_` and `-`.
    #[schema(min_length = 1, max_length = 64)]
    pub name: String,
    #[serde(default)]
    pub public_key: Option<String>,
    /// Only `ssh` (the default).
    #[serde(default, rename = "type")]
    #[schema(pattern = "^ssh$")]
    pub key_type: Option<String>,
    #[serde(default)]
    pub user_id: Option<String>,
}

/// The answer of create/import; `private_key` only when the key was generated.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CreatedKeypair {
    pub fingerprint: String,
    pub name: String,
    pub public_key: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub private_key: Option<String>,
    pub user_id: String,
    #[serde(rename = "type")]
    pub key_type: String,
}

/// One element of the list answer (each wrapped in `{"keypair": ...}`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ListedKeypair {
    pub fingerprint: String,
    pub name: String,
    pub public_key: String,
    #[serde(rename = "type")]
    pub key_type: String,
}

/// The show answer: Nova's detail form (`id` is an integer, `deleted` a boolean).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct KeypairDetail {
    pub created_at: String,
    pub deleted: bool,
    #[schema(required = true)]
    pub deleted_at: Option<String>,
    pub fingerprint: String,
    pub id: i64,
    pub name: String,
    pub public_key: String,
    #[schema(required = true)]
    pub updated_at: Option<String>,
    pub user_id: String,
    #[serde(rename = "type")]
    pub key_type: String,
}

/// `{"keypair": T}` wrapper used by every key-pair answer.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct KeypairEnvelope<T> {
    pub keypair: T,
}

/// `{"keypairs": [{"keypair": ...}]}`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct KeypairList {
    pub keypairs: Vec<KeypairEnvelope<ListedKeypair>>,
}
