//! The simulated driver's records in a store the nodes share: every verb reads and writes the
//! store's rows, so that a node finds the disks and VMs another node's sagas made (a saga
//! adopted after its node died carries on with them).

use async_trait::async_trait;
use ecs_driver::sim::{SimDisk, SimRecords, SimState, SimVm};
use ecs_driver::DriverError;
use ecs_store::{SimKind, Store, StoreError};
use serde::de::DeserializeOwned;
use std::sync::Arc;

/// [`SimRecords`] kept in a [`Store`] (one whose `shared()` is true).
#[derive(Clone)]
pub struct StoreRecords(pub Arc<dyn Store>);

fn store_err(e: StoreError) -> DriverError {
    let no_space = matches!(e, StoreError::Full(_));
    DriverError { no_space, ..DriverError::system(format!("sim driver: {e}")) }
}

fn decode<T: DeserializeOwned>(kind: SimKind, id: &str, body: &str) -> Result<T, DriverError> {
    serde_json::from_str(body)
        .map_err(|e| DriverError::system(format!("sim driver: the {} record {id} does not parse: {e}", kind.as_str())))
}

fn encode<T: serde::Serialize>(v: &T) -> Result<String, DriverError> {
    serde_json::to_string(v).map_err(|e| DriverError::system(e.to_string()))
}

impl StoreRecords {
    async fn get<T: DeserializeOwned>(&self, kind: SimKind, id: &str) -> Result<Option<T>, DriverError> {
        match self.0.sim_record_get(kind, id).await.map_err(store_err)? {
            Some(body) => decode(kind, id, &body).map(Some),
            None => Ok(None),
        }
    }

    async fn all<T: DeserializeOwned>(&self, kind: SimKind) -> Result<Vec<(String, T)>, DriverError> {
        let rows = self.0.sim_record_list(kind).await.map_err(store_err)?;
        rows.into_iter().map(|(id, body)| decode(kind, &id, &body).map(|v| (id, v))).collect()
    }
}

#[async_trait]
impl SimRecords for StoreRecords {
    fn local(&self) -> bool {
        false
    }
    async fn disk(&self, id: &str) -> Result<Option<SimDisk>, DriverError> {
        self.get(SimKind::Disk, id).await
    }
    async fn put_disk(&self, disk: SimDisk) -> Result<(), DriverError> {
        self.0.sim_record_put(SimKind::Disk, &disk.disk_id, &encode(&disk)?).await.map_err(store_err)
    }
    async fn delete_disk(&self, id: &str) -> Result<(), DriverError> {
        self.0.sim_record_delete(SimKind::Disk, id).await.map(drop).map_err(store_err)
    }
    async fn disk_ids(&self) -> Result<Vec<String>, DriverError> {
        let rows = self.0.sim_record_list(SimKind::Disk).await.map_err(store_err)?;
        Ok(rows.into_iter().map(|(id, _)| id).collect())
    }
    async fn vm(&self, id: &str) -> Result<Option<SimVm>, DriverError> {
        self.get(SimKind::Vm, id).await
    }
    async fn put_vm(&self, vm: SimVm) -> Result<(), DriverError> {
        self.0.sim_record_put(SimKind::Vm, &vm.server_id, &encode(&vm)?).await.map_err(store_err)
    }
    async fn delete_vm(&self, id: &str) -> Result<(), DriverError> {
        self.0.sim_record_delete(SimKind::Vm, id).await.map(drop).map_err(store_err)
    }
    async fn state(&self) -> Result<SimState, DriverError> {
        Ok(SimState {
            disks: self.all(SimKind::Disk).await?.into_iter().collect(),
            vms: self.all(SimKind::Vm).await?.into_iter().collect(),
        })
    }
}

/// Every simulated disk and VM of a data directory's node, wherever they are kept: the
/// journal under `data_dir/sim` on a store of its own, the store's rows on a shared one (what
/// `SimState::load` is for the journal; also for tests and invariant checks).
pub async fn load_state(store: Arc<dyn Store>, data_dir: &std::path::Path) -> Result<SimState, DriverError> {
    if store.shared() {
        StoreRecords(store).state().await
    } else {
        SimState::load(&data_dir.join("sim"))
    }
}

#[cfg(test)]
mod tests {
    //! The driver's suite over a shared PostgreSQL database (skipped, having said why, where
    //! PostgreSQL is not installed).
    use super::StoreRecords;
    use ecs_driver::sim::{suite, SimDriver};
    use ecs_store::pg_cluster::Cluster;
    use std::sync::Arc;
    use std::time::Duration;

    async fn on_postgres() -> Option<StoreRecords> {
        let url = Cluster::shared()?.fresh_database();
        Some(StoreRecords(Arc::new(ecs_store::PgStore::open(&url).await.expect("the database opens"))))
    }

    #[tokio::test]
    async fn the_driver_suite_passes_over_a_shared_database() {
        for check in 0..3 {
            let Some(records) = on_postgres().await else { return };
            let s = SimDriver::over(records, Duration::ZERO);
            match check {
                0 => suite::every_verb_is_idempotent(&s).await,
                1 => suite::blank_data_disks_are_attached_in_order_and_must_exist(&s).await,
                _ => suite::a_vm_cannot_boot_a_missing_disk_and_ids_cannot_escape(&s).await,
            }
        }
    }

    /// Two nodes: two stores open on one database, a driver on each.
    #[tokio::test]
    async fn two_nodes_on_one_database_drive_the_same_disks_and_vms() {
        let Some(a) = on_postgres().await else { return };
        let url = Cluster::shared().expect("the cluster is up").fresh_database();
        drop(a);
        let open = || async { StoreRecords(Arc::new(ecs_store::PgStore::open(&url).await.expect("opens"))) };
        let (a, b) = (SimDriver::over(open().await, Duration::ZERO), SimDriver::over(open().await, Duration::ZERO));
        suite::a_second_driver_on_the_same_records_carries_on(&a, &b).await;
    }
}
