//! The server state machine: `vm_state` × `task_state` → `status`, as the ECS status table defines.
//!
//! `task_state` doubles as the operation lock: an operation sets it when it is accepted (with a
//! compare-and-swap on the server's generation) and clears it when it ends, so a second operation
//! on a busy server is refused at the gate.

use serde::{Deserialize, Serialize};

/// `OS-EXT-STS:vm_state`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VmState {
    Building,
    Active,
    Stopped,
    Error,
    Deleted,
}

/// `OS-EXT-STS:task_state` (note Huawei's hyphens in `powering-off`/`powering-on`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TaskState {
    #[serde(rename = "scheduling")]
    Scheduling,
    #[serde(rename = "spawning")]
    Spawning,
    #[serde(rename = "powering-off")]
    PoweringOff,
    #[serde(rename = "powering-on")]
    PoweringOn,
    #[serde(rename = "rebooting")]
    Rebooting,
    #[serde(rename = "rebooting_hard")]
    RebootingHard,
    #[serde(rename = "rebuilding")]
    Rebuilding,
    #[serde(rename = "rebuild_block_device_mapping")]
    RebuildBlockDeviceMapping,
    #[serde(rename = "rebuild_spawning")]
    RebuildSpawning,
    #[serde(rename = "deleting")]
    Deleting,
    /// A flavor change: the server is stopped and about to take the new flavor.
    #[serde(rename = "resize_prep")]
    ResizePrep,
    /// A flavor change: the new flavor is in place and the server is being started on it.
    #[serde(rename = "resize_finish")]
    ResizeFinish,
    /// NICs are being added (hot-plugged into a running VM, or recorded for the next start).
    #[serde(rename = "attaching_interface")]
    AttachingInterface,
    /// NICs are being removed.
    #[serde(rename = "detaching_interface")]
    DetachingInterface,
    /// A volume is being attached (hot-plugged into a running VM).
    #[serde(rename = "attaching_volume")]
    AttachingVolume,
    /// A volume is being detached (released by a running guest first).
    #[serde(rename = "detaching_volume")]
    DetachingVolume,
}

impl VmState {
    /// The wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            VmState::Building => "building",
            VmState::Active => "active",
            VmState::Stopped => "stopped",
            VmState::Error => "error",
            VmState::Deleted => "deleted",
        }
    }

    /// `OS-EXT-STS:power_state`: 1 running, 4 shut off, 0 no state (Nova's numbering).
    pub fn power_state(self) -> i64 {
        match self {
            VmState::Active => 1,
            VmState::Stopped => 4,
            _ => 0,
        }
    }
}

impl TaskState {
    /// The wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            TaskState::Scheduling => "scheduling",
            TaskState::Spawning => "spawning",
            TaskState::PoweringOff => "powering-off",
            TaskState::PoweringOn => "powering-on",
            TaskState::Rebooting => "rebooting",
            TaskState::RebootingHard => "rebooting_hard",
            TaskState::Rebuilding => "rebuilding",
            TaskState::RebuildBlockDeviceMapping => "rebuild_block_device_mapping",
            TaskState::RebuildSpawning => "rebuild_spawning",
            TaskState::Deleting => "deleting",
            TaskState::ResizePrep => "resize_prep",
            TaskState::ResizeFinish => "resize_finish",
            TaskState::AttachingInterface => "attaching_interface",
            TaskState::DetachingInterface => "detaching_interface",
            TaskState::AttachingVolume => "attaching_volume",
            TaskState::DetachingVolume => "detaching_volume",
        }
    }

    fn is_rebuild(self) -> bool {
        matches!(self, TaskState::Rebuilding | TaskState::RebuildBlockDeviceMapping | TaskState::RebuildSpawning)
    }
}

/// The `status` the ECS API shows for a pair of states; `UNKNOWN` for combinations the table
/// does not list.
pub fn status(vm: VmState, task: Option<TaskState>) -> &'static str {
    use TaskState as T;
    use VmState as V;
    match (vm, task) {
        (V::Building, None | Some(T::Scheduling | T::Spawning)) => "BUILD",
        (V::Active | V::Stopped | V::Error, Some(t)) if t.is_rebuild() => "REBUILD",
        (V::Active, Some(T::Rebooting)) => "REBOOT",
        (V::Active, Some(T::RebootingHard)) => "HARD_REBOOT",
        (V::Active, None | Some(T::PoweringOff | T::Deleting)) => "ACTIVE",
        // A NIC change leaves the server as it was (Nova shows no status for it either).
        (V::Active, Some(T::AttachingInterface | T::DetachingInterface)) => "ACTIVE",
        (V::Stopped, Some(T::AttachingInterface | T::DetachingInterface)) => "SHUTOFF",
        (V::Stopped, Some(T::ResizePrep | T::ResizeFinish)) => "RESIZE",
        (V::Stopped, None | Some(T::PoweringOn | T::Deleting)) => "SHUTOFF",
        // A disk change leaves the server as it is.
        (V::Active, Some(T::AttachingVolume | T::DetachingVolume)) => "ACTIVE",
        (V::Stopped, Some(T::AttachingVolume | T::DetachingVolume)) => "SHUTOFF",
        (V::Error, None | Some(T::Deleting)) => "ERROR",
        (V::Deleted, None) => "DELETED",
        _ => "UNKNOWN",
    }
}

/// The statuses a `status` list filter may name.
pub const KNOWN_STATUSES: &[&str] = &[
    "ACTIVE",
    "BUILD",
    "DELETED",
    "ERROR",
    "HARD_REBOOT",
    "MIGRATING",
    "PAUSED",
    "REBOOT",
    "REBUILD",
    "RESIZE",
    "REVERT_RESIZE",
    "SHUTOFF",
    "SHELVED",
    "SHELVED_OFFLOADED",
    "SOFT_DELETED",
    "SUSPENDED",
    "VERIFY_RESIZE",
    "UNKNOWN",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_table_matches_the_spec() {
        use TaskState as T;
        use VmState as V;
        assert_eq!(status(V::Building, Some(T::Spawning)), "BUILD");
        assert_eq!(status(V::Active, None), "ACTIVE");
        assert_eq!(status(V::Active, Some(T::PoweringOff)), "ACTIVE");
        assert_eq!(status(V::Stopped, None), "SHUTOFF");
        assert_eq!(status(V::Stopped, Some(T::ResizePrep)), "RESIZE");
        assert_eq!(status(V::Stopped, Some(T::ResizeFinish)), "RESIZE");
        assert_eq!(status(V::Stopped, Some(T::PoweringOn)), "SHUTOFF");
        assert_eq!(status(V::Stopped, Some(T::Rebuilding)), "REBUILD");
        assert_eq!(status(V::Stopped, Some(T::RebuildSpawning)), "REBUILD");
        assert_eq!(status(V::Error, Some(T::RebuildBlockDeviceMapping)), "REBUILD");
        assert_eq!(status(V::Active, Some(T::Rebooting)), "REBOOT");
        assert_eq!(status(V::Active, Some(T::RebootingHard)), "HARD_REBOOT");
        assert_eq!(status(V::Error, None), "ERROR");
        assert_eq!(status(V::Deleted, None), "DELETED");
        assert_eq!(status(V::Active, Some(T::AttachingVolume)), "ACTIVE");
        assert_eq!(status(V::Stopped, Some(T::DetachingVolume)), "SHUTOFF");
        assert_eq!(status(V::Stopped, Some(T::Rebooting)), "UNKNOWN");
        assert_eq!(status(V::Building, Some(T::PoweringOff)), "UNKNOWN");
    }

    #[test]
    fn task_state_wire_names_use_hyphens_for_power() {
        assert_eq!(serde_json::to_string(&TaskState::PoweringOff).unwrap(), "\"powering-off\"");
        assert_eq!(TaskState::PoweringOn.as_str(), "powering-on");
        assert_eq!(VmState::Stopped.power_state(), 4);
        assert_eq!(VmState::Active.power_state(), 1);
    }
}
