//! The data directory with the real binary: one process at a time, damaged or missing files
//! refused and named, and `ecsd check`.

use crate::client::*;
use crate::process::{check, kill, start, try_start};
use rand::Rng;
use serde_json::Value;
use std::path::Path;
use std::time::Duration;

/// A data directory in which one server was created, and the process killed.
async fn used_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, banner) = start(dir.path(), &[]);
    let svc = Svc::remote(&banner["endpoint"], &banner["ak"], &banner["sk"], &banner["project_id"]);
    svc.server("s", IMAGE_PLAIN, None).await;
    kill(&mut child);
    dir
}

#[tokio::test]
async fn a_second_process_is_refused_naming_the_first_which_keeps_serving() {
    let dir = tempfile::tempdir().unwrap();
    let (mut first, banner) = start(dir.path(), &SDK_ENV);
    let svc = Svc::remote(&banner["endpoint"], AK, SK, PROJECT);
    let id = svc.server("s", IMAGE_PLAIN, None).await;

    let (status, stderr) = try_start(dir.path(), &SDK_ENV).err().expect("the second process refuses to start");
    assert!(!status.success());
    assert!(stderr.contains(&format!("in use by ecsd pid {}", first.id())), "{stderr}");
    assert!(stderr.contains(&dir.path().display().to_string()) && stderr.contains("stop that process"), "{stderr}");
    // `ecsd check` will not run beside it either, and says so with its own exit status.
    let (code, _, err) = check(dir.path());
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains(&format!("pid {}", first.id())), "{err}");
    assert_eq!(svc.show(&id).await["status"], "ACTIVE", "the first one still serves");

    // SIGKILL leaves no stale lock: the kernel released it with the process.
    kill(&mut first);
    let (mut again, banner) = start(dir.path(), &SDK_ENV);
    let svc = Svc::remote(&banner["endpoint"], AK, SK, PROJECT);
    assert_eq!(svc.show(&id).await["status"], "ACTIVE");
    kill(&mut again);
}

/// The database's page size, from its header (bytes 16-17, big-endian; 1 stands for 65536).
fn page_size(db: &[u8]) -> usize {
    match u16::from_be_bytes([db[16], db[17]]) {
        1 => 65536,
        n => n as usize,
    }
}

/// Overwrites with random bytes every page but the first that holds one of `needles`; returns
/// how many. The WAL is checkpointed into the file and removed first, so that the pages read
/// afterwards are the damaged ones.
fn damage_pages_holding(db: &Path, needles: &[String]) -> usize {
    let c = rusqlite::Connection::open(db).unwrap();
    c.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(())).unwrap();
    c.execute_batch("PRAGMA journal_mode=DELETE").unwrap();
    drop(c);
    let mut bytes = std::fs::read(db).unwrap();
    let size = page_size(&bytes);
    let mut rng = rand::thread_rng();
    let mut damaged = 0;
    for page in bytes.chunks_mut(size).skip(1) {
        if needles.iter().any(|n| page.windows(n.len()).any(|w| w == n.as_bytes())) {
            rng.fill(page);
            damaged += 1;
        }
    }
    std::fs::write(db, bytes).unwrap();
    damaged
}

#[tokio::test]
async fn damaged_server_pages_are_named_to_clients_and_by_check() {
    if crate::store::skip_on_postgres("damaged_server_pages", "it damages pages of ecsd.db and runs ecsd check on it") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (mut child, banner) = start(dir.path(), &SDK_ENV);
    let svc = Svc::remote(&banner["endpoint"], AK, SK, PROJECT);
    let mut ids = Vec::new();
    for n in 0..3 {
        ids.push(svc.server(&format!("s{n}"), IMAGE_PLAIN, None).await);
    }
    let create = svc.create_body("late", IMAGE_PLAIN, None, 1).await;
    kill(&mut child);
    let db = dir.path().join("ecsd.db");
    assert!(damage_pages_holding(&db, &ids) >= 1, "the servers' rows were found in the file");

    // Start-up reads only what costs the same at any size (the schema, the meta rows), so it
    // starts; what reads the damaged pages is refused, saying why.
    let (mut child, banner) = try_start(dir.path(), &SDK_ENV).expect("starts: the first page is sound");
    let svc = Svc::remote(&banner["endpoint"], AK, SK, PROJECT);
    let damaged = |r: &Resp| {
        r.assert_error(500, "Common.0001");
        let m = r.body["error"]["message"].as_str().unwrap_or_default();
        assert!(m.contains("store is damaged") && m.contains("ecsd check"), "{}", r.body);
    };
    damaged(&svc.get("/v1/{p}/cloudservers/detail").await);
    damaged(&svc.get(&format!("/v1/{{p}}/cloudservers/{}", ids[0])).await);
    damaged(&svc.post("/v1/{p}/cloudservers", create).await);
    kill(&mut child);

    let (code, out, err) = check(dir.path());
    assert_eq!(code, Some(1), "{out}{err}");
    // Which of SQLite's messages depends on where the bytes fell; every one names the file.
    assert!(out.contains("integrity NOT ok") && out.contains("DAMAGED"), "{out}");
    assert!(out.contains("  - ecsd.db: integrity check"), "{out}");
    assert!(out.contains("not compared: the volume rows cannot be read"), "{out}");
}

#[tokio::test]
async fn a_database_truncated_to_zero_is_refused_not_started_empty() {
    if crate::store::skip_on_postgres("a_database_truncated_to_zero", "it truncates ecsd.db") {
        return;
    }
    let dir = used_dir().await;
    let db = dir.path().join("ecsd.db");
    std::fs::File::create(&db).unwrap();
    let (status, stderr) = try_start(dir.path(), &[]).err().expect("start refused");
    assert!(!status.success());
    assert!(stderr.contains("ecsd.db is empty (0 bytes)") && stderr.contains("Restore"), "{stderr}");
    assert_eq!(std::fs::metadata(&db).unwrap().len(), 0, "not initialised again");
    let (code, out, _) = check(dir.path());
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("ecsd.db is empty (0 bytes), but the directory has been used"), "{out}");
}

#[tokio::test]
async fn an_unreadable_account_file_is_refused_not_replaced() {
    let dir = used_dir().await;
    let account = dir.path().join("account.json");
    std::fs::write(&account, "{\"ak\": \"cut off").unwrap();
    let (_, stderr) = try_start(dir.path(), &[]).err().expect("start refused");
    assert!(stderr.contains("account.json does not parse") && stderr.contains("Restore it"), "{stderr}");
    // The SDK variables give a credential, but not the saved user id: still refused.
    let (_, stderr) = try_start(dir.path(), &SDK_ENV).err().expect("start refused with the SDK variables too");
    assert!(stderr.contains("account.json does not parse"), "{stderr}");
    assert_eq!(std::fs::read_to_string(&account).unwrap(), "{\"ak\": \"cut off", "left as it was");

    // Mode 000 does not stop root; a directory in its place cannot be read by anyone.
    std::fs::remove_file(&account).unwrap();
    std::fs::create_dir(&account).unwrap();
    let (_, stderr) = try_start(dir.path(), &[]).err().expect("start refused");
    assert!(stderr.contains("cannot read") && stderr.contains("account.json"), "{stderr}");
    let (code, out, _) = check(dir.path());
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("account.json"), "{out}");

    // Gone altogether from a directory that holds servers: a new account would not see them.
    // On PostgreSQL the servers are the database's, which keeps the account they belong to
    // (the nodes sharing it share it): the file is written again from there.
    std::fs::remove_dir(&account).unwrap();
    if crate::store::on_postgres() {
        let (mut child, banner) = start(dir.path(), &[]);
        let svc = Svc::remote(&banner["endpoint"], &banner["ak"], &banner["sk"], &banner["project_id"]);
        let listed = svc.get("/v1/{p}/cloudservers/detail").await;
        assert_eq!(listed.body["count"], 1, "the account the server belongs to: {}", listed.body);
        assert!(account.is_file(), "written again from the database");
        kill(&mut child);
        return;
    }
    let (_, stderr) = try_start(dir.path(), &[]).err().expect("start refused");
    assert!(stderr.contains("account.json is missing, but the data directory holds servers"), "{stderr}");
    assert!(!account.exists(), "no new account written");
}

#[tokio::test]
async fn check_passes_a_healthy_directory_and_reports_unfinished_operations_as_resuming() {
    if crate::store::skip_on_postgres("check_passes_a_healthy_directory", "ecsd check inspects ecsd.db only") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (mut child, banner) = start(dir.path(), &SDK_ENV);
    let svc = Svc::remote(&banner["endpoint"], AK, SK, PROJECT);
    let kp = svc.keypair("k").await;
    let id = svc.server("s", IMAGE_PLAIN, Some("k")).await;
    kill(&mut child);
    let (code, out, err) = check(dir.path());
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(out.contains("integrity ok") && out.contains("1 servers") && out.ends_with("healthy\n"), "{out}");
    assert!(out.contains("the driver's disks are exactly the volume rows"), "{out}");

    // Killed in the middle of a reinstall: its saga is unfinished, which is no damage.
    let (mut child, banner) = start(dir.path(), &SDK_ENV);
    let svc = Svc::remote(&banner["endpoint"], AK, SK, PROJECT);
    let r = svc.reinstall(&id, "k", &kp["user_id"]).await;
    let job = r.body["job_id"].as_str().unwrap().to_string();
    tokio::time::sleep(Duration::from_millis(600)).await;
    let mid: Value = svc.get(&format!("/v1/{{p}}/jobs/{job}")).await.body;
    assert_eq!(mid["status"], "RUNNING", "{mid}");
    kill(&mut child);
    let (code, out, err) = check(dir.path());
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(out.contains(&format!("1 unfinished, will resume at the next start: {job}")), "{out}");
}
