//! Clients that would hold the service's resources: connections that send nothing (plain, after
//! an HTTP/2 preface, after a TLS handshake) or stop reading, very long passwords, and a stop
//! with requests in flight.

use crate::client::*;
use crate::process::start;
use ecsd::listener::Limits;
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The header timeout of these tests: short, so that waiting it out is quick.
const TIMEOUT: Duration = Duration::from_millis(500);
/// Time allowed on top of a timeout before a test calls it missed (a loaded machine).
const SLACK: Duration = Duration::from_millis(2500);

fn limits(max_connections: usize) -> Limits {
    Limits { max_connections, header_read_timeout: TIMEOUT, ..Limits::default() }
}

/// Waits until `svc` answers a request (each try on a new connection), at most `within`;
/// returns how long it took.
async fn served_within(svc: &Svc, within: Duration) -> Duration {
    let t0 = Instant::now();
    loop {
        let r = svc.get("/v1/{p}/cloudservers/flavors").await;
        if r.status == 200 {
            return t0.elapsed();
        }
        assert!(t0.elapsed() < within, "not served within {within:?}: every slot is still held ({})", r.body);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Reads until the server closes the connection, at most `within`; returns what it sent.
async fn closed_within<S: AsyncRead + Unpin>(s: &mut S, within: Duration) -> Vec<u8> {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, s.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return got,
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
            Err(_) => panic!("the server kept the connection open for {within:?}"),
        }
    }
}

/// The head (signed) and the body of a key pair creation, for a test to send at its own pace.
fn keypair_upload(svc: &Svc, name: &str) -> (Vec<u8>, Vec<u8>) {
    let body = serde_json::to_vec(&json!({"keypair": {"name": name}})).unwrap();
    let path = format!("/v2.1/{PROJECT}/os-keypairs");
    let headers = svc.signed_headers("POST", &path, None, &body, std::time::SystemTime::now());
    let mut head = format!("POST {path} HTTP/1.1\r\ncontent-length: {}\r\n", body.len());
    for (k, v) in &headers {
        head.push_str(&format!("{k}: {}\r\n", v.to_str().unwrap()));
    }
    head.push_str("\r\n");
    (head.into_bytes(), body)
}

#[tokio::test]
async fn connections_that_send_nothing_are_closed_and_one_with_a_request_in_progress_is_not() {
    let svc = Svc::start_cfg(SvcConfig { limits: limits(4), ..Default::default() }).await;
    // A key pair created with a body that takes three timeouts to arrive: its handler is
    // running (reading the body), so its connection keeps its slot.
    let (head, body) = keypair_upload(&svc, "slow");
    let mut upload = TcpStream::connect(&svc.host).await.unwrap();
    upload.write_all(&head).await.unwrap();
    let uploading = tokio::spawn(async move {
        for chunk in body.chunks(body.len().div_ceil(6)) {
            tokio::time::sleep(TIMEOUT / 2).await;
            upload.write_all(chunk).await.unwrap();
        }
        let sent = Instant::now();
        let answer = closed_within(&mut upload, TIMEOUT + SLACK).await;
        (answer, sent.elapsed())
    });
    // Three connections that send nothing at all take the other slots.
    let mut silent = Vec::new();
    for _ in 0..3 {
        silent.push(TcpStream::connect(&svc.host).await.unwrap());
    }
    let waited = served_within(&svc, TIMEOUT + SLACK).await;
    assert!(waited >= TIMEOUT / 2, "served after {waited:?}: the silent connections did hold the slots");
    for s in &mut silent {
        closed_within(s, SLACK).await;
    }
    let (answer, after) = uploading.await.unwrap();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 200"), "the slow upload was answered: {answer}");
    // Then idle between requests: closed after the timeout too.
    assert!(after >= TIMEOUT / 2, "closed {after:?} after the request, before its timeout");
    assert_eq!(svc.get("/v2.1/{p}/os-keypairs/slow").await.status, 200);
}

#[tokio::test]
async fn connections_silent_after_an_http2_preface_are_closed() {
    let svc = Svc::start_cfg(SvcConfig { limits: limits(3), ..Default::default() }).await;
    let mut silent = Vec::new();
    for _ in 0..3 {
        let mut s = TcpStream::connect(&svc.host).await.unwrap();
        // The client preface: the magic string and an empty SETTINGS frame; then no stream.
        s.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0\0\x04\0\0\0\0\0").await.unwrap();
        silent.push(s);
    }
    served_within(&svc, TIMEOUT + SLACK).await;
    for s in &mut silent {
        let sent = closed_within(s, SLACK).await;
        // The server spoke HTTP/2 (its SETTINGS frame is type 4) before giving up.
        assert!(sent.len() >= 9 && sent[3] == 4, "{sent:?}");
    }
}

/// A client configuration trusting the service's generated certificate.
fn trusting(svc: &Svc) -> rustls::ClientConfig {
    let cert_pem = std::fs::read(svc.data_dir().join("tls/cert.pem")).unwrap();
    let mut roots = rustls::RootCertStore::empty();
    for c in rustls::pki_types::pem::PemObject::pem_slice_iter(&cert_pem) {
        roots.add(c.unwrap()).unwrap();
    }
    rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth()
}

#[tokio::test]
async fn connections_silent_after_a_tls_handshake_are_closed() {
    let svc = Svc::start_cfg(SvcConfig { tls: true, limits: limits(3), ..Default::default() }).await;
    let addr = svc.tls_addr.unwrap();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(trusting(&svc)));
    let mut silent = Vec::new();
    for _ in 0..3 {
        let tcp = TcpStream::connect(addr).await.unwrap();
        let name = rustls::pki_types::ServerName::try_from("127.0.0.1").unwrap();
        silent.push(connector.connect(name, tcp).await.expect("the handshake completes"));
    }
    let mut https = Svc::remote(&format!("https://{addr}"), AK, SK, PROJECT);
    https.http = reqwest::Client::builder().tls_backend_preconfigured(trusting(&svc)).build().unwrap();
    https.host = addr.to_string();
    served_within(&https, TIMEOUT + SLACK).await;
    for s in &mut silent {
        closed_within(s, SLACK).await;
    }
}

#[tokio::test]
async fn a_client_that_stops_reading_its_responses_is_cut_off() {
    let svc = Svc::start_cfg(SvcConfig { limits: limits(1), ..Default::default() }).await;
    // A small receive buffer, and far more response bytes asked for (the API description is
    // over 100 KB) than the kernel's buffers hold: the server's writes stall.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut stalled = socket.connect(svc.host.parse().unwrap()).await.unwrap();
    let one = format!("GET /openapi.json HTTP/1.1\r\nhost: {}\r\n\r\n", svc.host);
    stalled.write_all(one.repeat(64).as_bytes()).await.unwrap();
    tokio::time::sleep(TIMEOUT / 2).await;
    served_within(&svc, TIMEOUT + SLACK).await;
    drop(stalled);
}

/// `POST /v3/auth/tokens` for the configured user with this password.
async fn login(svc: &Svc, password: &str) -> Resp {
    let body = json!({"auth": {"identity": {"methods": ["password"],
        "password": {"user": {"name": USER_NAME, "password": password, "domain": {"name": "ecsd"}}}}}});
    let mut h = http::HeaderMap::new();
    h.insert("content-type", http::HeaderValue::from_static("application/json"));
    svc.send("POST", "/v3/auth/tokens", h, serde_json::to_vec(&body).unwrap()).await
}

// More workers than logins: were a login to hog its worker, the others still run the test's
// timeouts and the other requests.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn very_long_passwords_are_refused_at_once_and_delay_nobody() {
    let svc = Arc::new(Svc::start().await);
    for len in [100 * 1024, 1000 * 1024] {
        let long = "p".repeat(len);
        let t0 = Instant::now();
        let logins: Vec<_> = (0..3)
            .map(|_| {
                let (svc, long) = (svc.clone(), long.clone());
                tokio::spawn(async move { tokio::time::timeout(Duration::from_secs(5), login(&svc, &long)).await })
            })
            .collect();
        // Other requests meanwhile are answered as quickly as ever.
        for _ in 0..10 {
            let t = Instant::now();
            assert_eq!(svc.get("/v1/{p}/cloudservers/flavors").await.status, 200);
            assert!(t.elapsed() < Duration::from_secs(1), "a request took {:?} beside the logins", t.elapsed());
        }
        for l in logins {
            let r = l.await.unwrap().expect("a long password is answered within seconds");
            // The wrong password's answer, in the Keystone shape the SDKs parse.
            assert_eq!(r.status, 401, "{}", r.body);
            assert_eq!(r.body["error"]["code"], 401);
            assert_eq!(r.body["error"]["title"], "Unauthorized");
        }
        assert!(t0.elapsed() < Duration::from_secs(3), "{len} bytes: {:?}", t0.elapsed());
    }
    // Up to IAM's 32 characters a password is checked as before: wrong, or right.
    assert_eq!(login(&svc, &format!("{PASSWORD}{}", "x".repeat(32 - PASSWORD.len()))).await.status, 401);
    assert_eq!(login(&svc, PASSWORD).await.status, 201);
}

/// Sends SIGTERM to a child this test started.
fn terminate(pid: u32) {
    let ok = std::process::Command::new("kill").args(["-TERM", &pid.to_string()]).status().unwrap().success();
    assert!(ok, "kill -TERM {pid}");
}

#[tokio::test]
async fn sigterm_lets_requests_in_flight_finish_then_exits_within_the_grace() {
    let dir = tempfile::tempdir().unwrap();
    let env = [
        ("HUAWEICLOUD_SDK_AK", AK),
        ("HUAWEICLOUD_SDK_SK", SK),
        ("HUAWEICLOUD_SDK_PROJECT_ID", PROJECT),
        ("ECSD_SHUTDOWN_GRACE_SECS", "2"),
    ];
    let (mut child, banner) = start(&dir.path().join("data"), &env);
    let svc = Svc::remote(&banner["endpoint"], AK, SK, PROJECT);
    let host = svc.host.clone();
    // A signed key pair creation whose body arrives in two halves, and one whose body never
    // finishes (its handler would wait the 30 s body timeout).
    let upload = |name: &str| keypair_upload(&svc, name);
    let (head, rest) = upload("finishing");
    let mut finishing = TcpStream::connect(&host).await.unwrap();
    finishing.write_all(&head).await.unwrap();
    finishing.write_all(&rest[..rest.len() / 2]).await.unwrap();
    let (head, body) = upload("never");
    let mut never = TcpStream::connect(&host).await.unwrap();
    never.write_all(&head).await.unwrap();
    never.write_all(&body[..body.len() / 2]).await.unwrap();
    // Keep-alive connections between requests (each answered: a small 401).
    let mut idle = Vec::new();
    for _ in 0..8 {
        let mut s = TcpStream::connect(&host).await.unwrap();
        s.write_all(format!("GET /v1/{PROJECT}/cloudservers/detail HTTP/1.1\r\nhost: {host}\r\n\r\n").as_bytes())
            .await
            .unwrap();
        let mut buf = [0u8; 1024];
        let n = s.read(&mut buf).await.unwrap();
        assert!(buf[..n].starts_with(b"HTTP/1.1 401"), "{}", String::from_utf8_lossy(&buf[..n]));
        idle.push(s);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;

    terminate(child.id());
    let signalled = Instant::now();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(TcpStream::connect(&host).await.is_err(), "new connections are refused at once");
    finishing.write_all(&rest[rest.len() / 2..]).await.unwrap();
    let answer = closed_within(&mut finishing, Duration::from_secs(5)).await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 200"), "the request in flight was answered: {answer}");
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(signalled.elapsed() < Duration::from_secs(6), "still running {:?} after SIGTERM", signalled.elapsed());
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let took = signalled.elapsed();
    assert!(status.success(), "{status}");
    // The grace (2 s) and the bound on blocking work (1 s), with room for a loaded machine.
    assert!(took >= Duration::from_secs(2), "exited after {took:?}, before the grace ran out for the stuck upload");
    assert!(took < Duration::from_millis(4500), "exited after {took:?}");
    closed_within(&mut never, Duration::from_secs(1)).await;
}
