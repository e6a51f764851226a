//! The job API.

use crate::client::*;
use std::time::Duration;

fn is_job_time(s: &str) -> bool {
    // 2022-02-17T05:41:55.441Z
    s.len() == 24 && s.ends_with('Z') && &s[10..11] == "T" && &s[19..20] == "."
}

#[tokio::test]
async fn unknown_malformed_and_foreign_jobs_are_common_0011() {
    let svc = Svc::start().await;
    svc.get("/v1/{p}/jobs/ff80808288d41e1b018990260955686a").await.assert_error(400, "Common.0011");
    svc.get("/v1/{p}/jobs/..%2F..%2Fetc").await.assert_error(400, "Common.0011");
    let id = svc.server("s", IMAGE_PLAIN, None).await;
    let body = serde_json::json!({"os-stop": {"servers": [{"id": id}]}});
    let job = svc.post("/v1/{p}/cloudservers/action", body).await.body["job_id"].as_str().unwrap().to_string();
    svc.as_other().get(&format!("/v1/{{p}}/jobs/{job}")).await.assert_error(400, "Common.0011");
}

#[tokio::test]
async fn a_running_job_has_an_empty_end_time_and_a_finished_one_does_not() {
    let svc = Svc::start_with_step(Duration::from_millis(150)).await;
    let kp = svc.keypair("k").await;
    let id = svc.server("s", IMAGE_PLAIN, Some("k")).await;
    let r = svc.reinstall(&id, "k", &kp["user_id"]).await;
    let job = r.body["job_id"].as_str().unwrap().to_string();
    assert_eq!(job.len(), 32);
    let running = svc.get(&format!("/v1/{{p}}/jobs/{job}")).await.body;
    assert!(running["status"] == "INIT" || running["status"] == "RUNNING", "{running}");
    assert_eq!(running["end_time"], "");
    assert!(running["error_code"].is_null());
    let done = svc.job_ok(&job).await;
    assert_eq!(done["job_type"], "reinstallOs");
    assert_eq!(done["entities"]["server_id"], id.as_str());
    assert_eq!(done["entities"]["sub_jobs_total"], 0);
    assert!(is_job_time(done["begin_time"].as_str().unwrap()));
    assert!(is_job_time(done["end_time"].as_str().unwrap()));
    assert!(done["fail_reason"].is_null());
}

#[tokio::test]
async fn a_finished_job_answers_the_same_from_memory_and_only_to_its_project() {
    let svc = Svc::start().await;
    let body = svc.create_body("batch", IMAGE_PLAIN, None, 2).await;
    let job = svc.post("/v1/{p}/cloudservers", body).await.body["job_id"].as_str().unwrap().to_string();
    // The first read of the finished job goes to the store and keeps the answer; the later
    // ones are answered from memory: byte for byte the same, with both sub-jobs.
    let first = svc.job_ok(&job).await;
    assert_eq!(first["entities"]["sub_jobs_total"], 2);
    let path = format!("/v1/{{p}}/jobs/{job}");
    for _ in 0..3 {
        let again = svc.get(&path).await;
        assert_eq!(again.status, 200);
        assert_eq!(again.body, first);
        assert_eq!(again.headers["content-type"], "application/json");
    }
    // Kept or not, another project's caller is told it does not exist.
    svc.as_other().get(&path).await.assert_error(400, "Common.0011");
    // A job still running is read afresh each time: its answer moves on.
    let slow = Svc::start_with_step(Duration::from_millis(100)).await;
    let id = slow.server("s", IMAGE_PLAIN, None).await;
    let stop = serde_json::json!({"os-stop": {"servers": [{"id": id}]}});
    let job = slow.post("/v1/{p}/cloudservers/action", stop).await.body["job_id"].as_str().unwrap().to_string();
    let running = slow.get(&format!("/v1/{{p}}/jobs/{job}")).await.body;
    assert_ne!(running["status"], "SUCCESS", "{running}");
    assert_eq!(slow.job_ok(&job).await["status"], "SUCCESS");
}
