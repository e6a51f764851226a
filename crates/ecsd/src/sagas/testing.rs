//! A test harness for the sagas: a real App (SQLite store, simulated driver) in a temporary
//! directory, requests made through the application layer, and a hook that fails a chosen step.

use crate::accounts::{Account, Accounts};
use crate::app;
use crate::caller::Caller;
use crate::context::App;
use crate::faults::{FaultAction, FaultSpec};
use crate::server::{build, Options};
use ecs_driver::sim::SimState;
use ecs_store::ServerRow;
use ecs_types::keypair::CreateKeypairBody;
use ecs_types::requests::*;
use serde_json::json;
use std::collections::BTreeSet;
use std::time::Duration;

pub struct Harness {
    _dir: tempfile::TempDir,
    pub app: App,
    pub caller: Caller,
    /// The simulated driver's directory; its journal is read afresh for every check.
    sim: std::path::PathBuf,
    pub key_a: String,
    pub key_b: String,
}

pub(crate) const PROJECT: &str = "0123456789abcdef0123456789abcdef";

pub(crate) const USER: &str = "7e25b1da389f4697a79df3a0e5bd494e";

impl Harness {
    /// Every saga step runs twice (idempotency).
    pub async fn new() -> Harness {
        Self::with(true).await
    }

    /// Steps run once (failure injection).
    pub async fn new_plain() -> Harness {
        Self::with(false).await
    }

    async fn with(twice: bool) -> Harness {
        let dir = tempfile::tempdir().unwrap();
        let account = Account {
            ak: "TESTAK".into(),
            sk: "TESTSK".into(),
            user_id: USER.into(),
            project_id: PROJECT.into(),
            project_name: "cn-north-4".into(),
            ..Account::blank()
        };
        let mut opts = Options::new(dir.path().to_path_buf(), Accounts::from_list(vec![account]));
        opts.run_steps_twice = twice;
        let app = build(opts).await.unwrap();
        let caller = Caller { user_id: USER.into(), project_id: PROJECT.into(), ak: "TESTAK".into() };
        let sim = dir.path().join("sim");
        let mut h = Harness { _dir: dir, app, caller, sim, key_a: String::new(), key_b: String::new() };
        h.key_a = h.keypair("key-a").await;
        h.key_b = h.keypair("key-b").await;
        h
    }

    async fn keypair(&self, name: &str) -> String {
        let body: CreateKeypairBody = serde_json::from_value(json!({"keypair": {"name": name}})).unwrap();
        app::keypairs::create(&self.app, &self.caller, body).await.unwrap().public_key
    }

    /// Makes the next `step` of `operation` (a job type) fail with `Ecs.9001`.
    pub async fn fail_next(&self, operation: &str, step: &str) {
        let spec = FaultSpec {
            operation: Some(operation.into()),
            step: Some(step.into()),
            project_id: None,
            server_id: None,
            action: FaultAction::Fail,
            error_code: Some("Ecs.9001".into()),
            message: None,
            delay_ms: None,
            times: Some(1),
        };
        spec.validate().unwrap();
        self.app.faults.add(spec).await.unwrap();
    }

    async fn settle(&self) {
        tokio::time::timeout(Duration::from_secs(20), self.app.executor.wait_idle()).await.expect("sagas settle");
    }

    /// Creates a server with key A and waits; returns (job id, server id).
    pub async fn create_server_job(&self) -> (String, String) {
        self.create_job(json!([])).await
    }

    /// Creates a server with key A and two data disks (the first deleted with the server, the
    /// second kept) and checks it came up.
    pub async fn create_server_with_data_disks(&self) -> String {
        let (job, id) = self
            .create_job(json!([
                {"volumetype": "SSD", "size": 10, "delete_on_termination": true},
                {"volumetype": "SAS", "size": 20}
            ]))
            .await;
        self.assert_succeeded(&job).await;
        id
    }

    /// Creates a server with key A and `data_volumes` (a JSON array) and waits.
    async fn create_job(&self, data_volumes: serde_json::Value) -> (String, String) {
        let (vpc, subnet) = self.app.ctx.store.network_default(PROJECT).await.unwrap();
        let body: CreateServersBody = serde_json::from_value(json!({"server": {
            "name": "s", "imageRef": "6a6b4b4e-0e3a-4c38-9b64-1f1b2c3d4e02", "flavorRef": "s6.small.1",
            "vpcid": vpc.id, "nics": [{"subnet_id": subnet.id}], "root_volume": {"volumetype": "SSD"},
            "data_volumes": data_volumes, "key_name": "key-a"}}))
        .unwrap();
        let created = app::servers::create(&self.app, &self.caller, body).await.unwrap();
        self.settle().await;
        match created {
            app::servers::Created::Accepted { job_id, server_ids } => (job_id, server_ids[0].clone()),
            app::servers::Created::DryRun => unreachable!(),
        }
    }

    /// Creates a server and checks it came up.
    pub async fn create_server(&self) -> String {
        let (job, id) = self.create_server_job().await;
        self.assert_succeeded(&job).await;
        id
    }

    pub async fn delete_server(&self, id: &str) -> String {
        let body: DeleteServersBody = serde_json::from_value(json!({"servers": [{"id": id}]})).unwrap();
        let job = app::servers::delete(&self.app, &self.caller, body).await.unwrap();
        self.settle().await;
        job
    }

    /// `action` is "os-start", "os-stop" or "reboot".
    pub async fn power(&self, id: &str, action: &str) -> String {
        let body: ServersActionBody =
            serde_json::from_value(json!({action: {"servers": [{"id": id}], "type": "SOFT"}})).unwrap();
        let job = app::power::action(&self.app, &self.caller, body).await.unwrap();
        self.settle().await;
        job
    }

    /// A `/v1` reinstall with key B.
    pub async fn reinstall(&self, id: &str, with_stop: bool) -> String {
        let mut o = json!({"keyname": "key-b", "userid": USER});
        if with_stop {
            o["mode"] = json!("withStopServer");
        }
        let opts: OsOptions = serde_json::from_value(o).unwrap();
        let v = app::os::Variant { change: false, cloud_init: false };
        let job = app::os::rebuild(&self.app, &self.caller, id, v, Some(opts)).await.unwrap();
        self.settle().await;
        job
    }

    /// A resize to `flavor`, with `withStopServer` when `with_stop`.
    pub async fn resize(&self, id: &str, flavor: &str, with_stop: bool) -> String {
        let mut o = json!({"flavorRef": flavor});
        if with_stop {
            o["mode"] = json!("withStopServer");
        }
        let opts: ResizeOptions = serde_json::from_value(o).unwrap();
        let job = app::resize::resize(&self.app, &self.caller, id, opts).await.unwrap();
        self.settle().await;
        job
    }

    /// Creates `count` blank volumes through the disk service; returns the job and their ids.
    pub async fn create_volumes(&self, count: i64) -> (String, Vec<String>) {
        let body: CreateVolumeBody = serde_json::from_value(json!({"volume": {
            "availability_zone": "cn-north-4a", "size": 10, "volume_type": "SSD", "count": count}}))
        .unwrap();
        let made = app::evs::create(&self.app, &self.caller, body).await.unwrap();
        self.settle().await;
        (made.job_id, made.volume_ids)
    }

    /// Attaches a volume (at the first free device).
    pub async fn attach(&self, server: &str, volume: &str) -> String {
        let body: AttachVolumeBody = serde_json::from_value(json!({"volumeAttachment": {"volumeId": volume}})).unwrap();
        let job = app::attach::attach(&self.app, &self.caller, server, body).await.unwrap().expect("not a dry run");
        self.settle().await;
        job
    }

    pub async fn detach(&self, server: &str, volume: &str) -> String {
        let job = app::attach::detach(&self.app, &self.caller, server, volume, None).await.unwrap();
        self.settle().await;
        job
    }

    pub async fn delete_volume(&self, volume: &str) -> String {
        let job = app::evs::delete(&self.app, &self.caller, volume).await.unwrap();
        self.settle().await;
        job
    }

    /// A volume's row.
    pub async fn volume(&self, id: &str) -> Option<ecs_model::volume::Volume> {
        self.app.ctx.store.volume_get(id).await.unwrap()
    }

    async fn job_status(&self, job: &str) -> (String, Option<String>) {
        let v = app::jobs::show(&self.app, &self.caller, job).await.unwrap();
        (v.status, v.error_code)
    }

    pub async fn assert_succeeded(&self, job: &str) {
        assert_eq!(self.job_status(job).await, ("SUCCESS".to_string(), None));
    }

    pub async fn assert_failed(&self, job: &str) {
        let (status, code) = self.job_status(job).await;
        assert_eq!(status, "FAIL");
        assert_eq!(code.as_deref(), Some("Ecs.9001"));
    }

    pub async fn try_server(&self, id: &str) -> Option<ServerRow> {
        self.app.ctx.store.server_get(PROJECT, id).await.unwrap()
    }

    pub async fn server(&self, id: &str) -> ServerRow {
        self.try_server(id).await.expect("server exists")
    }

    fn sim_state(&self) -> SimState {
        SimState::load(&self.sim).unwrap()
    }

    pub async fn disk_key(&self, disk: &str) -> Option<String> {
        self.sim_state().disks.remove(disk).and_then(|d| d.injection).and_then(|i| i.public_key)
    }

    /// The root password hash last written into the disk.
    pub async fn disk_password_hash(&self, disk: &str) -> Option<String> {
        self.sim_state().disks.remove(disk).and_then(|d| d.injection).and_then(|i| i.password_hash)
    }

    pub async fn vm_running(&self, id: &str) -> Option<bool> {
        self.sim_state().vms.remove(id).map(|v| v.running)
    }

    /// Whether the VM runs, and the vCPUs and memory (MiB) it was last started with.
    pub async fn vm_size(&self, id: &str) -> Option<(bool, i64, i64)> {
        self.sim_state().vms.remove(id).map(|v| (v.running, v.vcpus, v.ram_mb))
    }

    pub async fn vm_boot_disk(&self, id: &str) -> Option<String> {
        self.sim_state().vms.remove(id).and_then(|v| v.boot_disk)
    }

    /// The data disks the VM was last started with, in order.
    pub async fn vm_data_disks(&self, id: &str) -> Vec<String> {
        self.sim_state().vms.remove(id).map(|v| v.data_disks).unwrap_or_default()
    }

    /// The server's data disks by their volume rows, in device order.
    pub async fn data_disks(&self, id: &str) -> Vec<String> {
        crate::sagas::data_disk_ids(&self.server(id).await.volumes)
    }

    /// Every driver disk has a volume row and every volume row a driver disk; no server is left
    /// in a transitional state.
    pub async fn assert_no_orphan_disks(&self) {
        let disks: BTreeSet<String> = self.sim_state().disks.into_keys().collect();
        let vols: BTreeSet<String> =
            self.app.ctx.store.volume_list().await.unwrap().into_iter().map(|v| v.id).collect();
        assert_eq!(disks, vols, "driver disks vs volume rows");
        let f = ecs_store::ServerFilter { limit: 1000, page: 1, ..Default::default() };
        for s in self.app.ctx.store.server_list(PROJECT, &f).await.unwrap().servers {
            assert!(s.server.task_state.is_none(), "server {} still {:?}", s.server.id, s.server.task_state);
        }
    }

    /// Adds `n` NICs on the server's subnet and waits; returns the job id.
    pub async fn add_nics(&self, id: &str, n: usize) -> String {
        let subnet = self.server(id).await.server.network.subnet_id;
        let nics: Vec<_> = (0..n).map(|_| json!({"subnet_id": subnet})).collect();
        let body = serde_json::from_value(json!({ "nics": nics })).unwrap();
        let job = app::nics::add(&self.app, &self.caller, id, body).await.unwrap();
        self.settle().await;
        job
    }

    /// Deletes the server's NICs with these port ids and waits; returns the job id.
    pub async fn delete_nics(&self, id: &str, ports: &[&str]) -> String {
        let nics: Vec<_> = ports.iter().map(|p| json!({ "id": p })).collect();
        let body = serde_json::from_value(json!({ "nics": nics })).unwrap();
        let job = app::nics::delete(&self.app, &self.caller, id, body).await.unwrap();
        self.settle().await;
        job
    }

    /// The added NICs (port ids) the VM has, in the order they were plugged.
    pub async fn vm_nics(&self, id: &str) -> Vec<String> {
        self.sim_state().vms.remove(id).map(|v| v.nics.into_iter().map(|n| n.id).collect()).unwrap_or_default()
    }
}
