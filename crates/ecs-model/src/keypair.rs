//! Key pairs, owned by a project and a user.

use serde::{Deserialize, Serialize};

/// An SSH key pair (only the public half is kept; a generated private key is returned once).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Keypair {
    /// Nova's integer id, assigned by the store.
    pub id: i64,
    pub project_id: String,
    pub user_id: String,
    pub name: String,
    pub public_key: String,
    pub fingerprint: String,
    pub key_type: String,
    pub created_ms: i64,
}
