//! Compute drivers: where disks and virtual machines really live.
//!
//! The control plane (store + sagas) decides; a driver does. Every driver verb is an "ensure"
//! keyed by ecsd's own ids, so a saga step that is replayed after a crash finds the work done
//! and succeeds instead of doing it twice: creating a disk that exists, deleting one that is
//! gone, stopping a stopped VM are all successes.

pub mod qemu;
pub mod sim;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

/// What `vnc_console` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VncConsole {
    /// The VM runs and its VNC server listens on this unix socket.
    Socket(std::path::PathBuf),
    /// The VM is not running (nothing to show).
    NotRunning,
    /// The driver's VMs have no display (the simulated driver).
    Unavailable,
}

/// Why a driver call failed. The message is for the operator (it may name files and tools of
/// the host); the job that fails on it says only that a system exception occurred.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct DriverError {
    pub message: String,
    /// The host is out of space (disk full, quota): nothing is wrong with the operation, and
    /// the same call succeeds once space is freed, so a saga waits rather than fails.
    pub no_space: bool,
}

impl DriverError {
    /// A driver failure.
    pub fn system(message: impl Into<String>) -> Self {
        DriverError { message: message.into(), no_space: false }
    }

    /// A failed file operation: `what` was being done when `e` happened. A full disk or an
    /// exhausted quota is marked as such.
    pub fn io(what: &str, e: &std::io::Error) -> Self {
        let no_space = is_no_space(e);
        DriverError { no_space, ..DriverError::system(format!("{what}: {e}")) }
    }
}

/// Whether an I/O error means "no space left" (ENOSPC, EDQUOT).
pub fn is_no_space(e: &std::io::Error) -> bool {
    use std::io::ErrorKind;
    matches!(e.kind(), ErrorKind::StorageFull | ErrorKind::QuotaExceeded)
}

/// A disk to create: from an image (a system disk), or blank (a data disk).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DiskSpec {
    pub disk_id: String,
    /// The image the disk is built from; `None` for a blank disk.
    pub image_id: Option<String>,
    /// The image's bytes, for drivers that need them (only with an image).
    pub image_file: Option<String>,
    /// Size in GiB; for a disk from an image, 0 means the image's own size.
    pub size_gb: i64,
}

impl DiskSpec {
    /// A disk built from an image.
    pub fn from_image(disk_id: &str, image_id: &str, image_file: Option<String>, size_gb: i64) -> Self {
        DiskSpec { disk_id: disk_id.to_string(), image_id: Some(image_id.to_string()), image_file, size_gb }
    }

    /// A blank disk of `size_gb` GiB.
    pub fn blank(disk_id: &str, size_gb: i64) -> Self {
        DiskSpec { disk_id: disk_id.to_string(), image_id: None, image_file: None, size_gb }
    }
}

/// What is written into a fresh system disk so the owner can log in (the image has no
/// Cloud-Init), or handed to Cloud-Init for images that have it.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Injection {
    /// OpenSSH public key line for root's `authorized_keys`.
    pub public_key: Option<String>,
    /// SHA-512 crypt hash for root's `/etc/shadow` entry.
    pub password_hash: Option<String>,
    /// Base64 user data (Cloud-Init images only).
    pub user_data: Option<String>,
    pub hostname: Option<String>,
    /// Hand the data to Cloud-Init (NoCloud seed) rather than writing it into the filesystem.
    pub via_cloud_init: bool,
}

/// A VM to run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VmSpec {
    pub server_id: String,
    /// The system disk, attached first and booted from.
    pub boot_disk: String,
    /// The data disks, attached after the system disk in this order: the order of their
    /// devices (`/dev/vdb`, `/dev/vdc`, ...) in the API.
    #[serde(default)]
    pub data_disks: Vec<String>,
    pub vcpus: i64,
    pub ram_mb: i64,
    /// The NICs added after the create, in the order they were added (the primary NIC is
    /// every VM's own). Absent in specs written before NICs could be added.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub nics: Vec<VmNic>,
}

/// A NIC added to a VM: its port id (the device's name in the driver) and its MAC, which the
/// guest sees.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VmNic {
    pub id: String,
    pub mac: String,
}

/// Whether a VM's data disks are the ones asked for. Their order is not compared: a disk
/// hot-plugged into a running VM comes last in its list whatever its device, and the guest
/// keeps the names it gave; the order counts at the next boot, which takes the spec's.
pub(crate) fn same_disks(running: &[String], wanted: &[String]) -> bool {
    let (mut a, mut b) = (running.to_vec(), wanted.to_vec());
    a.sort();
    b.sort();
    a == b
}

/// Power state as the driver sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Power {
    Running,
    Stopped,
    /// The driver knows no VM for this server.
    Absent,
}

/// The operations sagas need from a compute backend.
#[async_trait]
pub trait ComputeDriver: Send + Sync {
    /// Short name shown at start-up (`sim`, `qemu`).
    fn name(&self) -> &'static str;
    /// Whether the driver's disks and VMs live on this host only (processes, local files), so
    /// that when several nodes share a database only this node can act on them. A driver whose
    /// state the nodes share says false, and any node can run any saga.
    fn host_bound(&self) -> bool {
        true
    }
    /// Ensures a disk exists, built from its image or blank. A disk that exists under the id is
    /// left as it is.
    async fn disk_create(&self, spec: &DiskSpec) -> Result<(), DriverError>;
    /// Writes login data into a disk (idempotent: the same injection twice gives the same disk).
    async fn disk_inject(&self, disk_id: &str, injection: &Injection) -> Result<(), DriverError>;
    /// Ensures a disk is gone.
    async fn disk_delete(&self, disk_id: &str) -> Result<(), DriverError>;
    /// Every disk the driver holds (orphan checks).
    async fn disk_list(&self) -> Result<Vec<String>, DriverError>;
    /// Ensures the VM runs from `spec.boot_disk` with `spec.data_disks` attached (starting it, or
    /// restarting it on other disks, as needed). Every disk must exist.
    async fn vm_start(&self, spec: &VmSpec) -> Result<(), DriverError>;
    /// Ensures the VM is stopped (`force`: no graceful shutdown).
    async fn vm_stop(&self, server_id: &str, force: bool) -> Result<(), DriverError>;
    /// Reboots a running VM.
    async fn vm_reboot(&self, spec: &VmSpec, hard: bool) -> Result<(), DriverError>;
    /// Ensures the VM is gone (its disks are deleted separately).
    async fn vm_destroy(&self, server_id: &str) -> Result<(), DriverError>;
    /// The VM's power state.
    async fn vm_power(&self, server_id: &str) -> Result<Power, DriverError>;
    /// How a user reaches the VM from the host (for example `ssh -p 2222 root@127.0.0.1`), if
    /// the driver offers a way; shown in the server's metadata.
    async fn vm_access(&self, _server_id: &str) -> Option<String> {
        None
    }
    /// Ensures the VM has the NIC: hot-plugged into a running VM, recorded for the next start
    /// of a stopped one. A NIC it has already is left as it is.
    async fn nic_attach(&self, server_id: &str, nic: &VmNic) -> Result<(), DriverError>;
    /// Ensures the VM no longer has the NIC `nic_id` (unplugged from a running VM, dropped from
    /// what a stopped one starts with). One it never had is no error.
    async fn nic_detach(&self, server_id: &str, nic_id: &str) -> Result<(), DriverError>;
    /// Sends a non-maskable interrupt to a running VM's guest, which is how a crash dump is
    /// triggered: a guest set up for kdump dumps its memory and restarts, any other logs it.
    /// `false`: there is no running VM to send it to.
    async fn vm_nmi(&self, server_id: &str) -> Result<bool, DriverError>;
    /// The VM's remote console: where its VNC server listens, a unix socket on this host.
    async fn vnc_console(&self, _server_id: &str) -> Result<VncConsole, DriverError> {
        Ok(VncConsole::Unavailable)
    }
    /// What the guest wrote to its serial console, oldest first (`None`: the driver keeps no
    /// console, or there is no VM).
    async fn console_output(&self, _server_id: &str) -> Result<Option<String>, DriverError> {
        Ok(None)
    }
    /// Ensures a running VM has the data disk `disk_id` plugged in (hot-plug), as `device` in the
    /// API. A stopped or absent VM is left as it is: its next start attaches the disk from
    /// `VmSpec::data_disks`. The disk must exist.
    async fn disk_attach(&self, server_id: &str, disk_id: &str, device: &str) -> Result<(), DriverError>;
    /// Ensures a running VM no longer has the data disk `disk_id` plugged in (hot-unplug: the
    /// guest releases it first). The disk and its data stay.
    async fn disk_detach(&self, server_id: &str, disk_id: &str) -> Result<(), DriverError>;
    /// Re-attaches to whatever the driver left running before a restart (VM processes), and
    /// reports servers whose VM died. Called once at start-up, before sagas resume.
    async fn reconcile(&self) -> Result<(), DriverError> {
        Ok(())
    }
    /// How many VMs run now, as the driver sees them (`None`: it cannot tell). Read by the
    /// metrics at each scrape; it must not disturb the VMs (no QMP round trip).
    async fn vms_running(&self) -> Result<Option<usize>, DriverError> {
        Ok(None)
    }
}
