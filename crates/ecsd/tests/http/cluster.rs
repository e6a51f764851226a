//! Two nodes on one PostgreSQL database whose driver keeps its VMs on its own host (the
//! simulated driver with a local journal, as the QEMU driver keeps processes): a server is
//! placed on the node with room, its operations run on that node whichever node accepted
//! them, and while that node is dead its servers show their host down and refuse operations
//! with a clear error instead of hanging; started again under its name, the node takes them
//! back. Skipped, with a notice, where PostgreSQL is not installed.

use crate::client::*;
use crate::process::{kill, start_with};
use ecs_store::pg_cluster::Cluster;
use std::time::{Duration, Instant};

/// What makes the simulated driver keep its state on its host.
const LOCAL_SIM: &[&str] = &["--sim-state", "local"];

fn node_args<'a>(url: &'a str, name: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut a = vec!["--store", url, "--node-name", name, "--lease-ms", "1500", "--heartbeat-ms", "300"];
    a.extend_from_slice(&["--sim-step-ms", "20"]);
    a.extend_from_slice(LOCAL_SIM);
    a.extend_from_slice(extra);
    a
}

/// Polls `f` every 100 ms until it is true, for at most `secs` seconds.
async fn eventually<F, Fut>(secs: u64, what: &str, mut f: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !f().await {
        assert!(Instant::now() < deadline, "{what} within {secs} s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_servers_operations_run_on_its_host_and_wait_for_it_while_it_is_down() {
    let Some(cluster) = Cluster::shared() else { return };
    let url = cluster.fresh_database();
    let dir = tempfile::tempdir().unwrap();
    let (data_h, data_f) = (dir.path().join("h"), dir.path().join("f"));
    // f offers nothing: every server is placed on h.
    let (mut host, _) = start_with(&data_h, &SDK_ENV, &node_args(&url, "h", &[]));
    let (mut front, banner) = start_with(&data_f, &SDK_ENV, &node_args(&url, "f", &["--host-vcpus", "0"]));
    let svc = Svc::remote(&banner["endpoint"], AK, SK, PROJECT);

    // Accepted by f, run by h (f records the saga for h, which claims it).
    let id = svc.server("on-h", IMAGE_PLAIN, None).await;
    let s = svc.show(&id).await;
    assert_eq!((s["OS-EXT-SRV-ATTR:host"].as_str(), s["host_status"].as_str()), (Some("h"), Some("UP")), "{s}");
    assert_eq!(svc.power(&id, "os-stop").await["status"], "SUCCESS");

    // h dies. Once its lease has run out its server shows it, and operations are refused.
    kill(&mut host);
    eventually(10, "the server shows its host down", || async { svc.show(&id).await["host_status"] == "DOWN" }).await;
    let r = svc.post("/v1/{p}/cloudservers/action", serde_json::json!({"os-start": {"servers": [{"id": id}]}})).await;
    r.assert_error(400, "Ecs.0100");
    let msg = r.body["error"]["message"].as_str().unwrap_or_default();
    assert!(msg.contains("compute host h is down"), "{msg}");
    assert_eq!(svc.show(&id).await["status"], "SHUTOFF", "nothing changed");
    // No live node has room for a new server now.
    let body = svc.create_body("nowhere", IMAGE_PLAIN, None, 1).await;
    let r = svc.post("/v1/{p}/cloudservers", body).await;
    r.assert_error(400, "Ecs.0000");
    assert!(r.body["error"]["message"].as_str().unwrap_or_default().contains("No compute host"), "{}", r.body);
    // The capacity calls say so: no zone has room, and every flavor is sold out.
    let cap = svc.get("/v1/{p}/cloudservers/flavors/s6.small.1/resources").await;
    assert_eq!(cap.body["resources"].as_array().map(Vec::len), Some(0), "{}", cap.body);
    let sold = svc.get("/v1/{p}/cloudservers/flavor-sell-policies?sell_status=available").await;
    assert_eq!(sold.body["count"], 0, "{}", sold.body);

    // h comes back under its name: its server is UP again and runs its operations.
    let (mut host, _) = start_with(&data_h, &SDK_ENV, &node_args(&url, "h", &[]));
    eventually(10, "the host is up again", || async { svc.show(&id).await["host_status"] == "UP" }).await;
    let cap = svc.get("/v1/{p}/cloudservers/flavors/s6.small.1/resources?count=2").await;
    assert!(cap.body["resources"].as_array().is_some_and(|z| !z.is_empty()), "{}", cap.body);
    assert_eq!(svc.power(&id, "os-start").await["status"], "SUCCESS");
    assert_eq!(svc.show(&id).await["status"], "ACTIVE");
    kill(&mut host);
    kill(&mut front);
}
