//! The compute driver with every call timed (`ecsd_driver_call_duration_seconds`, by verb and
//! result): a decorator, so that neither driver knows of metrics.

use async_trait::async_trait;
use ecs_driver::{ComputeDriver, DiskSpec, DriverError, Injection, Power, VmNic, VmSpec, VncConsole};
use std::future::Future;
use std::sync::Arc;

/// Times the calls of the driver it wraps.
pub struct MeteredDriver(pub Arc<dyn ComputeDriver>);

/// Runs one call and records how long it took and whether it failed.
async fn timed<T>(verb: &str, call: impl Future<Output = Result<T, DriverError>>) -> Result<T, DriverError> {
    let started = std::time::Instant::now();
    let r = call.await;
    let result = if r.is_ok() { "ok" } else { "error" };
    crate::metrics::metrics()
        .driver_seconds
        .with_label_values(&[verb, result])
        .observe(started.elapsed().as_secs_f64());
    r
}

#[async_trait]
impl ComputeDriver for MeteredDriver {
    fn name(&self) -> &'static str {
        self.0.name()
    }
    fn host_bound(&self) -> bool {
        self.0.host_bound()
    }
    async fn disk_create(&self, spec: &DiskSpec) -> Result<(), DriverError> {
        timed("disk_create", self.0.disk_create(spec)).await
    }
    async fn disk_inject(&self, disk_id: &str, injection: &Injection) -> Result<(), DriverError> {
        timed("disk_inject", self.0.disk_inject(disk_id, injection)).await
    }
    async fn disk_delete(&self, disk_id: &str) -> Result<(), DriverError> {
        timed("disk_delete", self.0.disk_delete(disk_id)).await
    }
    async fn disk_list(&self) -> Result<Vec<String>, DriverError> {
        timed("disk_list", self.0.disk_list()).await
    }
    async fn vm_start(&self, spec: &VmSpec) -> Result<(), DriverError> {
        timed("vm_start", self.0.vm_start(spec)).await
    }
    async fn vm_stop(&self, server_id: &str, force: bool) -> Result<(), DriverError> {
        timed("vm_stop", self.0.vm_stop(server_id, force)).await
    }
    async fn vm_reboot(&self, spec: &VmSpec, hard: bool) -> Result<(), DriverError> {
        timed("vm_reboot", self.0.vm_reboot(spec, hard)).await
    }
    async fn vm_destroy(&self, server_id: &str) -> Result<(), DriverError> {
        timed("vm_destroy", self.0.vm_destroy(server_id)).await
    }
    async fn vm_power(&self, server_id: &str) -> Result<Power, DriverError> {
        timed("vm_power", self.0.vm_power(server_id)).await
    }
    async fn vm_access(&self, server_id: &str) -> Option<String> {
        self.0.vm_access(server_id).await
    }
    async fn nic_attach(&self, server_id: &str, nic: &VmNic) -> Result<(), DriverError> {
        timed("nic_attach", self.0.nic_attach(server_id, nic)).await
    }
    async fn nic_detach(&self, server_id: &str, nic_id: &str) -> Result<(), DriverError> {
        timed("nic_detach", self.0.nic_detach(server_id, nic_id)).await
    }
    async fn vm_nmi(&self, server_id: &str) -> Result<bool, DriverError> {
        timed("vm_nmi", self.0.vm_nmi(server_id)).await
    }
    async fn vnc_console(&self, server_id: &str) -> Result<VncConsole, DriverError> {
        timed("vnc_console", self.0.vnc_console(server_id)).await
    }
    async fn console_output(&self, server_id: &str) -> Result<Option<String>, DriverError> {
        timed("console_output", self.0.console_output(server_id)).await
    }
    async fn disk_attach(&self, server_id: &str, disk_id: &str, device: &str) -> Result<(), DriverError> {
        timed("disk_attach", self.0.disk_attach(server_id, disk_id, device)).await
    }
    async fn disk_detach(&self, server_id: &str, disk_id: &str) -> Result<(), DriverError> {
        timed("disk_detach", self.0.disk_detach(server_id, disk_id)).await
    }
    async fn reconcile(&self) -> Result<(), DriverError> {
        timed("reconcile", self.0.reconcile()).await
    }
    // A read of the metrics themselves: not a driver call worth timing.
    async fn vms_running(&self) -> Result<Option<usize>, DriverError> {
        self.0.vms_running().await
    }
}
