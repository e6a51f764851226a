//! Store tests of ports and security groups.

use super::super::tests::{create, server, store};
use super::super::SqliteStore;
use crate::{Begin, Store, StoreError};
use ecs_model::security_group::{egress_rules, SecurityGroup};

fn group(project: &str, name: &str) -> SecurityGroup {
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

#[tokio::test]
async fn a_project_gets_its_default_group_with_its_network_and_each_server_a_port() {
    let (_d, st) = store();
    let made = create(&st, "p1", &["a"]).await;
    let groups = st.security_group_list("p1").await.unwrap();
    assert_eq!(groups.len(), 1);
    assert_eq!(groups[0].name, "default");
    assert_eq!(st.security_group_rules("p1", Some(&groups[0].id)).await.unwrap().len(), 4);
    let port_id = &made[0].network.port_id;
    let port = st.port_get("p1", port_id).await.unwrap().expect("the server's port");
    assert_eq!(port.server_id, made[0].id);
    assert_eq!(st.port_get("p2", port_id).await.unwrap(), None, "another project's port is missing");
    st.server_delete("p1", &made[0].id).await.unwrap();
    assert_eq!(st.port_get("p1", port_id).await.unwrap(), None, "the port goes with its server");
    assert!(st.port_list("p1").await.unwrap().is_empty());
}

#[tokio::test]
async fn a_create_naming_a_group_deleted_meanwhile_writes_nothing() {
    let (_d, st) = store();
    let (_, subnet) = st.network_default("p1").await.unwrap();
    let mut s = server("p1", &subnet.id, "a");
    s.security_groups = vec![ecs_model::new_uuid()];
    let r = st.begin(Begin { insert_servers: vec![s.clone()], ..Default::default() }).await;
    assert!(matches!(r, Err(StoreError::Conflict(_))), "{r:?}");
    assert_eq!(st.server_get("p1", &s.id).await.unwrap(), None);
    assert_eq!(st.port_get("p1", &s.network.port_id).await.unwrap(), None);
    assert_eq!(st.subnet_used(&subnet.id).await.unwrap(), 0, "no address stays allocated");
}

#[tokio::test]
async fn a_group_in_use_or_the_default_one_is_not_deleted() {
    let (_d, st) = store();
    let made = create(&st, "p1", &["a"]).await;
    let web = group("p1", "web");
    st.security_group_insert(web.clone(), egress_rules("p1", &web.id, 0)).await.unwrap();
    let mut s = st.server_only("p1", &made[0].id).await.unwrap().unwrap();
    s.security_groups = vec![web.id.clone()];
    st.server_update_security_groups(s).await.unwrap();
    assert!(matches!(st.security_group_delete("p1", &web.id).await, Err(StoreError::Conflict(_))));
    let default = st.security_group_list("p1").await.unwrap().remove(0);
    let r = st.security_group_delete("p1", &default.id).await;
    assert!(matches!(r, Err(StoreError::Conflict(ref m)) if m.contains("default")), "{r:?}");
    assert!(matches!(st.security_group_delete("p2", &web.id).await, Err(StoreError::NotFound(_))));
    st.server_delete("p1", &made[0].id).await.unwrap();
    st.security_group_delete("p1", &web.id).await.unwrap();
    assert!(st.security_group_rules("p1", Some(&web.id)).await.unwrap().is_empty(), "its rules went with it");
}

#[tokio::test]
async fn a_rule_must_name_groups_of_its_project_and_not_repeat_one() {
    let (_d, st) = store();
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
    assert!(st.security_group_rule_delete("p1", &remote.id).await.unwrap());
    assert!(!st.security_group_rule_delete("p1", &remote.id).await.unwrap());
}

/// A database of version 2 (no port or group tables) with a server: the upgrade gives the
/// project its default group and the server its port, and replaces group ids that name no
/// group by the default group.
#[tokio::test]
async fn a_database_of_the_previous_layout_is_migrated_with_ports_and_default_groups() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ecsd.db");
    let made = {
        let st = SqliteStore::open(&path).unwrap();
        let (_, subnet) = st.network_default("p1").await.unwrap();
        let mut s = server("p1", &subnet.id, "old");
        s.security_groups = vec!["given-by-an-older-release".into()];
        s
    };
    // Written as version 2 wrote servers: a row of the servers table, and no port.
    {
        let c = rusqlite::Connection::open(&path).unwrap();
        let body = serde_json::to_string(&made).unwrap();
        c.execute_batch(
            "DROP TABLE ports; DROP TABLE security_groups; DROP TABLE security_group_rules;
             UPDATE meta SET value = '2' WHERE key = 'schema_version';",
        )
        .unwrap();
        c.execute(
            "INSERT INTO servers (id, project_id, seq, name, status, flavor_id, ip, generation, body)
             VALUES (?1, 'p1', 1, 'old', 'BUILD', 's6.small.1', '', 1, ?2)",
            rusqlite::params![made.id, body],
        )
        .unwrap();
    }
    let st = SqliteStore::open(&path).unwrap();
    let groups = st.security_group_list("p1").await.unwrap();
    assert_eq!(groups.iter().map(|g| g.name.as_str()).collect::<Vec<_>>(), ["default"]);
    let s = st.server_only("p1", &made.id).await.unwrap().unwrap();
    assert_eq!(s.security_groups, [groups[0].id.clone()]);
    let port = st.port_get("p1", &made.network.port_id).await.unwrap().expect("a port for the old server");
    assert_eq!(port.server_id, made.id);
    // Opening again changes nothing more.
    drop(st);
    let st = SqliteStore::open(&path).unwrap();
    assert_eq!(st.security_group_list("p1").await.unwrap().len(), 1);
}
