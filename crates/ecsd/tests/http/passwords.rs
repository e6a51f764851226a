//! Password resets (single and batch), the Windows password calls, the reset flag and the
//! batch rename: success, every refusal, nothing changed by a refusal, the new password in the
//! system disk after the next reboot, and never in the log.

use crate::client::*;
use crate::process::{kill, start_with};
use serde_json::{json, Value};

const NEW: &str = "Reset-Pw1x";

fn reset_path(id: &str) -> String {
    format!("/v1/{{p}}/cloudservers/{id}/os-reset-password")
}

/// The root password hash last written into the server's system disk by the simulated driver.
async fn disk_hash(svc: &Svc, server: &Value) -> Option<String> {
    let disk = Svc::boot_volume(server);
    let state = crate::store::sim_state(svc.data_dir()).await;
    state.disks.get(&disk).and_then(|d| d.injection.clone()).and_then(|i| i.password_hash)
}

fn opens_with(hash: &Option<String>, pw: &str) -> bool {
    hash.as_deref().is_some_and(|h| ecs_crypto::verify_password(pw, h))
}

#[tokio::test]
async fn a_reset_reaches_the_disk_at_the_next_reboot() {
    let svc = Svc::start().await;
    let id = svc.server("s", IMAGE_PLAIN, None).await;
    let r = svc.call("PUT", &reset_path(&id), Some(json!({"reset-password": {"new_password": NEW}}))).await;
    assert_eq!(r.status, 204, "{}", r.body);
    assert!(!opens_with(&disk_hash(&svc, &svc.show(&id).await).await, NEW), "a running VM's disk is not written");
    assert_eq!(svc.power(&id, "reboot").await["status"], "SUCCESS");
    let s = svc.show(&id).await;
    assert_eq!(s["status"], "ACTIVE");
    assert!(opens_with(&disk_hash(&svc, &s).await, NEW), "the reboot wrote the new password before booting");

    // Stopped: written at the next start.
    assert_eq!(svc.power(&id, "os-stop").await["status"], "SUCCESS");
    let second = "Second-Pw2y";
    let r = svc
        .call(
            "PUT",
            &reset_path(&id),
            Some(json!({"reset-password": {"new_password": second, "is_check_password": true}})),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.body);
    assert!(opens_with(&disk_hash(&svc, &svc.show(&id).await).await, NEW));
    assert_eq!(svc.power(&id, "os-start").await["status"], "SUCCESS");
    assert!(opens_with(&disk_hash(&svc, &svc.show(&id).await).await, second));
}

#[tokio::test]
async fn invalid_resets_are_refused_and_change_nothing() {
    let svc = Svc::start().await;
    let id = svc.server("s", IMAGE_PLAIN, None).await;
    let checked = |p: &str| json!({"reset-password": {"new_password": p, "is_check_password": true}});
    let cases: Vec<(Value, &str)> = vec![
        (json!({}), "Ecs.0005"),
        (json!({"reset-password": {}}), "Ecs.0005"),
        (json!({"reset-password": {"new_password": 5}}), "Ecs.0005"),
        (json!({"reset-password": {"new_password": ""}}), "Ecs.0011"),
        (checked("Ab1-x"), "Ecs.0011"),
        (checked("abcdefgh"), "Ecs.0011"),
        (checked("Abcdef1$x"), "Ecs.0011"),
        (checked("Toor-Pass1"), "Ecs.0011"),
        (checked("Xmin-Pass1"), "Ecs.0011"),
    ];
    for (body, code) in cases {
        let r = svc.call("PUT", &reset_path(&id), Some(body.clone())).await;
        assert_eq!((r.status, r.body["error"]["code"].as_str()), (400, Some(code)), "{body} -> {}", r.body);
        let msg = r.body["error"]["message"].as_str().unwrap();
        if let Some(p) = body["reset-password"]["new_password"].as_str().filter(|p| !p.is_empty()) {
            assert!(!msg.contains(p), "the message does not repeat the password: {msg}");
        }
    }
    svc.raw("PUT", &format!("/v1/{PROJECT}/cloudservers/{id}/os-reset-password"), b"")
        .await
        .assert_error(400, "Common.0002");
    let missing = "00000000-0000-4000-8000-000000000000";
    let ok = json!({"reset-password": {"new_password": NEW}});
    svc.call("PUT", &reset_path(missing), Some(ok.clone())).await.assert_error(404, "Ecs.0114");
    svc.as_other().call("PUT", &reset_path(&id), Some(ok.clone())).await.assert_error(404, "Ecs.0114");
    svc.post(&format!("/v2.1/{{p}}/servers/{id}/action"), json!({"lock": null})).await;
    svc.call("PUT", &reset_path(&id), Some(ok.clone())).await.assert_error(400, "Ecs.0605");
    svc.post(&format!("/v2.1/{{p}}/servers/{id}/action"), json!({"unlock": null})).await;

    // Nothing was recorded: a reboot writes no new password.
    let before = disk_hash(&svc, &svc.show(&id).await).await;
    assert_eq!(svc.power(&id, "reboot").await["status"], "SUCCESS");
    assert_eq!(disk_hash(&svc, &svc.show(&id).await).await, before);
}

#[tokio::test]
async fn a_busy_server_refuses_a_reset() {
    let svc = Svc::start_with_step(std::time::Duration::from_millis(400)).await;
    let id = svc.server("s", IMAGE_PLAIN, None).await;
    let r =
        svc.post("/v1/{p}/cloudservers/action", json!({"os-stop": {"servers": [{"id": id}], "type": "SOFT"}})).await;
    assert_eq!(r.status, 200);
    let ok = json!({"reset-password": {"new_password": NEW}});
    svc.call("PUT", &reset_path(&id), Some(ok.clone())).await.assert_error(400, "Ecs.0100");
    svc.call(
        "PUT",
        "/v1/{p}/cloudservers/os-reset-passwords",
        Some(json!({"new_password": NEW, "servers": [{"id": id}]})),
    )
    .await
    .assert_error(400, "Ecs.0100");
    svc.job_ok(r.body["job_id"].as_str().unwrap()).await;
}

#[tokio::test]
async fn batch_reset_is_all_or_nothing() {
    let svc = Svc::start().await;
    let a = svc.server("a", IMAGE_PLAIN, None).await;
    let b = svc.server("b", IMAGE_PLAIN, None).await;
    let path = "/v1/{p}/cloudservers/os-reset-passwords";
    let r = svc.call("PUT", path, Some(json!({"dry_run": true, "servers": [{"id": a}]}))).await;
    assert_eq!(r.status, 202, "{}", r.body);
    let missing = "00000000-0000-4000-8000-000000000000";
    for (body, status, code) in [
        (json!({"servers": [{"id": a}]}), 400, "Ecs.0005"),
        (json!({"new_password": NEW}), 400, "Ecs.0005"),
        (json!({"new_password": NEW, "servers": []}), 400, "Ecs.0005"),
        (json!({"new_password": "weakpassword", "servers": [{"id": a}]}), 400, "Ecs.0011"),
        (json!({"new_password": NEW, "servers": [{"id": a}, {"id": missing}]}), 404, "Ecs.0114"),
    ] {
        let r = svc.call("PUT", path, Some(body.clone())).await;
        assert_eq!((r.status, r.body["error"]["code"].as_str()), (status, Some(code)), "{body} -> {}", r.body);
    }
    svc.post(&format!("/v2.1/{{p}}/servers/{b}/action"), json!({"lock": null})).await;
    svc.call("PUT", path, Some(json!({"new_password": NEW, "servers": [{"id": a}, {"id": b}]})))
        .await
        .assert_error(400, "Ecs.0605");
    // None of the refusals (nor the dry run) recorded anything for `a`.
    assert_eq!(svc.power(&a, "reboot").await["status"], "SUCCESS");
    assert!(!opens_with(&disk_hash(&svc, &svc.show(&a).await).await, NEW));
    svc.post(&format!("/v2.1/{{p}}/servers/{b}/action"), json!({"unlock": null})).await;

    let r = svc.call("PUT", path, Some(json!({"new_password": NEW, "servers": [{"id": a}, {"id": b}]}))).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body, json!({"response": [{"id": a}, {"id": b}]}));
    for id in [&a, &b] {
        assert_eq!(svc.power(id, "reboot").await["status"], "SUCCESS");
        assert!(opens_with(&disk_hash(&svc, &svc.show(id).await).await, NEW), "{id}");
    }
}

#[tokio::test]
async fn windows_password_and_reset_flag() {
    let svc = Svc::start().await;
    let id = svc.server("s", IMAGE_PLAIN, None).await;
    let r = svc.get(&format!("/v1/{{p}}/cloudservers/{id}/os-server-password")).await;
    assert_eq!((r.status, r.body.clone()), (200, json!({"password": ""})));
    let r = svc.call("DELETE", &format!("/v1/{{p}}/cloudservers/{id}/os-server-password"), None).await;
    assert_eq!(r.status, 204);
    let r = svc.get(&format!("/v1/{{p}}/cloudservers/{id}/os-resetpwd-flag")).await;
    assert_eq!((r.status, r.body.clone()), (200, json!({"resetpwd_flag": "True"})));
    let missing = "00000000-0000-4000-8000-000000000000";
    for p in ["os-server-password", "os-resetpwd-flag"] {
        svc.get(&format!("/v1/{{p}}/cloudservers/{missing}/{p}")).await.assert_error(404, "Ecs.0114");
        svc.as_other().get(&format!("/v1/{{p}}/cloudservers/{id}/{p}")).await.assert_error(404, "Ecs.0114");
    }
    svc.call("DELETE", &format!("/v1/{{p}}/cloudservers/{missing}/os-server-password"), None)
        .await
        .assert_error(404, "Ecs.0114");
}

#[tokio::test]
async fn batch_rename_gives_every_server_the_name_or_none() {
    let svc = Svc::start().await;
    let a = svc.server("a", IMAGE_PLAIN, None).await;
    let b = svc.server("b", IMAGE_PLAIN, None).await;
    let path = "/v1/{p}/cloudservers/server-name";
    let r = svc.call("PUT", path, Some(json!({"name": "develop", "dry_run": true, "servers": [{"id": a}]}))).await;
    assert_eq!(r.status, 202, "{}", r.body);
    assert_eq!(svc.show(&a).await["name"], "a");
    let missing = "00000000-0000-4000-8000-000000000000";
    for (body, status, code) in [
        (json!({"servers": [{"id": a}]}), 400, "Ecs.0005"),
        (json!({"name": "bad name!", "servers": [{"id": a}]}), 400, "Ecs.0005"),
        (json!({"name": "x".repeat(65), "servers": [{"id": a}]}), 400, "Ecs.0005"),
        (json!({"name": "develop"}), 400, "Ecs.0005"),
        (json!({"name": "develop", "servers": [{"id": a}, {"id": missing}]}), 404, "Ecs.0114"),
    ] {
        let r = svc.call("PUT", path, Some(body.clone())).await;
        assert_eq!((r.status, r.body["error"]["code"].as_str()), (status, Some(code)), "{body} -> {}", r.body);
    }
    svc.post(&format!("/v2.1/{{p}}/servers/{b}/action"), json!({"lock": null})).await;
    svc.call("PUT", path, Some(json!({"name": "develop", "servers": [{"id": a}, {"id": b}]})))
        .await
        .assert_error(400, "Ecs.0605");
    assert_eq!((svc.show(&a).await["name"].clone(), svc.show(&b).await["name"].clone()), (json!("a"), json!("b")));
    svc.post(&format!("/v2.1/{{p}}/servers/{b}/action"), json!({"unlock": null})).await;
    let r = svc.call("PUT", path, Some(json!({"name": "develop", "servers": [{"id": a}, {"id": b}]}))).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body, json!({"response": [{"id": a}, {"id": b}]}));
    assert_eq!(
        (svc.show(&a).await["name"].clone(), svc.show(&b).await["name"].clone()),
        (json!("develop"), json!("develop"))
    );
}

#[tokio::test]
async fn no_reset_password_appears_in_the_trace_log() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let env = [
        ("HUAWEICLOUD_SDK_AK", AK),
        ("HUAWEICLOUD_SDK_SK", SK),
        ("HUAWEICLOUD_SDK_PROJECT_ID", PROJECT),
        ("ECSD_LOG", "trace"),
    ];
    let (mut child, banner) = start_with(&data, &env, &["--sim-step-ms", "0"]);
    let svc = Svc::remote(&banner["endpoint"], AK, SK, PROJECT);
    let id = svc.server("s", IMAGE_PLAIN, None).await;
    let single = "Logged-Never-4821";
    let batch = "Batch-Never-7733";
    let refused = "Refused-Never-9$9";
    let r = svc.call("PUT", &reset_path(&id), Some(json!({"reset-password": {"new_password": single}}))).await;
    assert_eq!(r.status, 204);
    let r = svc
        .call(
            "PUT",
            "/v1/{p}/cloudservers/os-reset-passwords",
            Some(json!({"new_password": batch, "servers": [{"id": id}]})),
        )
        .await;
    assert_eq!(r.status, 200);
    let r = svc
        .call(
            "PUT",
            &reset_path(&id),
            Some(json!({"reset-password": {"new_password": refused, "is_check_password": true}})),
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(svc.power(&id, "reboot").await["status"], "SUCCESS");
    // A line the log is known to carry, to show it was captured.
    let wrong = Svc::remote(&banner["endpoint"], AK, "Wrong-Secret-5521", PROJECT);
    assert_eq!(wrong.get("/v1/{p}/cloudservers/detail").await.status, 401);
    kill(&mut child);
    let log = std::fs::read_to_string(data.with_extension("log")).unwrap();
    assert!(log.contains("signature rejected"), "the trace log was captured: {} bytes", log.len());
    for pw in [single, batch, refused] {
        assert!(!log.contains(pw), "the password {pw} is in the log");
    }
}
