//! Concurrent requests on one server: exactly one operation is accepted.

use crate::client::*;
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

#[tokio::test]
async fn of_many_concurrent_reinstalls_exactly_one_is_accepted() {
    // Slow enough that the winner is still running when the last request arrives.
    let svc = Arc::new(Svc::start_with_step(Duration::from_millis(200)).await);
    let kp = svc.keypair("k").await;
    let id = svc.server("s", IMAGE_PLAIN, Some("k")).await;
    let body = json!({"os-reinstall": {"keyname": "k", "userid": kp["user_id"], "mode": "withStopServer"}});
    let mut tasks = vec![];
    for _ in 0..24 {
        let (svc, id, body) = (svc.clone(), id.clone(), body.clone());
        tasks.push(tokio::spawn(
            async move { svc.post(&format!("/v1/{{p}}/cloudservers/{id}/reinstallos"), body).await },
        ));
    }
    let mut accepted = vec![];
    for t in tasks {
        let r = t.await.unwrap();
        match r.status {
            200 => accepted.push(r.body["job_id"].as_str().unwrap().to_string()),
            _ => r.assert_error(400, "Ecs.0100"),
        }
    }
    assert_eq!(accepted.len(), 1, "exactly one reinstall accepted");
    svc.job_ok(&accepted[0]).await;
    let s = svc.show(&id).await;
    assert_eq!(s["status"], "ACTIVE");
    assert_eq!(s["os-extended-volumes:volumes_attached"].as_array().unwrap().len(), 1);
}
