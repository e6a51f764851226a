//! Server groups (ECS groups): a named set of a project's servers with a placement policy.
//! The wire form is in `ecs_types::server_groups`.

use serde::{Deserialize, Serialize};

/// The policy whose members must run on distinct hosts.
pub const ANTI_AFFINITY: &str = "anti-affinity";

/// The policies a group may be created with: Huawei documents that only anti-affinity is
/// supported, although the SDK's model lists affinity and the soft variants too.
pub const POLICIES: &[&str] = &[ANTI_AFFINITY];

/// At most this many groups per project (Huawei's default quota, `maxServerGroups`).
pub const MAX_GROUPS: i64 = 10;

/// At most this many servers per group (Huawei's default, `maxServerGroupMembers`).
pub const MAX_MEMBERS: usize = 16;

/// A server group of a project. Its members are kept beside it (one row per member), not in
/// this record, so that a server joins or leaves in the transaction that creates or deletes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServerGroup {
    pub id: String,
    pub project_id: String,
    pub name: String,
    pub policies: Vec<String>,
    pub created_ms: i64,
    /// The member servers' ids, by when they joined (filled from the membership rows; never
    /// part of the stored body).
    #[serde(default, skip)]
    pub members: Vec<String>,
}

impl ServerGroup {
    /// Whether its members must be on distinct hosts.
    pub fn anti_affinity(&self) -> bool {
        self.policies.iter().any(|p| p == ANTI_AFFINITY)
    }
}
