//! SQLite-only tests of ports and security groups: the upgrade of an older database. What
//! every store does with them is in the conformance suite.

use super::super::tests::server;
use super::super::SqliteStore;
use crate::Store;

/// A database of version 2 (no port or group tables, nor those of versions 4 and 5) with a server: the upgrade gives the
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
             DROP TABLE server_groups; DROP TABLE server_group_members; DROP INDEX servers_auto_terminate;
             ALTER TABLE servers DROP COLUMN auto_terminate_ms;
             DROP TABLE traces; ALTER TABLE saga_events DROP COLUMN at_ms;
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
