//! Two `ecsd` processes on one PostgreSQL database, each with a data directory of its own, as
//! the nodes of a cluster run: what one node issues, adds or creates, the other honours, finds
//! and carries on with. Runs whenever PostgreSQL is installed (whatever `ECSD_TEST_STORE` says);
//! skipped, with a notice, where it is not.

use crate::client::*;
use crate::process::{kill, start_with, Ecsd};
use ecs_store::pg_cluster::Cluster;
use serde_json::json;
use std::collections::HashMap;
use std::time::Duration;

const FAULTS: &str = "/ecsd-admin/v1/faults";

/// A configured user with a password, for tokens (the bootstrap account has none).
const CONFIG: &str = "[[accounts]]\nproject_id = \"fedcba9876543210fedcba9876543210\"\nuser_id = \"u2\"\n\
                      ak = \"SECONDAK\"\nsk = \"Second-Secret-Key-7781\"\nuser_name = \"bob\"\n\
                      password = \"Bob-Password-4412\"\n";

/// Starts a node on data directory `name` under `dir`, on the database `url`, with no
/// credential in its environment (so that its bootstrap account is generated or shared).
fn node(dir: &std::path::Path, name: &str, url: &str) -> (Ecsd, HashMap<String, String>) {
    let config = dir.join("ecsd.toml");
    std::fs::write(&config, CONFIG).unwrap();
    let config = config.to_str().unwrap().to_string();
    start_with(&dir.join(name), &[], &["--store", url, "--sim-step-ms", "0", "--config", &config])
}

fn client(banner: &HashMap<String, String>, creds: &HashMap<String, String>) -> Svc {
    Svc::remote(&banner["endpoint"], &creds["ak"], &creds["sk"], &creds["project_id"])
}

async fn token(svc: &Svc) -> String {
    let body = json!({"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": "bob",
        "password": "Bob-Password-4412", "domain": {"name": "ecsd"}}}}, "scope": {"project": {"id": OTHER_PROJECT}}}});
    let mut h = http::HeaderMap::new();
    h.insert("content-type", http::HeaderValue::from_static("application/json"));
    let r = svc.send("POST", "/v3/auth/tokens", h, serde_json::to_vec(&body).unwrap()).await;
    assert_eq!(r.status, 201, "{}", r.body);
    r.headers["x-subject-token"].to_str().unwrap().to_string()
}

async fn with_token(svc: &Svc, token: &str) -> Resp {
    let mut h = http::HeaderMap::new();
    h.insert("content-type", http::HeaderValue::from_static("application/json"));
    h.insert("x-auth-token", http::HeaderValue::from_str(token).unwrap());
    svc.send("GET", &format!("/v2.1/{OTHER_PROJECT}/os-keypairs"), h, vec![]).await
}

/// The faults `svc` lists: read from the database, so the same on every node at once (it is
/// each node's copy for matching steps that lags, by up to a quarter of a second).
async fn faults(svc: &Svc) -> Vec<serde_json::Value> {
    let r = svc.get(FAULTS).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body["faults"].as_array().unwrap().clone()
}

/// The longest a fault added through one node takes to be in force on another, with margin.
const PROPAGATION: Duration = Duration::from_millis(1_000);

#[tokio::test]
async fn two_nodes_on_one_database_share_accounts_tokens_faults_and_the_driver() {
    let Some(cluster) = Cluster::shared() else { return };
    let url = cluster.fresh_database();
    let dir = tempfile::tempdir().unwrap();
    let (mut a, banner_a) = node(dir.path(), "a", &url);
    let (mut b, banner_b) = node(dir.path(), "b", &url);

    // The bootstrap account A generated is B's too: B prints it and accepts it.
    for k in ["ak", "sk", "project_id", "user_id"] {
        assert_eq!(banner_a[k], banner_b[k], "{k}");
    }
    let (on_a, on_b) = (client(&banner_a, &banner_a), client(&banner_b, &banner_a));
    assert_eq!(on_b.get("/v2.1/{p}/os-keypairs").await.status, 200, "A's credential works on B");

    // A token minted by A is accepted by B (one secret, kept in the database).
    let t = token(&on_a).await;
    let r = with_token(&on_b, &t).await;
    assert_eq!(r.status, 200, "{}", r.body);

    // A server made by A's sagas is B's driver's to stop, start and reinstall: B finds its
    // disks and VM (its own data directory has no journal of them).
    let kp = on_a.keypair("k").await;
    let id = on_a.server("s", IMAGE_PLAIN, Some("k")).await;
    assert_eq!(on_b.power(&id, "os-stop").await["status"], "SUCCESS");
    assert_eq!(on_b.power(&id, "os-start").await["status"], "SUCCESS");
    let old = Svc::boot_volume(&on_b.show(&id).await);
    let r = on_b.reinstall(&id, "k", &kp["user_id"]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    on_b.job_ok(r.body["job_id"].as_str().unwrap()).await;
    let s = on_a.show(&id).await;
    assert_eq!(s["status"], "ACTIVE");
    let new = Svc::boot_volume(&s);
    assert_ne!(new, old);
    let state = ecsd::sim_records::load_state(
        std::sync::Arc::new(ecs_store::PgStore::open(&url).await.unwrap()),
        &dir.path().join("a"),
    )
    .await
    .unwrap();
    assert_eq!(state.disks.keys().collect::<Vec<_>>(), [&new], "B deleted the disk A made, and made the new one");
    assert!(state.vms[&id].running);
    assert!(!dir.path().join("b/sim/state.jsonl").exists(), "no journal of B's own");

    // A fault added through A fails a job started through B; with `times: 1`, once in all.
    let f = on_a
        .post(FAULTS, json!({"operation": "rebootServer", "action": "fail", "error_code": "Ecs.0101", "times": 1}))
        .await;
    assert_eq!(f.status, 201, "{}", f.body);
    assert_eq!(faults(&on_b).await.len(), 1, "B lists it at once");
    tokio::time::sleep(PROPAGATION).await;
    assert_eq!(on_b.power(&id, "reboot").await["status"], "FAIL", "the fault fired on B");
    assert!(faults(&on_a).await.is_empty(), "used up, on A too");
    assert_eq!(on_a.power(&id, "reboot").await["status"], "SUCCESS", "fired once across both nodes");
    assert_eq!(on_b.power(&id, "reboot").await["status"], "SUCCESS");

    // A fault without `times` counts its hits across nodes; removed through B, it stops on A.
    let f = on_a
        .post(
            FAULTS,
            json!({"operation": "rebootServer", "step": "power", "action": "delay",
        "delay_ms": 1}),
        )
        .await;
    assert_eq!(f.status, 201, "{}", f.body);
    tokio::time::sleep(PROPAGATION).await;
    assert_eq!(on_a.power(&id, "reboot").await["status"], "SUCCESS");
    assert_eq!(on_b.power(&id, "reboot").await["status"], "SUCCESS");
    // B adds its hit to the shared count at its next refresh (a fault without `times` needs
    // no agreement on each firing, so its hits are written in batches).
    tokio::time::sleep(PROPAGATION).await;
    let listed = faults(&on_a).await;
    assert_eq!(listed[0]["hits"], 2, "the shared count: {listed:?}");
    let f = on_b.post(FAULTS, json!({"operation": "startServer", "action": "fail"})).await;
    assert_eq!(f.status, 201, "{}", f.body);
    assert_eq!(on_b.call("DELETE", FAULTS, None).await.body["cleared"], 2);
    assert!(faults(&on_a).await.is_empty());
    tokio::time::sleep(PROPAGATION).await;
    assert_eq!(on_a.power(&id, "os-stop").await["status"], "SUCCESS");
    assert_eq!(on_a.power(&id, "os-start").await["status"], "SUCCESS", "the cleared fault is gone from A");
    kill(&mut a);
    kill(&mut b);
}

/// A node that comes later, with a fresh data directory, takes the database's account over
/// its own file's absence, and a token minted before it started.
#[tokio::test]
async fn a_node_started_later_with_a_fresh_directory_accepts_what_the_first_issued() {
    let Some(cluster) = Cluster::shared() else { return };
    let url = cluster.fresh_database();
    let dir = tempfile::tempdir().unwrap();
    let (mut a, banner_a) = node(dir.path(), "a", &url);
    let on_a = client(&banner_a, &banner_a);
    on_a.keypair("k").await;
    let t = token(&on_a).await;
    kill(&mut a);
    // The database now holds a key pair: a fresh directory without the account would be refused
    // on a store of its own.
    let (mut b, banner_b) = node(dir.path(), "b", &url);
    assert_eq!((&banner_b["ak"], &banner_b["sk"]), (&banner_a["ak"], &banner_a["sk"]));
    let on_b = client(&banner_b, &banner_a);
    assert_eq!(on_b.get("/v2.1/{p}/os-keypairs/k").await.status, 200);
    assert_eq!(with_token(&on_b, &t).await.status, 200);
    kill(&mut b);
}
