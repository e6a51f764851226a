//! The Nova server API (`/v2.1/{project_id}/servers`), version discovery, flavor extra specs
//! and flavor capacity: the same servers as ECS's, in Nova's shapes and errors.

use crate::client::*;
use serde_json::{json, Value};
use std::time::Duration;

/// Waits until the ECS view of a server shows `status` (at most 20 s).
async fn wait_status(svc: &Svc, id: &str, status: &str) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let s = svc.show(id).await;
        if s["status"] == status {
            return s;
        }
        assert!(tokio::time::Instant::now() < deadline, "server {id} still {}", s["status"]);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_server_shows_the_same_in_nova_as_in_ecs() {
    let svc = Svc::start().await;
    svc.keypair("k").await;
    let id = svc.server("web", IMAGE_PLAIN, Some("k")).await;
    let ecs = svc.show(&id).await;
    let r = svc.get(&format!("/v2.1/{{p}}/servers/{id}")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let n = &r.body["server"];
    for f in ["id", "name", "status", "created", "tenant_id", "user_id", "key_name", "OS-EXT-STS:vm_state"] {
        assert_eq!(n[f], ecs[f], "{f}: {n}");
    }
    assert_eq!(n["flavor"]["id"], "s6.small.1");
    assert_eq!(n["flavor"]["vcpus"], 1, "Nova's flavor numbers are numbers: {n}");
    assert_eq!(n["image"]["id"], IMAGE_PLAIN);
    assert_eq!(n["OS-EXT-STS:power_state"], 1);
    let (vpc, _) = svc.network().await;
    let addr = &n["addresses"][&vpc][0];
    assert_eq!(addr["version"], 4, "a number in Nova: {n}");
    assert_eq!(addr["addr"], ecs["addresses"][&vpc][0]["addr"]);
    assert_eq!(addr["OS-EXT-IPS-MAC:mac_addr"], ecs["addresses"][&vpc][0]["OS-EXT-IPS-MAC:mac_addr"]);
    assert_eq!(n["security_groups"][0]["name"], "default");
    let vols = n["os-extended-volumes:volumes_attached"].as_array().unwrap();
    assert_eq!(vols.len(), 1);
    assert_eq!(vols[0]["delete_on_termination"], true);
    assert_eq!(n["links"][0]["rel"], "self");
    assert!(n["metadata"].get("vpc_id").is_none(), "Nova shows the user's metadata only: {n}");
}

#[tokio::test]
async fn a_missing_server_is_item_not_found_in_nova_shape() {
    let svc = Svc::start().await;
    for id in ["2b7d1c29-0f3e-4c7a-9e1a-000000000000", "not-a-uuid"] {
        svc.get(&format!("/v2.1/{{p}}/servers/{id}")).await.assert_error_nova(404);
        svc.call("DELETE", &format!("/v2.1/{{p}}/servers/{id}"), None).await.assert_error_nova(404);
    }
}

#[tokio::test]
async fn the_lists_page_with_a_marker_and_filter() {
    let svc = Svc::start().await;
    let a = svc.server("alpha", IMAGE_PLAIN, None).await;
    let b = svc.server("beta", IMAGE_OTHER_PLAIN, None).await;
    let c = svc.server("gamma", IMAGE_PLAIN, None).await;
    let all = svc.get("/v2.1/{p}/servers").await;
    assert_eq!(all.status, 200, "{}", all.body);
    let ids: Vec<&str> = all.body["servers"].as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 3);
    assert!(all.body["servers"][0]["links"].is_array());
    assert!(all.body.get("servers_links").is_none(), "no next page: {}", all.body);

    // Two pages of two: the first has a `next` link whose marker gives the rest.
    let p1 = svc.get("/v2.1/{p}/servers/detail?limit=2").await;
    assert_eq!(p1.status, 200, "{}", p1.body);
    assert_eq!(p1.body["servers"].as_array().unwrap().len(), 2);
    let next = p1.body["servers_links"][0]["href"].as_str().unwrap();
    let marker = next.split("marker=").nth(1).unwrap();
    assert_eq!(marker, p1.body["servers"][1]["id"]);
    let p2 = svc.get(&format!("/v2.1/{{p}}/servers/detail?limit=2&marker={marker}")).await;
    assert_eq!(p2.body["servers"].as_array().unwrap().len(), 1, "{}", p2.body);
    let mut seen: Vec<String> = p1.body["servers"]
        .as_array()
        .unwrap()
        .iter()
        .chain(p2.body["servers"].as_array().unwrap())
        .map(|s| s["id"].as_str().unwrap().to_string())
        .collect();
    seen.sort();
    let mut want = vec![a.clone(), b.clone(), c.clone()];
    want.sort();
    assert_eq!(seen, want);

    // Filters: by image (applied after the store's query), by name, by status.
    let by_image = svc.get(&format!("/v2.1/{{p}}/servers?image={IMAGE_OTHER_PLAIN}")).await;
    let got: Vec<&str> =
        by_image.body["servers"].as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap()).collect();
    assert_eq!(got, vec![b.as_str()]);
    let by_image_page = svc.get(&format!("/v2.1/{{p}}/servers?image={IMAGE_PLAIN}&limit=1")).await;
    assert_eq!(by_image_page.body["servers"].as_array().unwrap().len(), 1, "{}", by_image_page.body);
    let by_name = svc.get("/v2.1/{p}/servers/detail?name=gam").await;
    assert_eq!(by_name.body["servers"][0]["id"], c.as_str());
    let stopped = svc.get("/v2.1/{p}/servers?status=SHUTOFF").await;
    assert_eq!(stopped.body["servers"].as_array().unwrap().len(), 0);
    let future = svc.get("/v2.1/{p}/servers?changes-since=2999-01-01T00:00:00Z").await;
    assert_eq!(future.body["servers"].as_array().unwrap().len(), 0, "{}", future.body);
    let past = svc.get("/v2.1/{p}/servers?changes-since=2000-01-01T00:00:00").await;
    assert_eq!(past.body["servers"].as_array().unwrap().len(), 3, "{}", past.body);

    // Bad input: Nova's badRequest, naming what is wrong.
    for q in ["status=SLEEPING", "changes-since=yesterday", "limit=-1", "sort_key=name", "marker=nobody"] {
        let r = svc.get(&format!("/v2.1/{{p}}/servers?{q}")).await;
        assert_eq!(r.status, 400, "{q}: {}", r.body);
        assert_eq!(r.body["badRequest"]["code"], 400, "{q}: {}", r.body);
    }
}

#[tokio::test]
async fn a_nova_create_runs_the_ecs_create_and_a_nova_delete_the_ecs_delete() {
    let svc = Svc::start().await;
    svc.keypair("k").await;
    let (_, subnet) = svc.network().await;
    let body = json!({"server": {
    "name": "nova-made", "imageRef": IMAGE_PLAIN, "flavorRef": "s6.medium.2", "key_name": "k",
    "networks": [{"uuid": subnet}], "metadata": {"team": "ops"},
    "block_device_mapping_v2": [
        {"boot_index": "0", "source_type": "image", "destination_type": "volume", "uuid": IMAGE_PLAIN,
         "volume_size": 50, "volume_type": "SSD"},
        {"boot_index": "-1", "source_type": "blank", "destination_type": "volume", "volume_size": 20,
         "delete_on_termination": false}
    ]}});
    let r = svc.post("/v2.1/{p}/servers", body).await;
    assert_eq!(r.status, 202, "{}", r.body);
    let id = r.body["server"]["id"].as_str().unwrap().to_string();
    assert_eq!(r.body["server"]["security_groups"][0]["name"], "default");
    assert_eq!(r.body["server"]["OS-DCF:diskConfig"], "MANUAL");
    let ecs = wait_status(&svc, &id, "ACTIVE").await;
    assert_eq!(ecs["name"], "nova-made");
    assert_eq!(ecs["flavor"]["id"], "s6.medium.2");
    assert_eq!(ecs["metadata"]["team"], "ops");
    let vols = ecs["os-extended-volumes:volumes_attached"].as_array().unwrap();
    assert_eq!(vols.len(), 2, "{ecs}");
    let data = vols.iter().find(|v| v["bootIndex"] != "0").unwrap()["id"].as_str().unwrap().to_string();
    let sys = Svc::boot_volume(&ecs);
    let disk = svc.get(&format!("/v2/{{p}}/cloudvolumes/{sys}")).await;
    assert_eq!(disk.body["volume"]["size"], 50, "{}", disk.body);

    let d = svc.call("DELETE", &format!("/v2.1/{{p}}/servers/{id}"), None).await;
    assert_eq!(d.status, 204, "{}", d.body);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while svc.get(&format!("/v2.1/{{p}}/servers/{id}")).await.status != 404 {
        assert!(tokio::time::Instant::now() < deadline, "the server is still there");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // The data disk did not go with the server (`delete_on_termination` false); the system disk did.
    assert_eq!(svc.get(&format!("/v2/{{p}}/cloudvolumes/{data}")).await.status, 200);
    assert_eq!(svc.get(&format!("/v2/{{p}}/cloudvolumes/{sys}")).await.status, 404);
}

#[tokio::test]
async fn a_nova_create_with_a_reservation_and_a_count_makes_them_all() {
    let svc = Svc::start().await;
    let body = json!({"server": {"name": "many", "imageRef": IMAGE_PLAIN, "flavorRef": "s6.small.1",
        "min_count": 2, "max_count": 3, "return_reservation_id": true}});
    let r = svc.post("/v2.1/{p}/servers", body).await;
    assert_eq!(r.status, 202, "{}", r.body);
    let rid = r.body["reservation_id"].as_str().unwrap().to_string();
    let l = svc.get(&format!("/v2.1/{{p}}/servers/detail?reservation_id={rid}")).await;
    assert_eq!(l.body["servers"].as_array().unwrap().len(), 3, "{}", l.body);
}

#[tokio::test]
async fn a_bad_nova_create_is_refused_in_nova_shape_and_creates_nothing() {
    let svc = Svc::start().await;
    let ok = json!({"name": "n", "imageRef": IMAGE_PLAIN, "flavorRef": "s6.small.1"});
    let with = |k: &str, v: Value| {
        let mut s = ok.clone();
        s[k] = v;
        json!({ "server": s })
    };
    let cases = [
        (json!({}), 400),
        (with("flavorRef", json!("no.such.flavor")), 400),
        (with("imageRef", json!("6a6b4b4e-0e3a-4c38-9b64-000000000000")), 400),
        (with("networks", json!([{"uuid": "6a6b4b4e-0e3a-4c38-9b64-000000000000"}])), 400),
        (with("key_name", json!("nobody")), 400),
        (
            json!({"server": {"name": "n", "imageRef": IMAGE_PLAIN, "flavorRef": "s6.small.1", "min_count": 3, "max_count": 2}}),
            400,
        ),
        (with("max_count", json!(101)), 400),
        (with("block_device_mapping_v2", json!([{"boot_index": "0", "source_type": "snapshot"}])), 400),
        (
            with(
                "block_device_mapping_v2",
                json!([{"boot_index": 0, "source_type": "image", "destination_type": "local"}]),
            ),
            400,
        ),
        (with("security_groups", json!([{"name": "nonesuch"}])), 404),
    ];
    for (body, status) in cases {
        let r = svc.post("/v2.1/{p}/servers", body.clone()).await;
        assert_eq!(r.status, status, "{body}: {}", r.body);
        let fault = if status == 404 { "itemNotFound" } else { "badRequest" };
        assert_eq!(r.body[fault]["code"], status, "{body}: {}", r.body);
        assert!(r.body[fault]["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    let l = svc.get("/v2.1/{p}/servers").await;
    assert_eq!(l.body["servers"].as_array().unwrap().len(), 0, "nothing was created: {}", l.body);
}

#[tokio::test]
async fn a_busy_server_is_a_nova_conflict_on_delete() {
    let svc = Svc::start_with_step(Duration::from_millis(300)).await;
    let body = svc.create_body("slow", IMAGE_PLAIN, None, 1).await;
    let r = svc.post("/v1/{p}/cloudservers", body).await;
    let id = r.body["serverIds"][0].as_str().unwrap().to_string();
    let d = svc.call("DELETE", &format!("/v2.1/{{p}}/servers/{id}"), None).await;
    assert_eq!(d.status, 409, "{}", d.body);
    assert_eq!(d.body["conflictingRequest"]["code"], 409, "{}", d.body);
    svc.job_ok(r.body["job_id"].as_str().unwrap()).await;
}

#[tokio::test]
async fn versions_and_extra_specs_are_served() {
    let svc = Svc::start().await;
    let v = svc.get("/").await;
    assert_eq!(v.status, 200, "{}", v.body);
    let ids: Vec<&str> = v.body["versions"].as_array().unwrap().iter().map(|v| v["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["v2.0", "v2.1"]);
    let one = svc.get("/v2.1").await;
    assert_eq!(one.status, 200, "{}", one.body);
    assert_eq!(one.body["version"]["status"], "CURRENT");
    assert_eq!(one.body["version"]["min_version"], "2.1");
    assert!(one.body["version"]["media_types"][0]["type"].as_str().unwrap().contains("compute"));
    assert_eq!(svc.get("/v2").await.body["version"]["id"], "v2.0");
    svc.get("/v3").await.assert_error_nova(404);
    // A segment that is no version name is an unknown path, as without the route.
    let unknown = svc.get("/favicon.ico").await;
    assert_eq!((unknown.status, unknown.body["error_code"].as_str()), (404, Some("APIGW.0101")), "{}", unknown.body);

    let s = svc.get("/v2.1/{p}/flavors/s6.small.1/os-extra_specs").await;
    assert_eq!(s.status, 200, "{}", s.body);
    let flavors = svc.get("/v1/{p}/cloudservers/flavors").await;
    let f = flavors.body["flavors"].as_array().unwrap().iter().find(|f| f["id"] == "s6.small.1").unwrap().clone();
    assert_eq!(s.body["extra_specs"], f["os_extra_specs"]);
    svc.get("/v2.1/{p}/flavors/no.such/os-extra_specs").await.assert_error_nova(404);
}

#[tokio::test]
async fn flavor_capacity_names_the_zones_or_refuses_bad_input() {
    let svc = Svc::start().await;
    let r = svc.get("/v1/{p}/cloudservers/flavors/s6.small.1/resources?count=2").await;
    assert_eq!(r.status, 200, "{}", r.body);
    let zones = r.body["resources"].as_array().unwrap();
    let az = svc.get("/v1/{p}/availability-zones").await;
    assert_eq!(zones.len(), az.body["availability_zones"].as_array().unwrap().len());
    assert_eq!(zones[0]["prefer"], true);
    assert_eq!(zones[1]["prefer"], false);
    assert_eq!(zones[0]["availability_zone"], az.body["availability_zones"][0]["availability_zone_id"]);
    let region = zones[0]["region_id"].as_str().unwrap().to_string();
    let other = svc.get("/v1/{p}/cloudservers/flavors/s6.small.1/resources?region_ids=elsewhere").await;
    assert_eq!(other.body["resources"].as_array().unwrap().len(), 0);
    let mine = svc.get(&format!("/v1/{{p}}/cloudservers/flavors/s6.small.1/resources?region_ids={region}")).await;
    assert_eq!(mine.body["resources"].as_array().unwrap().len(), zones.len());
    svc.get("/v1/{p}/cloudservers/flavors/no.such/resources").await.assert_error(400, "Ecs.0019");
    for c in ["0", "many", "101"] {
        svc.get(&format!("/v1/{{p}}/cloudservers/flavors/s6.small.1/resources?count={c}"))
            .await
            .assert_error(400, "Ecs.0005");
    }
}
