//! A full disk under the running service: requests are refused with a Huawei-shaped error
//! that says so, jobs in flight wait, nothing answered is lost, and once space is freed the
//! service carries on by itself; after a restart, the driver's state and the store agree.

use crate::client::*;
use crate::process::{kill, start_with};
use crate::small_disk::SmallDisk;
use serde_json::json;
use std::collections::BTreeSet;
use std::time::Duration;

/// A reinstall with key pair `k`, accepted: its job id.
async fn reinstall(svc: &Svc, id: &str, user: &str) -> String {
    let r = svc.reinstall(id, "k", &json!(user)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body["job_id"].as_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_refuses_writes_clearly_holds_jobs_and_loses_nothing() {
    if crate::store::skip_on_postgres("a_full_disk_refuses_writes", "it fills the filesystem that holds ecsd.db") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    // The data directory is the mount point, so the service's log (beside it) is not on it.
    let Some(fs) = SmallDisk::mount(&data, &dir.path().join("disk.img"), 64) else { return };
    let args = ["--sim-step-ms", "100"];
    let (mut child, banner) = start_with(&data, &SDK_ENV, &args);
    let svc = Svc::remote(&banner["endpoint"], AK, SK, PROJECT);
    let user = svc.keypair("k").await["user_id"].as_str().unwrap().to_string();
    let mut servers = vec![];
    for i in 0..3 {
        servers.push(svc.server(&format!("s{i}"), IMAGE_PLAIN, Some("k")).await);
    }
    let old_disks: Vec<String> = {
        let mut v = vec![];
        for s in &servers {
            v.push(Svc::boot_volume(&svc.show(s).await));
        }
        v
    };
    // Two reinstalls are under way when the disk fills up.
    let mut jobs = vec![reinstall(&svc, &servers[0], &user).await, reinstall(&svc, &servers[1], &user).await];
    fs.fill();

    // Writes go on being accepted while SQLite finds room in pages it already has, then are
    // refused, each with the same clear error; none is a bare internal error.
    let body = svc.create_body("late", IMAGE_PLAIN, Some("k"), 1).await;
    let mut refused = None;
    for _ in 0..400 {
        let r = svc.post("/v1/{p}/cloudservers", body.clone()).await;
        match r.status {
            200 => jobs.push(r.body["job_id"].as_str().unwrap().to_string()),
            _ => {
                refused = Some(r);
                break;
            }
        }
    }
    let refused = refused.expect("a write is refused once the disk is full");
    refused.assert_error(500, "Common.0001");
    let msg = refused.body["error"]["message"].as_str().unwrap();
    assert!(msg.contains("storage is full") && msg.contains("Nothing was changed"), "{msg}");
    // Reads still work, and the jobs in flight wait rather than fail.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    for j in &jobs {
        let r = svc.get(&format!("/v1/{{p}}/jobs/{j}")).await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert!(["INIT", "RUNNING"].contains(&r.body["status"].as_str().unwrap()), "job {j} while full: {}", r.body);
    }

    // Space is freed: everything that was answered finishes by itself, and new work is taken.
    fs.free();
    for j in &jobs {
        svc.job_ok(j).await;
    }
    for (s, old) in servers.iter().zip(&old_disks).take(2) {
        assert_ne!(&Svc::boot_volume(&svc.show(s).await), old, "server {s} was reinstalled");
    }
    let r = svc.post("/v1/{p}/cloudservers", body.clone()).await;
    assert_eq!(r.status, 200, "{}", r.body);
    svc.job_ok(r.body["job_id"].as_str().unwrap()).await;

    // A restart finds the driver's state whole: every server starts from its disk.
    kill(&mut child);
    let (mut child, banner) = start_with(&data, &SDK_ENV, &args);
    let svc = Svc::remote(&banner["endpoint"], AK, SK, PROJECT);
    let list = svc.get("/v1/{p}/cloudservers/detail").await.body;
    let ids: Vec<String> =
        list["servers"].as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap().into()).collect();
    assert_eq!(ids.len(), 3 + jobs.len() - 2 + 1, "every created server is there: {list}");
    for id in &ids {
        assert_eq!(svc.power(id, "os-stop").await["status"], "SUCCESS");
        assert_eq!(svc.power(id, "os-start").await["status"], "SUCCESS", "server {id} boots from its disk");
    }
    kill(&mut child);
    let store = crate::store::open_left_behind(&data).await;
    assert!(store.unfinished().await.unwrap().is_empty(), "every saga finished");
    let volumes: BTreeSet<String> = store.volume_list().await.unwrap().into_iter().map(|v| v.id).collect();
    let disks: BTreeSet<String> =
        ecs_driver::sim::SimState::load(&data.join("sim")).unwrap().disks.into_keys().collect();
    assert_eq!(volumes, disks, "driver disks and volume rows agree");
    drop(store);
}
