//! The simulated driver: disks and VMs are records, kept by a [`SimRecords`].
//!
//! Nothing boots, but everything a saga does leaves a durable, inspectable trace: a disk records
//! the image it was built from and what was injected into it; a VM records its power state and
//! boot disk. Where the records live is the [`SimRecords`]'s business: a journal file in the
//! data directory for a node on its own ([`JournalRecords`]), the shared database for nodes that
//! share one (ecsd's adapter of its store), so that a node finds the disks another made. The
//! verbs are written once, here, over any of them. Each verb sleeps for a configurable time,
//! zero for tests and a few seconds to feel real.

mod journal;
mod memory;
pub mod suite;
#[cfg(test)]
mod tests;

pub use journal::JournalRecords;
pub use memory::MemoryRecords;

use crate::{ComputeDriver, DiskSpec, DriverError, Injection, Power, VmNic, VmSpec};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

/// A simulated disk's content.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimDisk {
    pub disk_id: String,
    /// The image it was built from; empty for a blank disk.
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
    /// The data disks it was last started with, in device order (left out of the journal when
    /// there are none, so records of servers without data disks read as before).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub data_disks: Vec<String>,
    pub boots: u64,
    /// The vCPUs and memory (MiB) it was last started with; 0 in journals written before they
    /// were recorded.
    #[serde(default)]
    pub vcpus: i64,
    #[serde(default)]
    pub ram_mb: i64,
    /// The NICs added after the create, in the order they were plugged (left out when there
    /// are none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub nics: Vec<VmNic>,
    /// The boot (a `boots` value) during which each NMI arrived, oldest first (left out when
    /// none did).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub nmis: Vec<u64>,
}

/// Every disk and VM, as replayed from the journal.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct SimState {
    pub disks: BTreeMap<String, SimDisk>,
    pub vms: BTreeMap<String, SimVm>,
}

/// Where the simulated driver keeps its records. Each call reads or writes the records as they
/// are now: a keeper shared by several processes must not answer from a copy of its own.
#[async_trait]
pub trait SimRecords: Send + Sync {
    /// Whether only this process sees the records (a journal, memory), so that the VMs are
    /// this host's: see [`ComputeDriver::host_bound`]. A keeper several nodes share says false.
    fn local(&self) -> bool {
        true
    }
    async fn disk(&self, id: &str) -> Result<Option<SimDisk>, DriverError>;
    /// Inserts or replaces a disk's record.
    async fn put_disk(&self, disk: SimDisk) -> Result<(), DriverError>;
    /// Removes a disk's record; one that is not there is no error.
    async fn delete_disk(&self, id: &str) -> Result<(), DriverError>;
    /// Every disk's id, in order.
    async fn disk_ids(&self) -> Result<Vec<String>, DriverError>;
    async fn vm(&self, id: &str) -> Result<Option<SimVm>, DriverError>;
    /// Inserts or replaces a VM's record.
    async fn put_vm(&self, vm: SimVm) -> Result<(), DriverError>;
    /// Removes a VM's record; one that is not there is no error.
    async fn delete_vm(&self, id: &str) -> Result<(), DriverError>;
    /// Every record (tests and invariant checks).
    async fn state(&self) -> Result<SimState, DriverError>;
}

/// Records behind an `Arc` are the records: drivers (or a driver and a test) can share them.
#[async_trait]
impl<T: SimRecords + ?Sized> SimRecords for std::sync::Arc<T> {
    fn local(&self) -> bool {
        (**self).local()
    }
    async fn disk(&self, id: &str) -> Result<Option<SimDisk>, DriverError> {
        (**self).disk(id).await
    }
    async fn put_disk(&self, disk: SimDisk) -> Result<(), DriverError> {
        (**self).put_disk(disk).await
    }
    async fn delete_disk(&self, id: &str) -> Result<(), DriverError> {
        (**self).delete_disk(id).await
    }
    async fn disk_ids(&self) -> Result<Vec<String>, DriverError> {
        (**self).disk_ids().await
    }
    async fn vm(&self, id: &str) -> Result<Option<SimVm>, DriverError> {
        (**self).vm(id).await
    }
    async fn put_vm(&self, vm: SimVm) -> Result<(), DriverError> {
        (**self).put_vm(vm).await
    }
    async fn delete_vm(&self, id: &str) -> Result<(), DriverError> {
        (**self).delete_vm(id).await
    }
    async fn state(&self) -> Result<SimState, DriverError> {
        (**self).state().await
    }
}

/// The simulated driver, over the records `R` (by default a journal in the data directory).
pub struct SimDriver<R = JournalRecords> {
    records: R,
    step: Duration,
}

impl SimDriver {
    /// A driver keeping its state in a journal under `root` (created if missing); each verb
    /// takes `step`.
    pub fn new(root: impl AsRef<Path>, step: Duration) -> Result<Self, DriverError> {
        Ok(SimDriver::over(JournalRecords::open(root)?, step))
    }
}

/// Ids are the keys of the records: keep them to what ecsd generates.
fn safe(id: &str) -> Result<&str, DriverError> {
    if id.is_empty() || id.len() > 64 || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        return Err(DriverError::system(format!("sim driver: invalid id {id:?}")));
    }
    Ok(id)
}

impl<R: SimRecords> SimDriver<R> {
    /// A driver keeping its state in `records`; each verb takes `step`.
    pub fn over(records: R, step: Duration) -> Self {
        SimDriver { records, step }
    }

    /// Where the records are kept.
    pub fn records(&self) -> &R {
        &self.records
    }

    /// The time a verb takes, after its change is written. The change comes first so that a
    /// process stopped (SIGSTOP) in the middle of a verb made it before it stopped: were the
    /// write last, a node resumed after another one adopted its saga would write an effect
    /// the adopter has moved past (a VM stopped again after the adopter started it).
    async fn took<T>(&self, written: Result<T, DriverError>) -> Result<T, DriverError> {
        if written.is_ok() && !self.step.is_zero() {
            tokio::time::sleep(self.step).await;
        }
        written
    }

    /// Refuses a VM whose disks are not all there, as a real driver would fail to attach them.
    async fn check_disks(&self, spec: &VmSpec) -> Result<(), DriverError> {
        if self.records.disk(&spec.boot_disk).await?.is_none() {
            return Err(DriverError::system(format!("boot disk {} does not exist", spec.boot_disk)));
        }
        for d in &spec.data_disks {
            if self.records.disk(d).await?.is_none() {
                return Err(DriverError::system(format!("data disk {d} does not exist")));
            }
        }
        Ok(())
    }

    /// A disk's content (tests and invariant checks).
    pub async fn disk(&self, id: &str) -> Result<Option<SimDisk>, DriverError> {
        self.records.disk(id).await
    }

    /// A VM's state (tests and invariant checks).
    pub async fn vm(&self, id: &str) -> Result<Option<SimVm>, DriverError> {
        self.records.vm(id).await
    }
}

#[async_trait]
impl<R: SimRecords> ComputeDriver for SimDriver<R> {
    fn name(&self) -> &'static str {
        "sim"
    }

    fn host_bound(&self) -> bool {
        self.records.local()
    }

    async fn disk_create(&self, spec: &DiskSpec) -> Result<(), DriverError> {
        safe(&spec.disk_id)?;
        if self.records.disk(&spec.disk_id).await?.is_some() {
            return Ok(());
        }
        let written = self
            .records
            .put_disk(SimDisk {
                disk_id: spec.disk_id.clone(),
                image_id: spec.image_id.clone().unwrap_or_default(),
                size_gb: spec.size_gb,
                injection: None,
            })
            .await;
        self.took(written).await
    }

    async fn disk_inject(&self, disk_id: &str, injection: &Injection) -> Result<(), DriverError> {
        let mut disk = self
            .disk(safe(disk_id)?)
            .await?
            .ok_or_else(|| DriverError::system(format!("sim driver: disk {disk_id} does not exist")))?;
        disk.injection = Some(injection.clone());
        let written = self.records.put_disk(disk).await;
        self.took(written).await
    }

    async fn disk_delete(&self, disk_id: &str) -> Result<(), DriverError> {
        let disk_id = safe(disk_id)?;
        if self.records.disk(disk_id).await?.is_none() {
            return Ok(());
        }
        let written = self.records.delete_disk(disk_id).await;
        self.took(written).await
    }

    async fn disk_list(&self) -> Result<Vec<String>, DriverError> {
        self.records.disk_ids().await
    }

    async fn vm_start(&self, spec: &VmSpec) -> Result<(), DriverError> {
        safe(&spec.server_id)?;
        self.check_disks(spec).await?;
        let mut vm = self.vm(&spec.server_id).await?.unwrap_or(SimVm {
            server_id: spec.server_id.clone(),
            running: false,
            boot_disk: None,
            data_disks: Vec::new(),
            boots: 0,
            vcpus: 0,
            ram_mb: 0,
            nics: Vec::new(),
            nmis: Vec::new(),
        });
        // A running VM keeps its disks and size: a start on another disk or flavor is a
        // restart, as the real driver's is.
        let same = vm.boot_disk.as_deref() == Some(spec.boot_disk.as_str())
            && crate::same_disks(&vm.data_disks, &spec.data_disks)
            && (vm.vcpus, vm.ram_mb) == (spec.vcpus, spec.ram_mb)
            && same_nics(&vm.nics, &spec.nics);
        if vm.running && same {
            return Ok(());
        }
        vm.running = true;
        vm.boot_disk = Some(spec.boot_disk.clone());
        vm.data_disks = spec.data_disks.clone();
        (vm.vcpus, vm.ram_mb) = (spec.vcpus, spec.ram_mb);
        vm.nics = spec.nics.clone();
        vm.boots += 1;
        let written = self.records.put_vm(vm).await;
        self.took(written).await
    }

    async fn vm_stop(&self, server_id: &str, _force: bool) -> Result<(), DriverError> {
        let Some(mut vm) = self.vm(safe(server_id)?).await? else { return Ok(()) };
        if !vm.running {
            return Ok(());
        }
        vm.running = false;
        let written = self.records.put_vm(vm).await;
        self.took(written).await
    }

    async fn vm_reboot(&self, spec: &VmSpec, _hard: bool) -> Result<(), DriverError> {
        let mut vm = self
            .vm(safe(&spec.server_id)?)
            .await?
            .ok_or_else(|| DriverError::system(format!("no VM for server {}", spec.server_id)))?;
        self.check_disks(spec).await?;
        vm.running = true;
        vm.boot_disk = Some(spec.boot_disk.clone());
        vm.data_disks = spec.data_disks.clone();
        (vm.vcpus, vm.ram_mb) = (spec.vcpus, spec.ram_mb);
        vm.nics = spec.nics.clone();
        vm.boots += 1;
        let written = self.records.put_vm(vm).await;
        self.took(written).await
    }

    async fn vm_destroy(&self, server_id: &str) -> Result<(), DriverError> {
        let server_id = safe(server_id)?;
        if self.records.vm(server_id).await?.is_none() {
            return Ok(());
        }
        self.records.delete_vm(server_id).await
    }

    async fn disk_attach(&self, server_id: &str, disk_id: &str, _device: &str) -> Result<(), DriverError> {
        if self.records.disk(safe(disk_id)?).await?.is_none() {
            return Err(DriverError::system(format!("data disk {disk_id} does not exist")));
        }
        // Recorded on a stopped VM too, so tests see it; its next start sets the disks anyway.
        let Some(mut vm) = self.vm(safe(server_id)?).await? else { return Ok(()) };
        if vm.data_disks.iter().any(|d| d == disk_id) {
            return Ok(());
        }
        vm.data_disks.push(disk_id.to_string());
        let written = self.records.put_vm(vm).await;
        self.took(written).await
    }

    async fn disk_detach(&self, server_id: &str, disk_id: &str) -> Result<(), DriverError> {
        let Some(mut vm) = self.vm(safe(server_id)?).await? else { return Ok(()) };
        if !vm.data_disks.iter().any(|d| d == disk_id) {
            return Ok(());
        }
        vm.data_disks.retain(|d| d != disk_id);
        let written = self.records.put_vm(vm).await;
        self.took(written).await
    }

    async fn vm_power(&self, server_id: &str) -> Result<Power, DriverError> {
        Ok(match self.records.vm(server_id).await? {
            Some(vm) if vm.running => Power::Running,
            Some(_) => Power::Stopped,
            None => Power::Absent,
        })
    }

    async fn nic_attach(&self, server_id: &str, nic: &VmNic) -> Result<(), DriverError> {
        safe(&nic.id)?;
        let mut vm = self
            .vm(safe(server_id)?)
            .await?
            .ok_or_else(|| DriverError::system(format!("no VM for server {server_id}")))?;
        if vm.nics.iter().any(|n| n.id == nic.id) {
            return Ok(());
        }
        vm.nics.push(nic.clone());
        let written = self.records.put_vm(vm).await;
        self.took(written).await
    }

    async fn nic_detach(&self, server_id: &str, nic_id: &str) -> Result<(), DriverError> {
        let Some(mut vm) = self.vm(safe(server_id)?).await? else { return Ok(()) };
        if !vm.nics.iter().any(|n| n.id == nic_id) {
            return Ok(());
        }
        vm.nics.retain(|n| n.id != nic_id);
        let written = self.records.put_vm(vm).await;
        self.took(written).await
    }

    /// The VMs recorded as running (every node's, when the records are shared).
    async fn vms_running(&self) -> Result<Option<usize>, DriverError> {
        Ok(Some(self.records.state().await?.vms.values().filter(|vm| vm.running).count()))
    }

    async fn vm_nmi(&self, server_id: &str) -> Result<bool, DriverError> {
        let Some(mut vm) = self.vm(safe(server_id)?).await? else { return Ok(false) };
        if !vm.running {
            return Ok(false);
        }
        vm.nmis.push(vm.boots);
        let written = self.records.put_vm(vm).await;
        self.took(written).await?;
        Ok(true)
    }

    async fn console_output(&self, server_id: &str) -> Result<Option<String>, DriverError> {
        Ok(self.records.vm(safe(server_id)?).await?.map(|vm| synthetic_console(&vm)))
    }
}

/// Whether two NIC lists hold the same NICs, whatever their order.
fn same_nics(a: &[VmNic], b: &[VmNic]) -> bool {
    a.len() == b.len() && a.iter().all(|n| b.contains(n))
}

/// A boot log for each boot of a simulated VM, the same for the same record: what a client
/// reading the console of a sim server gets (nothing boots, so nothing else could be shown).
fn synthetic_console(vm: &SimVm) -> String {
    let mut out = String::new();
    for boot in 1..=vm.boots {
        out.push_str(&format!("[    0.000000] Linux version 6.1.0-ecsd-sim (boot {boot} of {})\n", vm.server_id));
        out.push_str(&format!("[    0.000000] Memory: {}K available, {} CPUs\n", vm.ram_mb * 1024, vm.vcpus));
        out.push_str("[    0.412000] virtio_net virtio0 eth0: primary NIC\n");
        for (i, n) in vm.nics.iter().enumerate() {
            out.push_str(&format!("[    0.413000] virtio_net eth{}: MAC {}\n", i + 1, n.mac));
        }
        out.push_str(&format!(
            "[    0.900000] EXT4-fs (vda): mounted filesystem {}\n",
            vm.boot_disk.as_deref().unwrap_or("")
        ));
        out.push_str("Welcome to the ecsd simulated guest\n");
        // What a Linux guest without kdump prints for an NMI it was not expecting.
        for _ in vm.nmis.iter().filter(|b| **b == boot) {
            out.push_str("[   60.000000] Uhhuh. NMI received for unknown reason 30 on CPU 0.\n");
            out.push_str("[   60.000000] Dazed and confused, but trying to continue\n");
        }
        if !vm.running && boot == vm.boots {
            out.push_str("reboot: Power down\n");
        }
    }
    out
}
