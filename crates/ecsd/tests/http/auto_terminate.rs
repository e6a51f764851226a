//! Scheduled deletion (`update-auto-terminate-time`): the server is deleted at its time through
//! the delete saga, a cancelled time deletes nothing, bad times change nothing, and a deadline
//! survives a SIGKILL of the process.

use crate::client::*;
use crate::process::start;
use serde_json::json;
use std::time::{Duration, Instant};

fn path(id: &str) -> String {
    format!("/v1/{{p}}/cloudservers/{id}/actions/update-auto-terminate-time")
}

/// `yyyy-MM-ddTHH:mm:ssZ`, `secs` seconds from now (rounded up to the next whole second).
fn in_secs(secs: u64) -> String {
    let t = time::OffsetDateTime::now_utc() + Duration::from_secs(secs + 1);
    let f = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    t.format(f).unwrap()
}

async fn gone_within(svc: &Svc, id: &str, secs: u64) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let r = svc.get(&format!("/v1/{{p}}/cloudservers/{id}")).await;
        if r.status == 404 {
            return;
        }
        assert!(Instant::now() < deadline, "server {id} still there after {secs} s: {}", r.body);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_server_is_deleted_at_its_time_and_a_cancelled_time_deletes_nothing() {
    let svc = Svc::start().await;
    let doomed = svc.server("doomed", IMAGE_PLAIN, None).await;
    let kept = svc.server("kept", IMAGE_PLAIN, None).await;
    assert_eq!(svc.show(&doomed).await["auto_terminate_time"], "", "none set");
    let at = in_secs(1);
    let r = svc.post(&path(&doomed), json!({"auto_terminate_time": at})).await;
    assert_eq!(r.status, 204, "{}", r.body);
    assert_eq!(svc.show(&doomed).await["auto_terminate_time"], json!(at));
    assert_eq!(svc.post(&path(&kept), json!({"auto_terminate_time": in_secs(1)})).await.status, 204);
    assert_eq!(svc.post(&path(&kept), json!({"auto_terminate_time": ""})).await.status, 204, "cancelled");
    assert_eq!(svc.show(&kept).await["auto_terminate_time"], "");
    gone_within(&svc, &doomed, 15).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(svc.show(&kept).await["status"], "ACTIVE", "the cancelled one stays");
}

#[tokio::test]
async fn bad_times_are_refused_and_change_nothing() {
    let svc = Svc::start().await;
    let id = svc.server("s", IMAGE_PLAIN, None).await;
    for body in [
        json!({}),
        json!({"auto_terminate_time": "tomorrow"}),
        json!({"auto_terminate_time": "2020-09-25 12:05:00"}),
        json!({"auto_terminate_time": "2020-09-25T12:05:00Z"}),
        json!({"auto_terminate_time": "2999-09-25T12:05:00Z"}),
    ] {
        let r = svc.post(&path(&id), body.clone()).await;
        assert_eq!((r.status, r.body["error"]["code"].as_str()), (400, Some("Ecs.0005")), "{body}: {}", r.body);
    }
    let missing = "6a6b4b4e-0e3a-4c38-9b64-000000000000";
    svc.post(&path(missing), json!({"auto_terminate_time": in_secs(60)})).await.assert_error(404, "Ecs.0114");
    svc.as_other().post(&path(&id), json!({"auto_terminate_time": in_secs(60)})).await.assert_error(404, "Ecs.0114");
    let r = svc.post(&format!("/v2.1/{{p}}/servers/{id}/action"), json!({"lock": null})).await;
    assert!(r.status < 300, "{}", r.body);
    svc.post(&path(&id), json!({"auto_terminate_time": in_secs(60)})).await.assert_error(400, "Ecs.0605");
    assert_eq!(svc.show(&id).await["auto_terminate_time"], "");
}

#[tokio::test]
async fn a_deadline_survives_a_sigkill_and_is_kept_after_restart() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, banner) = start(dir.path(), &SDK_ENV);
    let svc = Svc::remote(&banner["endpoint"], AK, SK, PROJECT);
    let id = svc.server("s", IMAGE_PLAIN, None).await;
    assert_eq!(svc.post(&path(&id), json!({"auto_terminate_time": in_secs(2)})).await.status, 204);
    child.kill().unwrap();
    child.wait().unwrap();
    // The deadline passes while nothing runs.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (mut child, banner) = start(dir.path(), &SDK_ENV);
    let svc = Svc::remote(&banner["endpoint"], AK, SK, PROJECT);
    gone_within(&svc, &id, 15).await;
    child.kill().unwrap();
    child.wait().unwrap();
}

/// A server busy at its deadline keeps it and is deleted once the operation holding it ends.
#[tokio::test]
async fn a_server_busy_at_its_time_is_deleted_when_it_is_free() {
    let svc = Svc::start().await;
    let id = svc.server("s", IMAGE_PLAIN, None).await;
    let hang = json!({"operation": "rebootServer", "step": "power", "action": "hang"});
    assert_eq!(svc.post("/ecsd-admin/v1/faults", hang).await.status, 201);
    let r = svc.post("/v1/{p}/cloudservers/action", json!({"reboot": {"servers": [{"id": id}], "type": "SOFT"}})).await;
    let reboot = r.body["job_id"].as_str().unwrap().to_string();
    assert_eq!(svc.post(&path(&id), json!({"auto_terminate_time": in_secs(1)})).await.status, 204);
    // Past its time (at most two seconds ahead), still held by the reboot, and not deleted.
    tokio::time::sleep(Duration::from_millis(3500)).await;
    assert_eq!(svc.show(&id).await["status"], "REBOOT", "held by the reboot, not deleted");
    assert_eq!(svc.call("DELETE", "/ecsd-admin/v1/faults", None).await.status / 100, 2);
    assert_eq!(svc.wait_job(&reboot).await["status"], "SUCCESS");
    gone_within(&svc, &id, 15).await;
}

/// `auto_terminate_time` of a create: the server is created with its deadline and deleted at
/// it; a bad one refuses the create, which creates nothing.
#[tokio::test]
async fn a_create_may_give_the_time() {
    let svc = Svc::start().await;
    let mut body = svc.create_body("short-lived", IMAGE_PLAIN, None, 1).await;
    body["server"]["auto_terminate_time"] = json!("2020-09-25T12:05:00Z");
    svc.post("/v1/{p}/cloudservers", body.clone()).await.assert_error(400, "Ecs.0005");
    assert_eq!(svc.get("/v1/{p}/cloudservers/detail").await.body["count"], 0, "nothing created");
    let at = in_secs(2);
    body["server"]["auto_terminate_time"] = json!(at);
    let r = svc.post("/v1/{p}/cloudservers", body).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let id = r.body["serverIds"][0].as_str().unwrap().to_string();
    svc.job_ok(r.body["job_id"].as_str().unwrap()).await;
    assert_eq!(svc.show(&id).await["auto_terminate_time"], json!(at));
    gone_within(&svc, &id, 15).await;
}
