//! Secrets never reach the log: the real binary at debug level, fed every kind of secret.

use crate::client::*;
use crate::process::{kill, start_with};
use serde_json::json;

#[tokio::test]
async fn no_secret_appears_in_the_debug_log() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("ecsd.toml");
    std::fs::write(
        &cfg,
        format!(
            "[[accounts]]\nproject_id = \"{OTHER_PROJECT}\"\nuser_id = \"u2\"\nak = \"SECONDAK\"\nsk = \"Second-Secret-Key-7781\"\nuser_name = \"bob\"\npassword = \"Bob-Password-4412\"\n"
        ),
    )
    .unwrap();
    let data = dir.path().join("data");
    let creds = [
        ("HUAWEICLOUD_SDK_AK", AK),
        ("HUAWEICLOUD_SDK_SK", SK),
        ("HUAWEICLOUD_SDK_PROJECT_ID", PROJECT),
        ("ECSD_LOG", "debug"),
    ];
    let (mut child, banner) = start_with(&data, &creds, &["--config", cfg.to_str().unwrap(), "--sim-step-ms", "0"]);
    let svc = Svc::remote(&banner["endpoint"], AK, SK, PROJECT);

    // A generated private key, an admin password, a wrong signature, a token and a failed login.
    let kp = svc.keypair("k").await;
    let private_key = kp["private_key"].as_str().unwrap().to_string();
    let id = svc.server("s", IMAGE_PLAIN, None).await;
    let r = svc
        .post(
            &format!("/v1/{{p}}/cloudservers/{id}/reinstallos"),
            json!({"os-reinstall": {"adminpass": "Admin-Pass-9931", "mode": "withStopServer"}}),
        )
        .await;
    svc.job_ok(r.body["job_id"].as_str().unwrap()).await;
    let mut wrong = Svc::remote(&banner["endpoint"], AK, "Wrong-Secret-5521", PROJECT);
    wrong.project = PROJECT.into();
    assert_eq!(wrong.get("/v1/{p}/cloudservers/detail").await.status, 401);
    let login = |pw: &str| json!({"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": "bob", "password": pw}}}}});
    let mut h = http::HeaderMap::new();
    h.insert("content-type", http::HeaderValue::from_static("application/json"));
    let ok =
        svc.send("POST", "/v3/auth/tokens", h.clone(), serde_json::to_vec(&login("Bob-Password-4412")).unwrap()).await;
    assert_eq!(ok.status, 201);
    let token = ok.headers["x-subject-token"].to_str().unwrap().to_string();
    let bad = svc
        .send("POST", "/v3/auth/tokens", h.clone(), serde_json::to_vec(&login("Guess-Password-0001")).unwrap())
        .await;
    assert_eq!(bad.status, 401);
    let mut th = h.clone();
    th.insert("x-auth-token", http::HeaderValue::from_str(&token).unwrap());
    assert_eq!(svc.send("GET", &format!("/v1/{OTHER_PROJECT}/cloudservers/detail"), th, vec![]).await.status, 200);
    kill(&mut child);

    let log = std::fs::read_to_string(data.with_extension("log")).unwrap();
    assert!(log.contains("signature rejected"), "the debug log was captured: {} bytes", log.len());
    let key_body = private_key.lines().nth(1).unwrap().to_string();
    for secret in [
        SK,
        "Second-Secret-Key-7781",
        "Bob-Password-4412",
        "Guess-Password-0001",
        "Admin-Pass-9931",
        "Wrong-Secret-5521",
        token.as_str(),
        key_body.as_str(),
    ] {
        assert!(!log.contains(secret), "a secret ({}...) is in the log", &secret[..6]);
    }
}
