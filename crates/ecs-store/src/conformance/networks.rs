//! Ports and security groups.

use super::{create, server, Backend};
use crate::{Begin, StoreError};
use ecs_model::security_group::{egress_rules, SecurityGroup};

pub(super) fn group(project: &str, name: &str) -> SecurityGroup {
    SecurityGroup {
        id: ecs_model::new_uuid(),
        project_id: project.into(),
        vpc_id: String::new(),
        name: name.into(),
        description: String::new(),
        enterprise_project_id: "0".into(),
        created_ms: 0,
    }
}

pub(super) async fn a_project_gets_its_default_group_with_its_network_and_each_server_a_port(b: &dyn Backend) {
    let st = b.open().await;
    let made = create(&*st, "p1", &["a"]).await;
    let groups = st.security_group_list("p1").await.unwrap();
    assert_eq!(groups.len(), 1);
    assert_eq!(groups[0].name, "default");
    assert_eq!(st.security_group_get("p1", &groups[0].id).await.unwrap().as_ref(), Some(&groups[0]));
    assert_eq!(st.security_group_get("p2", &groups[0].id).await.unwrap(), None);
    assert_eq!(st.security_group_rules("p1", Some(&groups[0].id)).await.unwrap().len(), 4);
    assert_eq!(st.security_group_rules("p1", None).await.unwrap().len(), 4);
    let port_id = &made[0].network.port_id;
    let port = st.port_get("p1", port_id).await.unwrap().expect("the server's port");
    assert_eq!(port.server_id, made[0].id);
    assert_eq!(st.port_get("p2", port_id).await.unwrap(), None, "another project's port is missing");
    st.server_delete("p1", &made[0].id).await.unwrap();
    assert_eq!(st.port_get("p1", port_id).await.unwrap(), None, "the port goes with its server");
    assert!(st.port_list("p1").await.unwrap().is_empty());
}

pub(super) async fn a_create_naming_a_group_deleted_meanwhile_writes_nothing(b: &dyn Backend) {
    let st = b.open().await;
    let (_, subnet) = st.network_default("p1").await.unwrap();
    let mut s = server("p1", &subnet.id, "a");
    s.security_groups = vec![ecs_model::new_uuid()];
    let r = st.begin(Begin { insert_servers: vec![s.clone()], ..Default::default() }).await;
    assert!(matches!(r, Err(StoreError::Conflict(_))), "{r:?}");
    assert_eq!(st.server_get("p1", &s.id).await.unwrap(), None);
    assert_eq!(st.port_get("p1", &s.network.port_id).await.unwrap(), None);
    assert_eq!(st.subnet_used(&subnet.id).await.unwrap(), 0, "no address stays allocated");
}

pub(super) async fn a_group_in_use_or_the_default_one_is_not_deleted(b: &dyn Backend) {
    let st = b.open().await;
    let made = create(&*st, "p1", &["a"]).await;
    let web = group("p1", "web");
    st.security_group_insert(web.clone(), egress_rules("p1", &web.id, 0)).await.unwrap();
    let mut s = st.server_only("p1", &made[0].id).await.unwrap().unwrap();
    s.security_groups = vec![web.id.clone()];
    st.server_update_security_groups(s).await.unwrap();
    let r = st.security_group_delete("p1", &web.id).await;
    assert!(matches!(r, Err(StoreError::Conflict(ref m)) if m.contains(&made[0].id)), "{r:?}");
    let default = st.security_group_list("p1").await.unwrap().remove(0);
    let r = st.security_group_delete("p1", &default.id).await;
    assert!(matches!(r, Err(StoreError::Conflict(ref m)) if m.contains("default")), "{r:?}");
    assert!(matches!(st.security_group_delete("p2", &web.id).await, Err(StoreError::NotFound(_))));
    // A group another group's rule names stays too.
    let db = group("p1", "db");
    let mut from_web = egress_rules("p1", &db.id, 0).remove(0);
    from_web.direction = "ingress".into();
    from_web.remote_group_id = Some(web.id.clone());
    st.security_group_insert(db.clone(), vec![from_web.clone()]).await.unwrap();
    st.server_delete("p1", &made[0].id).await.unwrap();
    let r = st.security_group_delete("p1", &web.id).await;
    assert!(matches!(r, Err(StoreError::Conflict(ref m)) if m.contains(&db.id)), "{r:?}");
    assert!(st.security_group_rule_delete("p1", &from_web.id).await.unwrap());
    st.security_group_delete("p1", &web.id).await.unwrap();
    assert!(st.security_group_rules("p1", Some(&web.id)).await.unwrap().is_empty(), "its rules went with it");
    assert_eq!(st.security_group_get("p1", &web.id).await.unwrap(), None);
    // A server cannot be given a group that is gone.
    let s = create(&*st, "p1", &["b"]).await.remove(0);
    let mut s = st.server_only("p1", &s.id).await.unwrap().unwrap();
    s.security_groups = vec![web.id.clone()];
    assert!(matches!(st.server_update_security_groups(s).await, Err(StoreError::NotFound(_))));
}

pub(super) async fn a_rule_must_name_groups_of_its_project_and_not_repeat_one(b: &dyn Backend) {
    let st = b.open().await;
    let web = group("p1", "web");
    st.security_group_insert(web.clone(), egress_rules("p1", &web.id, 0)).await.unwrap();
    let again = egress_rules("p1", &web.id, 1).remove(0);
    assert!(matches!(st.security_group_rule_insert(again).await, Err(StoreError::Conflict(_))));
    let mut other = egress_rules("p2", &web.id, 1).remove(0);
    other.direction = "ingress".into();
    assert!(matches!(st.security_group_rule_insert(other).await, Err(StoreError::NotFound(_))));
    let mut remote = egress_rules("p1", &web.id, 1).remove(0);
    remote.direction = "ingress".into();
    remote.remote_group_id = Some(ecs_model::new_uuid());
    assert!(matches!(st.security_group_rule_insert(remote.clone()).await, Err(StoreError::NotFound(_))));
    remote.remote_group_id = Some(web.id.clone());
    st.security_group_rule_insert(remote.clone()).await.unwrap();
    let ids: Vec<String> =
        st.security_group_rules("p1", Some(&web.id)).await.unwrap().into_iter().map(|r| r.id).collect();
    assert_eq!(ids.last(), Some(&remote.id), "in creation order");
    assert!(st.security_group_rule_delete("p1", &remote.id).await.unwrap());
    assert!(!st.security_group_rule_delete("p1", &remote.id).await.unwrap());
}

pub(super) async fn ports_are_updated_in_place(b: &dyn Backend) {
    let st = b.open().await;
    let made = create(&*st, "p1", &["a", "b"]).await;
    let mut port = st.port_get("p1", &made[0].network.port_id).await.unwrap().unwrap();
    port.name = "renamed".into();
    st.port_update(port.clone()).await.unwrap();
    assert_eq!(st.port_get("p1", &port.id).await.unwrap(), Some(port.clone()));
    let mut ids: Vec<String> = made.iter().map(|s| s.network.port_id.clone()).collect();
    ids.sort();
    assert_eq!(st.port_list("p1").await.unwrap().into_iter().map(|p| p.id).collect::<Vec<_>>(), ids, "by id");
    let mut gone = port.clone();
    gone.id = ecs_model::new_uuid();
    assert!(matches!(st.port_update(gone).await, Err(StoreError::NotFound(_))));
}

/// A server read to be shown comes with its groups' names, by id; a read that does not ask for
/// the names has none.
pub(super) async fn a_server_is_read_with_its_group_names(b: &dyn Backend) {
    let st = b.open().await;
    let made = create(&*st, "p1", &["a"]).await.remove(0);
    let (web, db) = (group("p1", "web"), group("p1", "db"));
    for g in [&web, &db] {
        st.security_group_insert(g.clone(), egress_rules("p1", &g.id, 0)).await.unwrap();
    }
    let mut s = st.server_only("p1", &made.id).await.unwrap().unwrap();
    s.security_groups = vec![web.id.clone(), db.id.clone()];
    st.server_update_security_groups(s).await.unwrap();

    let also = crate::AlsoRead { group_names: true, ..Default::default() };
    let read = st.server_get_with("p1", &made.id, also).await.unwrap();
    let want: std::collections::HashMap<String, String> =
        [(web.id.clone(), "web".to_string()), (db.id.clone(), "db".to_string())].into();
    assert_eq!(read.group_names, want);
    assert_eq!(read.row, st.server_get("p1", &made.id).await.unwrap(), "the server as read alone");
    let plain = st.server_get_with("p1", &made.id, crate::AlsoRead::default()).await.unwrap();
    assert!(plain.group_names.is_empty(), "{:?}", plain.group_names);
    let missing = st.server_get_with("p2", &made.id, also).await.unwrap();
    assert_eq!(missing, crate::ServerWith::default(), "another project's server: nothing is read");
}
