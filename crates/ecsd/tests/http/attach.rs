//! Disks after a server is created: volumes of the disk service made, attached (hot-plugged
//! into the running VM), detached, changed and deleted, and every refusal.

use crate::client::*;
use serde_json::{json, Value};

/// Creates `count` blank volumes through the disk service and waits for them.
async fn volumes(svc: &Svc, size: i64, count: i64, multiattach: bool) -> Vec<String> {
    let r = svc
        .post(
            "/v2.1/{p}/cloudvolumes",
            json!({"volume": {"availability_zone": "cn-north-4a", "size": size, "volume_type": "SSD",
                              "name": "data", "count": count, "multiattach": multiattach}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let job = svc.job_ok(r.body["job_id"].as_str().unwrap()).await;
    let ids: Vec<String> =
        r.body["volume_ids"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().into()).collect();
    assert_eq!(ids.len() as i64, count);
    if count == 1 {
        assert_eq!(job["job_type"], "createVolume");
        assert_eq!(job["entities"]["volume_id"], ids[0].as_str(), "{job}");
    } else {
        assert_eq!(job["job_type"], "batchCreateVolume");
    }
    ids
}

async fn attach(svc: &Svc, server: &str, volume: &str, device: Option<&str>) -> Resp {
    let mut a = json!({"volumeId": volume});
    if let Some(d) = device {
        a["device"] = json!(d);
    }
    svc.post(&format!("/v1/{{p}}/cloudservers/{server}/attachvolume"), json!({"volumeAttachment": a})).await
}

async fn detach(svc: &Svc, server: &str, volume: &str) -> Resp {
    svc.call("DELETE", &format!("/v1/{{p}}/cloudservers/{server}/detachvolume/{volume}"), None).await
}

async fn put(svc: &Svc, server: &str, volume: &str, body: Value) -> Resp {
    svc.call("PUT", &format!("/v1/{{p}}/cloudservers/{server}/block_device/{volume}"), Some(body)).await
}

/// Asserts a Cinder-shaped `{"badRequest": {"code": 400, ...}}`.
fn bad_request(r: Resp) {
    assert_eq!(r.status, 400, "body: {}", r.body);
    assert_eq!(r.body["badRequest"]["code"], 400, "body: {}", r.body);
}

async fn volume(svc: &Svc, id: &str) -> Value {
    let r = svc.get(&format!("/v2/{{p}}/cloudvolumes/{id}")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body["volume"].clone()
}

/// The data disks the simulated VM has now, sorted.
async fn vm_disks(svc: &Svc, server: &str) -> Vec<String> {
    let mut d = crate::store::sim_state(svc.data_dir()).await.vms.remove(server).unwrap().data_disks;
    d.sort();
    d
}

#[tokio::test]
async fn a_volume_is_created_attached_detached_and_deleted() {
    let svc = Svc::start().await;
    let server = svc.server("a", IMAGE_PLAIN, None).await;
    let v = volumes(&svc, 10, 1, false).await.remove(0);
    let shown = volume(&svc, &v).await;
    assert_eq!((shown["status"].as_str(), shown["size"].as_i64()), (Some("available"), Some(10)));
    assert_eq!((shown["name"].as_str(), shown["availability_zone"].as_str()), (Some("data"), Some("cn-north-4a")));

    let r = attach(&svc, &server, &v, None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let job = svc.job_ok(r.body["job_id"].as_str().unwrap()).await;
    assert_eq!(
        (job["job_type"].as_str(), job["entities"]["server_id"].as_str()),
        (Some("attachVolume"), Some(server.as_str()))
    );
    let bd = svc.get(&format!("/v1/{{p}}/cloudservers/{server}/block_device/{v}")).await;
    assert_eq!(bd.status, 200, "{}", bd.body);
    assert_eq!(
        (bd.body["volumeAttachment"]["device"].as_str(), bd.body["volumeAttachment"]["bootIndex"].as_i64()),
        (Some("/dev/vdb"), Some(-1))
    );
    let shown = volume(&svc, &v).await;
    assert_eq!(shown["status"], "in-use");
    assert_eq!(shown["attachments"][0]["server_id"], server.as_str());
    assert_eq!(vm_disks(&svc, &server).await, std::slice::from_ref(&v), "hot-plugged into the running VM");
    let s = svc.show(&server).await;
    assert_eq!(s["status"], "ACTIVE");
    assert_eq!(s["os-extended-volumes:volumes_attached"].as_array().unwrap().len(), 2);
    // Attached, it cannot be deleted.
    bad_request(svc.call("DELETE", &format!("/v2/{{p}}/cloudvolumes/{v}"), None).await);

    let r = detach(&svc, &server, &v).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(svc.job_ok(r.body["job_id"].as_str().unwrap()).await["job_type"], "detachVolume");
    assert_eq!(volume(&svc, &v).await["status"], "available");
    assert!(vm_disks(&svc, &server).await.is_empty(), "unplugged");
    svc.get(&format!("/v1/{{p}}/cloudservers/{server}/block_device/{v}")).await.assert_error(400, "Ecs.0005");

    let r = svc.call("DELETE", &format!("/v2/{{p}}/cloudvolumes/{v}"), None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let job = svc.job_ok(r.body["job_id"].as_str().unwrap()).await;
    assert_eq!(
        (job["job_type"].as_str(), job["entities"]["volume_id"].as_str()),
        (Some("deleteVolume"), Some(v.as_str()))
    );
    svc.get(&format!("/v2/{{p}}/cloudvolumes/{v}")).await.assert_error_nova(404);
    assert!(!crate::store::sim_state(svc.data_dir()).await.disks.contains_key(&v), "its disk is gone");
}

#[tokio::test]
async fn a_stopped_server_gets_its_new_disk_at_the_next_start_in_device_order() {
    let svc = Svc::start().await;
    let server = svc.server("a", IMAGE_PLAIN, None).await;
    svc.power(&server, "os-stop").await;
    let vs = volumes(&svc, 20, 2, false).await;
    let r = attach(&svc, &server, &vs[0], Some("/dev/sdc")).await;
    svc.job_ok(r.body["job_id"].as_str().unwrap()).await;
    let r = attach(&svc, &server, &vs[1], None).await;
    svc.job_ok(r.body["job_id"].as_str().unwrap()).await;
    let att = svc.get(&format!("/v1/{{p}}/cloudservers/{server}/os-volume_attachments")).await.body;
    let devices: Vec<(&str, &str)> = att["volumeAttachments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["volumeId"].as_str().unwrap(), a["device"].as_str().unwrap()))
        .collect();
    assert!(devices.contains(&(vs[0].as_str(), "/dev/vdc")), "/dev/sdX is taken as /dev/vdX: {devices:?}");
    assert!(devices.contains(&(vs[1].as_str(), "/dev/vdb")), "the first free device: {devices:?}");
    assert_eq!(svc.show(&server).await["status"], "SHUTOFF");
    svc.power(&server, "os-start").await;
    let vm = crate::store::sim_state(svc.data_dir()).await.vms.remove(&server).unwrap();
    assert_eq!(vm.data_disks, [vs[1].clone(), vs[0].clone()], "started with them, in device order");
    let quota = svc.get(&format!("/v1/{{p}}/cloudservers/{server}/appendvolumequota")).await.body;
    assert_eq!(quota["free_blk"], 21);
}

#[tokio::test]
async fn whether_a_disk_goes_with_its_server_can_be_changed() {
    let svc = Svc::start().await;
    let server = svc.server("a", IMAGE_PLAIN, None).await;
    let vs = volumes(&svc, 10, 2, false).await;
    for v in &vs {
        let r = attach(&svc, &server, v, None).await;
        svc.job_ok(r.body["job_id"].as_str().unwrap()).await;
    }
    let r = put(&svc, &server, &vs[0], json!({"block_device": {"delete_on_termination": true}})).await;
    assert_eq!(r.status, 204, "{}", r.body);
    let attached = svc.show(&server).await["os-extended-volumes:volumes_attached"].clone();
    let flag = |id: &str| {
        attached.as_array().unwrap().iter().find(|a| a["id"] == id).unwrap()["delete_on_termination"].clone()
    };
    assert_eq!((flag(&vs[0]), flag(&vs[1])), (json!("true"), json!("false")));
    put(&svc, &server, &vs[0], json!({"block_device": {}})).await.assert_error(400, "Ecs.0005");
    put(&svc, &server, &vs[0], json!({"block_device": {"delete_on_termination": "yes"}}))
        .await
        .assert_error(400, "Ecs.0005");
    let system = Svc::boot_volume(&svc.show(&server).await);
    put(&svc, &server, &system, json!({"block_device": {"delete_on_termination": false}}))
        .await
        .assert_error(400, "Ecs.0005");
    put(
        &svc,
        &server,
        "0d0e0f10-0000-4000-8000-000000000000",
        json!({"block_device": {"delete_on_termination": true}}),
    )
    .await
    .assert_error(400, "Ecs.0005");

    // Deleted with its server: the first volume goes, the second stays, detached.
    let r = svc.post("/v1/{p}/cloudservers/delete", json!({"servers": [{"id": server}]})).await;
    svc.job_ok(r.body["job_id"].as_str().unwrap()).await;
    svc.get(&format!("/v2/{{p}}/cloudvolumes/{}", vs[0])).await.assert_error_nova(404);
    assert_eq!(volume(&svc, &vs[1]).await["status"], "available");
}

#[tokio::test]
async fn delete_volume_true_deletes_every_data_disk_with_the_server() {
    let svc = Svc::start().await;
    let mut body = svc.create_body("d", IMAGE_PLAIN, None, 1).await;
    body["server"]["data_volumes"] = json!([{"volumetype": "SSD", "size": 10}]);
    let r = svc.post("/v1/{p}/cloudservers", body).await;
    let server = r.body["serverIds"][0].as_str().unwrap().to_string();
    svc.job_ok(r.body["job_id"].as_str().unwrap()).await;
    let kept = volumes(&svc, 10, 1, false).await.remove(0);
    let r = attach(&svc, &server, &kept, None).await;
    svc.job_ok(r.body["job_id"].as_str().unwrap()).await;
    let r = svc.post("/v1/{p}/cloudservers/delete", json!({"servers": [{"id": server}], "delete_volume": true})).await;
    svc.job_ok(r.body["job_id"].as_str().unwrap()).await;
    assert_eq!(svc.get("/v2/{p}/cloudvolumes/detail").await.body["count"], 0, "no volume is left");
    assert!(crate::store::sim_state(svc.data_dir()).await.disks.is_empty(), "and no disk");
}

#[tokio::test]
async fn attaching_and_detaching_refuse_what_cannot_be_done() {
    let svc = Svc::start().await;
    let a = svc.server("a", IMAGE_PLAIN, None).await;
    let b = svc.server("b", IMAGE_PLAIN, None).await;
    let vs = volumes(&svc, 10, 3, false).await;
    let shared = volumes(&svc, 10, 1, true).await.remove(0);
    let missing = "0d0e0f10-0000-4000-8000-000000000000";
    let ok = attach(&svc, &a, &vs[0], None).await;
    svc.job_ok(ok.body["job_id"].as_str().unwrap()).await;

    // The body.
    let path = format!("/v1/{{p}}/cloudservers/{a}/attachvolume");
    svc.post(&path, json!({})).await.assert_error(400, "Ecs.0005");
    svc.post(&path, json!({"volumeAttachment": {}})).await.assert_error(400, "Ecs.0005");
    svc.post(&path, json!({"volumeAttachment": {"volumeId": vs[1], "hw:passthrough": "true"}}))
        .await
        .assert_error(400, "Ecs.0005");
    svc.raw("POST", &path.replace("{p}", PROJECT), b"").await.assert_error(400, "Common.0002");
    // The volume: unknown, attached here, attached elsewhere, shared on a second server.
    attach(&svc, &a, missing, None).await.assert_error(400, "Ecs.0005");
    attach(&svc, &a, &vs[0], None).await.assert_error(400, "Ecs.0005");
    attach(&svc, &b, &vs[0], None).await.assert_error(400, "Ecs.0005");
    let r = attach(&svc, &a, &shared, None).await;
    svc.job_ok(r.body["job_id"].as_str().unwrap()).await;
    attach(&svc, &b, &shared, None).await.assert_error(400, "Ecs.0005");
    // The device: taken, invalid, the system disk's place on a server that has one.
    attach(&svc, &a, &vs[1], Some("/dev/vdb")).await.assert_error(400, "Ecs.0005");
    attach(&svc, &a, &vs[1], Some("/dev/xvdz")).await.assert_error(400, "Ecs.0005");
    attach(&svc, &a, &vs[1], Some("/dev/vda")).await.assert_error(400, "Ecs.0005");
    // The server: unknown, another project's, locked.
    attach(&svc, missing, &vs[1], None).await.assert_error(404, "Ecs.0114");
    attach(&svc.as_other(), &a, &vs[1], None).await.assert_error(404, "Ecs.0114");
    let r = svc.post(&format!("/v2.1/{{p}}/servers/{b}/action"), json!({"lock": null})).await;
    assert!(r.status < 300, "{}", r.body);
    attach(&svc, &b, &vs[1], None).await.assert_error(400, "Ecs.0605");
    detach(&svc, &b, &Svc::boot_volume(&svc.show(&b).await)).await.assert_error(400, "Ecs.0605");
    // A dry run checks and changes nothing.
    let r = svc.post(&path, json!({"volumeAttachment": {"volumeId": vs[1]}, "dry_run": true})).await;
    assert_eq!(r.status, 202, "{}", r.body);
    assert_eq!(volume(&svc, &vs[1]).await["status"], "available");

    // Detach: not attached here, the system disk of a running server, a bad flag, unknown server.
    detach(&svc, &a, &vs[1]).await.assert_error(400, "Ecs.0005");
    detach(&svc, &a, &Svc::boot_volume(&svc.show(&a).await)).await.assert_error(400, "Ecs.0100");
    svc.call("DELETE", &format!("/v1/{{p}}/cloudservers/{a}/detachvolume/{}?delete_flag=2", vs[0]), None)
        .await
        .assert_error(400, "Ecs.0005");
    detach(&svc, missing, &vs[0]).await.assert_error(404, "Ecs.0114");
    // Nothing above changed anything.
    assert_eq!(volume(&svc, &vs[0]).await["attachments"][0]["server_id"], a.as_str());
    assert_eq!(vm_disks(&svc, &a).await.len(), 2);
    let forced =
        svc.call("DELETE", &format!("/v1/{{p}}/cloudservers/{a}/detachvolume/{}?delete_flag=1", vs[0]), None).await;
    assert_eq!(forced.status, 200, "{}", forced.body);
    svc.job_ok(forced.body["job_id"].as_str().unwrap()).await;
}

#[tokio::test]
async fn a_busy_server_refuses_disk_changes_and_a_stopped_one_swaps_its_system_disk() {
    let svc = Svc::start_with_step(std::time::Duration::from_millis(300)).await;
    let a = svc.server("a", IMAGE_PLAIN, None).await;
    let mut vs = volumes(&svc, 10, 2, false).await;
    let (v, other) = (vs.remove(0), vs.remove(0));
    let r = attach(&svc, &a, &v, None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    // While the attach runs, the server and the volume are busy.
    assert_eq!(svc.show(&a).await["OS-EXT-STS:task_state"], "attaching_volume");
    assert_eq!(volume(&svc, &v).await["status"], "attaching");
    attach(&svc, &a, &other, None).await.assert_error(400, "Ecs.0100");
    bad_request(svc.call("DELETE", &format!("/v2/{{p}}/cloudvolumes/{v}"), None).await);
    svc.job_ok(r.body["job_id"].as_str().unwrap()).await;

    // The system disk comes off a stopped server only, and goes back on as /dev/vda.
    svc.power(&a, "os-stop").await;
    let system = Svc::boot_volume(&svc.show(&a).await);
    let r = detach(&svc, &a, &system).await;
    assert_eq!(r.status, 200, "{}", r.body);
    svc.job_ok(r.body["job_id"].as_str().unwrap()).await;
    let s = svc.show(&a).await;
    assert!(s["os-extended-volumes:volumes_attached"].as_array().unwrap().iter().all(|d| d["bootIndex"] != "0"));
    let r = svc
        .post(&format!("/v1/{{p}}/cloudservers/{a}/reinstallos"), json!({"os-reinstall": {"adminpass": "!QAZxsw2"}}))
        .await;
    r.assert_error(400, "Ecs.0105");
    let r = attach(&svc, &a, &system, Some("/dev/vda")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    svc.job_ok(r.body["job_id"].as_str().unwrap()).await;
    assert_eq!(Svc::boot_volume(&svc.show(&a).await), system);
    svc.power(&a, "os-start").await;
    assert_eq!(svc.show(&a).await["status"], "ACTIVE");
}

#[tokio::test]
async fn the_disk_service_refuses_what_it_cannot_create() {
    let svc = Svc::start().await;
    let good = json!({"availability_zone": "cn-north-4a", "size": 10, "volume_type": "SSD"});
    let with = |k: &str, v: Value| {
        let mut b = good.clone();
        b[k] = v;
        json!({"volume": b})
    };
    for body in [
        json!({}),
        with("size", json!(9)),
        with("size", json!(32769)),
        with("volume_type", json!("FAST")),
        with("availability_zone", json!("mars-1a")),
        with("count", json!(0)),
        with("count", json!(101)),
        with("imageRef", json!(IMAGE_PLAIN)),
        with("name", json!("n".repeat(256))),
        json!({"volume": good, "server_id": "0d0e0f10-0000-4000-8000-000000000000"}),
        json!({"volume": good, "bssParam": {"chargingMode": "prePaid"}}),
    ] {
        let r = svc.post("/v2/{p}/cloudvolumes", body.clone()).await;
        assert_eq!(r.status, 400, "{body}: {}", r.body);
        assert_eq!(r.body["badRequest"]["code"], 400, "{body}: {}", r.body);
    }
    // A malformed body is answered in the disk service's own shape, as its other refusals are.
    let r = svc.post("/v2/{p}/cloudvolumes", json!({"volume": {"size": "ten"}})).await;
    assert_eq!((r.status, r.body["badRequest"]["code"].as_i64()), (400, Some(400)), "{}", r.body);
    let r = svc.raw("POST", &format!("/v2/{PROJECT}/cloudvolumes"), b"").await;
    assert_eq!((r.status, r.body["badRequest"]["code"].as_i64()), (400, Some(400)), "an empty body: {}", r.body);
    assert_eq!(svc.get("/v2/{p}/cloudvolumes/detail").await.body["count"], 0, "nothing was created");
    svc.call("DELETE", "/v2/{p}/cloudvolumes/0d0e0f10-0000-4000-8000-000000000000", None).await.assert_error_nova(404);
    let v = volumes(&svc, 10, 1, false).await.remove(0);
    svc.as_other().call("DELETE", &format!("/v2/{{p}}/cloudvolumes/{v}"), None).await.assert_error_nova(404);
}
