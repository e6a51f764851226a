//! Servers: create, show, list, update, power, lock, delete.

use crate::client::*;
use serde_json::{json, Value};
use std::collections::BTreeSet;

#[tokio::test]
async fn create_a_batch_with_one_sub_job_per_server() {
    let svc = Svc::start().await;
    svc.keypair("k").await;
    let body = svc.create_body("web", IMAGE_PLAIN, Some("k"), 3).await;
    let r = svc.post("/v1/{p}/cloudservers", body).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let ids: Vec<String> = r.body["serverIds"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().into()).collect();
    assert_eq!(ids.len(), 3);
    let job = svc.job_ok(r.body["job_id"].as_str().unwrap()).await;
    assert_eq!(job["job_type"], "createServer");
    assert_eq!(job["entities"]["sub_jobs_total"], 3);
    let subs = job["entities"]["sub_jobs"].as_array().unwrap();
    assert!(subs.iter().all(|s| s["job_type"] == "createSingleServer" && s["status"] == "SUCCESS"));
    let sub_servers: BTreeSet<&str> = subs.iter().map(|s| s["entities"]["server_id"].as_str().unwrap()).collect();
    assert_eq!(sub_servers, ids.iter().map(String::as_str).collect());
    let mut ips = BTreeSet::new();
    for (i, id) in ids.iter().enumerate() {
        let s = svc.show(id).await;
        assert_eq!(s["name"], format!("web-{:04}", i + 1));
        assert_eq!(s["status"], "ACTIVE");
        assert_eq!(s["OS-EXT-STS:vm_state"], "active");
        assert!(s["OS-EXT-STS:task_state"].is_null());
        assert_eq!(s["OS-EXT-STS:power_state"], 1);
        assert_eq!(s["locked"], Value::Bool(false));
        assert_eq!(s["key_name"], "k");
        assert_eq!(s["image"]["id"], IMAGE_PLAIN);
        assert_eq!(s["flavor"]["vcpus"], "1");
        assert_eq!(s["flavor"]["ram"], "1024");
        assert_eq!(s["metadata"]["os_type"], "Linux");
        assert_eq!(s["tenant_id"], PROJECT);
        let vols = s["os-extended-volumes:volumes_attached"].as_array().unwrap();
        assert_eq!(vols.len(), 1);
        assert_eq!(vols[0]["bootIndex"], "0");
        assert_eq!(vols[0]["delete_on_termination"], "true");
        let addr = s["addresses"].as_object().unwrap().values().next().unwrap()[0].clone();
        assert_eq!(addr["version"], "4");
        let ip: std::net::Ipv4Addr = addr["addr"].as_str().unwrap().parse().unwrap();
        assert_eq!(ip.octets()[..2], [192, 168], "inside the subnet");
        assert!(ips.insert(ip), "addresses are unique");
        assert!(s["created"].as_str().unwrap().ends_with('Z'));
    }
}

#[tokio::test]
async fn invalid_creates_are_refused_and_create_nothing() {
    let svc = Svc::start().await;
    let good = svc.create_body("web", IMAGE_PLAIN, None, 1).await;
    let with = |f: &dyn Fn(&mut Value)| {
        let mut b = good.clone();
        f(&mut b);
        b
    };
    let cases: Vec<(Value, u16, &str)> = vec![
        (with(&|b| b["server"].as_object_mut().unwrap().remove("name").map(|_| ()).unwrap()), 400, "Ecs.0005"),
        (with(&|b| b["server"]["name"] = json!("bad name!")), 400, "Ecs.0005"),
        (with(&|b| b["server"]["flavorRef"] = json!("x9.huge")), 400, "Ecs.0019"),
        (with(&|b| b["server"]["imageRef"] = json!("00000000-0000-4000-8000-000000000000")), 400, "Ecs.0031"),
        (with(&|b| b["server"]["vpcid"] = json!("sdf")), 400, "Ecs.0005"),
        (with(&|b| b["server"]["key_name"] = json!("nokey")), 400, "Ecs.0314"),
        (with(&|b| b["server"]["adminPass"] = json!("abc")), 400, "Ecs.0011"),
        (with(&|b| b["server"]["count"] = json!(0)), 400, "Ecs.0005"),
        (with(&|b| b["server"]["count"] = json!(101)), 400, "Ecs.0005"),
        (with(&|b| b["server"]["count"] = json!("two")), 400, "Ecs.0005"),
        (with(&|b| b["server"]["root_volume"]["volumetype"] = json!("FLOPPY")), 400, "Ecs.0005"),
        (with(&|b| b["server"]["root_volume"]["size"] = json!(1)), 400, "Ecs.0005"),
        (with(&|b| b["server"]["user_data"] = json!("!!!")), 400, "Ecs.0005"),
        (json!({"nothing": 1}), 400, "Ecs.0005"),
    ];
    for (body, status, code) in cases {
        let r = svc.post("/v1/{p}/cloudservers", body.clone()).await;
        assert_eq!((r.status, r.body["error"]["code"].as_str()), (status, Some(code)), "{body} -> {}", r.body);
    }
    svc.raw("POST", &format!("/v1/{PROJECT}/cloudservers"), b"").await.assert_error(400, "Common.0002");
    svc.raw("POST", &format!("/v1/{PROJECT}/cloudservers"), b"{not json").await.assert_error(400, "Ecs.0005");
    // dry run: checked, 202, nothing created
    let dry = svc.post("/v1/{p}/cloudservers", with(&|b| b["dry_run"] = json!(true))).await;
    assert_eq!(dry.status, 202);
    assert_eq!(svc.get("/v1/{p}/cloudservers/detail").await.body["count"], 0);
}

#[tokio::test]
async fn list_filters_and_pagination() {
    let svc = Svc::start().await;
    let mut ids = vec![];
    for n in ["alpha", "beta", "alphabet"] {
        ids.push(svc.server(n, IMAGE_PLAIN, None).await);
    }
    svc.power(&ids[1], "os-stop").await;
    let all = svc.get("/v1/{p}/cloudservers/detail").await.body;
    assert_eq!(all["count"], 3);
    assert_eq!(all["servers"][0]["name"], "alphabet", "newest first");
    let alpha = svc.get("/v1/{p}/cloudservers/detail?name=alpha").await.body;
    assert_eq!(alpha["count"], 2);
    let off = svc.get("/v1/{p}/cloudservers/detail?status=SHUTOFF").await.body;
    assert_eq!(off["count"], 1);
    assert_eq!(off["servers"][0]["id"], ids[1].as_str());
    let page2 = svc.get("/v1/{p}/cloudservers/detail?limit=2&offset=2").await.body;
    assert_eq!(page2["count"], 3, "count is the number of matches, not the page size");
    assert_eq!(page2["servers"].as_array().unwrap().len(), 1);
    assert_eq!(page2["servers"][0]["name"], "alpha");
    let after = svc.get(&format!("/v1/{{p}}/cloudservers/detail?limit=1&marker={}", ids[2])).await.body;
    assert_eq!(after["servers"][0]["name"], "beta");
    let by_id = svc.get(&format!("/v1/{{p}}/cloudservers/detail?server_id={},{}&name=zzz", ids[0], ids[1])).await.body;
    assert_eq!(by_id["count"], 2, "server_id overrides other filters");
    let ip = svc.show(&ids[0]).await["addresses"].as_object().unwrap().values().next().unwrap()[0]["addr"].clone();
    let by_ip = svc.get(&format!("/v1/{{p}}/cloudservers/detail?ip_eq={}", ip.as_str().unwrap())).await.body;
    assert_eq!(by_ip["servers"][0]["id"], ids[0].as_str());
    svc.get("/v1/{p}/cloudservers/detail?limit=0").await.assert_error(400, "Ecs.0005");
    svc.get("/v1/{p}/cloudservers/detail?limit=abc").await.assert_error(400, "Ecs.0005");
    svc.get("/v1/{p}/cloudservers/detail?status=SLEEPING").await.assert_error(400, "Ecs.0005");
    assert_eq!(svc.as_other().get("/v1/{p}/cloudservers/detail").await.body["count"], 0);
}

#[tokio::test]
async fn update_power_lock_and_delete() {
    let svc = Svc::start().await;
    let id = svc.server("one", IMAGE_PLAIN, None).await;
    let path = format!("/v1/{{p}}/cloudservers/{id}");
    let up = svc.call("PUT", &path, Some(json!({"server": {"name": "renamed", "description": "hello"}}))).await;
    assert_eq!(up.status, 200, "{}", up.body);
    assert_eq!(up.body["server"]["name"], "renamed");
    let s = svc.show(&id).await;
    assert_eq!((s["name"].as_str(), s["description"].as_str()), (Some("renamed"), Some("hello")));
    svc.call("PUT", &path, Some(json!({"server": {"name": ""}}))).await.assert_error(400, "Ecs.0005");

    let stop = svc.power(&id, "os-stop").await;
    assert_eq!(stop["job_type"], "stopServer");
    assert_eq!(stop["entities"]["sub_jobs"][0]["job_type"], "stopSingleServer");
    let s = svc.show(&id).await;
    assert_eq!((s["status"].as_str(), s["OS-EXT-STS:power_state"].as_i64()), (Some("SHUTOFF"), Some(4)));
    assert_eq!(svc.power(&id, "os-start").await["status"], "SUCCESS");
    assert_eq!(svc.show(&id).await["status"], "ACTIVE");
    assert_eq!(svc.power(&id, "reboot").await["status"], "SUCCESS");
    assert_eq!(svc.show(&id).await["status"], "ACTIVE");
    let bad = svc.post("/v1/{p}/cloudservers/action", json!({"reboot": {"servers": [{"id": id}]}})).await;
    bad.assert_error(400, "Ecs.0005");
    let both = svc
        .post(
            "/v1/{p}/cloudservers/action",
            json!({"os-start": {"servers": [{"id": id}]}, "os-stop": {"servers": [{"id": id}]}}),
        )
        .await;
    both.assert_error(400, "Ecs.0005");
    let missing = svc
        .post(
            "/v1/{p}/cloudservers/action",
            json!({"os-stop": {"servers": [{"id": "00000000-0000-4000-8000-000000000000"}]}}),
        )
        .await;
    missing.assert_error(404, "Ecs.0114");

    // lock: management operations refused with Ecs.0605 until unlocked
    let nova = format!("/v2.1/{{p}}/servers/{id}/action");
    assert_eq!(svc.post(&nova, json!({"lock": null})).await.status, 202);
    assert_eq!(svc.show(&id).await["locked"], true);
    svc.post("/v1/{p}/cloudservers/action", json!({"os-stop": {"servers": [{"id": id}]}}))
        .await
        .assert_error(400, "Ecs.0605");
    svc.post("/v1/{p}/cloudservers/delete", json!({"servers": [{"id": id}]})).await.assert_error(400, "Ecs.0605");
    assert_eq!(svc.post(&nova, json!({"unlock": null})).await.status, 202);
    assert_eq!(svc.show(&id).await["locked"], false);

    let del = svc.post("/v1/{p}/cloudservers/delete", json!({"servers": [{"id": id}], "delete_volume": true})).await;
    assert_eq!(del.status, 200);
    let job = svc.job_ok(del.body["job_id"].as_str().unwrap()).await;
    assert_eq!(job["entities"]["sub_jobs"][0]["job_type"], "deleteSingleServer");
    svc.get(&path).await.assert_error(404, "Ecs.0114");
    svc.post("/v1/{p}/cloudservers/delete", json!({"servers": [{"id": id}]})).await.assert_error(404, "Ecs.0114");
    svc.post("/v1/{p}/cloudservers/delete", json!({"servers": []})).await.assert_error(400, "Ecs.0005");
}

#[tokio::test]
async fn servers_of_another_project_do_not_exist() {
    let svc = Svc::start().await;
    let id = svc.server("mine", IMAGE_PLAIN, None).await;
    let other = svc.as_other();
    other.get(&format!("/v1/{{p}}/cloudservers/{id}")).await.assert_error(404, "Ecs.0114");
    other.post("/v1/{p}/cloudservers/delete", json!({"servers": [{"id": id}]})).await.assert_error(404, "Ecs.0114");
    other
        .post(&format!("/v1/{{p}}/cloudservers/{id}/reinstallos"), json!({"os-reinstall": {"adminpass": "!QAZxsw2"}}))
        .await
        .assert_error(404, "Ecs.0114");
    assert_eq!(svc.show(&id).await["status"], "ACTIVE");
}

/// A polled server's detail is kept rendered between polls (on SQLite): every change shows at
/// the next GET, whichever request made it, and another project's caller still finds nothing.
#[tokio::test]
async fn a_polled_server_shows_every_change_at_the_next_get() {
    let svc = Svc::start().await;
    let id = svc.server("polled", IMAGE_PLAIN, None).await;
    let path = format!("/v1/{{p}}/cloudservers/{id}");
    let first = svc.get(&path).await;
    let again = svc.get(&path).await;
    assert_eq!((first.status, &first.body), (again.status, &again.body), "two polls with nothing between");
    assert_eq!(again.headers["content-type"], "application/json");
    // Kept where the store can tell whether it changed, and only there.
    let app = svc.app.as_ref().unwrap();
    let kept = || app.shown_servers.get(&*app.ctx.store, PROJECT, &id).is_some();
    let sqlite = app.ctx.store.cluster().is_none();
    assert_eq!(kept(), sqlite, "the detail is kept on SQLite only");

    let renamed = svc.call("PUT", &path, Some(json!({"server": {"name": "renamed"}}))).await;
    assert_eq!(renamed.status, 200, "{}", renamed.body);
    assert!(!kept(), "a write to the server makes the kept detail stale");
    assert_eq!(svc.show(&id).await["name"], "renamed");
    assert_eq!(kept(), sqlite);
    let meta = svc.post(&format!("{path}/metadata"), json!({"metadata": {"tier": "web"}})).await;
    assert_eq!(meta.status, 200, "{}", meta.body);
    assert_eq!(svc.show(&id).await["metadata"]["tier"], "web");
    svc.power(&id, "os-stop").await;
    assert_eq!(svc.show(&id).await["status"], "SHUTOFF");
    svc.power(&id, "os-start").await;
    assert_eq!(svc.show(&id).await["status"], "ACTIVE");

    svc.as_other().get(&path).await.assert_error(404, "Ecs.0114");
    let del = svc.post("/v1/{p}/cloudservers/delete", json!({"servers": [{"id": id}], "delete_volume": true})).await;
    svc.job_ok(del.body["job_id"].as_str().unwrap()).await;
    svc.get(&path).await.assert_error(404, "Ecs.0114");
}

/// A list is made of the same details as the servers' GETs, kept or not: listed again after a
/// change, it shows the change; another project's list holds none of them.
#[tokio::test]
async fn a_list_shows_each_server_as_its_get_does_before_and_after_a_change() {
    let svc = Svc::start().await;
    let mut ids = vec![];
    for n in ["one", "two", "three"] {
        ids.push(svc.server(n, IMAGE_PLAIN, None).await);
    }
    let list = || async { svc.get("/v1/{p}/cloudservers/detail?limit=2").await };
    let check = |body: &Value, shown: &[Value]| {
        assert_eq!(body["count"], 3);
        assert_eq!(body["servers"].as_array().unwrap(), shown, "the page's servers as their GETs show them");
    };
    let first = list().await;
    assert_eq!(first.headers["content-type"], "application/json");
    // The page's details are joined into one buffer and sent with their length said first,
    // not chunked.
    let length: usize = first.headers["content-length"].to_str().unwrap().parse().unwrap();
    assert_eq!(length, serde_json::to_vec(&first.body).unwrap().len());
    assert!(first.headers.get("transfer-encoding").is_none());
    let shown = vec![svc.show(&ids[2]).await, svc.show(&ids[1]).await];
    check(&first.body, &shown);
    let again = list().await;
    assert_eq!(again.body, first.body, "nothing changed between");

    let path = format!("/v1/{{p}}/cloudservers/{}", ids[1]);
    let renamed = svc.call("PUT", &path, Some(json!({"server": {"name": "renamed"}}))).await;
    assert_eq!(renamed.status, 200, "{}", renamed.body);
    let after = list().await;
    assert_eq!(after.body["servers"][1]["name"], "renamed");
    check(&after.body, &[svc.show(&ids[2]).await, svc.show(&ids[1]).await]);
    svc.power(&ids[2], "os-stop").await;
    assert_eq!(list().await.body["servers"][0]["status"], "SHUTOFF");
    let page2 = svc.get("/v1/{p}/cloudservers/detail?limit=2&offset=2").await.body;
    assert_eq!(page2["servers"][0]["id"], ids[0].as_str());

    let other = svc.as_other().get("/v1/{p}/cloudservers/detail").await.body;
    assert_eq!((other["count"].as_i64(), other["servers"].as_array().map(Vec::len)), (Some(0), Some(0)));
}
