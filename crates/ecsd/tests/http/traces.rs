//! The audit trail of password logins (`POST /v3/auth/tokens`, which carries no signature):
//! read back through the trace list. (Signed calls are traced through the official CTS client:
//! `tests/sdk/test_traces.py`.)

use crate::client::*;
use serde_json::{json, Value};

async fn login(svc: &Svc, user: &str, password: &str) -> u16 {
    let body = json!({"auth": {"identity": {"methods": ["password"],
        "password": {"user": {"name": user, "password": password, "domain": {"name": "ecsd"}}}}}});
    let mut h = http::HeaderMap::new();
    h.insert("content-type", http::HeaderValue::from_static("application/json"));
    svc.send("POST", "/v3/auth/tokens", h, serde_json::to_vec(&body).unwrap()).await.status
}

fn text(v: &Value) -> &str {
    v.as_str().unwrap_or_default()
}

fn logins(list: &Value) -> Vec<&Value> {
    list["traces"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["trace_name"] == "keystoneCreateUserTokenByPassword")
        .collect()
}

#[tokio::test]
async fn password_logins_are_traced_in_their_users_project_and_a_refusal_too() {
    let svc = Svc::start().await;
    assert_eq!(login(&svc, USER_NAME, "Not-The-Password-1").await, 401);
    assert_eq!(login(&svc, USER_NAME, PASSWORD).await, 201);
    // A user this service does not have: nobody's trail.
    assert_eq!(login(&svc, "mallory", "Whatever-Password-1").await, 401);

    let r = svc.get("/v3/{p}/traces?trace_type=system&limit=50").await;
    assert_eq!(r.status, 200, "{}", r.body);
    let mine = logins(&r.body);
    let seen: Vec<(&str, &str, &str, &str)> = mine
        .iter()
        .map(|t| (text(&t["code"]), text(&t["trace_rating"]), text(&t["user"]["name"]), text(&t["user"]["type"])))
        .collect();
    // Newest first.
    assert_eq!(seen, [("201", "normal", USER_NAME, "IAMUser"), ("401", "warning", USER_NAME, "Unknown")]);
    assert_eq!(mine[0]["service_type"], "IAM");
    assert!(mine[1]["response"].as_str().unwrap().contains("Unauthorized"), "{}", mine[1]);
    let text = r.body.to_string();
    assert!(!text.contains(PASSWORD) && !text.contains("Not-The-Password-1") && !text.contains("mallory"), "{text}");

    let theirs = svc.as_other().get("/v3/{p}/traces?trace_type=system&limit=50").await;
    assert_eq!(theirs.status, 200);
    assert!(logins(&theirs.body).is_empty(), "another project sees alice's logins: {}", theirs.body);

    // A bad parameter: the trace service's error, with its status.
    let bad = svc.get("/v3/{p}/traces?trace_type=system&limit=0").await;
    assert_eq!((bad.status, bad.body["error_code"].as_str()), (400, Some("CTS.0001")), "{}", bad.body);
}
