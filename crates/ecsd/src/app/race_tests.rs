//! Races the application layer must lose gracefully, provoked deterministically: a store that
//! lets another request change a server between a handler's read and its write.

use crate::context::{App, Ctx};
use crate::sagas::testing::Harness;
use async_trait::async_trait;
use ecs_model::image::Image;
use ecs_model::job::Job;
use ecs_model::keypair::Keypair;
use ecs_model::network::{Subnet, Vpc};
use ecs_model::port::Port;
use ecs_model::security_group::{SecurityGroup, SecurityGroupRule};
use ecs_model::server::Server;
use ecs_model::server_group::ServerGroup;
use ecs_model::volume::Volume;
use ecs_saga::{LogError, Outcome, SagaLog, SagaRecord, StepEvent};
use ecs_store::{Begin, ServerFilter, ServerPage, ServerRow, Store, StoreError};
use ecs_types::requests::UpdateServerBody;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// The real store, except that the first server update is preceded by another request that
/// locks the same server: the update then carries a stale generation, as it would had the lock
/// landed between its read and its write.
struct LockedInBetween {
    inner: Arc<dyn Store>,
    fired: AtomicBool,
}

#[async_trait]
impl Store for LockedInBetween {
    async fn server_update(&self, server: Server) -> Result<Server, StoreError> {
        if !self.fired.swap(true, Ordering::SeqCst) {
            let mut other = self.inner.server_only(&server.project_id, &server.id).await?.expect("the server");
            other.locked = true;
            self.inner.server_update(other).await?;
        }
        self.inner.server_update(server).await
    }

    async fn keypair_insert(&self, kp: Keypair) -> Result<Keypair, StoreError> {
        self.inner.keypair_insert(kp).await
    }
    async fn keypair_get(&self, p: &str, n: &str) -> Result<Option<Keypair>, StoreError> {
        self.inner.keypair_get(p, n).await
    }
    async fn keypair_list(&self, p: &str, l: Option<usize>, m: Option<&str>) -> Result<Vec<Keypair>, StoreError> {
        self.inner.keypair_list(p, l, m).await
    }
    async fn keypair_delete(&self, p: &str, n: &str) -> Result<bool, StoreError> {
        self.inner.keypair_delete(p, n).await
    }
    async fn image_put(&self, i: Image) -> Result<(), StoreError> {
        self.inner.image_put(i).await
    }
    async fn image_get(&self, id: &str) -> Result<Option<Image>, StoreError> {
        self.inner.image_get(id).await
    }
    async fn image_list(&self) -> Result<Vec<Image>, StoreError> {
        self.inner.image_list().await
    }
    async fn network_default(&self, p: &str) -> Result<(Vpc, Subnet), StoreError> {
        self.inner.network_default(p).await
    }
    async fn vpc_list(&self, p: &str) -> Result<Vec<Vpc>, StoreError> {
        self.inner.vpc_list(p).await
    }
    async fn subnet_list(&self, p: &str) -> Result<Vec<Subnet>, StoreError> {
        self.inner.subnet_list(p).await
    }
    async fn subnet_used(&self, s: &str) -> Result<i64, StoreError> {
        self.inner.subnet_used(s).await
    }
    async fn server_get(&self, p: &str, id: &str) -> Result<Option<ServerRow>, StoreError> {
        self.inner.server_get(p, id).await
    }
    async fn server_only(&self, p: &str, id: &str) -> Result<Option<Server>, StoreError> {
        self.inner.server_only(p, id).await
    }
    async fn server_list(&self, p: &str, f: &ServerFilter) -> Result<ServerPage, StoreError> {
        self.inner.server_list(p, f).await
    }
    async fn server_ids_with_status(&self, s: &str) -> Result<Vec<(String, String)>, StoreError> {
        self.inner.server_ids_with_status(s).await
    }
    async fn server_delete(&self, p: &str, id: &str) -> Result<(), StoreError> {
        self.inner.server_delete(p, id).await
    }
    async fn volume_put(&self, v: Volume) -> Result<(), StoreError> {
        self.inner.volume_put(v).await
    }
    async fn volume_get(&self, id: &str) -> Result<Option<Volume>, StoreError> {
        self.inner.volume_get(id).await
    }
    async fn volume_delete(&self, id: &str) -> Result<(), StoreError> {
        self.inner.volume_delete(id).await
    }
    async fn volume_list(&self) -> Result<Vec<Volume>, StoreError> {
        self.inner.volume_list().await
    }
    async fn project_usage(&self, project_id: &str) -> Result<ecs_model::quota::Usage, StoreError> {
        self.inner.project_usage(project_id).await
    }
    async fn volume_list_project(&self, project_id: &str) -> Result<Vec<Volume>, StoreError> {
        self.inner.volume_list_project(project_id).await
    }
    async fn begin(&self, b: Begin) -> Result<Vec<Server>, StoreError> {
        self.inner.begin(b).await
    }
    async fn job_get(&self, p: &str, id: &str) -> Result<Option<(Job, Vec<Job>)>, StoreError> {
        self.inner.job_get(p, id).await
    }
    async fn job_expire(&self, before_ms: i64) -> Result<u64, StoreError> {
        self.inner.job_expire(before_ms).await
    }
    async fn saga_events(&self, saga_ids: &[String]) -> Result<Vec<ecs_store::LoggedEvent>, StoreError> {
        self.inner.saga_events(saga_ids).await
    }
    async fn trace_insert(&self, traces: Vec<ecs_store::TraceRecord>) -> Result<(), StoreError> {
        self.inner.trace_insert(traces).await
    }
    async fn trace_list(
        &self,
        query: &ecs_store::TraceQuery,
    ) -> Result<(Vec<ecs_store::TraceRecord>, bool), StoreError> {
        self.inner.trace_list(query).await
    }
    async fn trace_expire(&self, before_ms: i64) -> Result<u64, StoreError> {
        self.inner.trace_expire(before_ms).await
    }
    async fn server_status_counts(&self) -> Result<Vec<(String, i64)>, StoreError> {
        self.inner.server_status_counts().await
    }
    // --- ports and security groups
    async fn port_get(&self, p: &str, id: &str) -> Result<Option<Port>, StoreError> {
        self.inner.port_get(p, id).await
    }
    async fn port_list(&self, p: &str) -> Result<Vec<Port>, StoreError> {
        self.inner.port_list(p).await
    }
    async fn port_update(&self, port: Port) -> Result<(), StoreError> {
        self.inner.port_update(port).await
    }
    async fn server_update_security_groups(&self, s: Server) -> Result<Server, StoreError> {
        self.inner.server_update_security_groups(s).await
    }
    async fn security_group_insert(&self, g: SecurityGroup, r: Vec<SecurityGroupRule>) -> Result<(), StoreError> {
        self.inner.security_group_insert(g, r).await
    }
    async fn security_group_get(&self, p: &str, id: &str) -> Result<Option<SecurityGroup>, StoreError> {
        self.inner.security_group_get(p, id).await
    }
    async fn security_group_list(&self, p: &str) -> Result<Vec<SecurityGroup>, StoreError> {
        self.inner.security_group_list(p).await
    }
    async fn security_group_delete(&self, p: &str, id: &str) -> Result<(), StoreError> {
        self.inner.security_group_delete(p, id).await
    }
    async fn security_group_rules(&self, p: &str, g: Option<&str>) -> Result<Vec<SecurityGroupRule>, StoreError> {
        self.inner.security_group_rules(p, g).await
    }
    async fn security_group_rule_insert(&self, r: SecurityGroupRule) -> Result<(), StoreError> {
        self.inner.security_group_rule_insert(r).await
    }
    async fn security_group_rule_delete(&self, p: &str, id: &str) -> Result<bool, StoreError> {
        self.inner.security_group_rule_delete(p, id).await
    }
    async fn server_group_insert(&self, g: ServerGroup, max: i64) -> Result<(), StoreError> {
        self.inner.server_group_insert(g, max).await
    }
    async fn server_group_get(&self, p: &str, id: &str) -> Result<Option<ServerGroup>, StoreError> {
        self.inner.server_group_get(p, id).await
    }
    async fn server_group_list(&self, p: &str) -> Result<Vec<ServerGroup>, StoreError> {
        self.inner.server_group_list(p).await
    }
    async fn server_group_delete(&self, p: &str, id: &str) -> Result<bool, StoreError> {
        self.inner.server_group_delete(p, id).await
    }
    async fn server_group_add(&self, p: &str, id: &str, servers: &[String]) -> Result<(), StoreError> {
        self.inner.server_group_add(p, id, servers).await
    }
    async fn server_group_remove(&self, p: &str, id: &str, servers: &[String]) -> Result<(), StoreError> {
        self.inner.server_group_remove(p, id, servers).await
    }
    async fn server_deadlines(&self, limit: i64) -> Result<Vec<(String, String, i64)>, StoreError> {
        self.inner.server_deadlines(limit).await
    }
}

#[async_trait]
impl SagaLog for LockedInBetween {
    async fn append(&self, id: &str, epoch: i64, e: &[StepEvent]) -> Result<(), LogError> {
        self.inner.append(id, epoch, e).await
    }
    async fn finish(&self, id: &str, epoch: i64, o: &Outcome) -> Result<(), LogError> {
        self.inner.finish(id, epoch, o).await
    }
    async fn unfinished(&self) -> Result<Vec<SagaRecord>, LogError> {
        self.inner.unfinished().await
    }
    async fn load(&self, id: &str) -> Result<Option<SagaRecord>, LogError> {
        self.inner.load(id).await
    }
}

#[tokio::test]
async fn a_server_locked_between_the_gate_and_the_write_is_not_renamed() {
    let h = Harness::new_plain().await;
    let id = h.create_server().await;
    let store = Arc::new(LockedInBetween { inner: h.app.ctx.store.clone(), fired: AtomicBool::new(false) });
    let app = App::new(crate::context::AppState {
        ctx: Arc::new(Ctx { store, driver: h.app.ctx.driver.clone(), written: Default::default() }),
        ..(*h.app).clone()
    });
    let body: UpdateServerBody = serde_json::from_value(serde_json::json!({"server": {"name": "renamed"}})).unwrap();
    let err = crate::app::servers::update(&app, &h.caller, &id, body).await.unwrap_err();
    assert_eq!(err.code, ecs_types::Code::Ecs0605, "{err:?}");
    let s = h.server(&id).await.server;
    assert!(s.locked);
    assert_ne!(s.name, "renamed", "the lock that came first is respected");
}
