//! Faults shared by the nodes of one database: how each node keeps up with them.
//!
//! The hook runs before every step of every saga, so it must not ask the database each time.
//! Each node instead keeps a copy of the list and reads it again every [`REFRESH`]; a node's own
//! admin writes refresh its copy at once. A fault added through one node is therefore in force
//! on the others within [`REFRESH`] (plus one query), and a `hang` held on another node ends
//! within that time of its fault being removed. Only a step that a fault of the copy matches
//! costs a query: the hit is counted in the database (see [`ecs_store::Store::fault_hit`]), so
//! that a fault with `times` fires that often across all nodes.

use crate::faults::{Fault, Faults};
use ecs_store::{SharedFault, StoreError};
use std::sync::Weak;
use std::time::Duration;

/// How often each node reads the shared faults again: the longest a fault added or removed
/// through another node takes to be in force here.
pub const REFRESH: Duration = Duration::from_millis(250);

/// Re-reads the shared faults every [`REFRESH`] until `faults` is dropped. A failed read keeps
/// the last copy (and says so once until reads work again).
pub(crate) async fn refresh_loop(faults: Weak<Faults>) {
    let mut failing = false;
    loop {
        tokio::time::sleep(REFRESH).await;
        let Some(faults) = faults.upgrade() else { return };
        match faults.refresh().await {
            Ok(_) => failing = false,
            Err(e) if !failing => {
                failing = true;
                tracing::warn!(error = %e, "could not read the shared faults; keeping the last copy");
            }
            Err(_) => {}
        }
    }
}

/// The id of the `index`th fault of the configuration file: the same on every node started
/// with the same file, so that the fault is added once between them.
pub(crate) fn configured_id(index: usize, spec: &crate::faults::FaultSpec) -> String {
    let json = serde_json::to_string(spec).unwrap_or_default();
    uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, format!("ecsd-configured-fault/{index}/{json}").as_bytes())
        .to_string()
}

/// A fault as the store keeps it.
pub(crate) fn to_row(f: &Fault) -> Result<SharedFault, StoreError> {
    Ok(SharedFault {
        id: f.id.clone(),
        project_id: f.spec.project_id.clone(),
        spec: serde_json::to_string(&f.spec).map_err(|e| StoreError::Backend(e.to_string()))?,
        times: f.spec.times,
        hits: f.hits,
    })
}

/// The store's faults. One whose spec does not parse (written by another version of ecsd) is
/// left out, with a warning, rather than failing every refresh.
pub(crate) fn from_rows(rows: Vec<SharedFault>) -> Vec<Fault> {
    rows.into_iter()
        .filter_map(|r| match serde_json::from_str(&r.spec) {
            Ok(spec) => Some(Fault { id: r.id, spec, hits: r.hits }),
            Err(e) => {
                tracing::warn!(fault = %r.id, error = %e, "a shared fault does not parse; ignoring it");
                None
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    //! Two nodes' `Faults` on one PostgreSQL database (skipped, having said why, where
    //! PostgreSQL is not installed).
    use super::REFRESH;
    use crate::faults::{FaultSpec, Faults};
    use ecs_saga::{Hook, HookAction, StepSite};
    use ecs_store::pg_cluster::Cluster;
    use serde_json::json;
    use std::sync::Arc;

    async fn two_nodes() -> Option<(Arc<Faults>, Arc<Faults>)> {
        let url = Cluster::shared()?.fresh_database();
        let open = || async {
            let store: Arc<dyn ecs_store::Store> = Arc::new(ecs_store::PgStore::open(&url).await.expect("opens"));
            Faults::shared(store).await.expect("the faults are read")
        };
        Some((open().await, open().await))
    }

    fn spec(v: serde_json::Value) -> FaultSpec {
        serde_json::from_value(v).expect("a fault spec")
    }

    async fn before(f: &Faults, operation: &'static str) -> HookAction {
        let params = json!({"project_id": "p", "server_id": "s"});
        f.before_step(&StepSite { kind: "power", operation, saga_id: "j", params: &params, step: "power" }).await
    }

    #[tokio::test]
    async fn a_fault_added_on_one_node_fires_on_the_other_at_most_its_times() {
        let Some((a, b)) = two_nodes().await else { return };
        a.add(spec(json!({"operation": "startServer", "project_id": "p", "action": "fail", "times": 2})))
            .await
            .unwrap();
        assert!(matches!(before(&a, "startServer").await, HookAction::Fail(_)), "in force on its own node at once");
        tokio::time::sleep(REFRESH * 3).await;
        assert!(matches!(before(&b, "startServer").await, HookAction::Fail(_)), "and on the other after a refresh");
        assert_eq!(before(&a, "startServer").await, HookAction::Proceed, "two firings in all");
        assert_eq!(before(&b, "startServer").await, HookAction::Proceed);
        assert_eq!(before(&b, "stopServer").await, HookAction::Proceed);
        assert!(a.list(None).await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn a_hang_on_one_node_ends_when_another_clears_it() {
        let Some((a, b)) = two_nodes().await else { return };
        let f = a.add(spec(json!({"operation": "startServer", "project_id": "p", "action": "hang"}))).await.unwrap();
        tokio::time::sleep(REFRESH * 3).await;
        let held = tokio::spawn({
            let b = b.clone();
            async move { before(&b, "startServer").await }
        });
        tokio::time::sleep(REFRESH * 2).await;
        assert!(!held.is_finished(), "still hanging");
        assert_eq!(b.list(Some("p")).await.unwrap()[0].hits, 1, "the hit is counted for every node to see");
        assert!(a.remove("p", &f.id).await.unwrap());
        let released = tokio::time::timeout(REFRESH * 8, held).await.expect("released within a few refreshes");
        assert_eq!(released.unwrap(), HookAction::Proceed);
    }
}
