//! Flavor changes: both resize paths, every refusal (and that it changes nothing), the quota at
//! its edge, and the list of flavors a server can change to.

use crate::client::*;
use ecs_model::quota::Quotas;
use serde_json::{json, Value};

fn v11(id: &str) -> String {
    format!("/v1.1/{{p}}/cloudservers/{id}/resize")
}

fn v1(id: &str) -> String {
    format!("/v1/{{p}}/cloudservers/{id}/resize")
}

/// The parts of a server a refused resize must leave alone.
fn state(s: &Value) -> (Value, Value, Value) {
    (s["flavor"]["id"].clone(), s["status"].clone(), s["OS-EXT-STS:task_state"].clone())
}

#[tokio::test]
async fn v11_resize_of_a_running_server_with_stop_mode_comes_back_active_on_the_new_flavor() {
    let svc = Svc::start().await;
    let id = svc.server("s", IMAGE_PLAIN, None).await;
    let r = svc
        .post(&v11(&id), json!({"resize": {"flavorRef": "s6.large.2", "mode": "withStopServer", "extendparam": {"isAutoPay": "true"}}}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.get("order_id").is_none(), "{}", r.body);
    let job = svc.job_ok(r.body["job_id"].as_str().unwrap()).await;
    assert_eq!(job["job_type"], "resizeServer");
    let s = svc.show(&id).await;
    assert_eq!((s["flavor"]["id"].as_str(), s["status"].as_str()), (Some("s6.large.2"), Some("ACTIVE")));
    assert_eq!(s["flavor"]["vcpus"], "2");
}

#[tokio::test]
async fn v1_resize_of_a_stopped_server_keeps_it_stopped() {
    let svc = Svc::start().await;
    let id = svc.server("s", IMAGE_PLAIN, None).await;
    svc.power(&id, "os-stop").await;
    let r = svc.post(&v1(&id), json!({"resize": {"flavorRef": "m6.large.8"}})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    svc.job_ok(r.body["job_id"].as_str().unwrap()).await;
    let s = svc.show(&id).await;
    assert_eq!((s["flavor"]["id"].as_str(), s["status"].as_str()), (Some("m6.large.8"), Some("SHUTOFF")));
}

#[tokio::test]
async fn every_refusal_has_its_code_and_changes_nothing() {
    let svc = Svc::start().await;
    let id = svc.server("s", IMAGE_PLAIN, None).await;
    let before = state(&svc.show(&id).await);
    let cases = [
        (json!({}), 400, "Ecs.0005"),
        (json!({"resize": {}}), 400, "Ecs.0005"),
        (json!({"resize": {"flavorRef": "s6.large.2", "mode": "hot"}}), 400, "Ecs.0005"),
        (
            json!({"resize": {"flavorRef": "s6.large.2", "mode": "withStopServer", "dedicated_host_id": "dh"}}),
            400,
            "Ecs.0005",
        ),
        (
            json!({"resize": {"flavorRef": "s6.large.2", "mode": "withStopServer", "extendparam": {"isAutoPay": "yes"}}}),
            400,
            "Ecs.0005",
        ),
        (json!({"resize": {"flavorRef": "no.such.flavor", "mode": "withStopServer"}}), 400, "Ecs.0019"),
        (json!({"resize": {"flavorRef": "s6.small.1", "mode": "withStopServer"}}), 400, "Ecs.0019"),
        // Running, without withStopServer.
        (json!({"resize": {"flavorRef": "s6.large.2"}}), 400, "Ecs.0100"),
    ];
    for (body, status, code) in cases {
        for path in [v11(&id), v1(&id)] {
            let r = svc.post(&path, body.clone()).await;
            assert_eq!((r.status, r.body["error"]["code"].as_str()), (status, Some(code)), "{path} {body}: {}", r.body);
        }
    }
    let missing = "6a6b4b4e-0e3a-4c38-9b64-000000000000";
    svc.post(&v11(missing), json!({"resize": {"flavorRef": "s6.large.2"}})).await.assert_error(404, "Ecs.0114");
    svc.as_other()
        .post(&v11(&id), json!({"resize": {"flavorRef": "s6.large.2", "mode": "withStopServer"}}))
        .await
        .assert_error(404, "Ecs.0114");
    // A dry run checks and changes nothing.
    let r = svc
        .post(&v11(&id), json!({"resize": {"flavorRef": "s6.large.2", "mode": "withStopServer"}, "dry_run": true}))
        .await;
    assert_eq!(r.status, 202, "{}", r.body);
    // Locked.
    svc.post(&format!("/v2.1/{{p}}/servers/{id}/action"), json!({"lock": null})).await;
    svc.post(&v11(&id), json!({"resize": {"flavorRef": "s6.large.2", "mode": "withStopServer"}}))
        .await
        .assert_error(400, "Ecs.0605");
    svc.post(&format!("/v2.1/{{p}}/servers/{id}/action"), json!({"unlock": null})).await;
    assert_eq!(state(&svc.show(&id).await), before);
}

#[tokio::test]
async fn a_busy_server_is_refused() {
    let svc = Svc::start_with_step(std::time::Duration::from_millis(300)).await;
    let id = svc.server("s", IMAGE_PLAIN, None).await;
    let r = svc.post(&v11(&id), json!({"resize": {"flavorRef": "s6.large.2", "mode": "withStopServer"}})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    svc.post(&v11(&id), json!({"resize": {"flavorRef": "s6.xlarge.2", "mode": "withStopServer"}}))
        .await
        .assert_error(400, "Ecs.0100");
    svc.job_ok(r.body["job_id"].as_str().unwrap()).await;
    assert_eq!(svc.show(&id).await["flavor"]["id"], "s6.large.2");
}

#[tokio::test]
async fn a_resize_counts_against_the_quota_for_what_it_adds() {
    // Two 1-vCPU servers (1 GiB each) and room for 4 vCPUs: one can go to 2 vCPUs, then the
    // other cannot go to 4, but can to 2.
    let svc = Svc::start_cfg(SvcConfig {
        quotas: Some(Quotas { instances: 10, cores: 4, ram_mb: 8192 }),
        ..Default::default()
    })
    .await;
    let a = svc.server("a", IMAGE_PLAIN, None).await;
    let b = svc.server("b", IMAGE_PLAIN, None).await;
    let r = svc.post(&v11(&a), json!({"resize": {"flavorRef": "s6.large.2", "mode": "withStopServer"}})).await;
    svc.job_ok(r.body["job_id"].as_str().unwrap()).await;
    let before = state(&svc.show(&b).await);
    let r = svc.post(&v11(&b), json!({"resize": {"flavorRef": "s6.xlarge.2", "mode": "withStopServer"}})).await;
    r.assert_error(400, "Ecs.0001");
    assert!(r.body["error"]["message"].as_str().unwrap_or_default().contains("vCPUs"), "{}", r.body);
    assert_eq!(state(&svc.show(&b).await), before, "nothing changed");
    // Exactly to the edge fits; memory counts too (m6.large.8 has 16 GiB).
    svc.post(&v11(&b), json!({"resize": {"flavorRef": "m6.large.8", "mode": "withStopServer"}}))
        .await
        .assert_error(400, "Ecs.0001");
    let r = svc.post(&v11(&b), json!({"resize": {"flavorRef": "s6.large.2", "mode": "withStopServer"}})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    svc.job_ok(r.body["job_id"].as_str().unwrap()).await;
    let limits = svc.get("/v1/{p}/cloudservers/limits").await;
    assert_eq!(limits.body["absolute"]["totalCoresUsed"], 4);
}

#[tokio::test]
async fn resize_flavors_lists_every_other_flavor() {
    let svc = Svc::start().await;
    let id = svc.server("s", IMAGE_PLAIN, None).await;
    let ids = |v: &Value| -> Vec<String> {
        v["flavors"].as_array().unwrap().iter().map(|f| f["id"].as_str().unwrap().to_string()).collect()
    };
    let all = svc.get(&format!("/v1/{{p}}/cloudservers/resize_flavors?instance_uuid={id}")).await;
    assert_eq!(all.status, 200, "{}", all.body);
    let got = ids(&all.body);
    assert_eq!(got.len(), ecs_model::flavor::FLAVORS.len() - 1);
    assert!(!got.contains(&"s6.small.1".to_string()));
    let by_flavor = svc.get("/v1/{p}/cloudservers/resize_flavors?source_flavor_id=s6.small.1").await;
    assert_eq!(ids(&by_flavor.body), got);
    let page = svc
        .get("/v1/{p}/cloudservers/resize_flavors?source_flavor_name=s6.small.1&sort_key=vcpus&sort_dir=desc&limit=2")
        .await;
    assert_eq!(ids(&page.body).len(), 2);
    let first = &ids(&page.body)[0];
    assert_eq!(ecs_model::flavor::find(first).map(|f| f.vcpus), Some(4));
    let next =
        svc.get(&format!("/v1/{{p}}/cloudservers/resize_flavors?source_flavor_id=s6.small.1&marker={first}")).await;
    assert!(!ids(&next.body).contains(first));
    svc.get("/v1/{p}/cloudservers/resize_flavors").await.assert_error(400, "Ecs.0005");
    svc.get("/v1/{p}/cloudservers/resize_flavors?source_flavor_id=nope").await.assert_error(400, "Ecs.0019");
    svc.get("/v1/{p}/cloudservers/resize_flavors?source_flavor_id=s6.small.1&sort_key=x")
        .await
        .assert_error(400, "Ecs.0005");
}
