//! Volumes: each server has a system disk (boot index 0) that belongs to it, and may have data
//! disks (boot index -1) created with it.

use serde::{Deserialize, Serialize};

/// A block volume. `server_id`/`boot_index` are set while it is attached; the driver holds the
/// bytes under the same id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Volume {
    pub id: String,
    pub project_id: String,
    pub server_id: Option<String>,
    /// 0 for the system disk, -1 for a data disk, `None` when detached.
    pub boot_index: Option<i64>,
    pub image_id: Option<String>,
    pub size_gb: i64,
    pub volume_type: String,
    pub device: String,
    pub delete_on_termination: bool,
    pub created_ms: i64,
    /// The disk's name in the disk service; records written before names were kept have none
    /// and are shown under a name derived from their id.
    #[serde(default)]
    pub name: Option<String>,
    /// Whether the disk may be attached to several servers (`multiattach` of a data volume).
    #[serde(default)]
    pub multiattach: bool,
    /// The availability zone the disk lives in (its server's).
    #[serde(default)]
    pub availability_zone: Option<String>,
    /// The operation that holds the volume (`creating`, `attaching`, `detaching`, `deleting`):
    /// set when its request is accepted, cleared when it ends, and shown as the volume's status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending: Option<String>,
}

impl Volume {
    /// Whether this is a server's system disk.
    pub fn is_system(&self) -> bool {
        self.boot_index == Some(0)
    }
}

/// The device name of the `n`-th data disk (0-based): `/dev/vdb`, `/dev/vdc`, ... as the
/// virtio disks after the system disk are named.
pub fn data_device(n: usize) -> String {
    let letter = (b'b' + (n % 24) as u8) as char;
    format!("/dev/vd{letter}")
}

/// Most data disks one server may have (virtio block devices after the system disk).
pub const MAX_DATA_DISKS: usize = 23;

/// What a volume is shown doing while an operation holds it (Cinder's status names).
pub const CREATING: &str = "creating";
pub const ATTACHING: &str = "attaching";
pub const DETACHING: &str = "detaching";
pub const DELETING: &str = "deleting";

/// The device name of the system disk.
pub const SYSTEM_DEVICE: &str = "/dev/vda";

/// Volume types accepted for `root_volume.volumetype`.
pub const VOLUME_TYPES: &[&str] = &["SATA", "SAS", "SSD", "GPSSD", "co-p1", "uh-l1", "ESSD", "GPSSD2", "ESSD2"];
