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
