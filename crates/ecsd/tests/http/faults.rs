//! Fault injection through the admin API: failures users can provoke on purpose.

use crate::client::*;
use serde_json::json;
use std::time::Duration;

const FAULTS: &str = "/ecsd-admin/v1/faults";

#[tokio::test]
async fn an_injected_reinstall_failure_keeps_the_old_disk_and_a_retry_succeeds() {
    let svc = Svc::start().await;
    let kp = svc.keypair("k").await;
    let id = svc.server("s", IMAGE_PLAIN, Some("k")).await;
    let old = Svc::boot_volume(&svc.show(&id).await);
    let f = svc
        .post(
            FAULTS,
            json!({"operation": "reinstallOs", "step": "create_disk", "action": "fail",
            "error_code": "Ecs.0101", "message": "The system disk is currently unresponsive.", "times": 1}),
        )
        .await;
    assert_eq!(f.status, 201, "{}", f.body);
    assert_eq!(f.body["project_id"], PROJECT);
    assert_eq!(svc.get(FAULTS).await.body["faults"].as_array().unwrap().len(), 1);

    let body = json!({"os-reinstall": {"keyname": "k", "userid": kp["user_id"], "mode": "withStopServer"}});
    let r = svc.post(&format!("/v1/{{p}}/cloudservers/{id}/reinstallos"), body).await;
    let job = svc.wait_job(r.body["job_id"].as_str().unwrap()).await;
    assert_eq!(job["status"], "FAIL");
    assert_eq!(job["error_code"], "Ecs.0101");
    assert_eq!(job["fail_reason"], "The system disk is currently unresponsive.");
    assert_ne!(job["end_time"], "");
    let s = svc.show(&id).await;
    assert_eq!(s["status"], "ACTIVE", "back in its prior power state");
    assert_eq!(Svc::boot_volume(&s), old, "still on its old disk");
    assert!(svc.get(FAULTS).await.body["faults"].as_array().unwrap().is_empty(), "times: 1 retires the fault");

    // The spec allows reinstalling after a failed reinstall, even without withStopServer.
    let retry = json!({"os-reinstall": {"keyname": "k", "userid": kp["user_id"]}});
    let r = svc.post(&format!("/v1/{{p}}/cloudservers/{id}/reinstallos"), retry).await;
    assert_eq!(r.status, 200, "{}", r.body);
    svc.job_ok(r.body["job_id"].as_str().unwrap()).await;
    assert_ne!(Svc::boot_volume(&svc.show(&id).await), old);
}

#[tokio::test]
async fn a_failed_sub_job_explains_itself_in_the_batch_job() {
    let svc = Svc::start().await;
    let a = svc.server("a", IMAGE_PLAIN, None).await;
    let b = svc.server("b", IMAGE_PLAIN, None).await;
    svc.post(FAULTS, json!({"operation": "stopServer", "server_id": b, "action": "fail", "error_code": "Ecs.1000", "message": "hypervisor said no"}))
        .await;
    let r = svc.post("/v1/{p}/cloudservers/action", json!({"os-stop": {"servers": [{"id": a}, {"id": b}]}})).await;
    let job = svc.wait_job(r.body["job_id"].as_str().unwrap()).await;
    assert_eq!(job["status"], "FAIL");
    let subs = job["entities"]["sub_jobs"].as_array().unwrap();
    let failed = subs.iter().find(|s| s["entities"]["server_id"] == b.as_str()).unwrap();
    assert_eq!(failed["status"], "FAIL");
    assert_eq!(failed["error_code"], "Ecs.1000");
    assert_eq!(failed["entities"]["errorcode_message"], "hypervisor said no");
    let ok = subs.iter().find(|s| s["entities"]["server_id"] == a.as_str()).unwrap();
    assert_eq!(ok["status"], "SUCCESS");
    assert_eq!(svc.show(&a).await["status"], "SHUTOFF");
    assert_eq!(svc.show(&b).await["status"], "ACTIVE");
    assert!(svc.show(&b).await["OS-EXT-STS:task_state"].is_null());
}

#[tokio::test]
async fn delays_and_hangs_hold_a_job_until_released() {
    let svc = Svc::start().await;
    let id = svc.server("s", IMAGE_PLAIN, None).await;
    svc.post(FAULTS, json!({"operation": "stopServer", "action": "delay", "delay_ms": 400, "times": 1})).await;
    let r = svc.post("/v1/{p}/cloudservers/action", json!({"os-stop": {"servers": [{"id": id}]}})).await;
    let job = r.body["job_id"].as_str().unwrap().to_string();
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(svc.get(&format!("/v1/{{p}}/jobs/{job}")).await.body["status"], "RUNNING");
    svc.job_ok(&job).await;

    let hang = svc.post(FAULTS, json!({"operation": "startServer", "step": "power", "action": "hang"})).await;
    let fault_id = hang.body["id"].as_str().unwrap().to_string();
    let r = svc.post("/v1/{p}/cloudservers/action", json!({"os-start": {"servers": [{"id": id}]}})).await;
    let job = r.body["job_id"].as_str().unwrap().to_string();
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(svc.get(&format!("/v1/{{p}}/jobs/{job}")).await.body["status"], "RUNNING");
    assert_eq!(svc.show(&id).await["OS-EXT-STS:task_state"], "powering-on");
    assert_eq!(svc.call("DELETE", &format!("{FAULTS}/{fault_id}"), None).await.status, 204);
    svc.job_ok(&job).await;
    assert_eq!(svc.show(&id).await["status"], "ACTIVE");
}

#[tokio::test]
async fn faults_are_validated_and_belong_to_their_project() {
    let svc = Svc::start().await;
    for bad in [
        json!({"operation": "explode", "action": "fail"}),
        json!({"operation": "reinstallOs", "step": "paint", "action": "fail"}),
        json!({"action": "fail", "error_code": "bad"}),
        json!({"action": "delay"}),
        json!({"action": "fail", "project_id": OTHER_PROJECT}),
        json!({"action": "sneeze"}),
    ] {
        svc.post(FAULTS, bad.clone()).await.assert_error(400, "Ecs.0005");
    }
    let f = svc.post(FAULTS, json!({"action": "fail"})).await;
    let id = f.body["id"].as_str().unwrap().to_string();
    let other = svc.as_other();
    assert!(other.get(FAULTS).await.body["faults"].as_array().unwrap().is_empty());
    assert_eq!(other.call("DELETE", &format!("{FAULTS}/{id}"), None).await.status, 404);
    assert_eq!(other.call("DELETE", FAULTS, None).await.body["cleared"], 0);
    // The other project's operations are not affected by this project's fault.
    let theirs = other.server("theirs", IMAGE_PLAIN, None).await;
    assert_eq!(other.show(&theirs).await["status"], "ACTIVE");
    assert_eq!(svc.call("DELETE", FAULTS, None).await.body["cleared"], 1);
}
