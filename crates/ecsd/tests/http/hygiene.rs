//! Secrets never reach the log, in either format: the real binary at debug level, fed every
//! kind of secret. In JSON, every line is an object, and the lines of a request or a saga carry
//! the fields that say which.

use crate::client::*;
use crate::process::{kill, start_with};
use serde_json::json;

/// What one run left: its log, the reinstall's job id and the request id of the rejected
/// signature.
struct Run {
    log: String,
    job_id: String,
    rejected_request: String,
}

#[tokio::test]
async fn no_secret_appears_in_the_debug_log() {
    let run = exercise("text").await;
    assert!(run.log.contains("signature rejected"), "the debug log was captured: {} bytes", run.log.len());
}

#[tokio::test]
async fn no_secret_appears_in_the_json_log_and_its_lines_say_which_request_or_saga() {
    let run = exercise("json").await;
    let lines: Vec<serde_json::Value> = run
        .log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON line ({e}): {l}")))
        .collect();
    // The rejected signature's line is in its request's span: id, method, route template.
    let rejected = lines
        .iter()
        .find(|l| l["fields"]["message"].as_str().is_some_and(|m| m.contains("signature rejected")))
        .unwrap_or_else(|| panic!("no signature line in {} lines", lines.len()));
    assert_eq!(rejected["span"]["name"], "request", "{rejected}");
    assert_eq!(rejected["span"]["request_id"], run.rejected_request.as_str(), "{rejected}");
    assert_eq!(rejected["span"]["route"], "/v1/{project_id}/cloudservers/detail", "{rejected}");
    assert_eq!(rejected["span"]["method"], "GET", "{rejected}");
    // The reinstall's steps: each line names the job, the saga and the step.
    let steps: Vec<&str> = lines
        .iter()
        .filter(|l| l["fields"]["message"] == "step succeeded")
        .filter(|l| l["spans"].as_array().is_some_and(|s| s.iter().any(|x| x["job_id"] == run.job_id.as_str())))
        .map(|l| {
            let spans = l["spans"].as_array().unwrap();
            assert!(spans.iter().any(|x| x["name"] == "saga" && x["saga"] == "rebuild_os"), "{l}");
            l["span"]["step"].as_str().unwrap_or_else(|| panic!("no step in {l}"))
        })
        .collect();
    let want = ["stop_server", "new_disk_id", "create_disk", "inject", "swap_disk", "boot", "delete_old_disk"];
    assert_eq!(steps, want, "every step of the reinstall, in order");
    // A saga started by a request keeps that request's span above its own: its lines say which
    // request accepted the job.
    let first = lines.iter().find(|l| l["fields"]["message"] == "step succeeded").unwrap();
    assert_eq!(first["spans"][0]["name"], "request", "{first}");
    let finished =
        lines.iter().find(|l| l["fields"]["message"] == "saga finished" && l["span"]["job_id"] == run.job_id.as_str());
    assert_eq!(finished.map(|l| l["fields"]["outcome"].clone()), Some(serde_json::json!("succeeded")));
}

/// Starts the binary with `--log-format FORMAT` at debug level, gives it every kind of secret,
/// stops it, and checks that none is in what it logged.
async fn exercise(format: &str) -> Run {
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
    let args = ["--config", cfg.to_str().unwrap(), "--sim-step-ms", "0", "--log-format", format];
    let (mut child, banner) = start_with(&data, &creds, &args);
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
    let job_id = r.body["job_id"].as_str().unwrap().to_string();
    svc.job_ok(&job_id).await;
    let mut wrong = Svc::remote(&banner["endpoint"], AK, "Wrong-Secret-5521", PROJECT);
    wrong.project = PROJECT.into();
    let rejected = wrong.get("/v1/{p}/cloudservers/detail").await;
    assert_eq!(rejected.status, 401);
    let rejected_request = rejected.headers["x-request-id"].to_str().unwrap().to_string();
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
        assert!(!log.contains(secret), "a secret ({}...) is in the {format} log", &secret[..6]);
    }
    Run { log, job_id, rejected_request }
}
