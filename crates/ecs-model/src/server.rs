//! The server record as ecsd keeps it (not the wire form: see `ecs_types::server`).

use crate::state::{self, TaskState, VmState};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A server of a project. `generation` is bumped by every write; writers compare-and-swap on it,
/// so two operations racing for the same server cannot both win.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Server {
    pub id: String,
    pub project_id: String,
    pub user_id: String,
    pub name: String,
    pub description: String,
    pub hostname: String,
    pub vm_state: VmState,
    pub task_state: Option<TaskState>,
    pub image_id: String,
    pub flavor_id: String,
    pub key_name: Option<String>,
    /// SHA-512 crypt hash of the admin password; never leaves the process.
    pub admin_pass_hash: Option<String>,
    /// SHA-512 crypt hash of a password reset that has not reached the disk yet: it is written
    /// into the system disk before the next start or reboot boots the VM (as on Huawei Cloud,
    /// a reset takes effect at the next start), then becomes `admin_pass_hash`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending_password_hash: Option<String>,
    /// Base64 user data as given (Cloud-Init variants and create).
    pub user_data: Option<String>,
    /// Image-derived and system metadata (`image_name`, `os_type`, `os_bit`, `vpc_id`, ...) and
    /// user metadata; every value is a string on the wire.
    pub metadata: BTreeMap<String, String>,
    pub network: ServerNic,
    pub availability_zone: String,
    pub security_groups: Vec<String>,
    pub tags: Vec<String>,
    pub locked: bool,
    pub created_ms: i64,
    pub updated_ms: i64,
    pub launched_ms: Option<i64>,
    /// The last reinstall or change-OS failed: the spec allows reinstalling such a server without
    /// `withStopServer` whatever its power state.
    pub os_change_failed: bool,
    pub fault: Option<Fault>,
    pub launch_index: i64,
    /// Shared by the servers of one create request (`OS-EXT-SRV-ATTR:reservation_id`).
    pub reservation_id: String,
    pub generation: i64,
    /// The enterprise project the server was created in (`extendparam.enterprise_project_id`);
    /// "0", the default enterprise project, when none was named. Absent in records written
    /// before it was kept.
    #[serde(default = "default_enterprise_project")]
    pub enterprise_project_id: String,
    /// The server group named in `os:scheduler_hints.group`, kept to be shown again.
    #[serde(default)]
    pub server_group: Option<String>,
    /// The compute host (an ecsd node) the server was placed on and its VM runs on
    /// (`OS-EXT-SRV-ATTR:host`). Absent in records written before servers were placed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// When the server is to be deleted by itself (`auto_terminate_time`, milliseconds since
    /// the epoch); `None`: never. Kept in a column too, which the scheduler reads.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_terminate_ms: Option<i64>,
    /// The NICs added after the create (`nics`, Nova `os-interface`), in the order they were
    /// added; each is a port of its own. Absent in records of servers with only their primary.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extra_nics: Vec<ServerNic>,
}

/// The default enterprise project's id.
pub const DEFAULT_ENTERPRISE_PROJECT: &str = "0";

fn default_enterprise_project() -> String {
    DEFAULT_ENTERPRISE_PROJECT.to_string()
}

/// The server's port on its subnet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServerNic {
    pub vpc_id: String,
    pub subnet_id: String,
    pub ip: String,
    pub mac: String,
    pub port_id: String,
}

/// Why a server is in ERROR.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fault {
    pub code: i64,
    pub message: String,
    pub created_ms: i64,
}

impl Server {
    /// The `status` shown on the wire.
    pub fn status(&self) -> &'static str {
        state::status(self.vm_state, self.task_state)
    }

    /// Whether an operation holds the server.
    pub fn is_busy(&self) -> bool {
        self.task_state.is_some()
    }

    /// Every NIC of the server, the primary first.
    pub fn nics(&self) -> impl Iterator<Item = &ServerNic> {
        std::iter::once(&self.network).chain(&self.extra_nics)
    }

    /// The NIC whose port is `port_id`, if it is one of the server's.
    pub fn nic(&self, port_id: &str) -> Option<&ServerNic> {
        self.nics().find(|n| n.port_id == port_id)
    }
}
