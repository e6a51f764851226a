//! The simulated driver: disks and VMs are small JSON files under the data directory.
//!
//! Nothing boots, but everything a saga does leaves a durable, inspectable trace: a disk is a
//! file that records the image it was built from and what was injected into it; a VM is a file
//! that records its power state and boot disk. Writes go to a temporary file and are renamed
//! into place, so a crash leaves either the old or the new state, never half of one. Each verb
//! sleeps for a configurable time, zero for tests and a few seconds to feel real.

use crate::{ComputeDriver, DiskSpec, DriverError, Injection, Power, VmSpec};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A simulated disk's content.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimDisk {
    pub disk_id: String,
    pub image_id: String,
    pub size_gb: i64,
    pub injection: Option<Injection>,
}

/// A simulated VM.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimVm {
    pub server_id: String,
    pub running: bool,
    pub boot_disk: Option<String>,
    pub boots: u64,
}

/// The simulated driver.
pub struct SimDriver {
    root: PathBuf,
    step: Duration,
}

fn io(what: &str, e: std::io::Error) -> DriverError {
    DriverError::system(format!("sim driver: {what}: {e}"))
}

/// Ids become file names: refuse anything that could leave the directory.
fn safe(id: &str) -> Result<&str, DriverError> {
    if id.is_empty() || id.len() > 64 || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        return Err(DriverError::system(format!("sim driver: invalid id {id:?}")));
    }
    Ok(id)
}

impl SimDriver {
    /// A driver keeping its state under `root` (created if missing); each verb takes `step`.
    pub fn new(root: impl AsRef<Path>, step: Duration) -> Result<Self, DriverError> {
        let root = root.as_ref().to_path_buf();
        for sub in ["disks", "vms"] {
            std::fs::create_dir_all(root.join(sub)).map_err(|e| io("create state directory", e))?;
        }
        Ok(SimDriver { root, step })
    }

    fn disk_path(&self, id: &str) -> Result<PathBuf, DriverError> {
        Ok(self.root.join("disks").join(format!("{}.json", safe(id)?)))
    }

    fn vm_path(&self, id: &str) -> Result<PathBuf, DriverError> {
        Ok(self.root.join("vms").join(format!("{}.json", safe(id)?)))
    }

    async fn pause(&self) {
        if !self.step.is_zero() {
            tokio::time::sleep(self.step).await;
        }
    }

    async fn load<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<Option<T>, DriverError> {
        match tokio::fs::read(path).await {
            Ok(b) => serde_json::from_slice(&b)
                .map(Some)
                .map_err(|e| DriverError::system(format!("sim driver: corrupt {}: {e}", path.display()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io("read", e)),
        }
    }

    async fn store<T: Serialize>(path: &Path, v: &T) -> Result<(), DriverError> {
        let tmp = path.with_extension("tmp");
        let bytes = serde_json::to_vec(v).map_err(|e| DriverError::system(e.to_string()))?;
        tokio::fs::write(&tmp, bytes).await.map_err(|e| io("write", e))?;
        tokio::fs::rename(&tmp, path).await.map_err(|e| io("rename", e))
    }

    async fn remove(path: &Path) -> Result<(), DriverError> {
        match tokio::fs::remove_file(path).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io("remove", e)),
        }
    }

    /// A disk's content (tests and invariant checks).
    pub async fn disk(&self, id: &str) -> Result<Option<SimDisk>, DriverError> {
        Self::load(&self.disk_path(id)?).await
    }

    /// A VM's state (tests and invariant checks).
    pub async fn vm(&self, id: &str) -> Result<Option<SimVm>, DriverError> {
        Self::load(&self.vm_path(id)?).await
    }
}

#[async_trait]
impl ComputeDriver for SimDriver {
    fn name(&self) -> &'static str {
        "sim"
    }

    async fn disk_create(&self, spec: &DiskSpec) -> Result<(), DriverError> {
        let path = self.disk_path(&spec.disk_id)?;
        if Self::load::<SimDisk>(&path).await?.is_some() {
            return Ok(());
        }
        self.pause().await;
        let disk = SimDisk {
            disk_id: spec.disk_id.clone(),
            image_id: spec.image_id.clone(),
            size_gb: spec.size_gb,
            injection: None,
        };
        Self::store(&path, &disk).await
    }

    async fn disk_inject(&self, disk_id: &str, injection: &Injection) -> Result<(), DriverError> {
        let path = self.disk_path(disk_id)?;
        let mut disk: SimDisk = Self::load(&path)
            .await?
            .ok_or_else(|| DriverError::system(format!("sim driver: disk {disk_id} does not exist")))?;
        self.pause().await;
        disk.injection = Some(injection.clone());
        Self::store(&path, &disk).await
    }

    async fn disk_delete(&self, disk_id: &str) -> Result<(), DriverError> {
        let path = self.disk_path(disk_id)?;
        if Self::load::<SimDisk>(&path).await?.is_some() {
            self.pause().await;
        }
        Self::remove(&path).await
    }

    async fn disk_list(&self) -> Result<Vec<String>, DriverError> {
        let mut out = Vec::new();
        let mut rd = tokio::fs::read_dir(self.root.join("disks")).await.map_err(|e| io("list disks", e))?;
        while let Some(e) = rd.next_entry().await.map_err(|e| io("list disks", e))? {
            let name = e.file_name().to_string_lossy().to_string();
            if let Some(id) = name.strip_suffix(".json") {
                out.push(id.to_string());
            }
        }
        out.sort();
        Ok(out)
    }

    async fn vm_start(&self, spec: &VmSpec) -> Result<(), DriverError> {
        let path = self.vm_path(&spec.server_id)?;
        if self.disk(&spec.boot_disk).await?.is_none() {
            return Err(DriverError::system(format!("boot disk {} does not exist", spec.boot_disk)));
        }
        let mut vm: SimVm = Self::load(&path).await?.unwrap_or(SimVm {
            server_id: spec.server_id.clone(),
            running: false,
            boot_disk: None,
            boots: 0,
        });
        if vm.running && vm.boot_disk.as_deref() == Some(spec.boot_disk.as_str()) {
            return Ok(());
        }
        self.pause().await;
        vm.running = true;
        vm.boot_disk = Some(spec.boot_disk.clone());
        vm.boots += 1;
        Self::store(&path, &vm).await
    }

    async fn vm_stop(&self, server_id: &str, _force: bool) -> Result<(), DriverError> {
        let path = self.vm_path(server_id)?;
        let Some(mut vm) = Self::load::<SimVm>(&path).await? else { return Ok(()) };
        if !vm.running {
            return Ok(());
        }
        self.pause().await;
        vm.running = false;
        Self::store(&path, &vm).await
    }

    async fn vm_reboot(&self, spec: &VmSpec, _hard: bool) -> Result<(), DriverError> {
        self.pause().await;
        let path = self.vm_path(&spec.server_id)?;
        let mut vm: SimVm = Self::load(&path)
            .await?
            .ok_or_else(|| DriverError::system(format!("no VM for server {}", spec.server_id)))?;
        vm.running = true;
        vm.boot_disk = Some(spec.boot_disk.clone());
        vm.boots += 1;
        Self::store(&path, &vm).await
    }

    async fn vm_destroy(&self, server_id: &str) -> Result<(), DriverError> {
        Self::remove(&self.vm_path(server_id)?).await
    }

    async fn vm_power(&self, server_id: &str) -> Result<Power, DriverError> {
        Ok(match Self::load::<SimVm>(&self.vm_path(server_id)?).await? {
            Some(vm) if vm.running => Power::Running,
            Some(_) => Power::Stopped,
            None => Power::Absent,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn driver() -> (tempfile::TempDir, SimDriver) {
        let d = tempfile::tempdir().unwrap();
        let s = SimDriver::new(d.path(), Duration::ZERO).unwrap();
        (d, s)
    }

    fn spec(id: &str) -> DiskSpec {
        DiskSpec { disk_id: id.into(), image_id: "img".into(), image_file: None, size_gb: 40 }
    }

    #[tokio::test]
    async fn every_verb_is_idempotent() {
        let (_d, s) = driver();
        s.disk_create(&spec("d1")).await.unwrap();
        s.disk_create(&spec("d1")).await.unwrap();
        let inj = Injection { public_key: Some("ssh-ed25519 AAAA k".into()), ..Default::default() };
        s.disk_inject("d1", &inj).await.unwrap();
        s.disk_inject("d1", &inj).await.unwrap();
        assert_eq!(s.disk("d1").await.unwrap().unwrap().injection, Some(inj));
        let vm = VmSpec { server_id: "s1".into(), boot_disk: "d1".into(), vcpus: 1, ram_mb: 1024 };
        s.vm_start(&vm).await.unwrap();
        s.vm_start(&vm).await.unwrap();
        assert_eq!(s.vm("s1").await.unwrap().unwrap().boots, 1);
        assert_eq!(s.vm_power("s1").await.unwrap(), Power::Running);
        s.vm_stop("s1", false).await.unwrap();
        s.vm_stop("s1", false).await.unwrap();
        assert_eq!(s.vm_power("s1").await.unwrap(), Power::Stopped);
        s.disk_delete("d1").await.unwrap();
        s.disk_delete("d1").await.unwrap();
        assert!(s.disk_list().await.unwrap().is_empty());
        s.vm_destroy("s1").await.unwrap();
        s.vm_destroy("s1").await.unwrap();
        assert_eq!(s.vm_power("s1").await.unwrap(), Power::Absent);
    }

    #[tokio::test]
    async fn a_vm_cannot_boot_a_missing_disk_and_ids_cannot_escape() {
        let (_d, s) = driver();
        let vm = VmSpec { server_id: "s1".into(), boot_disk: "nope".into(), vcpus: 1, ram_mb: 1024 };
        assert!(s.vm_start(&vm).await.is_err());
        assert!(s.disk_create(&spec("../x")).await.is_err());
        assert!(s.disk_inject("missing", &Injection::default()).await.is_err());
    }
}
