//! Quotas: shown by `cloudservers/limits`, enforced on create (v1 and v1.1, `count` included)
//! inside the transaction that inserts the servers.

use crate::client::*;
use ecs_model::quota::Quotas;
use serde_json::json;

async fn with_quotas(instances: i64, cores: i64, ram_mb: i64) -> Svc {
    Svc::start_cfg(SvcConfig { quotas: Some(Quotas { instances, cores, ram_mb }), ..Default::default() }).await
}

#[tokio::test]
async fn the_limits_show_every_field_and_the_usage() {
    let svc = with_quotas(5, 8, 8192).await;
    svc.server("a", IMAGE_PLAIN, None).await;
    let r = svc.get("/v1/{p}/cloudservers/limits").await;
    assert_eq!(r.status, 200, "{}", r.body);
    let a = &r.body["absolute"];
    for f in [
        "maxImageMeta",
        "maxPersonality",
        "maxPersonalitySize",
        "maxSecurityGroupRules",
        "maxSecurityGroups",
        "maxServerGroupMembers",
        "maxServerGroups",
        "maxServerMeta",
        "maxTotalCores",
        "maxTotalFloatingIps",
        "maxTotalInstances",
        "maxTotalKeypairs",
        "maxTotalRAMSize",
        "totalCoresUsed",
        "totalFloatingIpsUsed",
        "totalInstancesUsed",
        "totalRAMUsed",
        "totalSecurityGroupsUsed",
        "totalServerGroupsUsed",
        "maxTotalSpotInstances",
        "maxTotalSpotCores",
        "maxTotalSpotRAMSize",
        "totalSpotInstancesUsed",
        "totalSpotCoresUsed",
        "totalSpotRAMUsed",
    ] {
        assert!(a[f].is_i64(), "{f} is an integer: {a}");
    }
    assert_eq!(
        (a["maxTotalInstances"].as_i64(), a["maxTotalCores"].as_i64(), a["maxTotalRAMSize"].as_i64()),
        (Some(5), Some(8), Some(8192))
    );
    assert_eq!(
        (a["totalInstancesUsed"].as_i64(), a["totalCoresUsed"].as_i64(), a["totalRAMUsed"].as_i64()),
        (Some(1), Some(1), Some(1024))
    );
    assert!(a["limit_by_flavor"].is_array());
}

#[tokio::test]
async fn a_create_past_a_quota_is_refused_whole_and_creates_nothing() {
    let svc = with_quotas(3, 100, 1_000_000).await;
    svc.server("a", IMAGE_PLAIN, None).await;
    let batch = svc.create_body("b", IMAGE_PLAIN, None, 3).await;
    for path in ["/v1/{p}/cloudservers", "/v1.1/{p}/cloudservers"] {
        let r = svc.post(path, batch.clone()).await;
        r.assert_error(400, "Ecs.0001");
        assert!(r.body["error"]["message"].as_str().unwrap().contains("instances"), "{}", r.body);
    }
    assert_eq!(svc.get("/v1/{p}/cloudservers/detail").await.body["count"], 1, "nothing created");
    assert_eq!(svc.get("/v2/{p}/cloudvolumes/detail").await.body["count"], 1, "no disk either");
    let two = svc.create_body("b", IMAGE_PLAIN, None, 2).await;
    assert_eq!(svc.post("/v1.1/{p}/cloudservers", two).await.status, 200, "exactly up to the quota fits");
}

#[tokio::test]
async fn cores_and_memory_are_quotas_too() {
    let svc = with_quotas(100, 3, 1_000_000).await;
    let mut big = svc.create_body("big", IMAGE_PLAIN, None, 1).await;
    big["server"]["flavorRef"] = json!("s6.xlarge.2");
    let r = svc.post("/v1.1/{p}/cloudservers", big.clone()).await;
    r.assert_error(400, "Ecs.0001");
    assert!(r.body["error"]["message"].as_str().unwrap().contains("vCPUs"), "{}", r.body);
    let svc = with_quotas(100, 100, 4096).await;
    let mut big = svc.create_body("big", IMAGE_PLAIN, None, 1).await;
    big["server"]["flavorRef"] = json!("s6.xlarge.2");
    let r = svc.post("/v1/{p}/cloudservers", big).await;
    r.assert_error(400, "Ecs.0001");
    assert!(r.body["error"]["message"].as_str().unwrap().contains("memory"), "{}", r.body);
    assert_eq!(svc.get("/v1/{p}/cloudservers/detail").await.body["count"], 0);
}

#[tokio::test]
async fn of_creates_racing_for_the_last_of_a_quota_exactly_as_many_win_as_fit() {
    let svc = with_quotas(2, 1000, 10_000_000).await;
    let body = svc.create_body("race", IMAGE_PLAIN, None, 1).await;
    let (v1, v11) = ("/v1/{p}/cloudservers", "/v1.1/{p}/cloudservers");
    let (a, b, c, d) = tokio::join!(
        svc.post(v1, body.clone()),
        svc.post(v11, body.clone()),
        svc.post(v1, body.clone()),
        svc.post(v11, body.clone())
    );
    let results = [a, b, c, d];
    assert_eq!(results.iter().filter(|r| r.status == 200).count(), 2, "exactly the quota's worth");
    for r in results.iter().filter(|r| r.status != 200) {
        r.assert_error(400, "Ecs.0001");
    }
    assert_eq!(svc.get("/v1/{p}/cloudservers/detail").await.body["count"], 2);
    // Two single creates at the edge: exactly one wins.
    let svc = with_quotas(1, 1000, 10_000_000).await;
    let body = svc.create_body("edge", IMAGE_PLAIN, None, 1).await;
    let (a, b) =
        tokio::join!(svc.post("/v1.1/{p}/cloudservers", body.clone()), svc.post("/v1.1/{p}/cloudservers", body));
    let mut statuses = [a.status, b.status];
    statuses.sort();
    assert_eq!(statuses, [200, 400]);
    assert_eq!(svc.get("/v1/{p}/cloudservers/detail").await.body["count"], 1);
}
