//! The QEMU driver: disks are qcow2 overlays on image base files, VMs are daemonized QEMU
//! processes on user-mode networking, login data is written into the disk offline.
//!
//! State lives under one root directory:
//!
//! ```text
//! disks/<disk_id>.qcow2      system disk (overlay over the image's base file) or blank data disk
//! disks/<disk_id>.json       what it was made from: base file, format, boot instructions
//! disks/<disk_id>.seed.iso   NoCloud seed, for Cloud-Init images only
//! vms/<server_id>/vm.json    boot disk, data disks, SSH port, size
//! vms/<server_id>/qemu.pid   qmp.sock   serial.log   qemu.log
//! work/<disk_id>/            scratch space of an injection in progress
//! ```
//!
//! Every verb is an "ensure" keyed by ecsd's ids, as in the simulated driver. Verbs on the
//! same disk or VM are serialized by per-id locks; different ids run in parallel.
//!
//! A VM's data disks are virtio-blk devices after its system disk, in the order the VM spec
//! lists them, each with the first 20 characters of its id as serial number (what the guest
//! shows as `/sys/block/vdX/serial` and `/dev/disk/by-id/virtio-<serial>`).

mod demo_image;
mod host;
mod hotplug;
mod image;
mod inject;
mod partition;
mod process;
mod qmp;
mod seed;
mod vm;

pub use demo_image::{build_demo_image, os_release, DemoImage};
pub use host::{check_host, check_host_for, check_host_with, probe_kernel, Accel, HostInfo};
pub use image::{inspect_image, BootInfo, DiskBus, ImageFacts};
pub use partition::{guid_bytes, ExtFs, Partition, Table};
pub use vm::VmRecord;

use crate::{ComputeDriver, DiskSpec, DriverError, Injection, Power, VmNic, VmSpec, VncConsole};
use async_trait::async_trait;
use image::write_atomic;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use vm::{Launch, Liveness, VmPaths};

/// Settings of the QEMU driver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QemuConfig {
    /// Accelerator (`auto` probes KVM once, at the first start).
    pub accel: Accel,
    /// How long a graceful stop waits for the guest to power off before QEMU is told to quit.
    pub stop_timeout: Duration,
}

impl Default for QemuConfig {
    fn default() -> Self {
        QemuConfig { accel: Accel::Auto, stop_timeout: Duration::from_secs(30) }
    }
}

/// What [`QemuDriver::reconcile_report`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ReconcileReport {
    /// Servers whose QEMU still runs: kept as they are.
    pub running: Vec<String>,
    /// Servers whose QEMU is gone (or holds a halted guest): they count as stopped.
    pub stopped: Vec<String>,
    /// VM directories without a usable record: removed.
    pub removed: Vec<String>,
}

/// What the driver records about a disk next to it (`disks/<id>.json`). Records of system
/// disks written before blank disks existed read the same (their fields are all present).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct DiskMeta {
    disk_id: String,
    /// The image the disk was built from; `None` for a blank disk.
    image_id: Option<String>,
    /// The image base file the overlay reads from (it must stay in place); `None` for a blank disk.
    base: Option<PathBuf>,
    base_format: Option<String>,
    size_bytes: u64,
    /// Boot instructions copied from the image's sidecar when the disk was made.
    boot: Option<BootInfo>,
}

/// The QEMU compute driver.
pub struct QemuDriver {
    root: PathBuf,
    config: QemuConfig,
    accel: tokio::sync::OnceCell<Accel>,
    locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    /// Held while a port is chosen and QEMU binds it, so two starts never pick the same port.
    ports: tokio::sync::Mutex<()>,
}

/// A driver failure. QEMU's tools report a full disk only in their messages (`qemu-img`:
/// "No space left on device"), which is all there is to tell it by; it is marked so that the
/// saga waits for space instead of failing.
fn err(message: impl Into<String>) -> DriverError {
    let message = message.into();
    let no_space = ["No space left on device", "Disk quota exceeded"].iter().any(|m| message.contains(m));
    DriverError { no_space, ..DriverError::system(message) }
}

/// Ids become file names: refuse anything that could leave the directory.
fn safe(id: &str) -> Result<&str, DriverError> {
    if id.is_empty() || id.len() > 64 || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
        return Err(err(format!("invalid id {id:?}")));
    }
    Ok(id)
}

const GIB: u64 = 1 << 30;

/// The record of a new blank disk (a data disk): nothing to read from, nothing to boot.
fn blank_disk_meta(spec: &DiskSpec) -> Result<DiskMeta, DriverError> {
    if spec.image_file.is_some() {
        return Err(err(format!("disk {}: an image file was given without an image", spec.disk_id)));
    }
    if spec.size_gb <= 0 {
        return Err(err(format!("blank disk {} needs a size, got {} GiB", spec.disk_id, spec.size_gb)));
    }
    Ok(DiskMeta {
        disk_id: spec.disk_id.clone(),
        image_id: None,
        base: None,
        base_format: None,
        size_bytes: spec.size_gb as u64 * GIB,
        boot: None,
    })
}

/// A VM record as read from disk: absent, present, or unreadable (with why).
type RecordRead = Result<Option<VmRecord>, String>;

impl QemuDriver {
    /// A driver keeping its state under `root` (created if missing). Cheap: the host is not
    /// probed here (see [`QemuDriver::check_host`]) and the KVM probe runs at the first start.
    pub fn new(root: impl AsRef<Path>, config: QemuConfig) -> Result<Self, DriverError> {
        let root = root.as_ref();
        for sub in ["disks", "vms", "work"] {
            std::fs::create_dir_all(root.join(sub))
                .map_err(|e| err(format!("cannot create the state directory {}: {e}", root.join(sub).display())))?;
        }
        // Absolute paths: they end up inside qcow2 headers and QEMU command lines.
        let root = root.canonicalize().map_err(|e| err(format!("cannot resolve {}: {e}", root.display())))?;
        Ok(QemuDriver {
            root,
            config,
            accel: tokio::sync::OnceCell::new(),
            locks: Mutex::new(HashMap::new()),
            ports: tokio::sync::Mutex::new(()),
        })
    }

    /// Checks that the host has QEMU, qemu-img, qemu-storage-daemon, debugfs and FUSE, naming
    /// the Debian package of anything missing, and says which accelerator `auto` gives.
    /// Blocking (see [`check_host_for`]).
    pub fn check_host() -> Result<HostInfo, String> {
        host::check_host()
    }

    /// The state directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The accelerator guests run with (resolving `auto` with the KVM probe the first time).
    pub async fn accel(&self) -> Result<Accel, DriverError> {
        let wanted = self.config.accel;
        self.accel
            .get_or_try_init(|| async move {
                let (accel, why) = tokio::task::spawn_blocking(move || host::resolve_accel(wanted))
                    .await
                    .map_err(|e| err(format!("accelerator probe failed: {e}")))?
                    .map_err(err)?;
                tracing::info!(%accel, reason = %why, "QEMU accelerator chosen");
                Ok(accel)
            })
            .await
            .copied()
    }

    /// The file of a disk id (a system disk or a data disk).
    pub fn disk_path(&self, disk_id: &str) -> Result<PathBuf, DriverError> {
        Ok(self.root.join("disks").join(format!("{}.qcow2", safe(disk_id)?)))
    }

    fn disk_file(&self, disk_id: &str, ext: &str) -> Result<PathBuf, DriverError> {
        Ok(self.root.join("disks").join(format!("{}.{ext}", safe(disk_id)?)))
    }

    fn vm_paths(&self, server_id: &str) -> Result<VmPaths, DriverError> {
        Ok(VmPaths::new(&self.root.join("vms"), safe(server_id)?))
    }

    /// The guest's serial console log (appended across boots).
    pub fn serial_log(&self, server_id: &str) -> Result<PathBuf, DriverError> {
        Ok(self.vm_paths(server_id)?.serial)
    }

    /// What the driver records about a VM.
    pub async fn vm_record(&self, server_id: &str) -> Result<Option<VmRecord>, DriverError> {
        self.vm_paths(server_id)?.load().map_err(err)
    }

    /// The loopback port forwarded to the VM's SSH port.
    pub async fn ssh_port(&self, server_id: &str) -> Option<u16> {
        self.vm_record(server_id).await.ok().flatten().map(|r| r.port)
    }

    /// A lock per disk or VM id, so that verbs on one object never interleave.
    async fn lock(&self, key: String) -> tokio::sync::OwnedMutexGuard<()> {
        let m = {
            let mut locks = self.locks.lock().unwrap_or_else(|p| p.into_inner());
            locks.entry(key).or_default().clone()
        };
        m.lock_owned().await
    }

    fn load_disk_meta(&self, disk_id: &str) -> Result<Option<DiskMeta>, DriverError> {
        if !self.disk_path(disk_id)?.is_file() {
            return Ok(None);
        }
        let path = self.disk_file(disk_id, "json")?;
        let bytes = std::fs::read(&path).map_err(|e| err(format!("cannot read {}: {e}", path.display())))?;
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| err(format!("disk record {} is corrupt: {e}", path.display())))
    }

    /// Every VM directory's id and record (ids in order).
    fn records(&self) -> Result<Vec<(String, RecordRead)>, DriverError> {
        let vms = self.root.join("vms");
        let mut out = Vec::new();
        let rd = std::fs::read_dir(&vms).map_err(|e| err(format!("cannot list {}: {e}", vms.display())))?;
        for entry in rd.flatten() {
            let id = entry.file_name().to_string_lossy().to_string();
            if safe(&id).is_ok() && entry.path().is_dir() {
                let rec = VmPaths::new(&vms, &id).load();
                out.push((id, rec));
            }
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(out)
    }

    /// A running VM (other than `except`) that has `disk_id` attached (system or data disk), if any.
    fn user_of(&self, disk_id: &str, except: Option<&str>) -> Result<Option<String>, DriverError> {
        for (id, rec) in self.records()? {
            if Some(id.as_str()) == except {
                continue;
            }
            if let Ok(Some(rec)) = rec {
                if rec.uses(disk_id) && self.vm_paths(&id)?.pid().is_some() {
                    return Ok(Some(id));
                }
            }
        }
        Ok(None)
    }

    fn refuse_if_in_use(&self, disk_id: &str, doing: &str) -> Result<(), DriverError> {
        match self.user_of(disk_id, None)? {
            Some(vm) => Err(err(format!("cannot {doing} disk {disk_id}: the running VM of server {vm} uses it"))),
            None => Ok(()),
        }
    }

    /// Starts the VM (the caller holds its lock and has stopped any QEMU of it).
    async fn start_locked(&self, spec: &VmSpec, paths: &VmPaths, old: Option<&VmRecord>) -> Result<(), DriverError> {
        let meta = self
            .load_disk_meta(&spec.boot_disk)?
            .ok_or_else(|| err(format!("boot disk {} does not exist", spec.boot_disk)))?;
        if let Some(other) = self.user_of(&spec.boot_disk, Some(&spec.server_id))? {
            return Err(err(format!("boot disk {} is in use by the running VM of server {other}", spec.boot_disk)));
        }
        let mut data = Vec::with_capacity(spec.data_disks.len());
        for id in &spec.data_disks {
            let path = self.disk_path(id)?;
            if !path.is_file() {
                return Err(err(format!("data disk {id} of server {} does not exist", spec.server_id)));
            }
            if let Some(other) = self.user_of(id, Some(&spec.server_id))? {
                return Err(err(format!("data disk {id} is in use by the running VM of server {other}")));
            }
            data.push((id.clone(), path));
        }
        let disk = self.disk_path(&spec.boot_disk)?;
        let seed = self.disk_file(&spec.boot_disk, "seed.iso")?;
        let seed = seed.is_file().then_some(seed);
        let boot = meta.boot.clone().unwrap_or_default();
        let accel = self.accel().await?;
        // The spec's NICs on ports 0, 1, ... in the order they were added.
        if spec.nics.len() > usize::from(vm::NIC_SLOTS) {
            return Err(err(format!("server {} has more added NICs than the VM has ports", spec.server_id)));
        }
        let nics: Vec<vm::RecNic> = (0u8..)
            .zip(&spec.nics)
            .map(|(slot, n)| {
                safe(&n.id)?;
                Ok(vm::RecNic { id: n.id.clone(), mac: n.mac.clone(), slot })
            })
            .collect::<Result<_, DriverError>>()?;

        let _ports = self.ports.lock().await;
        let taken: Vec<u16> = self
            .records()?
            .into_iter()
            .filter(|(id, _)| id != &spec.server_id)
            .filter_map(|(_, r)| r.ok().flatten().map(|r| r.port))
            .collect();
        let mut port = match old {
            Some(r) if !taken.contains(&r.port) && process::port_free(r.port) => r.port,
            _ => process::free_port(&taken).map_err(err)?,
        };
        for attempt in 0..2 {
            let rec = VmRecord {
                server_id: spec.server_id.clone(),
                boot_disk: spec.boot_disk.clone(),
                data_disks: spec.data_disks.clone(),
                port,
                vcpus: spec.vcpus,
                ram_mb: spec.ram_mb,
                nics: nics.clone(),
            };
            // Recorded before QEMU starts: a crash right after leaves a findable VM.
            paths.store(&rec).map_err(err)?;
            let launch =
                Launch { paths, rec: &rec, disk: &disk, data: &data, boot: &boot, seed: seed.as_deref(), accel };
            match vm::launch(&launch).await {
                Ok(pid) => {
                    tracing::info!(
                        server = %spec.server_id, pid, port, disk = %spec.boot_disk,
                        data_disks = spec.data_disks.len(), "VM started"
                    );
                    return Ok(());
                }
                // Someone took the port between our check and QEMU's bind: once more, elsewhere.
                Err(e) if attempt == 0 && e.contains("host forwarding") => {
                    tracing::warn!(port, "SSH port was taken; choosing another");
                    port = process::free_port(&taken).map_err(err)?;
                }
                Err(e) => return Err(err(format!("cannot start the VM of server {}: {e}", spec.server_id))),
            }
        }
        Err(err(format!("cannot start the VM of server {}: no usable SSH port", spec.server_id)))
    }

    /// The record of a new system disk: an overlay over the image's base file, at least as large
    /// as the image.
    async fn image_disk_meta(&self, spec: &DiskSpec, image_id: &str) -> Result<DiskMeta, DriverError> {
        let base = spec
            .image_file
            .as_deref()
            .ok_or_else(|| err(format!("image {image_id} has no image file to build disk {} from", spec.disk_id)))?;
        let base = Path::new(base)
            .canonicalize()
            .map_err(|e| err(format!("image file {base} of image {image_id} is not usable: {e}")))?;
        let info = image::qemu_img_info(&base).await.map_err(err)?;
        let boot = BootInfo::load_for(&base).map_err(err)?;
        let size = if spec.size_gb > 0 { spec.size_gb as u64 * GIB } else { info.virtual_size };
        if size < info.virtual_size {
            return Err(err(format!(
                "disk {} of {} GiB is smaller than its image ({} GiB)",
                spec.disk_id,
                spec.size_gb,
                info.virtual_size.div_ceil(GIB)
            )));
        }
        Ok(DiskMeta {
            disk_id: spec.disk_id.clone(),
            image_id: Some(image_id.to_string()),
            base: Some(base),
            base_format: Some(info.format),
            size_bytes: size,
            boot,
        })
    }

    /// Checks every VM left from before a restart: running ones are kept, dead ones are marked
    /// stopped (their record and port stay), broken leftovers are removed; interrupted
    /// injections and half-created disks are cleaned up.
    pub async fn reconcile_report(&self) -> Result<ReconcileReport, DriverError> {
        let mut report = ReconcileReport::default();
        for (id, rec) in self.records()? {
            let _g = self.lock(format!("vm:{id}")).await;
            let paths = self.vm_paths(&id)?;
            match rec {
                Ok(Some(_)) => match vm::liveness(&paths).await {
                    Liveness::Running(pid) => {
                        tracing::info!(server = %id, pid, "VM still running");
                        report.running.push(id);
                    }
                    Liveness::Halted(pid, status) => {
                        tracing::warn!(server = %id, pid, %status, "VM process alive but its guest is not running");
                        report.stopped.push(id);
                    }
                    Liveness::Gone => {
                        tracing::warn!(server = %id, "VM died while the driver was away");
                        paths.clear_runtime().map_err(err)?;
                        report.stopped.push(id);
                    }
                },
                Ok(None) | Err(_) => {
                    vm::shutdown(&paths, true, Duration::ZERO).await.map_err(err)?;
                    std::fs::remove_dir_all(&paths.dir)
                        .map_err(|e| err(format!("cannot remove {}: {e}", paths.dir.display())))?;
                    report.removed.push(id);
                }
            }
        }
        let work = self.root.join("work");
        for entry in
            std::fs::read_dir(&work).map_err(|e| err(format!("cannot list {}: {e}", work.display())))?.flatten()
        {
            inject::cleanup_stale(&entry.path()).await.map_err(err)?;
        }
        let disks = self.root.join("disks");
        for entry in
            std::fs::read_dir(&disks).map_err(|e| err(format!("cannot list {}: {e}", disks.display())))?.flatten()
        {
            let name = entry.file_name().to_string_lossy().to_string();
            if name.ends_with(".partial") || name.ends_with(".tmp") {
                process::remove_file_quiet(&entry.path()).map_err(err)?;
            }
        }
        Ok(report)
    }
}

#[async_trait]
impl ComputeDriver for QemuDriver {
    fn name(&self) -> &'static str {
        "qemu"
    }

    async fn disk_create(&self, spec: &DiskSpec) -> Result<(), DriverError> {
        let _g = self.lock(format!("disk:{}", safe(&spec.disk_id)?)).await;
        let path = self.disk_path(&spec.disk_id)?;
        if path.is_file() {
            return Ok(());
        }
        let meta = match &spec.image_id {
            Some(image_id) => self.image_disk_meta(spec, image_id).await?,
            None => blank_disk_meta(spec)?,
        };
        // The record first, the disk last: a disk under its final name always has its record.
        let json = serde_json::to_vec_pretty(&meta).map_err(|e| err(e.to_string()))?;
        write_atomic(&self.disk_file(&spec.disk_id, "json")?, &json).map_err(err)?;
        // Made under a temporary name and renamed into place, so that a crash halfway leaves no
        // disk under the final name: the next call makes it again (overwriting the partial
        // file, which reconciliation also removes).
        let partial = self.root.join("disks").join(format!(".{}.qcow2.partial", spec.disk_id));
        let backing = meta.base.as_deref().zip(meta.base_format.as_deref());
        process::run(
            process::tool("qemu-img").args(image::create_args(&partial, meta.size_bytes, backing)),
            &format!("create disk {}", spec.disk_id),
            Duration::from_secs(60),
        )
        .await
        .map_err(err)?;
        std::fs::rename(&partial, &path).map_err(|e| err(format!("cannot move disk {} into place: {e}", spec.disk_id)))
    }

    async fn disk_inject(&self, disk_id: &str, injection: &Injection) -> Result<(), DriverError> {
        let _g = self.lock(format!("disk:{}", safe(disk_id)?)).await;
        let path = self.disk_path(disk_id)?;
        if !path.is_file() {
            return Err(err(format!("disk {disk_id} does not exist")));
        }
        self.refuse_if_in_use(disk_id, "inject login data into")?;
        let result = if injection.via_cloud_init {
            let seed = self.disk_file(disk_id, "seed.iso")?;
            match inject::validate(injection) {
                Ok(()) => seed::write_seed(&seed, disk_id, injection).await,
                Err(e) => Err(e),
            }
        } else {
            if injection.user_data.is_some() {
                tracing::warn!(disk = disk_id, "user data ignored: the image does not use Cloud-Init");
            }
            inject::inject_direct(&path, &self.root.join("work").join(disk_id), injection).await
        };
        result.map_err(|e| err(format!("cannot inject login data into disk {disk_id}: {e}")))
    }

    async fn disk_delete(&self, disk_id: &str) -> Result<(), DriverError> {
        let _g = self.lock(format!("disk:{}", safe(disk_id)?)).await;
        self.refuse_if_in_use(disk_id, "delete")?;
        inject::cleanup_stale(&self.root.join("work").join(disk_id)).await.map_err(err)?;
        // The disk first: without it the leftovers are invisible to disk_list and harmless.
        for file in [self.disk_path(disk_id)?, self.disk_file(disk_id, "seed.iso")?, self.disk_file(disk_id, "json")?] {
            process::remove_file_quiet(&file).map_err(err)?;
        }
        Ok(())
    }

    async fn disk_list(&self) -> Result<Vec<String>, DriverError> {
        let dir = self.root.join("disks");
        let mut out = Vec::new();
        for entry in std::fs::read_dir(&dir).map_err(|e| err(format!("cannot list {}: {e}", dir.display())))?.flatten()
        {
            let name = entry.file_name().to_string_lossy().to_string();
            if let Some(id) = name.strip_suffix(".qcow2") {
                if safe(id).is_ok() && !name.starts_with('.') {
                    out.push(id.to_string());
                }
            }
        }
        out.sort();
        Ok(out)
    }

    async fn vm_start(&self, spec: &VmSpec) -> Result<(), DriverError> {
        let _g = self.lock(format!("vm:{}", safe(&spec.server_id)?)).await;
        let paths = self.vm_paths(&spec.server_id)?;
        for id in std::iter::once(&spec.boot_disk).chain(&spec.data_disks) {
            safe(id)?;
        }
        let old = paths.load().map_err(err)?;
        match vm::liveness(&paths).await {
            Liveness::Running(_)
                if old.as_ref().is_some_and(|r| {
                    r.boot_disk == spec.boot_disk
                        && crate::same_disks(&r.data_disks, &spec.data_disks)
                        && (r.vcpus, r.ram_mb) == (spec.vcpus, spec.ram_mb)
                        && r.nics.len() == spec.nics.len()
                        && spec.nics.iter().all(|n| r.nics.iter().any(|x| x.id == n.id && x.mac == n.mac))
                }) =>
            {
                return Ok(())
            }
            Liveness::Running(_) => {
                // Re-pointed to other disks (reinstall, change OS) or resized: stop, then boot
                // again as asked.
                vm::shutdown(&paths, false, self.config.stop_timeout).await.map_err(err)?;
            }
            Liveness::Halted(_, status) => {
                tracing::warn!(server = %spec.server_id, %status, "restarting a VM whose guest was not running");
                vm::shutdown(&paths, true, Duration::ZERO).await.map_err(err)?;
            }
            Liveness::Gone => paths.clear_runtime().map_err(err)?,
        }
        self.start_locked(spec, &paths, old.as_ref()).await
    }

    async fn disk_attach(&self, server_id: &str, disk_id: &str, _device: &str) -> Result<(), DriverError> {
        let _g = self.lock(format!("vm:{}", safe(server_id)?)).await;
        let path = self.disk_path(safe(disk_id)?)?;
        if !path.is_file() {
            return Err(err(format!("data disk {disk_id} does not exist")));
        }
        let paths = self.vm_paths(server_id)?;
        let Some(mut rec) = paths.load().map_err(err)? else { return Ok(()) };
        if !matches!(vm::liveness(&paths).await, Liveness::Running(_)) {
            return Ok(());
        }
        if let Some(other) = self.user_of(disk_id, Some(server_id))? {
            return Err(err(format!("data disk {disk_id} is in use by the running VM of server {other}")));
        }
        hotplug::plug(&paths.qmp, disk_id, &path, &vm::virtio_serial(disk_id))
            .await
            .map_err(|e| err(format!("cannot attach disk {disk_id} to the VM of server {server_id}: {e}")))?;
        // Recorded after the plug: a replay finds the device in and records it then.
        if !rec.data_disks.iter().any(|d| d == disk_id) {
            rec.data_disks.push(disk_id.to_string());
            paths.store(&rec).map_err(err)?;
        }
        tracing::info!(server = %server_id, disk = %disk_id, "data disk hot-plugged");
        Ok(())
    }

    async fn disk_detach(&self, server_id: &str, disk_id: &str) -> Result<(), DriverError> {
        let _g = self.lock(format!("vm:{}", safe(server_id)?)).await;
        safe(disk_id)?;
        let paths = self.vm_paths(server_id)?;
        let Some(mut rec) = paths.load().map_err(err)? else { return Ok(()) };
        if matches!(vm::liveness(&paths).await, Liveness::Running(_)) {
            // A disk attached at boot past the ports sits on the root complex, which QEMU
            // refuses to unplug from: that error says so, and the server must be stopped.
            hotplug::unplug(&paths.qmp, disk_id)
                .await
                .map_err(|e| err(format!("cannot detach disk {disk_id} from the VM of server {server_id}: {e}")))?;
        }
        // A stopped VM's record forgets it too, so that the disk is not counted as in use.
        if rec.data_disks.iter().any(|d| d == disk_id) {
            rec.data_disks.retain(|d| d != disk_id);
            paths.store(&rec).map_err(err)?;
        }
        tracing::info!(server = %server_id, disk = %disk_id, "data disk detached");
        Ok(())
    }

    async fn vm_stop(&self, server_id: &str, force: bool) -> Result<(), DriverError> {
        let _g = self.lock(format!("vm:{}", safe(server_id)?)).await;
        let paths = self.vm_paths(server_id)?;
        vm::shutdown(&paths, force, self.config.stop_timeout)
            .await
            .map_err(|e| err(format!("cannot stop the VM of server {server_id}: {e}")))
    }

    async fn vm_reboot(&self, spec: &VmSpec, hard: bool) -> Result<(), DriverError> {
        // QEMU runs with -no-reboot (a guest reset ends the process), so a reboot is a stop and
        // a start: graceful unless `hard`. A stopped VM is simply started.
        let _g = self.lock(format!("vm:{}", safe(&spec.server_id)?)).await;
        let paths = self.vm_paths(&spec.server_id)?;
        let old = paths.load().map_err(err)?;
        vm::shutdown(&paths, hard, self.config.stop_timeout)
            .await
            .map_err(|e| err(format!("cannot reboot the VM of server {}: {e}", spec.server_id)))?;
        self.start_locked(spec, &paths, old.as_ref()).await
    }

    async fn vm_destroy(&self, server_id: &str) -> Result<(), DriverError> {
        let _g = self.lock(format!("vm:{}", safe(server_id)?)).await;
        let paths = self.vm_paths(server_id)?;
        vm::shutdown(&paths, true, Duration::ZERO)
            .await
            .map_err(|e| err(format!("cannot stop the VM of server {server_id}: {e}")))?;
        match std::fs::remove_dir_all(&paths.dir) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(err(format!("cannot remove {}: {e}", paths.dir.display()))),
        }
    }

    async fn vm_power(&self, server_id: &str) -> Result<Power, DriverError> {
        let paths = self.vm_paths(server_id)?;
        if paths.load().map_err(err)?.is_none() {
            return Ok(Power::Absent);
        }
        Ok(match vm::liveness(&paths).await {
            Liveness::Running(_) => Power::Running,
            Liveness::Halted(..) | Liveness::Gone => Power::Stopped,
        })
    }

    async fn nic_attach(&self, server_id: &str, nic: &VmNic) -> Result<(), DriverError> {
        let _g = self.lock(format!("vm:{}", safe(server_id)?)).await;
        safe(&nic.id)?;
        let paths = self.vm_paths(server_id)?;
        let mut rec = paths.load().map_err(err)?.ok_or_else(|| err(format!("no VM for server {server_id}")))?;
        let n = match rec.nics.iter().find(|n| n.id == nic.id) {
            Some(n) => n.clone(),
            None => {
                let slot = rec.free_slot().ok_or_else(|| {
                    err(format!(
                        "the VM of server {server_id} has no free port for another NIC ({} taken)",
                        vm::NIC_SLOTS
                    ))
                })?;
                let n = vm::RecNic { id: nic.id.clone(), mac: nic.mac.clone(), slot };
                rec.nics.push(n.clone());
                // Recorded first: a crash after the plug leaves a NIC the record knows of.
                paths.store(&rec).map_err(err)?;
                n
            }
        };
        if let Liveness::Running(_) = vm::liveness(&paths).await {
            vm::hot_plug_nic(&paths, &n)
                .await
                .map_err(|e| err(format!("cannot plug NIC {} into the VM of server {server_id}: {e}", nic.id)))?;
            tracing::info!(server = %server_id, nic = %nic.id, mac = %nic.mac, slot = n.slot, "NIC plugged");
        }
        Ok(())
    }

    async fn nic_detach(&self, server_id: &str, nic_id: &str) -> Result<(), DriverError> {
        let _g = self.lock(format!("vm:{}", safe(server_id)?)).await;
        let paths = self.vm_paths(server_id)?;
        let Some(mut rec) = paths.load().map_err(err)? else { return Ok(()) };
        let Some(n) = rec.nics.iter().find(|n| n.id == nic_id).cloned() else { return Ok(()) };
        if let Liveness::Running(_) = vm::liveness(&paths).await {
            vm::hot_unplug_nic(&paths, &n, Duration::from_secs(30))
                .await
                .map_err(|e| err(format!("cannot unplug NIC {nic_id} from the VM of server {server_id}: {e}")))?;
            tracing::info!(server = %server_id, nic = %nic_id, "NIC unplugged");
        }
        rec.nics.retain(|x| x.id != nic_id);
        paths.store(&rec).map_err(err)
    }

    async fn vm_nmi(&self, server_id: &str) -> Result<bool, DriverError> {
        let _g = self.lock(format!("vm:{}", safe(server_id)?)).await;
        if self.vm_power(server_id).await? != Power::Running {
            return Ok(false);
        }
        vm::inject_nmi(&self.vm_paths(server_id)?)
            .await
            .map_err(|e| err(format!("cannot send an NMI to the VM of server {server_id}: {e}")))?;
        tracing::info!(server = %server_id, "NMI injected");
        Ok(true)
    }

    async fn vnc_console(&self, server_id: &str) -> Result<VncConsole, DriverError> {
        if self.vm_power(server_id).await? != Power::Running {
            return Ok(VncConsole::NotRunning);
        }
        let paths = self.vm_paths(server_id)?;
        if !paths.vnc.exists() {
            return Err(err(format!(
                "the VM of server {server_id} was started before VMs had a display; stop and start it for a console"
            )));
        }
        Ok(VncConsole::Socket(paths.vnc.clone()))
    }

    async fn console_output(&self, server_id: &str) -> Result<Option<String>, DriverError> {
        let paths = self.vm_paths(server_id)?;
        match std::fs::read(&paths.serial) {
            Ok(b) => Ok(Some(String::from_utf8_lossy(&b).into_owned())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(paths.load().map_err(err)?.map(|_| String::new())),
            Err(e) => Err(err(format!("cannot read {}: {e}", paths.serial.display()))),
        }
    }

    async fn vm_access(&self, server_id: &str) -> Option<String> {
        self.ssh_port(server_id).await.map(|port| format!("ssh -p {port} root@127.0.0.1"))
    }

    /// The VMs whose QEMU process is alive (its pid file names a live QEMU): no QMP, which
    /// serves one client at a time and belongs to the sagas.
    async fn vms_running(&self) -> Result<Option<usize>, DriverError> {
        let mut n = 0;
        for (id, _) in self.records()? {
            if self.vm_paths(&id)?.pid().is_some() {
                n += 1;
            }
        }
        Ok(Some(n))
    }

    async fn reconcile(&self) -> Result<(), DriverError> {
        let report = self.reconcile_report().await?;
        tracing::info!(
            running = report.running.len(),
            stopped = report.stopped.len(),
            removed = report.removed.len(),
            "QEMU driver reconciled"
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn verbs_on_nothing_are_successes_and_ids_cannot_escape() {
        let dir = tempfile::tempdir().unwrap();
        let d = QemuDriver::new(dir.path(), QemuConfig { accel: Accel::Tcg, ..Default::default() }).unwrap();
        assert_eq!(d.vm_power("s1").await.unwrap(), Power::Absent);
        d.vm_stop("s1", false).await.unwrap();
        d.vm_destroy("s1").await.unwrap();
        d.disk_delete("d1").await.unwrap();
        assert!(d.disk_list().await.unwrap().is_empty());
        assert_eq!(d.vm_access("s1").await, None);
        assert!(d.disk_path("../x").is_err());
        assert!(d.disk_inject("missing", &Injection::default()).await.unwrap_err().message.contains("does not exist"));
        let vm = VmSpec {
            server_id: "s1".into(),
            boot_disk: "nope".into(),
            data_disks: vec![],
            vcpus: 1,
            ram_mb: 128,
            nics: vec![],
        };
        assert!(d.vm_start(&vm).await.unwrap_err().message.contains("boot disk nope does not exist"));
        let spec = DiskSpec::from_image("d1", "i", None, 1);
        assert!(d.disk_create(&spec).await.unwrap_err().message.contains("no image file"));
        let blank = DiskSpec { image_file: Some("/img/base.qcow2".into()), ..DiskSpec::blank("d1", 1) };
        assert!(d.disk_create(&blank).await.unwrap_err().message.contains("without an image"));
        assert!(d.disk_create(&DiskSpec::blank("d1", 0)).await.unwrap_err().message.contains("needs a size"));
        assert!(d.disk_list().await.unwrap().is_empty(), "a refused disk leaves nothing");
        assert_eq!(d.reconcile_report().await.unwrap(), ReconcileReport::default());
    }

    #[test]
    fn qemu_img_reports_a_full_disk_as_no_space() {
        // What qemu-img says when the host's disk is full while it writes a new disk.
        let e = err("create disk d1: qemu-img failed (exit status: 1): qemu-img: /state/disks/.d1.qcow2.partial: \
                     Could not write qcow2 header: No space left on device");
        assert!(e.no_space, "{e:?}");
        assert!(!err("create disk d1: qemu-img failed (exit status: 1): Invalid image size").no_space);
    }

    /// Runs only where qemu-img is installed (the QEMU driver needs it anyway).
    fn have_qemu_img() -> bool {
        let found = process::find_tool("qemu-img").is_some();
        if !found {
            println!("SKIPPED: qemu-img is not installed");
        }
        found
    }

    #[tokio::test]
    async fn a_blank_disk_is_a_sparse_qcow2_made_once() {
        if !have_qemu_img() {
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let d = QemuDriver::new(dir.path(), QemuConfig { accel: Accel::Tcg, ..Default::default() }).unwrap();
        // A partial disk left by a crash halfway through an earlier attempt.
        let partial = d.root().join("disks").join(".data-1.qcow2.partial");
        std::fs::write(&partial, b"half a disk").unwrap();
        d.disk_create(&DiskSpec::blank("data-1", 10)).await.unwrap();
        assert!(!partial.exists(), "the partial disk was made again and moved into place");
        let path = d.disk_path("data-1").unwrap();
        let info = image::qemu_img_info(&path).await.unwrap();
        assert_eq!((info.format.as_str(), info.virtual_size), ("qcow2", 10 * GIB));
        assert_eq!(info.backing_file, None, "blank: no image under it");
        assert!(info.actual_size.unwrap_or(0) < 4 << 20, "sparse: {:?} bytes on the host", info.actual_size);
        let meta = d.load_disk_meta("data-1").unwrap().unwrap();
        assert_eq!((meta.image_id, meta.base, meta.size_bytes), (None, None, 10 * GIB));

        // Again: the disk that is there is kept as it is.
        let before = std::fs::metadata(&path).unwrap().modified().unwrap();
        d.disk_create(&DiskSpec::blank("data-1", 10)).await.unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().modified().unwrap(), before);
        assert_eq!(d.disk_list().await.unwrap(), ["data-1"]);

        // A VM cannot start without its data disks; deleting one removes every file of it.
        let vm = VmSpec {
            server_id: "s1".into(),
            boot_disk: "data-1".into(),
            data_disks: vec!["missing".into()],
            vcpus: 1,
            ram_mb: 128,
            nics: vec![],
        };
        assert!(d.vm_start(&vm).await.unwrap_err().message.contains("data disk missing of server s1 does not exist"));
        d.disk_delete("data-1").await.unwrap();
        assert!(d.disk_list().await.unwrap().is_empty());
        assert_eq!(std::fs::read_dir(d.root().join("disks")).unwrap().count(), 0);
    }

    #[test]
    fn disk_records_of_system_disks_written_before_blank_disks_still_read() {
        let old = r#"{"disk_id": "d1", "image_id": "img", "base": "/img/base.qcow2", "base_format": "qcow2",
                      "size_bytes": 1073741824, "boot": null}"#;
        let meta: DiskMeta = serde_json::from_str(old).unwrap();
        assert_eq!(meta.image_id.as_deref(), Some("img"));
        assert_eq!(meta.base.as_deref(), Some(Path::new("/img/base.qcow2")));
        assert_eq!(meta.base_format.as_deref(), Some("qcow2"));
    }
}
