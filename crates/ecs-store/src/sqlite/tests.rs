//! SQLite-only store tests on a real database file: its header, the layouts of older
//! releases, the data directory's id, offline inspection. What every store does is in the
//! conformance suite (`crate::conformance`), which runs on SQLite too.

use super::SqliteStore;
use crate::{Begin, Store, StoreError};
use ecs_model::job::{job_type, Job};
use ecs_saga::{SagaLog, SagaRecord, StepEvent};
use std::sync::Arc;

pub(super) use crate::conformance::{create, server, volume};

pub(super) fn store() -> (tempfile::TempDir, Arc<SqliteStore>) {
    let dir = tempfile::tempdir().unwrap();
    let s = SqliteStore::open(dir.path().join("ecsd.db")).unwrap();
    (dir, Arc::new(s))
}

#[tokio::test]
async fn a_database_of_the_previous_layout_is_migrated_and_its_sagas_read_as_version_1() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ecsd.db");
    {
        let c = rusqlite::Connection::open(&path).unwrap();
        c.execute_batch(super::schema::V1).unwrap();
        c.execute_batch(
            r#"INSERT INTO meta (key, value) VALUES ('schema_version', '1');
            INSERT INTO sagas (id, kind, params, done) VALUES ('s1', 'rebuild_os', '{"a":1}', 0);
            INSERT INTO saga_events (saga_id, seq, body) VALUES ('s1', 1, '{"event":"started","step":0}');
            INSERT INTO saga_events (saga_id, seq, body) VALUES ('s1', 2, '{"event":"succeeded","step":0,"output":null}');"#,
        )
        .unwrap();
    }
    let st = SqliteStore::open(&path).unwrap();
    let open = st.unfinished().await.unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].version, 1);
    assert_eq!(
        open[0].events,
        [
            StepEvent::Started { step: ecs_saga::StepId::Position(0) },
            StepEvent::Succeeded { step: ecs_saga::StepId::Position(0), output: serde_json::Value::Null }
        ]
    );
    // New sagas record their version beside the old ones.
    let job = Job::new("p1", job_type::REINSTALL_OS, None, Some("srv"), 5);
    let saga = SagaRecord::new(job.id.clone(), "rebuild_os", 2, serde_json::json!({}));
    st.begin(Begin { jobs: vec![job.clone()], sagas: vec![saga], ..Default::default() }).await.unwrap();
    let versions: Vec<u32> = st.unfinished().await.unwrap().iter().map(|r| r.version).collect();
    assert_eq!(versions, [1, 2]);
}

#[tokio::test]
async fn a_file_that_is_not_a_database_is_refused_as_damaged_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ecsd.db");
    std::fs::write(&path, vec![0x5a; 8192]).unwrap();
    match SqliteStore::open(&path) {
        Err(StoreError::Damaged(m)) => assert!(m.contains("ecsd.db") && m.contains("not a database"), "{m}"),
        Err(e) => panic!("{e}"),
        Ok(_) => panic!("opened"),
    }
}

#[tokio::test]
async fn another_programs_database_is_refused_not_given_our_tables() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ecsd.db");
    let c = rusqlite::Connection::open(&path).unwrap();
    c.execute_batch("CREATE TABLE photos (id INTEGER PRIMARY KEY, file TEXT)").unwrap();
    drop(c);
    match SqliteStore::open(&path) {
        Err(StoreError::Damaged(m)) => assert!(m.contains("not an ecsd database") && m.contains("photos"), "{m}"),
        Err(e) => panic!("{e}"),
        Ok(_) => panic!("opened"),
    }
    let c = rusqlite::Connection::open(&path).unwrap();
    let tables: i64 = c.query_row("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'", [], |r| r.get(0)).unwrap();
    assert_eq!(tables, 1, "nothing added to it");
}

#[tokio::test]
async fn the_data_directory_id_is_given_once() {
    let (_dir, st) = store();
    assert_eq!(st.data_dir_id().unwrap(), None);
    st.set_data_dir_id("one").await.unwrap();
    st.set_data_dir_id("one").await.unwrap();
    assert!(matches!(st.set_data_dir_id("two").await, Err(StoreError::Conflict(_))));
    assert_eq!(st.data_dir_id().unwrap().as_deref(), Some("one"));
    assert!(!st.has_project_resources().unwrap());
    create(&*st, "p", &["a"]).await;
    assert!(st.has_project_resources().unwrap());
}

#[tokio::test]
async fn inspection_counts_a_sound_database_and_finds_a_record_that_does_not_parse() {
    let (dir, st) = store();
    let servers = create(&*st, "p", &["a", "b"]).await;
    st.set_data_dir_id("one").await.unwrap();
    let path = dir.path().join("ecsd.db");
    let found = super::inspect(&path).unwrap();
    assert_eq!(found.problems, Vec::<String>::new());
    assert_eq!((found.servers, found.jobs, found.data_dir_id.as_deref()), (Some(2), Some(0), Some("one")));
    assert_eq!(found.schema_version, Some(super::SCHEMA_VERSION));
    // Sound to SQLite, but not a server any more.
    let c = rusqlite::Connection::open(&path).unwrap();
    c.execute("UPDATE servers SET body = '{\"id\": 1' WHERE id = ?1", [&servers[0].id]).unwrap();
    drop(c);
    let found = super::inspect(&path).unwrap();
    assert_eq!(found.problems, vec![format!("server {}: its record does not parse", servers[0].id)]);
}

/// The `count` of an unfiltered list as the store answers it.
async fn listed_count(st: &SqliteStore, project: &str) -> i64 {
    let f = crate::ServerFilter { limit: 1, page: 1, ..Default::default() };
    st.server_list(project, &f).await.unwrap().count
}

#[tokio::test]
async fn a_projects_server_count_follows_creates_and_deletes_and_is_rebuilt_on_upgrade() {
    let (dir, st) = store();
    let made = create(&*st, "p1", &["a", "b", "c"]).await;
    create(&*st, "p2", &["x"]).await;
    assert_eq!((listed_count(&st, "p1").await, listed_count(&st, "p2").await), (3, 1));
    assert_eq!(listed_count(&st, "nobody").await, 0);
    st.server_delete("p1", &made[0].id).await.unwrap();
    assert_eq!(listed_count(&st, "p1").await, 2);
    // A filtered list still counts its matches.
    let named = crate::ServerFilter { name: Some("b".into()), limit: 1, page: 1, ..Default::default() };
    assert_eq!(st.server_list("p1", &named).await.unwrap().count, 1);
    drop(st);
    // A database of version 5 (no counts) gets them from its servers on upgrade.
    let path = dir.path().join("ecsd.db");
    let c = rusqlite::Connection::open(&path).unwrap();
    c.execute_batch(
        "DROP TRIGGER servers_count_insert; DROP TRIGGER servers_count_delete; DROP TRIGGER servers_count_change;
         DROP TABLE server_counts; UPDATE meta SET value = '5' WHERE key = 'schema_version';",
    )
    .unwrap();
    drop(c);
    let st = SqliteStore::open(&path).unwrap();
    assert_eq!((listed_count(&st, "p1").await, listed_count(&st, "p2").await), (2, 1));
    create(&st, "p2", &["y"]).await;
    assert_eq!(listed_count(&st, "p2").await, 2);
    // The quota's usage comes from the same counts: two servers of p1 left, by flavor.
    let one = st.project_usage("p1").await.unwrap();
    let mut resized = st.server_only("p1", &made[1].id).await.unwrap().unwrap();
    let before = resized.flavor_id.clone();
    resized.flavor_id = "s6.large.2".into();
    assert_ne!(before, resized.flavor_id);
    st.server_update(resized).await.unwrap();
    let two = st.project_usage("p1").await.unwrap();
    assert_eq!(two.instances, one.instances);
    assert!(two.cores > one.cores && two.ram_mb > one.ram_mb, "{one:?} -> {two:?}");
    assert_eq!(listed_count(&st, "p1").await, 2);
}

/// A database of version 6 gets version 7's triggers and index on upgrade: a volume attached
/// to a server afterwards makes a kept read of the server stale, and lists still page.
#[tokio::test]
async fn a_database_of_version_6_is_upgraded_with_the_volume_triggers_and_the_list_index() {
    let (dir, st) = store();
    let made = create(&*st, "p1", &["a", "b"]).await;
    drop(st);
    let path = dir.path().join("ecsd.db");
    let c = rusqlite::Connection::open(&path).unwrap();
    c.execute_batch(
        "DROP TRIGGER volumes_touch_server_insert; DROP TRIGGER volumes_touch_server_move;
         DROP INDEX servers_project_seq_id; UPDATE meta SET value = '6' WHERE key = 'schema_version';",
    )
    .unwrap();
    drop(c);
    let st = SqliteStore::open(&path).unwrap();
    let c = rusqlite::Connection::open(&path).unwrap();
    let named = |name: &str| -> i64 {
        c.query_row("SELECT COUNT(*) FROM sqlite_master WHERE name = ?1", [name], |r| r.get(0)).unwrap()
    };
    for name in ["volumes_touch_server_insert", "volumes_touch_server_move", "servers_project_seq_id"] {
        assert_eq!(named(name), 1, "{name} after the upgrade");
    }
    let version: String = c.query_row("SELECT value FROM meta WHERE key = 'schema_version'", [], |r| r.get(0)).unwrap();
    assert_eq!(version, super::schema::SCHEMA_VERSION.to_string());

    let also = crate::AlsoRead { group_names: true, seen: true, ..Default::default() };
    let seen = st.server_get_with("p1", &made[0].id, also).await.unwrap().seen.expect("SQLite says what it saw");
    assert!(st.unchanged_since(&seen));
    st.volume_put(volume("p1", Some(&made[0].id), Some(-1), false)).await.unwrap();
    assert!(!st.unchanged_since(&seen), "the attached volume touches its server's row");
    let page = crate::ServerFilter { limit: 1, page: 2, ..Default::default() };
    let (count, ids) = st.server_list_ids("p1", &page).await.unwrap().expect("a list on columns");
    assert_eq!((count, ids), (2, vec![made[0].id.clone()]), "the second page of one: the older server");
}
