//! `POST /v1.1/{project_id}/cloudservers` as Terraform sends it, the v1.1 list, the zones, and
//! the charging-mode change that is refused.

use crate::client::*;
use serde_json::{json, Value};

/// The project's server group for these servers (made by the first call).
async fn tf_group(svc: &Svc) -> String {
    let path = "/v1/{p}/cloudservers/os-server-groups";
    let list = svc.get(path).await.body;
    if let Some(id) = list["server_groups"].as_array().and_then(|g| g.first()).and_then(|g| g["id"].as_str()) {
        return id.to_string();
    }
    let r = svc.post(path, json!({"server_group": {"name": "tf", "policies": ["anti-affinity"]}})).await;
    r.body["server_group"]["id"].as_str().expect("a server group").to_string()
}

/// The body Terraform's `huaweicloud_compute_instance` sends for a pay-per-use server with two
/// data disks, the first deleted with the server and the second kept.
async fn terraform_body(svc: &Svc, name: &str) -> Value {
    let mut b = svc.create_body(name, IMAGE_PLAIN, None, 1).await;
    let s = &mut b["server"];
    s["availability_zone"] = json!("cn-north-4b");
    s["root_volume"] = json!({"volumetype": "GPSSD2", "size": 50, "iops": 3000, "throughput": 125,
        "extendparam": {"resourceSpecCode": "GPSSD2"}, "metadata": {"__system__encrypted": "0"}});
    s["data_volumes"] = json!([
        {"volumetype": "SSD", "size": 20, "delete_on_termination": true},
        {"volumetype": "SAS", "size": 30, "multiattach": true, "extendparam": {}}
    ]);
    s["extendparam"] = json!({"chargingMode": "postPaid", "regionID": "cn-north-4",
        "enterprise_project_id": "7e45a5a6-1d38-4b2e-a0a1-3f7a9b3c2d10", "support_auto_recovery": true});
    s["os:scheduler_hints"] = json!({"group": tf_group(svc).await});
    s["server_tags"] = json!([{"key": "env", "value": "test"}]);
    s["metadata"] = json!({"owner": "ops"});
    s["description"] = json!("made by terraform");
    s["security_groups"] = json!([{"id": default_group(svc).await}]);
    b
}

/// The project's `default` security group, looked up as Terraform does when the configuration
/// names groups by name.
async fn default_group(svc: &Svc) -> String {
    let r = svc.get("/v1/{p}/security-groups").await;
    assert_eq!(r.status, 200, "{}", r.body);
    let groups = r.body["security_groups"].as_array().cloned().unwrap_or_default();
    let g = groups.iter().find(|g| g["name"] == "default").expect("a default security group");
    g["id"].as_str().unwrap().to_string()
}

fn volumes_of(server: &Value) -> Vec<Value> {
    server["os-extended-volumes:volumes_attached"].as_array().cloned().unwrap_or_default()
}

#[tokio::test]
async fn a_terraform_create_makes_the_server_its_data_disks_and_shows_what_it_was_given() {
    let svc = Svc::start().await;
    let r = svc.post("/v1.1/{p}/cloudservers", terraform_body(&svc, "tf").await).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.get("order_id").is_none(), "no order for pay-per-use: {}", r.body);
    let id = r.body["serverIds"][0].as_str().unwrap().to_string();
    let job = svc.job_ok(r.body["job_id"].as_str().unwrap()).await;
    assert_eq!(job["entities"]["sub_jobs"][0]["entities"]["server_id"], id.as_str(), "what Terraform reads");
    let s = svc.show(&id).await;
    assert_eq!(s["status"], "ACTIVE");
    assert_eq!(s["OS-EXT-AZ:availability_zone"], "cn-north-4b");
    assert_eq!(s["enterprise_project_id"], "7e45a5a6-1d38-4b2e-a0a1-3f7a9b3c2d10");
    let group = tf_group(&svc).await;
    assert_eq!(s["os:scheduler_hints"]["group"][0], json!(group));
    let members = svc.get(&format!("/v1/{{p}}/cloudservers/os-server-groups/{group}")).await.body;
    assert_eq!(members["server_group"]["members"], json!([id]), "the server joined its group");
    assert_eq!(s["tags"][0], "env=test");
    assert_eq!(s["metadata"]["owner"], "ops");
    assert_eq!(s["description"], "made by terraform");
    assert_eq!(s["security_groups"][0]["id"], default_group(&svc).await);
    assert_eq!(s["security_groups"][0]["name"], "default");
    let vols = volumes_of(&s);
    let boot: Vec<&str> = vols.iter().map(|v| v["bootIndex"].as_str().unwrap()).collect();
    assert_eq!(boot, ["0", "-1", "-1"]);
    let devices: Vec<&str> = vols.iter().map(|v| v["device"].as_str().unwrap()).collect();
    assert_eq!(devices, ["/dev/vda", "/dev/vdb", "/dev/vdc"]);
    // Terraform's read: the disk service, then the block device, for every attached volume.
    for (v, (size, bootable)) in vols.iter().zip([(50, "true"), (20, "false"), (30, "false")]) {
        let vid = v["id"].as_str().unwrap();
        let evs = svc.get(&format!("/v2/{{p}}/cloudvolumes/{vid}")).await;
        assert_eq!(evs.status, 200, "{}", evs.body);
        let d = &evs.body["volume"];
        assert_eq!((d["size"].as_i64(), d["bootable"].as_str()), (Some(size), Some(bootable)));
        assert_eq!(d["status"], "in-use");
        assert_eq!(d["attachments"][0]["server_id"], id.as_str());
        assert_eq!(d["availability_zone"], "cn-north-4b");
        let bd = svc.get(&format!("/v1/{{p}}/cloudservers/{id}/block_device/{vid}")).await;
        assert_eq!(bd.status, 200, "{}", bd.body);
        assert_eq!(bd.body["volumeAttachment"]["size"], size);
        assert_eq!(bd.body["volumeAttachment"]["device"], v["device"]);
    }
    assert_eq!(
        svc.get(&format!("/v2/{{p}}/cloudvolumes/{}", vols[2]["id"].as_str().unwrap())).await.body["volume"]
            ["multiattach"],
        true
    );
}

#[tokio::test]
async fn deleting_the_server_keeps_the_data_disk_that_does_not_go_with_it() {
    let svc = Svc::start().await;
    let r = svc.post("/v1.1/{p}/cloudservers", terraform_body(&svc, "tf").await).await;
    let id = r.body["serverIds"][0].as_str().unwrap().to_string();
    svc.job_ok(r.body["job_id"].as_str().unwrap()).await;
    let vols: Vec<String> = volumes_of(&svc.show(&id).await).iter().map(|v| v["id"].as_str().unwrap().into()).collect();
    let d = svc.post("/v1/{p}/cloudservers/delete", json!({"servers": [{"id": id}]})).await;
    svc.job_ok(d.body["job_id"].as_str().unwrap()).await;
    let gone = |v: &str| format!("/v2/{{p}}/cloudvolumes/{v}");
    svc.get(&gone(&vols[0])).await.assert_error_nova(404);
    svc.get(&gone(&vols[1])).await.assert_error_nova(404);
    let kept = svc.get(&gone(&vols[2])).await;
    assert_eq!(kept.status, 200, "{}", kept.body);
    assert_eq!(kept.body["volume"]["status"], "available");
    assert_eq!(kept.body["volume"]["attachments"], json!([]));
    let list = svc.get("/v2/{p}/cloudvolumes/detail").await.body;
    assert_eq!(list["count"], 1);
}

/// The simulated driver's state (what its disks and VMs are).
async fn sim_state(svc: &Svc) -> ecs_driver::sim::SimState {
    crate::store::sim_state(svc.data_dir()).await
}

/// The ids of a server's data disks in the order of their devices.
fn data_disks_of(server: &Value) -> Vec<String> {
    let vols = volumes_of(server);
    let mut data: Vec<&Value> = vols.iter().filter(|v| v["bootIndex"] == "-1").collect();
    data.sort_by_key(|v| v["device"].as_str().unwrap().to_string());
    data.iter().map(|v| v["id"].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn the_data_disks_stay_attached_through_a_reinstall_and_a_reboot() {
    let svc = Svc::start().await;
    let kp = svc.keypair("a").await;
    let r = svc.post("/v1.1/{p}/cloudservers", terraform_body(&svc, "tf").await).await;
    let id = r.body["serverIds"][0].as_str().unwrap().to_string();
    svc.job_ok(r.body["job_id"].as_str().unwrap()).await;
    let before = svc.show(&id).await;
    let data = data_disks_of(&before);
    assert_eq!(data.len(), 2);
    assert_eq!(
        sim_state(&svc).await.vms[&id].clone().data_disks,
        data,
        "the VM was started with its data disks, in device order"
    );
    let blank = &sim_state(&svc).await.disks[&data[0]];
    assert_eq!((blank.image_id.as_str(), blank.size_gb), ("", 20), "a blank disk of the requested size");

    let r = svc.reinstall(&id, "a", &kp["user_id"]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    svc.job_ok(r.body["job_id"].as_str().unwrap()).await;
    let after = svc.show(&id).await;
    assert_ne!(Svc::boot_volume(&after), Svc::boot_volume(&before), "a new system disk");
    assert_eq!(data_disks_of(&after), data, "the same data disks, on the same devices");
    let devices: Vec<Value> = volumes_of(&after).iter().map(|v| v["device"].clone()).collect();
    assert_eq!(devices, [json!("/dev/vda"), json!("/dev/vdb"), json!("/dev/vdc")]);
    let running = sim_state(&svc).await.vms[&id].clone();
    assert_eq!(running.boot_disk, Some(Svc::boot_volume(&after)));
    assert_eq!(running.data_disks, data, "the reinstalled server booted with its data disks");
    assert!(running.running);

    assert_eq!(svc.power(&id, "reboot").await["status"], "SUCCESS");
    assert_eq!(sim_state(&svc).await.vms[&id].clone().data_disks, data, "a reboot keeps them too");
    let disks = sim_state(&svc).await.disks;
    assert!(data.iter().all(|d| disks.contains_key(d)), "the data disks are still there");
}

#[tokio::test]
async fn the_driver_keeps_exactly_the_disks_whose_volumes_stay() {
    let svc = Svc::start().await;
    let r = svc.post("/v1.1/{p}/cloudservers", terraform_body(&svc, "tf").await).await;
    let id = r.body["serverIds"][0].as_str().unwrap().to_string();
    svc.job_ok(r.body["job_id"].as_str().unwrap()).await;
    let data = data_disks_of(&svc.show(&id).await);
    let d = svc.post("/v1/{p}/cloudservers/delete", json!({"servers": [{"id": id}]})).await;
    svc.job_ok(d.body["job_id"].as_str().unwrap()).await;
    // The second data disk is not deleted on termination: its volume row stays, so does its disk.
    let disks: Vec<String> = sim_state(&svc).await.disks.into_keys().collect();
    assert_eq!(disks, [data[1].clone()]);
    assert!(sim_state(&svc).await.vms.is_empty());
}

#[tokio::test]
async fn invalid_v11_creates_are_refused_and_create_nothing() {
    let svc = Svc::start().await;
    let good = terraform_body(&svc, "tf").await;
    let with = |f: &dyn Fn(&mut Value)| {
        let mut b = good.clone();
        f(&mut b);
        b
    };
    let cases: Vec<Value> = vec![
        with(&|b| b["server"]["extendparam"]["chargingMode"] = json!("prePaid")),
        with(&|b| b["server"]["extendparam"]["chargingMode"] = json!(1)),
        with(&|b| b["server"]["extendparam"]["chargingMode"] = json!("monthly")),
        with(&|b| b["server"]["extendparam"]["enterprise_project_id"] = json!("eps-1")),
        with(&|b| b["server"]["availability_zone"] = json!("mars-1a")),
        with(&|b| b["server"]["os:scheduler_hints"]["group"] = json!("group-1")),
        // A UUID that names no server group of the project.
        with(&|b| b["server"]["os:scheduler_hints"]["group"] = json!("2b8b1c6e-5c6f-4a43-9f1b-0e1a2b3c4d5e")),
        with(&|b| b["server"]["data_volumes"][0]["size"] = json!(5)),
        with(&|b| b["server"]["data_volumes"][0]["volumetype"] = json!("TAPE")),
        with(&|b| b["server"]["data_volumes"][0].as_object_mut().unwrap().remove("size").map(|_| ()).unwrap()),
        with(&|b| b["server"]["data_volumes"][0]["data_image_id"] = json!("0b1c2d3e-0000-4000-8000-000000000000")),
        with(&|b| b["server"]["data_volumes"] = json!(vec![json!({"volumetype": "SSD", "size": 10}); 24])),
        with(&|b| b["server"]["extendparam"]["marketType"] = json!("spot")),
        with(&|b| {
            b["server"]["count"] = json!(2);
            b["server"]["name"] = json!("n".repeat(60));
        }),
    ];
    for body in cases {
        let r = svc.post("/v1.1/{p}/cloudservers", body.clone()).await;
        assert_eq!((r.status, r.body["error"]["code"].as_str()), (400, Some("Ecs.0005")), "{body} -> {}", r.body);
    }
    let prepaid = svc.post("/v1.1/{p}/cloudservers", cases_prepaid(&good)).await;
    assert!(prepaid.body["error"]["message"].as_str().unwrap().contains("pay-per-use"), "{}", prepaid.body);
    assert_eq!(svc.get("/v1/{p}/cloudservers/detail").await.body["count"], 0);
    assert_eq!(svc.get("/v2/{p}/cloudvolumes/detail").await.body["count"], 0);
    let dry = svc.post("/v1.1/{p}/cloudservers", with(&|b| b["dry_run"] = json!(true))).await;
    assert_eq!(dry.status, 202, "{}", dry.body);
    assert_eq!(svc.get("/v1/{p}/cloudservers/detail").await.body["count"], 0);
}

fn cases_prepaid(good: &Value) -> Value {
    let mut b = good.clone();
    b["server"]["extendparam"] = json!({"chargingMode": "prePaid", "periodType": "month", "periodNum": 1});
    b
}

#[tokio::test]
async fn a_batch_continues_numbering_after_the_highest_name_in_use() {
    let svc = Svc::start().await;
    let mut b = svc.create_body("web", IMAGE_PLAIN, None, 2).await;
    let r = svc.post("/v1.1/{p}/cloudservers", b.clone()).await;
    svc.job_ok(r.body["job_id"].as_str().unwrap()).await;
    b["server"]["isAutoRename"] = json!(true);
    let r = svc.post("/v1.1/{p}/cloudservers", b).await;
    svc.job_ok(r.body["job_id"].as_str().unwrap()).await;
    let list = svc.get("/v1/{p}/cloudservers/detail").await.body;
    let mut names: Vec<&str> =
        list["servers"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    names.sort();
    assert_eq!(names, ["web-0001", "web-0002", "web-0003", "web-0004"]);
}

#[tokio::test]
async fn changing_the_charging_mode_is_refused() {
    let svc = Svc::start().await;
    let id = svc.server("a", IMAGE_PLAIN, None).await;
    let r = svc
        .post("/v1/{p}/cloudservers/actions/change-charge-mode", json!({"server_ids": [id], "charge_mode": "prePaid"}))
        .await;
    r.assert_error(400, "Ecs.0005");
    assert!(r.body["error"]["message"].as_str().unwrap().contains("pay-per-use"));
}

#[tokio::test]
async fn the_zones_are_listed_in_both_shapes() {
    let svc = Svc::start().await;
    let ecs = svc.get("/v1/{p}/availability-zones").await;
    assert_eq!(ecs.status, 200);
    let ids: Vec<&str> = ecs.body["availability_zones"]
        .as_array()
        .unwrap()
        .iter()
        .map(|z| z["availability_zone_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["cn-north-4a", "cn-north-4b", "cn-north-4c"]);
    assert_eq!(ecs.body["availability_zones"][0]["category"], 0);
    let nova = svc.get("/v2.1/{p}/os-availability-zone").await;
    assert_eq!(nova.body["availabilityZoneInfo"][1]["zoneName"], "cn-north-4b");
    assert_eq!(nova.body["availabilityZoneInfo"][1]["zoneState"]["available"], true);
}

#[tokio::test]
async fn the_v11_list_has_its_own_shape_filters_and_marker_paging() {
    let svc = Svc::start().await;
    let a = svc.server("alpha", IMAGE_PLAIN, None).await;
    let mut body = svc.create_body("beta", IMAGE_PLAIN, None, 1).await;
    body["server"]["availability_zone"] = json!("cn-north-4c");
    let r = svc.post("/v1.1/{p}/cloudservers", body).await;
    svc.job_ok(r.body["job_id"].as_str().unwrap()).await;
    let b = r.body["serverIds"][0].as_str().unwrap().to_string();
    let all = svc.get("/v1.1/{p}/cloudservers/detail").await;
    assert_eq!(all.status, 200, "{}", all.body);
    let s = &all.body["servers"][0];
    assert_eq!(s["id"], b.as_str(), "newest first");
    assert_eq!((s["vm_state"].as_str(), s["power_state"].as_i64()), (Some("active"), Some(1)));
    assert_eq!(s["flavor"]["vcpus"], 1, "an integer here");
    assert_eq!(s["volumes_attached"][0]["delete_on_termination"], true);
    assert_eq!(s["volumes_attached"][0]["bootIndex"], "0");
    assert_eq!(s["market_info"]["charge_mode"], "postPaid");
    assert!(s["addresses"].as_object().unwrap().values().next().unwrap()[0]["version"].is_i64());
    assert!(all.body["request_id"].as_str().is_some_and(|r| !r.is_empty()));
    let zone = svc.get("/v1.1/{p}/cloudservers/detail?availability_zone=cn-north-4c").await.body;
    assert_eq!(zone["servers"].as_array().unwrap().len(), 1);
    let named = svc.get("/v1.1/{p}/cloudservers/detail?name=alp&not_a_filter=1").await.body;
    assert_eq!(named["servers"][0]["id"], a.as_str());
    let page = svc.get("/v1.1/{p}/cloudservers/detail?limit=1").await.body;
    assert_eq!(page["servers"].as_array().unwrap().len(), 1);
    assert_eq!(page["servers_links"][0]["rel"], "next");
    let next = svc.get(&format!("/v1.1/{{p}}/cloudservers/detail?limit=1&marker={b}")).await.body;
    assert_eq!(next["servers"][0]["id"], a.as_str());
    assert_eq!(next["servers_links"], json!([]));
    svc.get("/v1.1/{p}/cloudservers/detail?limit=0").await.assert_error(400, "Ecs.0005");
    svc.get("/v1.1/{p}/cloudservers/detail?status=SLEEPING").await.assert_error(400, "Ecs.0005");
}

/// The address a server is shown with, from its detail.
fn address_of(server: &Value) -> String {
    let nets = server["addresses"].as_object().expect("addresses");
    nets.values().next().unwrap()[0]["addr"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn a_fixed_address_is_given_once_and_bad_network_requests_create_nothing() {
    let svc = Svc::start().await;
    let mut body = svc.create_body("fixed", IMAGE_PLAIN, None, 1).await;
    body["server"]["nics"][0]["ip_address"] = json!("192.168.7.9");
    let r = svc.post("/v1.1/{p}/cloudservers", body.clone()).await;
    assert_eq!(r.status, 200, "{}", r.body);
    svc.job_ok(r.body["job_id"].as_str().unwrap()).await;
    let id = r.body["serverIds"][0].as_str().unwrap().to_string();
    assert_eq!(address_of(&svc.show(&id).await), "192.168.7.9");

    // Refusals: the same address again, one outside the subnet or reserved, a fixed address
    // for several servers, an elastic IP, IPv6.
    let mut refused = Vec::new();
    refused.push(body.clone());
    for ip in ["10.0.0.5", "192.168.0.1", "192.168.255.255", "not-an-ip"] {
        let mut b = body.clone();
        b["server"]["nics"][0]["ip_address"] = json!(ip);
        refused.push(b);
    }
    let mut b = svc.create_body("fixed", IMAGE_PLAIN, None, 2).await;
    b["server"]["nics"][0]["ip_address"] = json!("192.168.7.10");
    refused.push(b);
    let mut b = svc.create_body("eip", IMAGE_PLAIN, None, 1).await;
    b["server"]["publicip"] = json!({"eip": {"iptype": "5_bgp", "bandwidth": {"size": 5, "sharetype": "PER"}}});
    refused.push(b);
    let mut b = svc.create_body("v6", IMAGE_PLAIN, None, 1).await;
    b["server"]["nics"][0]["ipv6_enable"] = json!(true);
    refused.push(b);
    for b in refused {
        let r = svc.post("/v1.1/{p}/cloudservers", b.clone()).await;
        r.assert_error(400, "Ecs.0005");
    }
    let r = svc.get("/v1/{p}/cloudservers/detail").await;
    assert_eq!(r.body["count"], 1, "only the first server exists: {}", r.body);

    // Once the server is gone its address is free again.
    let d = svc.post("/v1/{p}/cloudservers/delete", json!({"servers": [{"id": id}]})).await;
    assert_eq!(d.status, 200, "{}", d.body);
    svc.job_ok(d.body["job_id"].as_str().unwrap()).await;
    let r = svc.post("/v1.1/{p}/cloudservers", body).await;
    assert_eq!(r.status, 200, "{}", r.body);
    svc.job_ok(r.body["job_id"].as_str().unwrap()).await;
    let id = r.body["serverIds"][0].as_str().unwrap().to_string();
    assert_eq!(address_of(&svc.show(&id).await), "192.168.7.9");
}
