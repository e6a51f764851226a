//! Disks, read side: block devices, attachments and the appendable quota of a server, and the
//! disk service's volumes.

use crate::client::*;
use serde_json::json;

#[tokio::test]
async fn a_servers_disks_are_listed_in_every_shape() {
    let svc = Svc::start().await;
    let mut body = svc.create_body("d", IMAGE_PLAIN, None, 1).await;
    body["server"]["data_volumes"] = json!([{"volumetype": "SSD", "size": 10}]);
    let r = svc.post("/v1/{p}/cloudservers", body).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let id = r.body["serverIds"][0].as_str().unwrap().to_string();
    svc.job_ok(r.body["job_id"].as_str().unwrap()).await;
    let bd = svc.get(&format!("/v1/{{p}}/cloudservers/{id}/block_device")).await;
    assert_eq!(bd.status, 200, "{}", bd.body);
    let devs = bd.body["volumeAttachments"].as_array().unwrap();
    assert_eq!(devs.len(), 2);
    assert_eq!((devs[0]["bootIndex"].as_i64(), devs[1]["bootIndex"].as_i64()), (Some(0), Some(-1)));
    assert_eq!(devs[1]["size"], 10);
    assert_eq!(devs[1]["serverId"], id.as_str());
    assert_eq!(devs[1]["bus"], "virtio");
    assert!(devs[1]["pciAddress"].as_str().is_some_and(|p| p.starts_with("0000:")));
    assert_eq!(bd.body["attachableQuantity"]["free_blk"], 22);
    let att = svc.get(&format!("/v1/{{p}}/cloudservers/{id}/os-volume_attachments")).await.body;
    assert_eq!(att["volumeAttachments"][1]["volumeId"], devs[1]["volumeId"]);
    assert_eq!(att["volumeAttachments"][1]["device"], "/dev/vdb");
    let quota = svc.get(&format!("/v1/{{p}}/cloudservers/{id}/appendvolumequota")).await.body;
    assert_eq!(
        (quota["free_blk"].as_i64(), quota["free_scsi"].as_i64(), quota["count"].as_i64()),
        (Some(22), Some(0), Some(22))
    );
    let summary = svc.get("/v2/{p}/cloudvolumes").await.body;
    assert_eq!(summary["volumes"].as_array().unwrap().len(), 2);
    let by_server = svc.get(&format!("/v2/{{p}}/cloudvolumes/detail?server_id={id}&limit=1")).await.body;
    assert_eq!((by_server["count"].as_i64(), by_server["volumes"].as_array().unwrap().len()), (Some(2), 1));
    let available = svc.get("/v2/{p}/cloudvolumes/detail?status=available").await.body;
    assert_eq!(available["count"], 0);
}

#[tokio::test]
async fn unknown_disks_and_servers_are_refused_in_their_services_shapes() {
    let svc = Svc::start().await;
    let id = svc.server("d", IMAGE_PLAIN, None).await;
    let missing = "0d0e0f10-0000-4000-8000-000000000000";
    svc.get(&format!("/v2/{{p}}/cloudvolumes/{missing}")).await.assert_error_nova(404);
    svc.get(&format!("/v1/{{p}}/cloudservers/{id}/block_device/{missing}")).await.assert_error(400, "Ecs.0005");
    for path in ["block_device", "os-volume_attachments", "appendvolumequota"] {
        svc.get(&format!("/v1/{{p}}/cloudservers/{missing}/{path}")).await.assert_error(404, "Ecs.0114");
    }
    svc.get("/v2/{p}/cloudvolumes/detail?limit=0").await.assert_error(400, "Ecs.0005");
    svc.get("/v2/{p}/cloudvolumes/detail?ids=notjson").await.assert_error(400, "Ecs.0005");
    // Another project's disk answers as a missing one.
    let vol = svc.show(&id).await["os-extended-volumes:volumes_attached"][0]["id"].as_str().unwrap().to_string();
    let other = svc.as_other();
    other.get(&format!("/v2/{{p}}/cloudvolumes/{vol}")).await.assert_error_nova(404);
    assert_eq!(other.get("/v2/{p}/cloudvolumes/detail").await.body["count"], 0);
}
