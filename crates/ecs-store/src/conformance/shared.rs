//! The state shared by the nodes of one database: the simulated driver's records, faults and
//! settings. A store that is not shared (SQLite) says so and refuses every method; a shared
//! one (PostgreSQL) is tested here through two stores open on the same database, as two nodes
//! have it.

use super::Backend;
use crate::{SharedFault, SimKind, Store, StoreError, NOT_SHARED};
use std::sync::Arc;

/// Two stores on the backend's database, or `None` (having checked that it refuses the shared
/// methods) when it is not shared.
async fn two_nodes(b: &dyn Backend) -> Option<(Arc<dyn Store>, Arc<dyn Store>)> {
    let a = b.open().await;
    if a.shared() {
        return Some((a, b.open().await));
    }
    let refused = |r: Result<(), StoreError>| assert_eq!(r, Err(StoreError::Backend(NOT_SHARED.into())));
    refused(a.sim_record_put(SimKind::Disk, "d", "{}").await);
    refused(a.sim_record_get(SimKind::Disk, "d").await.map(drop));
    refused(a.sim_record_list(SimKind::Vm).await.map(drop));
    refused(a.fault_list().await.map(drop));
    refused(a.fault_hit("f").await.map(drop));
    refused(a.setting_init("k", "v").await.map(drop));
    None
}

fn fault(id: &str, project: &str, times: Option<u32>) -> SharedFault {
    SharedFault {
        id: id.into(),
        project_id: Some(project.into()),
        spec: format!(r#"{{"action":"fail","id":"{id}"}}"#),
        times,
        hits: 0,
    }
}

/// A record written through one node is read, replaced, listed and removed through the other;
/// disks and VMs are apart even under the same id.
pub(super) async fn sim_records_written_by_one_node_are_read_by_another(b: &dyn Backend) {
    let Some((a, other)) = two_nodes(b).await else { return };
    assert_eq!(a.sim_record_get(SimKind::Disk, "d1").await.unwrap(), None);
    a.sim_record_put(SimKind::Disk, "d2", r#"{"n":2}"#).await.unwrap();
    a.sim_record_put(SimKind::Disk, "d1", r#"{"n":1}"#).await.unwrap();
    a.sim_record_put(SimKind::Vm, "d1", r#"{"vm":true}"#).await.unwrap();
    assert_eq!(other.sim_record_get(SimKind::Disk, "d1").await.unwrap().as_deref(), Some(r#"{"n":1}"#));
    other.sim_record_put(SimKind::Disk, "d1", r#"{"n":"one"}"#).await.unwrap();
    assert_eq!(a.sim_record_get(SimKind::Disk, "d1").await.unwrap().as_deref(), Some(r#"{"n":"one"}"#));
    let ids = |v: Vec<(String, String)>| v.into_iter().map(|(id, _)| id).collect::<Vec<_>>();
    assert_eq!(ids(other.sim_record_list(SimKind::Disk).await.unwrap()), ["d1", "d2"], "by id");
    assert_eq!(ids(other.sim_record_list(SimKind::Vm).await.unwrap()), ["d1"]);
    assert!(other.sim_record_delete(SimKind::Disk, "d1").await.unwrap());
    assert!(!a.sim_record_delete(SimKind::Disk, "d1").await.unwrap(), "gone already");
    assert_eq!(a.sim_record_get(SimKind::Disk, "d1").await.unwrap(), None);
    assert!(a.sim_record_get(SimKind::Vm, "d1").await.unwrap().is_some(), "the VM of the same id stays");
}

/// Faults are listed in creation order, an id added twice is kept once, and a project removes
/// only its own.
pub(super) async fn faults_are_kept_in_order_and_removed_per_project(b: &dyn Backend) {
    let Some((a, other)) = two_nodes(b).await else { return };
    for f in [fault("f3", "p1", None), fault("f1", "p1", Some(2)), fault("f2", "p2", None)] {
        a.fault_insert(&f).await.unwrap();
    }
    other.fault_insert(&SharedFault { spec: "{}".into(), ..fault("f3", "p1", None) }).await.unwrap();
    let listed = other.fault_list().await.unwrap();
    assert_eq!(listed.iter().map(|f| f.id.as_str()).collect::<Vec<_>>(), ["f3", "f1", "f2"], "creation order");
    assert_eq!(listed[0], fault("f3", "p1", None), "the first insert of an id is kept");
    assert_eq!(listed[1].times, Some(2));
    assert!(!other.fault_remove("p2", "f1").await.unwrap(), "another project's");
    assert!(other.fault_remove("p1", "f1").await.unwrap());
    assert_eq!(a.fault_clear("p1").await.unwrap(), 1);
    assert_eq!(a.fault_list().await.unwrap().iter().map(|f| f.id.as_str()).collect::<Vec<_>>(), ["f2"]);
}

/// Hits are counted in the database: a fault with `times` fires exactly that often however
/// many nodes race for it, and goes with its last firing; one without keeps counting.
pub(super) async fn a_fault_fires_at_most_its_times_across_nodes(b: &dyn Backend) {
    let Some((a, other)) = two_nodes(b).await else { return };
    a.fault_insert(&fault("limited", "p", Some(3))).await.unwrap();
    a.fault_insert(&fault("forever", "p", None)).await.unwrap();
    super::warm_up(&a, 8).await;
    super::warm_up(&other, 8).await;
    let racers: Vec<_> = (0..20)
        .map(|i| {
            let st = if i % 2 == 0 { a.clone() } else { other.clone() };
            tokio::spawn(async move { st.fault_hit("limited").await.unwrap().map(|f| f.hits) })
        })
        .collect();
    let mut hits = Vec::new();
    for r in racers {
        hits.extend(r.await.unwrap());
    }
    hits.sort();
    assert_eq!(hits, [1, 2, 3], "three firings, each counted once");
    assert_eq!(a.fault_hit("limited").await.unwrap(), None);
    assert_eq!(other.fault_hit("nope").await.unwrap(), None);
    for n in 1..=2 {
        assert_eq!(other.fault_hit("forever").await.unwrap().map(|f| f.hits), Some(n));
    }
    let listed = a.fault_list().await.unwrap();
    assert_eq!(listed.len(), 1, "the used-up fault is gone: {listed:?}");
    assert_eq!((listed[0].id.as_str(), listed[0].hits), ("forever", 2), "the shared count");
}

/// The first node to write a setting wins; every node, racing or later, reads that one back.
pub(super) async fn the_first_setting_written_wins(b: &dyn Backend) {
    let Some((a, other)) = two_nodes(b).await else { return };
    assert_eq!(a.setting_get("secret").await.unwrap(), None);
    super::warm_up(&a, 8).await;
    let racers: Vec<_> = (0..8)
        .map(|i| {
            let st = if i % 2 == 0 { a.clone() } else { other.clone() };
            tokio::spawn(async move { st.setting_init("secret", &format!("value-{i}")).await.unwrap() })
        })
        .collect();
    let mut seen = Vec::new();
    for r in racers {
        seen.push(r.await.unwrap());
    }
    seen.dedup();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(other.setting_init("secret", "later").await.unwrap(), seen[0]);
    assert_eq!(a.setting_get("secret").await.unwrap().as_ref(), Some(&seen[0]));
    assert_eq!(a.setting_init("other", "x").await.unwrap(), "x", "keys are apart");
}
