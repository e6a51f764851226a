//! SQLite store tests on a real database file.

use super::SqliteStore;
use crate::{Begin, ServerFilter, Store, StoreError};
use ecs_model::job::{job_type, Job, JobStatus};
use ecs_model::keypair::Keypair;
use ecs_model::server::{Server, ServerNic};
use ecs_model::state::{TaskState, VmState};
use ecs_model::volume::Volume;
use ecs_saga::{Outcome, SagaLog, SagaRecord, StepError, StepEvent};
use std::sync::Arc;

pub(super) fn store() -> (tempfile::TempDir, Arc<SqliteStore>) {
    let dir = tempfile::tempdir().unwrap();
    let s = SqliteStore::open(dir.path().join("ecsd.db")).unwrap();
    (dir, Arc::new(s))
}

pub(super) fn server(project: &str, subnet: &str, name: &str) -> Server {
    Server {
        id: ecs_model::new_uuid(),
        project_id: project.into(),
        user_id: "u".into(),
        name: name.into(),
        description: String::new(),
        hostname: name.into(),
        vm_state: VmState::Building,
        task_state: Some(TaskState::Scheduling),
        image_id: "img".into(),
        flavor_id: "s6.small.1".into(),
        key_name: None,
        admin_pass_hash: None,
        pending_password_hash: None,
        user_data: None,
        metadata: Default::default(),
        network: ServerNic {
            vpc_id: "v".into(),
            subnet_id: subnet.into(),
            ip: String::new(),
            mac: String::new(),
            port_id: ecs_model::new_uuid(),
        },
        availability_zone: "az1".into(),
        security_groups: vec![],
        tags: vec![],
        locked: false,
        created_ms: 0,
        updated_ms: 0,
        launched_ms: None,
        os_change_failed: false,
        fault: None,
        launch_index: 0,
        reservation_id: "r-1".into(),
        generation: 1,
        enterprise_project_id: "0".into(),
        server_group: None,
    }
}

pub(super) async fn create(st: &SqliteStore, project: &str, names: &[&str]) -> Vec<Server> {
    let (_, subnet) = st.network_default(project).await.unwrap();
    let servers = names.iter().map(|n| server(project, &subnet.id, n)).collect();
    st.begin(Begin { insert_servers: servers, ..Default::default() }).await.unwrap()
}

#[tokio::test]
async fn addresses_are_unique_and_reused_after_delete() {
    let (_d, st) = store();
    let made = create(&st, "p1", &["a", "b", "c"]).await;
    let ips: Vec<_> = made.iter().map(|s| s.network.ip.clone()).collect();
    assert_eq!(ips, vec!["192.168.0.2", "192.168.0.3", "192.168.0.4"]);
    st.server_delete("p1", &made[2].id).await.unwrap();
    let again = create(&st, "p1", &["d"]).await;
    assert_eq!(again[0].network.ip, "192.168.0.4");
    assert_eq!(st.subnet_used(&made[0].network.subnet_id).await.unwrap(), 3);
}

#[tokio::test]
async fn update_is_a_compare_and_swap_on_generation() {
    let (_d, st) = store();
    let s = create(&st, "p1", &["a"]).await.remove(0);
    let mut first = s.clone();
    first.name = "first".into();
    let won = st.server_update(first).await.unwrap();
    assert_eq!(won.generation, s.generation + 1);
    let mut second = s.clone();
    second.name = "second".into();
    assert!(matches!(st.server_update(second).await, Err(StoreError::Conflict(_))));
    let got = st.server_get("p1", &s.id).await.unwrap().unwrap();
    assert_eq!(got.server.name, "first");
}

#[tokio::test]
async fn a_begin_that_loses_its_cas_writes_nothing() {
    let (_d, st) = store();
    let s = create(&st, "p1", &["a"]).await.remove(0);
    let mut stale = s.clone();
    stale.generation = 99;
    let job = Job::new("p1", job_type::REINSTALL_OS, None, Some(&s.id), 0);
    let saga = SagaRecord::new(job.id.clone(), "reinstall_os", 2, serde_json::json!({}));
    let r = st
        .begin(Begin { update_servers: vec![stale], jobs: vec![job.clone()], sagas: vec![saga], ..Default::default() })
        .await;
    assert!(matches!(r, Err(StoreError::Conflict(_))));
    assert!(st.job_get("p1", &job.id).await.unwrap().is_none());
    assert!(st.unfinished().await.unwrap().is_empty());
}

#[tokio::test]
async fn concurrent_cas_writers_exactly_one_wins() {
    let (_d, st) = store();
    let s = create(&st, "p1", &["a"]).await.remove(0);
    let mut handles = vec![];
    for i in 0..16 {
        let st = st.clone();
        let mut mine = s.clone();
        mine.name = format!("w{i}");
        handles.push(tokio::spawn(async move { st.server_update(mine).await.is_ok() }));
    }
    let mut wins = 0;
    for h in handles {
        wins += h.await.unwrap() as usize;
    }
    assert_eq!(wins, 1);
}

#[tokio::test]
async fn a_saga_recorded_as_started_makes_its_job_running_and_keeps_its_events() {
    let (_d, st) = store();
    let job = Job::new("p1", job_type::REINSTALL_OS, None, Some("srv"), 5);
    let mut saga = SagaRecord::new(job.id.clone(), "reinstall_os", 2, serde_json::json!({}));
    saga.events.push(StepEvent::Started { step: "stop_server".into() });
    let other = Job::new("p1", job_type::REINSTALL_OS, None, Some("srv2"), 5);
    let not_started = SagaRecord::new(other.id.clone(), "reinstall_os", 2, serde_json::json!({}));
    let b = Begin { jobs: vec![job.clone(), other.clone()], sagas: vec![saga, not_started], ..Default::default() };
    st.begin(b).await.unwrap();
    assert_eq!(st.job_get("p1", &job.id).await.unwrap().unwrap().0.status, JobStatus::Running);
    assert_eq!(st.job_get("p1", &other.id).await.unwrap().unwrap().0.status, JobStatus::Init);
    // The next append numbers its event after the one the record brought.
    st.append(&job.id, &[StepEvent::Succeeded { step: "stop_server".into(), output: serde_json::json!(1) }])
        .await
        .unwrap();
    let open = st.unfinished().await.unwrap();
    let mine = open.iter().find(|r| r.id == job.id).unwrap();
    assert_eq!(
        mine.events,
        [
            StepEvent::Started { step: "stop_server".into() },
            StepEvent::Succeeded { step: "stop_server".into(), output: serde_json::json!(1) }
        ]
    );
}

#[tokio::test]
async fn the_saga_log_drives_the_job_and_survives_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ecsd.db");
    let job = Job::new("p1", job_type::REINSTALL_OS, None, Some("srv"), 5);
    {
        let st = SqliteStore::open(&path).unwrap();
        let saga = SagaRecord::new(job.id.clone(), "reinstall_os", 2, serde_json::json!({"a": 1}));
        st.begin(Begin { jobs: vec![job.clone()], sagas: vec![saga], ..Default::default() }).await.unwrap();
        assert_eq!(st.job_get("p1", &job.id).await.unwrap().unwrap().0.status, JobStatus::Init);
        let events = [
            StepEvent::Started { step: "stop_server".into() },
            StepEvent::Succeeded { step: "stop_server".into(), output: serde_json::json!("x") },
        ];
        st.append(&job.id, &events).await.unwrap();
        assert_eq!(st.job_get("p1", &job.id).await.unwrap().unwrap().0.status, JobStatus::Running);
    }
    let st = SqliteStore::open(&path).unwrap();
    let open = st.unfinished().await.unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].params, serde_json::json!({"a": 1}));
    assert_eq!(open[0].events.len(), 2);
    st.finish(&job.id, &Outcome::Failed(StepError::new("Ecs.0105", "no disk"))).await.unwrap();
    let (j, _) = st.job_get("p1", &job.id).await.unwrap().unwrap();
    assert_eq!(j.status, JobStatus::Fail);
    assert_eq!(j.error_code.as_deref(), Some("Ecs.0105"));
    assert!(j.end_ms.is_some());
    assert!(st.unfinished().await.unwrap().is_empty());
    // Another project cannot see the job.
    assert!(st.job_get("p2", &job.id).await.unwrap().is_none());
}

#[tokio::test]
async fn list_filters_and_both_paginations() {
    let (_d, st) = store();
    let names: Vec<String> = (0..12).map(|i| format!("web-{i:02}")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let made = create(&st, "p1", &refs).await;
    create(&st, "p1", &["db_1"]).await;
    create(&st, "p2", &["web-other"]).await;
    let f = |name: Option<&str>, limit, page| ServerFilter {
        name: name.map(Into::into),
        limit,
        page,
        ..Default::default()
    };
    let all = st.server_list("p1", &f(None, 100, 1)).await.unwrap();
    assert_eq!(all.count, 13);
    let web = st.server_list("p1", &f(Some("web"), 5, 1)).await.unwrap();
    assert_eq!(web.count, 12);
    assert_eq!(web.servers.len(), 5);
    assert_eq!(web.servers[0].server.name, "web-11", "newest first");
    let page3 = st.server_list("p1", &f(Some("web"), 5, 3)).await.unwrap();
    assert_eq!(page3.servers.len(), 2);
    // '_' is literal in a name filter, not a wildcard.
    assert_eq!(st.server_list("p1", &f(Some("b_1"), 10, 1)).await.unwrap().count, 1);
    let mut mf = f(Some("web"), 5, 1);
    mf.marker = Some(web.servers[4].server.id.clone());
    let after = st.server_list("p1", &mf).await.unwrap();
    assert_eq!(after.servers[0].server.name, "web-06");
    assert_eq!(
        (after.count, after.servers.len()),
        (12, 5),
        "the count is of every match, not of those after the marker"
    );
    mf.marker = Some(after.servers[4].server.id.clone());
    let last = st.server_list("p1", &mf).await.unwrap();
    assert_eq!(last.servers.iter().map(|r| r.server.name.as_str()).collect::<Vec<_>>(), ["web-01", "web-00"]);
    let mut by_ip = f(None, 10, 1);
    by_ip.ip_eq = Some(made[0].network.ip.clone());
    assert_eq!(st.server_list("p1", &by_ip).await.unwrap().servers[0].server.id, made[0].id);
    let mut by_id = f(Some("nomatch"), 10, 1);
    by_id.server_ids = Some(vec![made[1].id.clone(), made[2].id.clone()]);
    assert_eq!(st.server_list("p1", &by_id).await.unwrap().count, 2);
}

#[tokio::test]
async fn keypair_names_are_unique_per_project() {
    let (_d, st) = store();
    let kp = |p: &str| Keypair {
        id: 0,
        project_id: p.into(),
        user_id: "u".into(),
        name: "k1".into(),
        public_key: "ssh-ed25519 AAAA".into(),
        fingerprint: "aa".into(),
        key_type: "ssh".into(),
        created_ms: 0,
    };
    let a = st.keypair_insert(kp("p1")).await.unwrap();
    assert!(a.id > 0);
    assert!(matches!(st.keypair_insert(kp("p1")).await, Err(StoreError::Conflict(_))));
    st.keypair_insert(kp("p2")).await.unwrap();
    assert_eq!(st.keypair_list("p1", None, None).await.unwrap().len(), 1);
    assert!(st.keypair_delete("p1", "k1").await.unwrap());
    assert!(!st.keypair_delete("p1", "k1").await.unwrap());
    assert!(st.keypair_get("p2", "k1").await.unwrap().is_some());
}

#[tokio::test]
async fn volumes_follow_their_server() {
    let (_d, st) = store();
    let s = create(&st, "p1", &["a"]).await.remove(0);
    let v = Volume {
        id: ecs_model::new_uuid(),
        project_id: "p1".into(),
        server_id: Some(s.id.clone()),
        boot_index: Some(0),
        image_id: Some("img".into()),
        size_gb: 40,
        volume_type: "SSD".into(),
        device: "/dev/vda".into(),
        delete_on_termination: true,
        created_ms: 0,
        name: None,
        multiattach: false,
        availability_zone: None,
    };
    st.volume_put(v.clone()).await.unwrap();
    assert_eq!(st.server_get("p1", &s.id).await.unwrap().unwrap().volumes, vec![v.clone()]);
    st.server_delete("p1", &s.id).await.unwrap();
    assert!(st.volume_get(&v.id).await.unwrap().is_none());
}

/// A database of the release before saga versions: the `sagas` table without its `version`
/// column, and a log that names steps by position.
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
    create(&st, "p", &["a"]).await;
    assert!(st.has_project_resources().unwrap());
}

#[tokio::test]
async fn inspection_counts_a_sound_database_and_finds_a_record_that_does_not_parse() {
    let (dir, st) = store();
    let servers = create(&st, "p", &["a", "b"]).await;
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
