//! The gateway's other duties: tokens, the IAM project lookup, HTTPS, rate and size limits,
//! slow clients.

use crate::client::*;
use ecsd::listener::Limits;
use serde_json::json;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn token_body(user: &str, password: &str, project: serde_json::Value) -> serde_json::Value {
    json!({"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": user, "password": password, "domain": {"name": "ecsd"}}}},
        "scope": {"project": project}}})
}

/// `POST /v3/auth/tokens` with the test account's password, scoped to its project by name.
async fn password_token(svc: &Svc) -> Resp {
    let body = token_body(USER_NAME, PASSWORD, json!({"name": "cn-north-4"}));
    unsigned(svc, "POST", "/v3/auth/tokens", &[], Some(body)).await
}

async fn unsigned(
    svc: &Svc,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<serde_json::Value>,
) -> Resp {
    let mut h = http::HeaderMap::new();
    h.insert("content-type", http::HeaderValue::from_static("application/json"));
    for (k, v) in headers {
        h.insert(http::HeaderName::from_bytes(k.as_bytes()).unwrap(), http::HeaderValue::from_str(v).unwrap());
    }
    let bytes = body.map(|b| serde_json::to_vec(&b).unwrap()).unwrap_or_default();
    svc.send(method, &path.replace("{p}", PROJECT), h, bytes).await
}

#[tokio::test]
async fn a_password_token_authenticates_like_a_signature() {
    let svc = Svc::start().await;
    let r = password_token(&svc).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let token = r.headers["x-subject-token"].to_str().unwrap().to_string();
    assert_eq!(r.body["token"]["project"]["id"], PROJECT);
    assert_eq!(r.body["token"]["user"]["id"], USER);
    assert!(r.body["token"]["expires_at"].as_str().unwrap().ends_with('Z'));
    svc.keypair("k").await;
    let listed = unsigned(&svc, "GET", "/v2.1/{p}/os-keypairs", &[("x-auth-token", &token)], None).await;
    assert_eq!(listed.status, 200, "{}", listed.body);
    assert_eq!(listed.body["keypairs"][0]["keypair"]["name"], "k");
    // The token is scoped to its project.
    let other =
        unsigned(&svc, "GET", &format!("/v1/{OTHER_PROJECT}/cloudservers/detail"), &[("x-auth-token", &token)], None)
            .await;
    other.assert_error(400, "Ecs.0023");
    // Wrong password, unknown user, a project that is not the user's: Keystone-shaped 401.
    for body in [
        token_body(USER_NAME, "wrong", json!({"name": "cn-north-4"})),
        token_body("mallory", PASSWORD, json!({"name": "cn-north-4"})),
        token_body(USER_NAME, PASSWORD, json!({"id": OTHER_PROJECT})),
    ] {
        let r = unsigned(&svc, "POST", "/v3/auth/tokens", &[], Some(body)).await;
        assert_eq!(r.status, 401, "{}", r.body);
        assert_eq!(r.body["error"]["code"], 401);
        assert_eq!(r.body["error"]["title"], "Unauthorized");
        assert!(r.headers.get("x-subject-token").is_none());
    }
    let r = unsigned(&svc, "POST", "/v3/auth/tokens", &[], Some(json!({"auth": {}}))).await;
    assert_eq!(r.status, 400);
}

#[tokio::test]
async fn forged_tampered_and_expired_tokens_are_refused() {
    let svc = Svc::start_cfg(SvcConfig { token_ttl: Some(Duration::from_secs(1)), ..Default::default() }).await;
    let r = password_token(&svc).await;
    let token = r.headers["x-subject-token"].to_str().unwrap().to_string();
    let ok = unsigned(&svc, "GET", "/v1/{p}/cloudservers/detail", &[("x-auth-token", &token)], None).await;
    assert_eq!(ok.status, 200);
    // Minted with another secret: what a restart with a new secret does to every old token.
    let other = ecsd::iam::Tokens::with_secret(b"a-different-secret-0123456789", Duration::from_secs(60));
    let (forged, _) = other.mint(AK, USER, PROJECT, std::time::SystemTime::now());
    // The MAC's last hex digit replaced by another one.
    let last = if token.ends_with('0') { '1' } else { '0' };
    let tampered = format!("{}{last}", &token[..token.len() - 1]);
    assert_ne!(tampered, token);
    for bad in [forged.as_str(), tampered.as_str(), "not-a-token"] {
        let r = unsigned(&svc, "GET", "/v1/{p}/cloudservers/detail", &[("x-auth-token", bad)], None).await;
        assert_eq!((r.status, r.body["error_code"].as_str()), (401, Some("APIGW.0301")), "{}", r.body);
    }
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let expired = unsigned(&svc, "GET", "/v1/{p}/cloudservers/detail", &[("x-auth-token", &token)], None).await;
    assert_eq!(expired.status, 401);
    assert!(expired.body["error_msg"].as_str().unwrap().contains("token expires"), "{}", expired.body);
    // Neither a signature nor a token.
    let none = unsigned(&svc, "GET", "/v1/{p}/cloudservers/detail", &[], None).await;
    assert_eq!(none.status, 401);
}

#[tokio::test]
async fn the_iam_project_lookup_finds_the_callers_project_by_region() {
    let svc = Svc::start().await;
    let r = svc.get("/v3/projects?name=cn-north-4").await;
    assert_eq!(r.status, 200, "{}", r.body);
    let projects = r.body["projects"].as_array().unwrap();
    assert_eq!(projects.len(), 1);
    assert_eq!(projects[0]["id"], PROJECT);
    assert_eq!(projects[0]["enabled"], true);
    assert!(
        svc.get("/v3/projects?name=eu-west-0").await.body["projects"].as_array().unwrap().is_empty(),
        "not the caller's"
    );
    let other = svc.as_other().get("/v3/projects?name=eu-west-0").await;
    assert_eq!(other.body["projects"][0]["id"], OTHER_PROJECT);
}

#[tokio::test]
async fn https_serves_the_same_api_with_the_generated_certificate() {
    let svc = Svc::start_cfg(SvcConfig { tls: true, ..Default::default() }).await;
    let addr = svc.tls_addr.unwrap();
    let cert_pem = std::fs::read(svc.data_dir().join("tls/cert.pem")).unwrap();
    let mut roots = rustls::RootCertStore::empty();
    for c in rustls::pki_types::pem::PemObject::pem_slice_iter(&cert_pem) {
        roots.add(c.unwrap()).unwrap();
    }
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let client = reqwest::Client::builder().tls_backend_preconfigured(tls).build().unwrap();
    let mut https = Svc::remote(&format!("https://{addr}"), AK, SK, PROJECT);
    https.http = client;
    https.host = addr.to_string();
    let r = https.get("/v1/{p}/cloudservers/flavors").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body["flavors"].as_array().unwrap().len() > 3);
    // Signatures cover the Host header: the same request is verified over TLS too.
    let kp = https.post("/v2.1/{p}/os-keypairs", json!({"keypair": {"name": "tls"}})).await;
    assert_eq!(kp.status, 200);
    assert_eq!(svc.get("/v2.1/{p}/os-keypairs/tls").await.status, 200, "one service behind both listeners");
}

#[tokio::test]
async fn each_credential_has_its_own_rate_limit() {
    let svc = Svc::start_cfg(SvcConfig { rate_limit: 5, ..Default::default() }).await;
    let mut limited = 0;
    for _ in 0..30 {
        let r = svc.get("/v1/{p}/cloudservers/flavors").await;
        match r.status {
            200 => {}
            429 => {
                assert_eq!(r.body["error_code"], "APIGW.0308");
                limited += 1;
            }
            s => panic!("unexpected {s}: {}", r.body),
        }
    }
    assert!(limited >= 15, "the burst is 10: {limited} refused");
    // Another credential is not affected.
    assert_eq!(svc.as_other().get("/v1/{p}/cloudservers/flavors").await.status, 200);
}

#[tokio::test]
async fn oversized_and_overnested_input_is_refused_and_changes_nothing() {
    let svc = Svc::start().await;
    let big = vec![b' '; 1024 * 1024 + 10];
    let r = svc.raw("POST", &format!("/v2.1/{PROJECT}/os-keypairs"), &big).await;
    r.assert_error(400, "Ecs.0005");
    let mut deep = String::from("{\"keypair\": {\"name\": \"x\", \"extra\": ");
    deep.push_str(&"[".repeat(300));
    deep.push_str(&"]".repeat(300));
    deep.push_str("}}");
    let r = svc.raw("POST", &format!("/v2.1/{PROJECT}/os-keypairs"), deep.as_bytes()).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(svc.get("/v2.1/{p}/os-keypairs").await.body["keypairs"], json!([]));
    let many: Vec<_> = (0..1001).map(|i| json!({"id": format!("00000000-0000-4000-8000-{i:012}")})).collect();
    svc.post("/v1/{p}/cloudservers/action", json!({"os-stop": {"servers": many}})).await.assert_error(400, "Ecs.0118");
    // A header block beyond the limit is refused before any handler runs.
    let mut h = svc.signed_headers(
        "GET",
        &format!("/v1/{PROJECT}/cloudservers/flavors"),
        None,
        b"",
        std::time::SystemTime::now(),
    );
    h.insert("x-padding", http::HeaderValue::from_str(&"a".repeat(100 * 1024)).unwrap());
    let r = svc.send("GET", &format!("/v1/{PROJECT}/cloudservers/flavors"), h, vec![]).await;
    assert!(r.status == 431 || r.status == 0, "status {}", r.status);
}

#[tokio::test]
async fn slow_and_excess_connections_do_not_hold_the_service() {
    let limits = Limits { max_connections: 2, header_read_timeout: Duration::from_millis(500), ..Limits::default() };
    let svc = Svc::start_cfg(SvcConfig { limits, ..Default::default() }).await;
    let addr = svc.host.clone();
    // A slowloris: half a request line, then nothing. It is cut off after the header timeout.
    let mut slow = tokio::net::TcpStream::connect(&addr).await.unwrap();
    slow.write_all(b"GET /v1/x HTTP/1.1\r\nHost: a\r\n").await.unwrap();
    let mut buf = [0u8; 512];
    let n = tokio::time::timeout(Duration::from_secs(5), slow.read(&mut buf)).await.expect("closed by the server");
    // hyper may answer 408 before closing, or just close.
    let text = String::from_utf8_lossy(&buf[..n.unwrap_or(0)]).to_string();
    assert!(text.is_empty() || text.contains("408"), "{text}");
    // Two idle connections take both slots; a third is closed at once.
    let _a = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let _b = tokio::net::TcpStream::connect(&addr).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut c = tokio::net::TcpStream::connect(&addr).await.unwrap();
    c.write_all(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n").await.ok();
    let got = tokio::time::timeout(Duration::from_secs(5), c.read(&mut buf)).await.expect("closed, not hanging");
    assert!(matches!(got, Ok(0) | Err(_)), "the third connection is refused: {got:?}");
    // Once the idle ones time out, the service answers again.
    drop((_a, _b));
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(svc.get("/v1/{p}/cloudservers/flavors").await.status, 200);
}
