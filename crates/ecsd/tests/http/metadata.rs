//! Server metadata: merge keys in, remove one; the rules and the refusals.

use crate::client::*;
use serde_json::{json, Value};

fn path(id: &str) -> String {
    format!("/v1/{{p}}/cloudservers/{id}/metadata")
}

#[tokio::test]
async fn update_merges_and_answers_the_whole_user_metadata_and_delete_removes_a_key() {
    let svc = Svc::start().await;
    let id = svc.server("s", IMAGE_PLAIN, None).await;
    let r = svc.post(&path(&id), json!({"metadata": {"a": "1", "app:tier.v-1_x": "web"}})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body, json!({"metadata": {"a": "1", "app:tier.v-1_x": "web"}}));
    let r = svc.post(&path(&id), json!({"metadata": {"a": "2", "__support_agent_list": "hss,ces"}})).await;
    assert_eq!(r.body, json!({"metadata": {"a": "2", "app:tier.v-1_x": "web", "__support_agent_list": "hss,ces"}}));
    let r = svc.post(&path(&id), json!({"metadata": {}})).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["metadata"]["a"], "2", "an empty metadata changes nothing");

    let shown = svc.show(&id).await;
    assert_eq!(shown["metadata"]["a"], "2");
    assert_eq!(shown["metadata"]["os_type"], "Linux", "the system keys are still there");

    let r = svc.call("DELETE", &format!("/v1/{{p}}/cloudservers/{id}/metadata/app:tier.v-1_x"), None).await;
    assert_eq!(r.status, 204, "{}", r.body);
    let m = svc.show(&id).await["metadata"].clone();
    assert!(m.get("app:tier.v-1_x").is_none(), "{m}");
    assert_eq!(m["a"], "2");
}

#[tokio::test]
async fn invalid_metadata_requests_are_refused_and_change_nothing() {
    let svc = Svc::start().await;
    let id = svc.server("s", IMAGE_PLAIN, None).await;
    assert_eq!(svc.post(&path(&id), json!({"metadata": {"keep": "me"}})).await.status, 200);
    let before = svc.show(&id).await["metadata"].clone();
    let many: serde_json::Map<String, Value> = (0..128).map(|i| (format!("k{i}"), json!("v"))).collect();
    for body in [
        json!({}),
        json!({"metadata": {"": "v"}}),
        json!({"metadata": {"a b": "v"}}),
        json!({"metadata": {"k".repeat(256): "v"}}),
        json!({"metadata": {"a": "v".repeat(256)}}),
        json!({"metadata": {"image_name": "mine"}}),
        json!({"metadata": {"vpc_id": "x"}}),
        json!({"metadata": {"a": 1}}),
        // `keep` is there already: 128 more would make 129.
        json!({"metadata": many}),
    ] {
        let r = svc.post(&path(&id), body.clone()).await;
        let shown = format!("{body}").chars().take(80).collect::<String>();
        assert_eq!((r.status, r.body["error"]["code"].as_str()), (400, Some("Ecs.0005")), "{shown} -> {}", r.body);
    }
    svc.raw("POST", &format!("/v1/{PROJECT}/cloudservers/{id}/metadata"), b"").await.assert_error(400, "Common.0002");
    let del = |key: &str| format!("/v1/{{p}}/cloudservers/{id}/metadata/{key}");
    svc.call("DELETE", &del("nope"), None).await.assert_error(400, "Ecs.0005");
    svc.call("DELETE", &del("os_type"), None).await.assert_error(400, "Ecs.0005");
    assert_eq!(svc.show(&id).await["metadata"], before);

    svc.post(&format!("/v2.1/{{p}}/servers/{id}/action"), json!({"lock": null})).await;
    svc.post(&path(&id), json!({"metadata": {"b": "1"}})).await.assert_error(400, "Ecs.0605");
    svc.call("DELETE", &del("keep"), None).await.assert_error(400, "Ecs.0605");
    assert_eq!(svc.show(&id).await["metadata"]["keep"], "me");
    let missing = "00000000-0000-4000-8000-000000000000";
    svc.post(&path(missing), json!({"metadata": {"b": "1"}})).await.assert_error(404, "Ecs.0114");
    svc.as_other().post(&path(&id), json!({"metadata": {"b": "1"}})).await.assert_error(404, "Ecs.0114");
}
