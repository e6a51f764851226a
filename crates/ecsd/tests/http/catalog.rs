//! Images (IMS), flavors, VPCs and subnets.

use crate::client::*;

#[tokio::test]
async fn the_image_catalog_has_images_with_and_without_cloud_init() {
    let svc = Svc::start().await;
    let r = svc.get("/v2/cloudimages").await;
    assert_eq!(r.status, 200);
    let imgs = r.body["images"].as_array().unwrap();
    assert!(imgs.len() >= 4);
    assert!(imgs.iter().any(|i| i["__is_config_init"] == "true"));
    assert!(imgs.iter().any(|i| i["__is_config_init"] == "false"));
    for i in imgs {
        assert_eq!(i["__os_type"], "Linux");
        assert_eq!(i["__os_bit"], "64");
        assert!(i["min_disk"].is_i64(), "min_disk is an integer");
        assert!(i["__platform"].is_string());
        assert_eq!(i["status"], "active");
    }
    let ubuntu = svc.get("/v2/cloudimages?__platform=Ubuntu").await.body["images"].as_array().unwrap().len();
    assert_eq!(ubuntu, 2);
    // Marker pagination.
    let p1 = svc.get("/v2/cloudimages?limit=2").await.body;
    assert_eq!(p1["images"].as_array().unwrap().len(), 2);
    let marker = p1["page_info"]["next_marker"].as_str().unwrap();
    assert_eq!(marker, p1["images"][1]["id"]);
    let p2 = svc.get(&format!("/v2/cloudimages?limit=2&marker={marker}")).await.body;
    assert_ne!(p2["images"][0]["id"], p1["images"][0]["id"]);
    // Glance-style show.
    let one = svc.get(&format!("/v2/images/{IMAGE_PLAIN}")).await;
    assert_eq!(one.status, 200);
    assert_eq!(one.body["__is_config_init"], "false");
    assert_eq!(svc.get("/v2/images/00000000-0000-4000-8000-000000000000").await.status, 404);
}

#[tokio::test]
async fn flavors_have_the_sdk_types() {
    let svc = Svc::start().await;
    let r = svc.get("/v1/{p}/cloudservers/flavors").await;
    let f = &r.body["flavors"][0];
    assert!(f["vcpus"].is_string() && f["disk"].is_string() && f["swap"].is_string());
    assert!(f["ram"].is_i64());
    assert!(f["os_extra_specs"]["ecs:performancetype"].is_string());
    assert_eq!(f["OS-FLV-DISABLED:disabled"], false);
    let one = svc.get("/v1/{p}/cloudservers/flavors?flavor_id=s6.large.2").await;
    assert_eq!(one.body["flavors"].as_array().unwrap().len(), 1);
    assert_eq!(one.body["flavors"][0]["vcpus"], "2");
}

#[tokio::test]
async fn each_project_has_its_own_default_vpc_and_subnet() {
    let svc = Svc::start().await;
    let (vpc, subnet) = svc.network().await;
    let other = svc.as_other();
    let (vpc2, subnet2) = other.network().await;
    assert_ne!(vpc, vpc2);
    assert_ne!(subnet, subnet2);
    let s = svc.get(&format!("/v1/{{p}}/subnets/{subnet}")).await.body;
    assert_eq!(s["subnet"]["vpc_id"], vpc);
    assert_eq!(s["subnet"]["dhcp_enable"], true);
    assert_eq!(s["subnet"]["cidr"], "192.168.0.0/16");
    assert_eq!(svc.get(&format!("/v1/{{p}}/vpcs/{vpc}")).await.body["vpc"]["cidr"], "192.168.0.0/16");
    // Another project's VPC is invisible.
    assert_eq!(svc.get(&format!("/v1/{{p}}/vpcs/{vpc2}")).await.status, 404);
}

#[tokio::test]
async fn sell_policies_are_pay_per_use_in_every_zone_and_page_by_marker() {
    let svc = Svc::start().await;
    let flavors = svc.get("/v1/{p}/cloudservers/flavors").await.body["flavors"].as_array().unwrap().len();
    let zones = svc.get("/v1/{p}/availability-zones").await.body["availability_zones"].as_array().unwrap().len();
    let all = svc.get("/v1/{p}/cloudservers/flavor-sell-policies").await;
    assert_eq!(all.status, 200, "{}", all.body);
    assert_eq!(all.body["count"], (flavors * zones) as i64);
    let p = &all.body["sell_policies"][0];
    assert_eq!((p["sell_mode"].as_str(), p["sell_status"].as_str()), (Some("postPaid"), Some("available")), "{p}");
    assert!(p["id"].is_i64());

    let one = svc.get("/v1/{p}/cloudservers/flavor-sell-policies?flavor_id=s6.small.1").await;
    let got = one.body["sell_policies"].as_array().unwrap();
    assert_eq!(got.len(), zones);
    assert!(got.iter().all(|p| p["flavor_id"] == "s6.small.1"));
    let z = got[1]["availability_zone_id"].as_str().unwrap().to_string();
    let in_zone = svc.get(&format!("/v1/{{p}}/cloudservers/flavor-sell-policies?availability_zone_id={z}")).await;
    assert_eq!(in_zone.body["count"], flavors as i64);

    // Pages: the marker is the last id seen; the pages together are the whole list.
    let first = svc.get("/v1/{p}/cloudservers/flavor-sell-policies?limit=2").await;
    let ids: Vec<i64> =
        first.body["sell_policies"].as_array().unwrap().iter().map(|p| p["id"].as_i64().unwrap()).collect();
    assert_eq!(ids.len(), 2);
    assert_eq!(first.body["count"], (flavors * zones) as i64, "count is of every page");
    let next = svc.get(&format!("/v1/{{p}}/cloudservers/flavor-sell-policies?limit=2&marker={}", ids[1])).await;
    assert_eq!(next.body["sell_policies"][0]["id"], all.body["sell_policies"][2]["id"]);

    // Modes not offered have no policies; bad values are refused.
    for m in ["prePaid", "spot", "ri"] {
        let r = svc.get(&format!("/v1/{{p}}/cloudservers/flavor-sell-policies?sell_mode={m}")).await;
        assert_eq!((r.status, r.body["count"].as_i64()), (200, Some(0)), "{m}: {}", r.body);
    }
    let sold_out = svc.get("/v1/{p}/cloudservers/flavor-sell-policies?sell_status=sellout").await;
    assert_eq!(sold_out.body["count"], 0, "a node alone never sells out");
    for q in ["sell_mode=yearly", "sell_status=gone", "limit=0", "limit=1001", "marker=x"] {
        svc.get(&format!("/v1/{{p}}/cloudservers/flavor-sell-policies?{q}")).await.assert_error(400, "Ecs.0005");
    }
}
