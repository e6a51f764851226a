//! Server groups, their members, and the scheduled deletion times of servers.

use super::{create, server, Backend};
use crate::cluster::NodeSpec;
use crate::{Begin, StoreError};
use ecs_model::server_group::{ServerGroup, ANTI_AFFINITY, MAX_MEMBERS};
use std::time::Duration;

fn group(project: &str, name: &str) -> ServerGroup {
    ServerGroup {
        id: ecs_model::new_uuid(),
        project_id: project.into(),
        name: name.into(),
        policies: vec![ANTI_AFFINITY.into()],
        created_ms: 0,
        members: vec![],
    }
}

pub(super) async fn groups_are_counted_per_project_and_keep_their_members_in_order(b: &dyn Backend) {
    let st = b.open().await;
    let (g1, g2) = (group("p1", "one"), group("p1", "two"));
    st.server_group_insert(g1.clone(), 2).await.unwrap();
    st.server_group_insert(g2.clone(), 2).await.unwrap();
    let r = st.server_group_insert(group("p1", "three"), 2).await;
    assert!(matches!(r, Err(StoreError::QuotaExceeded(_))), "{r:?}");
    st.server_group_insert(group("p2", "other"), 2).await.expect("another project has its own quota");
    let names: Vec<String> = st.server_group_list("p1").await.unwrap().into_iter().map(|g| g.name).collect();
    assert_eq!(names, ["one", "two"], "oldest first, the refused one not written");
    assert_eq!(st.server_group_get("p2", &g1.id).await.unwrap(), None, "another project's group is missing");

    // A new server joins in its create's transaction; others join and leave later, all or none.
    let (_, subnet) = st.network_default("p1").await.unwrap();
    let mut first = server("p1", &subnet.id, "first");
    first.server_group = Some(g1.id.clone());
    st.begin(Begin { insert_servers: vec![first.clone()], ..Default::default() }).await.unwrap();
    let others = create(&*st, "p1", &["a", "b", "c"]).await;
    let (a, b_, c) = (others[0].id.clone(), others[1].id.clone(), others[2].id.clone());
    st.server_group_add("p1", &g1.id, &[a.clone(), b_.clone()]).await.unwrap();
    assert_eq!(
        st.server_group_get("p1", &g1.id).await.unwrap().unwrap().members,
        [first.id.clone(), a.clone(), b_.clone()]
    );
    let r = st.server_group_add("p1", &g2.id, std::slice::from_ref(&a)).await;
    assert!(matches!(r, Err(StoreError::Conflict(_))), "a server is in one group at most: {r:?}");
    let missing = ecs_model::new_uuid();
    let r = st.server_group_add("p1", &g2.id, &[c.clone(), missing.clone()]).await;
    assert!(matches!(r, Err(StoreError::NotFound(ref m)) if m.contains(&missing)), "{r:?}");
    assert!(st.server_group_get("p1", &g2.id).await.unwrap().unwrap().members.is_empty(), "all or none");
    let r = st.server_group_remove("p1", &g1.id, &[a.clone(), missing]).await;
    assert!(matches!(r, Err(StoreError::Conflict(_))), "{r:?}");
    st.server_group_remove("p1", &g1.id, std::slice::from_ref(&a)).await.unwrap();
    // A deleted server leaves its group with it.
    st.server_delete("p1", &b_).await.unwrap();
    assert_eq!(st.server_group_get("p1", &g1.id).await.unwrap().unwrap().members, [first.id.clone()]);

    // A create naming a group that is gone writes nothing.
    let mut lost = server("p1", &subnet.id, "lost");
    lost.server_group = Some(ecs_model::new_uuid());
    let r = st.begin(Begin { insert_servers: vec![lost.clone()], ..Default::default() }).await;
    assert!(matches!(r, Err(StoreError::NotFound(ref m)) if m.starts_with("server group")), "{r:?}");
    assert_eq!(st.server_get("p1", &lost.id).await.unwrap(), None);

    // Deleting a group with members leaves them in no group.
    assert!(st.server_group_delete("p1", &g1.id).await.unwrap());
    assert!(!st.server_group_delete("p1", &g1.id).await.unwrap());
    st.server_group_add("p1", &g2.id, &[first.id.clone()]).await.expect("free to join another group");
}

pub(super) async fn a_group_takes_its_members_limit(b: &dyn Backend) {
    let st = b.open().await;
    let g = group("p1", "full");
    st.server_group_insert(g.clone(), 10).await.unwrap();
    let names: Vec<String> = (0..=MAX_MEMBERS).map(|i| format!("s{i}")).collect();
    let made = create(&*st, "p1", &names.iter().map(String::as_str).collect::<Vec<_>>()).await;
    let ids: Vec<String> = made.iter().map(|s| s.id.clone()).collect();
    st.server_group_add("p1", &g.id, &ids[..MAX_MEMBERS]).await.unwrap();
    let r = st.server_group_add("p1", &g.id, &ids[MAX_MEMBERS..]).await;
    assert!(matches!(r, Err(StoreError::QuotaExceeded(_))), "{r:?}");
}

pub(super) async fn anti_affinity_members_need_distinct_hosts_once_there_are_two(b: &dyn Backend) {
    let st = b.open().await;
    let (_, subnet) = st.network_default("p1").await.unwrap();
    let g = group("p1", "spread");
    st.server_group_insert(g.clone(), 10).await.unwrap();
    let member = |name: &str, host: &str| {
        let mut s = server("p1", &subnet.id, name);
        s.server_group = Some(g.id.clone());
        s.host = Some(host.into());
        s
    };
    let Some(cluster) = st.cluster() else {
        // One process, one host: members share it.
        let (one, two) = (member("one", "h"), member("two", "h"));
        st.begin(Begin { insert_servers: vec![one, two], ..Default::default() }).await.unwrap();
        assert_eq!(st.server_group_get("p1", &g.id).await.unwrap().unwrap().members.len(), 2);
        return;
    };
    let spec = |name: &str| NodeSpec { name: name.into(), address: String::new(), vcpus: 64, memory_mib: 65536 };
    cluster.node_join(&spec("a"), Duration::from_secs(60)).await.unwrap();
    // With one node known there is one host: a second member on it is accepted.
    let (one, two) = (member("one", "a"), member("two", "a"));
    st.begin(Begin { insert_servers: vec![one.clone()], ..Default::default() }).await.unwrap();
    st.begin(Begin { insert_servers: vec![two.clone()], ..Default::default() }).await.unwrap();
    st.server_group_remove("p1", &g.id, std::slice::from_ref(&two.id)).await.unwrap();
    // With two, a member must not share a host with another.
    cluster.node_join(&spec("b"), Duration::from_secs(60)).await.unwrap();
    let clash = member("clash", "a");
    let r = st.begin(Begin { insert_servers: vec![clash.clone()], ..Default::default() }).await;
    assert!(matches!(r, Err(StoreError::HostFull(ref m)) if m.contains(&one.id)), "{r:?}");
    assert_eq!(st.server_get("p1", &clash.id).await.unwrap(), None, "nothing written");
    st.begin(Begin { insert_servers: vec![member("apart", "b")], ..Default::default() }).await.unwrap();
    // An existing server joins only where no member runs.
    let r = st.server_group_add("p1", &g.id, std::slice::from_ref(&two.id)).await;
    assert!(matches!(r, Err(StoreError::Conflict(ref m)) if m.contains("host a")), "{r:?}");
    assert_eq!(st.server_group_get("p1", &g.id).await.unwrap().unwrap().members.len(), 2);
}

pub(super) async fn deadlines_are_read_earliest_first(b: &dyn Backend) {
    let st = b.open().await;
    let made = create(&*st, "p1", &["late", "never", "early"]).await;
    let set = |i: usize, at: Option<i64>| {
        let mut s = made[i].clone();
        s.auto_terminate_ms = at;
        s
    };
    let late = st.server_update(set(0, Some(2_000))).await.unwrap();
    st.server_update(set(2, Some(1_000))).await.unwrap();
    assert_eq!(
        st.server_deadlines(10).await.unwrap(),
        [("p1".to_string(), made[2].id.clone(), 1_000), ("p1".to_string(), made[0].id.clone(), 2_000)]
    );
    assert_eq!(st.server_deadlines(1).await.unwrap().len(), 1);
    // Cancelled, and gone with the server.
    let mut s = late;
    s.auto_terminate_ms = None;
    st.server_update(s).await.unwrap();
    st.server_delete("p1", &made[2].id).await.unwrap();
    assert!(st.server_deadlines(10).await.unwrap().is_empty());
}
