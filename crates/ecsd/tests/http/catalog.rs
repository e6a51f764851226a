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
