//! `--metrics-listen`: a listener of its own, named in the banner, serving the Prometheus text
//! format; off without the flag, and never on the API's port. (What the metrics say as a
//! reinstall runs is checked through the official SDK, with the Prometheus client's parser:
//! `tests/sdk/test_metrics.py`.)

use crate::client::*;
use crate::process::{kill, start_with};

const CREDS: [(&str, &str); 3] =
    [("HUAWEICLOUD_SDK_AK", AK), ("HUAWEICLOUD_SDK_SK", SK), ("HUAWEICLOUD_SDK_PROJECT_ID", PROJECT)];

#[tokio::test]
async fn the_metrics_are_served_on_their_own_listener_only() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, banner) = start_with(&dir.path().join("data"), &CREDS, &["--metrics-listen", "127.0.0.1:0"]);
    let url = banner["metrics"].clone();
    assert!(url.starts_with("http://127.0.0.1:") && url.ends_with("/metrics"), "{url}");
    let svc = Svc::remote(&banner["endpoint"], AK, SK, PROJECT);
    assert_eq!(svc.get("/v1/{p}/cloudservers/detail").await.status, 200);
    let r = reqwest::get(&url).await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/plain; version=0.0.4"));
    let text = r.text().await.unwrap();
    assert!(text.contains("# TYPE ecsd_http_requests_total counter"), "{text}");
    assert!(
        text.contains(
            r#"ecsd_http_requests_total{method="GET",route="/v1/{project_id}/cloudservers/detail",status="200"} 1"#
        ),
        "{text}"
    );
    assert!(!text.contains(SK), "the secret key is in the metrics");
    // The API's port serves no metrics: it would be an unsigned path there.
    let r = reqwest::get(format!("{}/metrics", banner["endpoint"])).await.unwrap();
    assert_ne!(r.status(), 200);
    kill(&mut child);
}

#[tokio::test]
async fn without_the_flag_there_is_no_metrics_listener() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, banner) = start_with(&dir.path().join("data"), &CREDS, &[]);
    assert_eq!(banner["metrics"], "off");
    kill(&mut child);
}
