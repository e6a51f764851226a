//! Volumes: each server has a system disk (boot index 0) that belongs to it.

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
}

/// The device name of the system disk.
pub const SYSTEM_DEVICE: &str = "/dev/vda";

/// Volume types accepted for `root_volume.volumetype`.
pub const VOLUME_TYPES: &[&str] = &["SATA", "SAS", "SSD", "GPSSD", "co-p1", "uh-l1", "ESSD", "GPSSD2", "ESSD2"];
