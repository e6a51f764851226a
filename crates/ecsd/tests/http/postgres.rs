//! The real binary on the PostgreSQL store (`--store postgres://...`), on the test binary's
//! throwaway cluster: skipped, with a notice, where PostgreSQL is not installed (unless
//! `ECSD_REQUIRE_POSTGRES=1`).

use crate::client::*;
use crate::process::{kill, start_with};
use ecs_store::pg_cluster::Cluster;

/// The seed story: create a server, reinstall it, poll the job to SUCCESS; after a restart
/// (SIGKILL, then started again naming the database through `ECSD_STORE`) the server and the
/// job are still there, read from PostgreSQL.
#[tokio::test]
async fn a_server_and_its_reinstall_job_outlive_a_restart_on_postgresql() {
    let Some(cluster) = Cluster::shared() else { return };
    let url = cluster.fresh_database();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (mut child, banner) = start_with(&data, &SDK_ENV, &["--store", &url, "--sim-step-ms", "0"]);
    assert_eq!(banner["store"], url, "the banner names the database");
    let svc = Svc::remote(&banner["endpoint"], AK, SK, PROJECT);
    let kp = svc.keypair("k").await;
    let id = svc.server("s", IMAGE_PLAIN, Some("k")).await;
    let old = Svc::boot_volume(&svc.show(&id).await);
    let r = svc.reinstall(&id, "k", &kp["user_id"]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let job = r.body["job_id"].as_str().unwrap().to_string();
    svc.job_ok(&job).await;
    kill(&mut child);
    assert!(!data.join("ecsd.db").exists(), "no SQLite database beside the PostgreSQL one");

    let mut env = SDK_ENV.to_vec();
    env.push(("ECSD_STORE", &url));
    let (mut child, banner) = start_with(&data, &env, &["--sim-step-ms", "0"]);
    let svc = Svc::remote(&banner["endpoint"], AK, SK, PROJECT);
    let j = svc.get(&format!("/v1/{{p}}/jobs/{job}")).await;
    assert_eq!((j.status, j.body["status"].as_str()), (200, Some("SUCCESS")), "{}", j.body);
    let s = svc.show(&id).await;
    assert_eq!(s["status"], "ACTIVE");
    let new = Svc::boot_volume(&s);
    assert_ne!(new, old, "the reinstall's new system disk");
    assert_eq!(svc.get("/v2.1/{p}/os-keypairs/k").await.status, 200, "the key pair too");
    kill(&mut child);
}
