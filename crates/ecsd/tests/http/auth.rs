//! Authentication: every failure mode answers 401 `APIGW.0301` in the gateway shape.

use crate::client::*;
use http::HeaderValue;
use serde_json::json;
use std::time::{Duration, SystemTime};

fn assert_gateway_401(r: &Resp) {
    assert_eq!(r.status, 401, "{}", r.body);
    assert_eq!(r.body["error_code"], "APIGW.0301");
    assert!(r.body["error_msg"].as_str().unwrap().starts_with("Incorrect IAM authentication information"));
    let rid = r.headers["x-request-id"].to_str().unwrap();
    assert_eq!(r.body["request_id"], rid, "the body and the header carry the same request id");
}

#[tokio::test]
async fn a_signed_request_passes_and_every_response_has_a_request_id() {
    let svc = Svc::start().await;
    let r = svc.get("/v1/{p}/cloudservers/flavors").await;
    assert_eq!(r.status, 200);
    let rid = r.headers["x-request-id"].to_str().unwrap();
    assert_eq!(rid.len(), 32);
    assert!(rid.bytes().all(|b| b.is_ascii_hexdigit()));
}

#[tokio::test]
async fn python_sdk_body_bytes_are_hashed_as_sent() {
    let svc = Svc::start().await;
    // The SDK's json.dumps separators (", " and ": "); re-serialising would change the hash.
    let body = br#"{"os-reinstall": {"keyname": "KeyPair-350b", "userid": "7e25b1da389f4697a79df3a0e5bd494e", "mode": "withStopServer"}}"#;
    let path = format!("/v1/{PROJECT}/cloudservers/e6b99563-0000-4000-8000-1820d4fd2a67/reinstallos");
    let r = svc.raw("POST", &path, body).await;
    // Authenticated, then refused for the reason a user would expect.
    r.assert_error(404, "Ecs.0114");
}

#[tokio::test]
async fn every_auth_failure_is_a_gateway_401() {
    let svc = Svc::start().await;
    let path = format!("/v1/{PROJECT}/cloudservers/flavors");
    // missing Authorization
    let mut h = svc.signed_headers("GET", &path, None, b"", SystemTime::now());
    h.remove("authorization");
    assert_gateway_401(&svc.send("GET", &path, h, vec![]).await);
    // malformed Authorization
    let mut h = svc.signed_headers("GET", &path, None, b"", SystemTime::now());
    h.insert("authorization", HeaderValue::from_static("Bearer abc"));
    assert_gateway_401(&svc.send("GET", &path, h, vec![]).await);
    // unknown AK
    let mut other = svc.as_other();
    other.ak = "NOSUCHAK".into();
    let h = other.signed_headers("GET", &path, None, b"", SystemTime::now());
    assert_gateway_401(&svc.send("GET", &path, h, vec![]).await);
    // wrong SK
    let mut wrong = svc.as_other();
    wrong.ak = AK.into();
    wrong.project = PROJECT.into();
    wrong.sk = "not-the-secret".into();
    let h = wrong.signed_headers("GET", &path, None, b"", SystemTime::now());
    assert_gateway_401(&svc.send("GET", &path, h, vec![]).await);
    // date outside the 15-minute window, both ways
    for skew in [-1, 1] {
        let t = if skew < 0 {
            SystemTime::now() - Duration::from_secs(16 * 60)
        } else {
            SystemTime::now() + Duration::from_secs(16 * 60)
        };
        let h = svc.signed_headers("GET", &path, None, b"", t);
        assert_gateway_401(&svc.send("GET", &path, h, vec![]).await);
    }
    // tampered body
    let kp = format!("/v2.1/{PROJECT}/os-keypairs");
    let signed = serde_json::to_vec(&json!({"keypair": {"name": "a"}})).unwrap();
    let h = svc.signed_headers("POST", &kp, None, &signed, SystemTime::now());
    let tampered = serde_json::to_vec(&json!({"keypair": {"name": "b"}})).unwrap();
    assert_gateway_401(&svc.send("POST", &kp, h, tampered).await);
    // tampered signed header
    let mut h = svc.signed_headers("GET", &path, None, b"", SystemTime::now());
    h.insert("user-agent", HeaderValue::from_static("something-else"));
    assert_gateway_401(&svc.send("GET", &path, h, vec![]).await);
    // tampered query
    let h = svc.signed_headers("GET", &path, Some("flavor_id=s6.small.1"), b"", SystemTime::now());
    assert_gateway_401(&svc.send("GET", &format!("{path}?flavor_id=s6.large.2"), h, vec![]).await);
    // Nothing was created by the rejected key pair request.
    assert_eq!(svc.get("/v2.1/{p}/os-keypairs").await.body["keypairs"], json!([]));
}

#[tokio::test]
async fn the_path_project_must_be_the_callers() {
    let svc = Svc::start().await;
    let r = svc.get(&format!("/v1/{OTHER_PROJECT}/cloudservers/detail")).await;
    r.assert_error(400, "Ecs.0023");
    let r = svc.get("/v1/%7Bproject_id%7D/cloudservers/detail").await;
    r.assert_error(400, "Ecs.0023");
    // X-Project-Id that disagrees with the path
    let path = format!("/v1/{PROJECT}/cloudservers/detail");
    let mut other = svc.as_other();
    other.ak = AK.into();
    other.sk = SK.into();
    let h = other.signed_headers("GET", &path, None, b"", SystemTime::now());
    svc.send("GET", &path, h, vec![]).await.assert_error(400, "Ecs.0023");
}

#[tokio::test]
async fn unknown_paths_are_gateway_404s() {
    let svc = Svc::start().await;
    let r = svc.get("/v1/{p}/nothing-here").await;
    assert_eq!(r.status, 404);
    assert_eq!(r.body["error_code"], "APIGW.0101");
}
