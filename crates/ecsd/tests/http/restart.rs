//! The real binary, killed with SIGKILL in the middle of a reinstall and started again.

use crate::client::*;
use crate::process::start;
use std::time::Duration;

#[tokio::test]
async fn a_reinstall_interrupted_by_sigkill_finishes_after_restart() {
    let dir = tempfile::tempdir().unwrap();
    let creds = SDK_ENV;
    let (mut child, banner) = start(dir.path(), &creds);
    let svc = Svc::remote(&banner["endpoint"], AK, SK, PROJECT);
    let kp = svc.keypair("k").await;
    let id = svc.server("s", IMAGE_PLAIN, Some("k")).await;
    let old = Svc::boot_volume(&svc.show(&id).await);
    let r = svc.reinstall(&id, "k", &kp["user_id"]).await;
    let job = r.body["job_id"].as_str().unwrap().to_string();
    // Kill it mid-saga: several steps of 250 ms remain.
    tokio::time::sleep(Duration::from_millis(600)).await;
    let mid = svc.get(&format!("/v1/{{p}}/jobs/{job}")).await.body;
    assert_eq!(mid["status"], "RUNNING", "{mid}");
    child.kill().unwrap();
    child.wait().unwrap();

    let (mut child, banner2) = start(dir.path(), &creds);
    let svc = Svc::remote(&banner2["endpoint"], AK, SK, PROJECT);
    let done = svc.wait_job(&job).await;
    assert_eq!(done["status"], "SUCCESS", "{done}");
    let s = svc.show(&id).await;
    assert_eq!(s["status"], "ACTIVE");
    let vols = s["os-extended-volumes:volumes_attached"].as_array().unwrap();
    assert_eq!(vols.len(), 1);
    assert_ne!(Svc::boot_volume(&s), old);
    // Exactly one disk left in the driver: nothing orphaned, nothing duplicated.
    let disks = crate::store::sim_state(dir.path()).await.disks.len();
    assert_eq!(disks, 1);
    child.kill().unwrap();
    child.wait().unwrap();
}

#[tokio::test]
async fn a_generated_account_is_kept_across_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, first) = start(dir.path(), &[]);
    child.kill().unwrap();
    child.wait().unwrap();
    let (mut child, second) = start(dir.path(), &[]);
    for k in ["ak", "sk", "project_id", "user_id"] {
        assert_eq!(first[k], second[k], "{k}");
    }
    assert_eq!(first["project_id"].len(), 32);
    let svc = Svc::remote(&second["endpoint"], &second["ak"], &second["sk"], &second["project_id"]);
    assert_eq!(svc.get("/v1/{p}/cloudservers/flavors").await.status, 200);
    child.kill().unwrap();
    child.wait().unwrap();
}

#[tokio::test]
async fn a_crash_injected_after_a_step_is_recovered_on_restart() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("ecsd.toml");
    // From the configuration file: the first reinstall crashes the process right after the
    // new disk is swapped in (the old one is not deleted yet).
    std::fs::write(
        &cfg,
        r#"
[[faults]]
operation = "reinstallOs"
step = "swap_disk"
action = "crash"
times = 1
"#,
    )
    .unwrap();
    let creds = SDK_ENV;
    let data = dir.path().join("data");
    let args = ["--config", cfg.to_str().unwrap(), "--sim-step-ms", "0"];
    let (mut child, banner) = crate::process::start_with(&data, &creds, &args);
    let svc = Svc::remote(&banner["endpoint"], AK, SK, PROJECT);
    let kp = svc.keypair("k").await;
    let id = svc.server("s", IMAGE_PLAIN, Some("k")).await;
    let old = Svc::boot_volume(&svc.show(&id).await);
    let r = svc.reinstall(&id, "k", &kp["user_id"]).await;
    let job = r.body["job_id"].as_str().unwrap().to_string();
    let status = child.wait().unwrap();
    assert!(!status.success(), "the process crashed: {status:?}");

    let (mut child, banner) = crate::process::start_with(&data, &creds, &args);
    let svc = Svc::remote(&banner["endpoint"], AK, SK, PROJECT);
    svc.job_ok(&job).await;
    let s = svc.show(&id).await;
    assert_eq!(s["status"], "ACTIVE");
    assert_ne!(Svc::boot_volume(&s), old);
    let disks = crate::store::sim_state(&data).await.disks.len();
    assert_eq!(disks, 1, "the old disk was deleted after all");
    crate::process::kill(&mut child);
}
