//! Server tags: batch create/delete, the server's and the project's tags, the query by tag, and
//! how create's `server_tags`, the detail's `tags` and the list's `tags=` filter agree.

use crate::client::*;
use serde_json::{json, Value};

fn action(id: &str) -> String {
    format!("/v1/{{p}}/cloudservers/{id}/tags/action")
}

async fn tags_of(svc: &Svc, id: &str) -> Value {
    let r = svc.get(&format!("/v1/{{p}}/cloudservers/{id}/tags")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body["tags"].clone()
}

#[tokio::test]
async fn create_tags_show_in_the_detail_as_key_equals_value_and_filter_the_list() {
    let svc = Svc::start().await;
    let mut body = svc.create_body("tagged", IMAGE_PLAIN, None, 1).await;
    body["server"]["server_tags"] = json!([{"key": "env", "value": "prod.eu"}, {"key": "team"}]);
    let r = svc.post("/v1/{p}/cloudservers", body).await;
    assert_eq!(r.status, 200, "{}", r.body);
    svc.job_ok(r.body["job_id"].as_str().unwrap()).await;
    let id = r.body["serverIds"][0].as_str().unwrap().to_string();
    let other = svc.server("plain", IMAGE_PLAIN, None).await;

    assert_eq!(svc.show(&id).await["tags"], json!(["env=prod.eu", "team="]));
    assert_eq!(tags_of(&svc, &id).await, json!([{"key": "env", "value": "prod.eu"}, {"key": "team", "value": ""}]));
    for filter in ["env=prod.eu", "env.prod.eu", "env", "team"] {
        let l = svc.get(&format!("/v1/{{p}}/cloudservers/detail?tags={filter}")).await;
        assert_eq!(l.body["count"], 1, "tags={filter}: {}", l.body);
        assert_eq!(l.body["servers"][0]["id"], id.as_str());
    }
    let l = svc.get("/v1/{p}/cloudservers/detail?not-tags=env").await;
    assert_eq!(l.body["count"], 1, "{}", l.body);
    assert_eq!(l.body["servers"][0]["id"], other.as_str());

    let mut bad = svc.create_body("bad", IMAGE_PLAIN, None, 1).await;
    bad["server"]["server_tags"] = json!([{"key": "a", "value": "1"}, {"key": "a", "value": "2"}]);
    svc.post("/v1/{p}/cloudservers", bad).await.assert_error(400, "Ecs.0005");
    assert_eq!(svc.get("/v1/{p}/cloudservers/detail").await.body["count"], 2, "the refused create made nothing");
}

#[tokio::test]
async fn batch_create_overwrites_and_delete_removes_by_key() {
    let svc = Svc::start().await;
    let id = svc.server("s", IMAGE_PLAIN, None).await;
    let r = svc
        .post(
            &action(&id),
            json!({"action": "create", "tags": [{"key": "a", "value": "1"}, {"key": "b", "value": "x"}]}),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.body);
    let r = svc.post(&action(&id), json!({"action": "create", "tags": [{"key": "a", "value": "2"}]})).await;
    assert_eq!(r.status, 204);
    assert_eq!(tags_of(&svc, &id).await, json!([{"key": "a", "value": "2"}, {"key": "b", "value": "x"}]));
    assert_eq!(svc.show(&id).await["tags"], json!(["a=2", "b=x"]));

    // A value that does not match, and a key the server does not have, delete nothing.
    let r =
        svc.post(&action(&id), json!({"action": "delete", "tags": [{"key": "a", "value": "1"}, {"key": "zz"}]})).await;
    assert_eq!(r.status, 204);
    assert_eq!(tags_of(&svc, &id).await.as_array().unwrap().len(), 2);
    let r =
        svc.post(&action(&id), json!({"action": "delete", "tags": [{"key": "a"}, {"key": "b", "value": "x"}]})).await;
    assert_eq!(r.status, 204);
    assert_eq!(tags_of(&svc, &id).await, json!([]));
}

#[tokio::test]
async fn invalid_tag_requests_are_refused_and_change_nothing() {
    let svc = Svc::start().await;
    let id = svc.server("s", IMAGE_PLAIN, None).await;
    let r = svc.post(&action(&id), json!({"action": "create", "tags": [{"key": "keep", "value": "me"}]})).await;
    assert_eq!(r.status, 204);
    let nine: Vec<Value> = (0..9).map(|i| json!({"key": format!("k{i}")})).collect();
    let ten: Vec<Value> = (0..10).map(|i| json!({"key": format!("k{i}")})).collect();
    let cases = vec![
        json!({"tags": [{"key": "a"}]}),
        json!({"action": "update", "tags": [{"key": "a"}]}),
        json!({"action": "create"}),
        json!({"action": "create", "tags": []}),
        json!({"action": "create", "tags": [{"value": "v"}]}),
        json!({"action": "create", "tags": [{"key": ""}]}),
        json!({"action": "create", "tags": [{"key": "k".repeat(37)}]}),
        json!({"action": "create", "tags": [{"key": "a=b"}]}),
        json!({"action": "create", "tags": [{"key": "a", "value": "v".repeat(44)}]}),
        json!({"action": "create", "tags": [{"key": "a", "value": "with space"}]}),
        json!({"action": "create", "tags": [{"key": "a"}, {"key": "a", "value": "2"}]}),
        json!({"action": "create", "tags": [{"key": "a", "value": 5}]}),
        // One tag already there: ten more would make eleven.
        json!({"action": "create", "tags": ten}),
    ];
    for body in cases {
        let r = svc.post(&action(&id), body.clone()).await;
        assert_eq!((r.status, r.body["error"]["code"].as_str()), (400, Some("Ecs.0005")), "{body} -> {}", r.body);
    }
    svc.raw("POST", &format!("/v1/{PROJECT}/cloudservers/{id}/tags/action"), b"")
        .await
        .assert_error(400, "Common.0002");
    assert_eq!(tags_of(&svc, &id).await, json!([{"key": "keep", "value": "me"}]));

    // Nine more fit exactly (ten in all).
    assert_eq!(svc.post(&action(&id), json!({"action": "create", "tags": nine})).await.status, 204);
    assert_eq!(tags_of(&svc, &id).await.as_array().unwrap().len(), 10);

    // A locked server, a missing one, another project's.
    svc.post(&format!("/v2.1/{{p}}/servers/{id}/action"), json!({"lock": null})).await;
    svc.post(&action(&id), json!({"action": "delete", "tags": [{"key": "keep"}]})).await.assert_error(400, "Ecs.0605");
    assert_eq!(tags_of(&svc, &id).await.as_array().unwrap().len(), 10);
    let missing = "00000000-0000-4000-8000-000000000000";
    svc.post(&action(missing), json!({"action": "create", "tags": [{"key": "a"}]})).await.assert_error(404, "Ecs.0114");
    svc.get(&format!("/v1/{{p}}/cloudservers/{missing}/tags")).await.assert_error(404, "Ecs.0114");
    svc.as_other().get(&format!("/v1/{{p}}/cloudservers/{id}/tags")).await.assert_error(404, "Ecs.0114");
}

#[tokio::test]
async fn project_tags_and_the_query_by_tag() {
    let svc = Svc::start().await;
    let a = svc.server("web-a", IMAGE_PLAIN, None).await;
    let b = svc.server("web-b", IMAGE_PLAIN, None).await;
    let c = svc.server("db", IMAGE_PLAIN, None).await;
    for (id, tags) in [
        (&a, json!([{"key": "env", "value": "prod"}, {"key": "app", "value": "web"}])),
        (&b, json!([{"key": "env", "value": "test"}, {"key": "app", "value": "web"}])),
        (&c, json!([{"key": "env", "value": "prod"}])),
    ] {
        assert_eq!(svc.post(&action(id), json!({"action": "create", "tags": tags})).await.status, 204);
    }
    let p = svc.get("/v1/{p}/cloudservers/tags").await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert_eq!(
        p.body,
        json!({"tags": [{"key": "app", "values": ["web"]}, {"key": "env", "values": ["prod", "test"]}]})
    );
    assert_eq!(svc.as_other().get("/v1/{p}/cloudservers/tags").await.body, json!({"tags": []}));

    let q = "/v1/{p}/cloudservers/resource_instances/action";
    let ids = |body: &Value| -> Vec<String> {
        let mut v: Vec<String> = body["resources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["resource_id"].as_str().unwrap().to_string())
            .collect();
        v.sort();
        v
    };
    let sorted = |mut v: Vec<&String>| {
        v.sort();
        v.into_iter().cloned().collect::<Vec<String>>()
    };
    let r = svc.post(q, json!({"action": "filter", "tags": [{"key": "env", "values": ["prod"]}]})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(ids(&r.body), sorted(vec![&a, &c]));
    assert_eq!(r.body["total_count"], 2);
    let one = r.body["resources"].as_array().unwrap().iter().find(|x| x["resource_id"] == a.as_str()).unwrap().clone();
    assert_eq!(one["resource_name"], "web-a");
    assert_eq!(one["resource_detail"], "");
    assert_eq!(one["tags"], json!([{"key": "app", "value": "web"}, {"key": "env", "value": "prod"}]));

    let cases = [
        (
            json!({"action": "filter", "tags": [{"key": "app"}], "not_tags": [{"key": "env", "values": ["test"]}]}),
            vec![&a],
        ),
        (
            json!({"action": "filter", "tags_any": [{"key": "app"}, {"key": "env", "values": ["prod"]}]}),
            vec![&a, &b, &c],
        ),
        (json!({"action": "filter", "not_tags_any": [{"key": "app"}]}), vec![&c]),
        (json!({"action": "filter", "matches": [{"key": "resource_name", "value": "web"}]}), vec![&a, &b]),
        (json!({"action": "filter", "limit": "1", "offset": "0", "tags": [{"key": "app"}]}), vec![]),
    ];
    for (body, want) in cases {
        let r = svc.post(q, body.clone()).await;
        assert_eq!(r.status, 200, "{body}: {}", r.body);
        if want.is_empty() {
            assert_eq!(r.body["resources"].as_array().unwrap().len(), 1, "limit 1: {}", r.body);
            assert_eq!(r.body["total_count"], 2);
        } else {
            assert_eq!(ids(&r.body), sorted(want), "{body}");
        }
    }
    let r = svc.post(q, json!({"action": "count", "tags": [{"key": "app", "values": ["web"]}]})).await;
    assert_eq!(r.body, json!({"total_count": 2}));

    let dup_values = json!({"action": "filter", "tags": [{"key": "a", "values": ["x", "x"]}]});
    let eleven: Vec<Value> = (0..11).map(|i| json!({"key": format!("k{i}")})).collect();
    for body in [
        json!({"tags": []}),
        json!({"action": "list"}),
        json!({"action": "filter", "limit": "1001"}),
        json!({"action": "filter", "limit": "-1"}),
        json!({"action": "filter", "offset": "x"}),
        json!({"action": "filter", "tags": [{"key": ""}]}),
        json!({"action": "filter", "tags": [{"key": "a"}, {"key": "a"}]}),
        dup_values,
        json!({"action": "filter", "tags": eleven}),
        json!({"action": "filter", "matches": [{"key": "name", "value": "web"}]}),
        json!({"action": "filter", "matches": [{"key": "resource_name", "value": ""}]}),
    ] {
        let r = svc.post(q, body.clone()).await;
        assert_eq!((r.status, r.body["error"]["code"].as_str()), (400, Some("Ecs.0005")), "{body} -> {}", r.body);
    }
}
