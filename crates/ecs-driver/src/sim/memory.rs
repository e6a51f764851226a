//! Records kept in memory only: a driver whose disks and VMs die with the process (tests, and
//! the model of a shared keeper in the driver's own tests).

use super::{SimDisk, SimRecords, SimState, SimVm};
use crate::DriverError;
use async_trait::async_trait;
use std::sync::Mutex;

/// Records in a map of this process.
#[derive(Default)]
pub struct MemoryRecords(Mutex<SimState>);

impl MemoryRecords {
    fn with<T>(&self, f: impl FnOnce(&mut SimState) -> T) -> Result<T, DriverError> {
        let mut s = self.0.lock().map_err(|_| DriverError::system("sim driver: state lock poisoned"))?;
        Ok(f(&mut s))
    }
}

#[async_trait]
impl SimRecords for MemoryRecords {
    async fn disk(&self, id: &str) -> Result<Option<SimDisk>, DriverError> {
        self.with(|s| s.disks.get(id).cloned())
    }
    async fn put_disk(&self, disk: SimDisk) -> Result<(), DriverError> {
        self.with(|s| {
            s.disks.insert(disk.disk_id.clone(), disk);
        })
    }
    async fn delete_disk(&self, id: &str) -> Result<(), DriverError> {
        self.with(|s| {
            s.disks.remove(id);
        })
    }
    async fn disk_ids(&self) -> Result<Vec<String>, DriverError> {
        self.with(|s| s.disks.keys().cloned().collect())
    }
    async fn vm(&self, id: &str) -> Result<Option<SimVm>, DriverError> {
        self.with(|s| s.vms.get(id).cloned())
    }
    async fn put_vm(&self, vm: SimVm) -> Result<(), DriverError> {
        self.with(|s| {
            s.vms.insert(vm.server_id.clone(), vm);
        })
    }
    async fn delete_vm(&self, id: &str) -> Result<(), DriverError> {
        self.with(|s| {
            s.vms.remove(id);
        })
    }
    async fn state(&self) -> Result<SimState, DriverError> {
        self.with(|s| s.clone())
    }
}
