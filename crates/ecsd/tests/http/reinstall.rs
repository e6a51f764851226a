//! Reinstall and change OS: all four variants, every field rule and every state gate.

use crate::client::*;
use serde_json::{json, Value};
use std::time::Duration;

fn reinstall_path(v: u8, id: &str) -> String {
    format!("/v{v}/{{p}}/cloudservers/{id}/reinstallos")
}

fn changeos_path(v: u8, id: &str) -> String {
    format!("/v{v}/{{p}}/cloudservers/{id}/changeos")
}

/// A server with key "a" and a second key "b"; returns (svc, server id, user id).
async fn setup() -> (Svc, String, String) {
    let svc = Svc::start().await;
    let a = svc.keypair("a").await;
    svc.keypair("b").await;
    let id = svc.server("s", IMAGE_PLAIN, Some("a")).await;
    (svc, id, a["user_id"].as_str().unwrap().to_string())
}

#[tokio::test]
async fn v1_reinstall_of_a_running_server_replaces_its_system_disk() {
    let (svc, id, user) = setup().await;
    let before = svc.show(&id).await;
    let r = svc
        .post(
            &reinstall_path(1, &id),
            json!({"os-reinstall": {"keyname": "b", "userid": user, "mode": "withStopServer",
        "metadata": {"__system__encrypted": "0", "BYOL": "true"}}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let job = svc.job_ok(r.body["job_id"].as_str().unwrap()).await;
    assert_eq!(job["job_type"], "reinstallOs");
    let after = svc.show(&id).await;
    assert_eq!(after["status"], "ACTIVE");
    assert_eq!(after["key_name"], "b");
    assert_eq!(after["image"]["id"], IMAGE_PLAIN);
    assert_ne!(Svc::boot_volume(&after), Svc::boot_volume(&before), "a new system disk");
    assert_eq!(after["os-extended-volumes:volumes_attached"].as_array().unwrap().len(), 1, "the old one is gone");
}

#[tokio::test]
async fn a_stopped_server_needs_no_mode_and_comes_back_active() {
    let (svc, id, _) = setup().await;
    svc.power(&id, "os-stop").await;
    let r = svc.post(&reinstall_path(1, &id), json!({"os-reinstall": {"adminpass": "!QAZxsw2"}})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    svc.job_ok(r.body["job_id"].as_str().unwrap()).await;
    assert_eq!(svc.show(&id).await["status"], "ACTIVE");
}

#[tokio::test]
async fn v2_reinstall_hands_user_data_to_cloud_init() {
    let svc = Svc::start().await;
    let id = svc.server("s", IMAGE_CLOUD_INIT, None).await;
    let r = svc
        .post(&reinstall_path(2, &id), json!({"os-reinstall": {"adminpass": "!QAZxsw2", "mode": "withStopServer", "metadata": {"user_data": "IyEvYmluL2Jhc2gK"}}}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    svc.job_ok(r.body["job_id"].as_str().unwrap()).await;
    assert_eq!(svc.show(&id).await["OS-EXT-SRV-ATTR:user_data"], "IyEvYmluL2Jhc2gK");
    // user data alone is enough for /v2
    let r = svc
        .post(
            &reinstall_path(2, &id),
            json!({"os-reinstall": {"mode": "withStopServer", "metadata": {"user_data": "IyEvYmluL2Jhc2gK"}}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
}

#[tokio::test]
async fn change_os_switches_the_image_and_its_metadata() {
    let (svc, id, user) = setup().await;
    let r = svc
        .post(&changeos_path(1, &id), json!({"os-change": {"keyname": "b", "userid": user, "imageid": IMAGE_OTHER_PLAIN, "mode": "withStopServer", "isAutoPay": "true"}}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let job = svc.job_ok(r.body["job_id"].as_str().unwrap()).await;
    assert_eq!(job["job_type"], "changeOs");
    let s = svc.show(&id).await;
    assert_eq!(s["image"]["id"], IMAGE_OTHER_PLAIN);
    assert_eq!(s["metadata"]["image_name"], "Debian 12.0.0 64bit (no Cloud-Init)");
    assert_eq!(s["metadata"]["metering.image_id"], IMAGE_OTHER_PLAIN);
    assert_eq!(s["key_name"], "b");
    // v2 to a Cloud-Init image
    let r = svc
        .post(
            &changeos_path(2, &id),
            json!({"os-change": {"adminpass": "1qazXSW@", "imageid": IMAGE_CLOUD_INIT, "mode": "withStopServer"}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    svc.job_ok(r.body["job_id"].as_str().unwrap()).await;
    assert_eq!(svc.show(&id).await["image"]["id"], IMAGE_CLOUD_INIT);
}

#[tokio::test]
async fn every_rule_is_checked_and_a_refused_request_changes_nothing() {
    let (svc, id, user) = setup().await;
    let before = svc.show(&id).await;
    let ok_key = |extra: Value| {
        let mut o = json!({"keyname": "b", "userid": user, "mode": "withStopServer"});
        for (k, v) in extra.as_object().unwrap() {
            o[k] = v.clone();
        }
        o
    };
    let cases: Vec<(String, Value, u16, &str)> = vec![
        (
            reinstall_path(1, "00000000-0000-4000-8000-000000000000"),
            json!({"os-reinstall": ok_key(json!({}))}),
            404,
            "Ecs.0114",
        ),
        (reinstall_path(1, "not-a-uuid"), json!({"os-reinstall": ok_key(json!({}))}), 404, "Ecs.0114"),
        (reinstall_path(1, &id), json!({"os-reinstall": {"keyname": "b", "userid": user}}), 400, "Ecs.0100"),
        (reinstall_path(1, &id), json!({"reinstall": {}}), 400, "Ecs.0005"),
        (reinstall_path(1, &id), json!({"os-reinstall": {"keyname": "b", "mode": "withStopServer"}}), 400, "Ecs.0005"),
        (reinstall_path(1, &id), json!({"os-reinstall": {"mode": "withStopServer"}}), 400, "Ecs.0005"),
        (reinstall_path(1, &id), json!({"os-reinstall": ok_key(json!({"mode": "stopFirst"}))}), 400, "Ecs.0005"),
        (
            reinstall_path(1, &id),
            json!({"os-reinstall": ok_key(json!({"metadata": {"BYOL": "maybe"}}))}),
            400,
            "Ecs.0005",
        ),
        (
            reinstall_path(1, &id),
            json!({"os-reinstall": ok_key(json!({"metadata": {"__system__encrypted": "1"}}))}),
            400,
            "Ecs.0005",
        ),
        (
            reinstall_path(1, &id),
            json!({"os-reinstall": ok_key(json!({"metadata": {"__system__encrypted": "2"}}))}),
            400,
            "Ecs.0005",
        ),
        (reinstall_path(1, &id), json!({"os-reinstall": ok_key(json!({"adminpass": 12345678}))}), 400, "Ecs.0005"),
        (reinstall_path(1, &id), json!({"os-reinstall": ok_key(json!({"keyname": "nokey"}))}), 400, "Ecs.0314"),
        (
            reinstall_path(1, &id),
            json!({"os-reinstall": ok_key(json!({"userid": "0000000000000000000000000000000a"}))}),
            400,
            "Ecs.0314",
        ),
        (
            reinstall_path(1, &id),
            json!({"os-reinstall": {"adminpass": "abc", "mode": "withStopServer"}}),
            400,
            "Ecs.0011",
        ),
        (
            reinstall_path(1, &id),
            json!({"os-reinstall": {"adminpass": "rootRoot1!", "mode": "withStopServer"}}),
            400,
            "Ecs.0011",
        ),
        (reinstall_path(2, &id), json!({"os-reinstall": ok_key(json!({"adminpass": "!QAZxsw2"}))}), 400, "Ecs.0005"),
        (reinstall_path(2, &id), json!({"os-reinstall": {"mode": "withStopServer"}}), 400, "Ecs.0005"),
        (
            reinstall_path(2, &id),
            json!({"os-reinstall": {"mode": "withStopServer", "metadata": {"user_data": "%%%"}}}),
            400,
            "Ecs.0005",
        ),
        (changeos_path(1, &id), json!({"os-change": ok_key(json!({}))}), 400, "Ecs.0005"),
        (
            changeos_path(1, &id),
            json!({"os-change": ok_key(json!({"imageid": "00000000-0000-4000-8000-000000000000"}))}),
            400,
            "Ecs.0031",
        ),
        (
            changeos_path(1, &id),
            json!({"os-change": ok_key(json!({"imageid": IMAGE_OTHER_PLAIN, "isAutoPay": "yes"}))}),
            400,
            "Ecs.0005",
        ),
        (
            changeos_path(2, &id),
            json!({"os-reinstall": ok_key(json!({"imageid": IMAGE_OTHER_PLAIN}))}),
            400,
            "Ecs.0005",
        ),
    ];
    for (path, body, status, code) in cases {
        let r = svc.post(&path, body.clone()).await;
        assert_eq!((r.status, r.body["error"]["code"].as_str()), (status, Some(code)), "{path} {body} -> {}", r.body);
    }
    svc.raw("POST", &reinstall_path(1, &id).replace("{p}", PROJECT), b"").await.assert_error(400, "Common.0002");
    let after = svc.show(&id).await;
    assert_eq!(before, after, "refused requests changed nothing");
}

#[tokio::test]
async fn locked_and_diskless_servers_are_refused() {
    let (svc, id, user) = setup().await;
    let body = json!({"os-reinstall": {"keyname": "b", "userid": user, "mode": "withStopServer"}});
    svc.post(&format!("/v2.1/{{p}}/servers/{id}/action"), json!({"lock": null})).await;
    svc.post(&reinstall_path(1, &id), body.clone()).await.assert_error(400, "Ecs.0605");
    svc.post(&changeos_path(2, &id), json!({"os-change": {"adminpass": "!QAZxsw2", "imageid": IMAGE_CLOUD_INIT}}))
        .await
        .assert_error(400, "Ecs.0605");
    svc.post(&format!("/v2.1/{{p}}/servers/{id}/action"), json!({"unlock": null})).await;
    // No API detaches a system disk; take it away underneath to exercise the gate.
    let store = &svc.app.as_ref().unwrap().ctx.store;
    let vol = Svc::boot_volume(&svc.show(&id).await);
    store.volume_delete(&vol).await.unwrap();
    svc.post(&reinstall_path(1, &id), body).await.assert_error(400, "Ecs.0105");
}

#[tokio::test]
async fn a_running_server_goes_through_powering_off_and_rebuild_states() {
    let svc = Svc::start_with_step(Duration::from_millis(120)).await;
    let kp = svc.keypair("a").await;
    let id = svc.server("s", IMAGE_PLAIN, Some("a")).await;
    let r = svc
        .post(
            &reinstall_path(1, &id),
            json!({"os-reinstall": {"keyname": "a", "userid": kp["user_id"], "mode": "withStopServer"}}),
        )
        .await;
    let job = r.body["job_id"].as_str().unwrap().to_string();
    let mut seen: Vec<(String, String)> = vec![];
    // A busy server refuses other operations meanwhile.
    svc.post(
        &reinstall_path(1, &id),
        json!({"os-reinstall": {"keyname": "a", "userid": kp["user_id"], "mode": "withStopServer"}}),
    )
    .await
    .assert_error(400, "Ecs.0100");
    svc.post("/v1/{p}/cloudservers/action", json!({"os-stop": {"servers": [{"id": id}]}}))
        .await
        .assert_error(400, "Ecs.0100");
    loop {
        let s = svc.show(&id).await;
        let pair =
            (s["status"].as_str().unwrap().to_string(), s["OS-EXT-STS:task_state"].as_str().unwrap_or("").to_string());
        if seen.last() != Some(&pair) {
            seen.push(pair);
        }
        let j = svc.get(&format!("/v1/{{p}}/jobs/{job}")).await.body;
        if j["status"] == "SUCCESS" {
            break;
        }
        assert_ne!(j["status"], "FAIL", "{j}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let states: Vec<String> = seen.iter().map(|(s, t)| format!("{s}/{t}")).collect();
    assert_eq!(states.first().map(String::as_str), Some("ACTIVE/powering-off"), "{states:?}");
    assert!(states.iter().any(|s| s == "REBUILD/rebuilding"), "{states:?}");
    assert!(states.iter().any(|s| s == "REBUILD/rebuild_block_device_mapping"), "{states:?}");
    assert!(states.iter().any(|s| s == "REBUILD/rebuild_spawning"), "{states:?}");
    assert_eq!(svc.show(&id).await["status"], "ACTIVE");
}

#[tokio::test]
async fn passwords_are_stored_only_as_hashes() {
    let svc = Svc::start().await;
    let mut body = svc.create_body("s", IMAGE_PLAIN, None, 1).await;
    body["server"]["adminPass"] = json!("Create-Pass-71x");
    let r = svc.post("/v1/{p}/cloudservers", body).await;
    svc.job_ok(r.body["job_id"].as_str().unwrap()).await;
    let id = r.body["serverIds"][0].as_str().unwrap().to_string();
    let r = svc
        .post(
            &reinstall_path(1, &id),
            json!({"os-reinstall": {"adminpass": "Reinstall-Pass-93y", "mode": "withStopServer"}}),
        )
        .await;
    svc.job_ok(r.body["job_id"].as_str().unwrap()).await;
    let shown = svc.show(&id).await.to_string();
    let mut files = vec![svc.data_dir().to_path_buf()];
    // The database and the driver's disks are each either files of the directory (SQLite and
    // the journal) or rows of the database (PostgreSQL, where the nodes share both).
    let (mut database, mut disks) = (false, false);
    while let Some(p) = files.pop() {
        if p.is_dir() {
            files.extend(std::fs::read_dir(&p).unwrap().map(|e| e.unwrap().path()));
            continue;
        }
        let bytes = std::fs::read(&p).unwrap();
        let name = p.file_name().unwrap_or_default().to_string_lossy();
        database |= name == "ecsd.db";
        disks |= name == "state.jsonl";
        for secret in ["Create-Pass-71x", "Reinstall-Pass-93y"] {
            assert!(!bytes.windows(secret.len()).any(|w| w == secret.as_bytes()), "{secret} in {}", p.display());
        }
    }
    // On PostgreSQL the database is not among the directory's files: its rows are read instead.
    if let Some(rows) = crate::store::dump_database(svc.data_dir()) {
        assert!(rows.contains(&id), "the dump holds the server's rows");
        for secret in ["Create-Pass-71x", "Reinstall-Pass-93y"] {
            assert!(!rows.contains(secret), "{secret} in the database");
        }
        database = true;
        // The driver's disks' records hold what was injected into them.
        disks |= rows.contains("injection");
    }
    assert!(database && disks, "the database and the driver's disks were scanned");
    assert!(!shown.contains("Pass-"), "no password in the server view");
}
