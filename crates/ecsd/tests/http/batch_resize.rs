//! Batch resize: one job with a sub-job per server, each the resize saga; refused whole when
//! one server is; the quota checked for the sum; and a resize racing a reinstall of the same
//! server, of which exactly one is accepted.

use crate::client::*;
use ecs_model::quota::Quotas;
use serde_json::{json, Value};
use std::time::Duration;

const BATCH: &str = "/v1/{p}/cloudservers/batch-resize";

fn body(flavor: &str, ids: &[&str], mode: Option<&str>) -> Value {
    let mut r = json!({"flavorRef": flavor, "servers": ids.iter().map(|id| json!({"id": id})).collect::<Vec<_>>()});
    if let Some(m) = mode {
        r["mode"] = json!(m);
    }
    json!({"resize": r})
}

fn flavor(s: &Value) -> (String, String) {
    (s["flavor"]["id"].as_str().unwrap_or_default().into(), s["status"].as_str().unwrap_or_default().into())
}

#[tokio::test]
async fn each_server_is_resized_in_a_sub_job_of_one_job() {
    let svc = Svc::start().await;
    let running = svc.server("running", IMAGE_PLAIN, None).await;
    let stopped = svc.server("stopped", IMAGE_PLAIN, None).await;
    svc.power(&stopped, "os-stop").await;
    let r = svc.post(BATCH, body("s6.large.2", &[&running, &stopped], Some("withStopServer"))).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let job = svc.job_ok(r.body["job_id"].as_str().unwrap()).await;
    assert_eq!(job["job_type"], "resizeServer");
    let subs = job["entities"]["sub_jobs"].as_array().unwrap();
    assert_eq!(subs.len(), 2, "{job}");
    for s in subs {
        assert_eq!(
            (s["job_type"].as_str(), s["status"].as_str()),
            (Some("resizeSingleServer"), Some("SUCCESS")),
            "{s}"
        );
    }
    assert_eq!(flavor(&svc.show(&running).await), ("s6.large.2".into(), "ACTIVE".into()));
    assert_eq!(flavor(&svc.show(&stopped).await), ("s6.large.2".into(), "SHUTOFF".into()));
}

#[tokio::test]
async fn a_batch_is_refused_whole_and_changes_nothing() {
    let svc = Svc::start_cfg(SvcConfig {
        quotas: Some(Quotas { instances: 10, cores: 3, ram_mb: 65536 }),
        ..Default::default()
    })
    .await;
    let a = svc.server("a", IMAGE_PLAIN, None).await;
    let b = svc.server("b", IMAGE_PLAIN, None).await;
    svc.power(&b, "os-stop").await;
    let missing = "6a6b4b4e-0e3a-4c38-9b64-000000000000";
    let cases = [
        (json!({}), 400, "Ecs.0005"),
        (json!({"resize": {"flavorRef": "s6.large.2"}}), 400, "Ecs.0005"),
        (json!({"resize": {"flavorRef": "s6.large.2", "servers": []}}), 400, "Ecs.0005"),
        (json!({"resize": {"flavorRef": "s6.large.2", "servers": [{}]}}), 400, "Ecs.0005"),
        (body("", &[&a, &b], Some("withStopServer")), 400, "Ecs.0005"),
        (body("s6.large.2", &[&a, &b], Some("hot")), 400, "Ecs.0005"),
        (body("no.such.flavor", &[&a, &b], Some("withStopServer")), 400, "Ecs.0019"),
        // a is running and the request has no withStopServer: b is not resized either.
        (body("s6.medium.2", &[&b, &a], None), 400, "Ecs.0100"),
        (body("s6.medium.2", &[&b, missing], None), 404, "Ecs.0114"),
        // Each alone fits the 3 vCPUs; both together (2 + 2) do not.
        (body("s6.large.2", &[&a, &b], Some("withStopServer")), 400, "Ecs.0001"),
    ];
    for (req, status, code) in cases {
        let r = svc.post(BATCH, req.clone()).await;
        assert_eq!((r.status, r.body["error"]["code"].as_str()), (status, Some(code)), "{req}: {}", r.body);
        let mut dry = req.clone();
        dry["dry_run"] = json!(true);
        let r = svc.post(BATCH, dry.clone()).await;
        assert_eq!((r.status, r.body["error"]["code"].as_str()), (status, Some(code)), "{dry}: {}", r.body);
    }
    assert_eq!(flavor(&svc.show(&a).await), ("s6.small.1".into(), "ACTIVE".into()));
    assert_eq!(flavor(&svc.show(&b).await), ("s6.small.1".into(), "SHUTOFF".into()));
    // A dry run of an acceptable batch changes nothing either.
    let mut dry = body("s6.medium.2", &[&a, &b], Some("withStopServer"));
    dry["dry_run"] = json!(true);
    let r = svc.post(BATCH, dry).await;
    assert_eq!(r.status, 202, "{}", r.body);
    assert_eq!(flavor(&svc.show(&a).await).0, "s6.small.1");
    let r = svc.post(BATCH, body("s6.large.2", &[&a], Some("withStopServer"))).await;
    assert_eq!(r.status, 200, "one alone fits: {}", r.body);
    svc.job_ok(r.body["job_id"].as_str().unwrap()).await;
}

#[tokio::test]
async fn a_resize_racing_a_reinstall_of_the_same_server_one_wins_the_other_is_busy() {
    // Steps take a while, so the winner still holds the server when the loser is decided.
    let svc = Svc::start_with_step(Duration::from_millis(100)).await;
    let kp = svc.keypair("k").await;
    for round in 0..3 {
        let id = svc.server(&format!("s{round}"), IMAGE_PLAIN, Some("k")).await;
        let (resize, reinstall) = tokio::join!(
            svc.post(BATCH, body("s6.large.2", &[&id], Some("withStopServer"))),
            svc.reinstall(&id, "k", &kp["user_id"])
        );
        let won: Vec<&Resp> = [&resize, &reinstall].into_iter().filter(|r| r.status == 200).collect();
        assert_eq!(won.len(), 1, "exactly one is accepted: {} / {}", resize.body, reinstall.body);
        let lost = if resize.status == 200 { &reinstall } else { &resize };
        lost.assert_error(400, "Ecs.0100");
        let job = svc.wait_job(won[0].body["job_id"].as_str().unwrap()).await;
        assert_eq!(job["status"], "SUCCESS", "{job}");
        let s = svc.show(&id).await;
        let resized = resize.status == 200;
        assert_eq!(s["flavor"]["id"] == "s6.large.2", resized, "{s}");
        assert_eq!(s["status"], "ACTIVE");
    }
}

/// A failure at each step of one server's resize fails that sub-job only: the server is back on
/// its old flavor in its prior power state, the other is resized, and the server can be resized
/// again at once.
#[tokio::test]
async fn a_failure_at_each_step_fails_that_server_only() {
    let svc = Svc::start().await;
    for step in ["stop_server", "start_resized", "record_state"] {
        let a = svc.server("a", IMAGE_PLAIN, None).await;
        let b = svc.server("b", IMAGE_PLAIN, None).await;
        let fault = json!({"operation": "resizeServer", "step": step, "server_id": b, "action": "fail",
            "error_code": "Ecs.1000", "message": format!("failed at {step}"), "times": 1});
        assert_eq!(svc.post("/ecsd-admin/v1/faults", fault).await.status, 201);
        let r = svc.post(BATCH, body("s6.large.2", &[&a, &b], Some("withStopServer"))).await;
        assert_eq!(r.status, 200, "{}", r.body);
        let job = svc.wait_job(r.body["job_id"].as_str().unwrap()).await;
        assert_eq!(job["status"], "FAIL", "{step}: {job}");
        let subs = job["entities"]["sub_jobs"].as_array().unwrap();
        let sub = |id: &str| subs.iter().find(|s| s["entities"]["server_id"] == id).cloned().unwrap();
        assert_eq!((sub(&a)["status"].as_str(), sub(&b)["status"].as_str()), (Some("SUCCESS"), Some("FAIL")), "{step}");
        assert_eq!(sub(&b)["error_code"], "Ecs.1000");
        assert_eq!(flavor(&svc.show(&a).await), ("s6.large.2".into(), "ACTIVE".into()), "{step}");
        assert_eq!(flavor(&svc.show(&b).await), ("s6.small.1".into(), "ACTIVE".into()), "{step}: undone");
        assert!(svc.show(&b).await["OS-EXT-STS:task_state"].is_null(), "{step}");
        let r = svc.post(BATCH, body("s6.large.2", &[&b], Some("withStopServer"))).await;
        svc.job_ok(r.body["job_id"].as_str().unwrap()).await;
        assert_eq!(flavor(&svc.show(&b).await).0, "s6.large.2", "{step}: resized the second time");
    }
}
