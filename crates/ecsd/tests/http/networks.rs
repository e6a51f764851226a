//! Ports, security groups and rules (VPC v1), and a server's groups through Nova.

use crate::client::*;
use serde_json::{json, Value};

/// Asserts a VPC error: `{"code": ..., "message": ...}` with this status.
fn assert_vpc_error(r: &Resp, status: u16, code: &str) {
    assert_eq!(r.status, status, "body: {}", r.body);
    assert_eq!(r.body["code"], code, "body: {}", r.body);
    assert!(r.body["message"].as_str().is_some_and(|m| !m.is_empty()), "body: {}", r.body);
}

/// Asserts a Nova error: `{"<fault>": {"code": status, "message": ...}}`.
fn assert_nova_error(r: &Resp, status: u16, fault: &str) {
    assert_eq!(r.status, status, "body: {}", r.body);
    assert_eq!(r.body[fault]["code"], status, "body: {}", r.body);
}

async fn group(svc: &Svc, name: &str) -> Value {
    let r = svc.post("/v1/{p}/security-groups", json!({"security_group": {"name": name}})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body["security_group"].clone()
}

async fn default_group(svc: &Svc) -> Value {
    let r = svc.get("/v1/{p}/security-groups").await;
    r.body["security_groups"].as_array().unwrap().iter().find(|g| g["name"] == "default").cloned().expect("default")
}

#[tokio::test]
async fn every_address_a_server_shows_has_a_port_that_goes_with_it() {
    let svc = Svc::start().await;
    let (_, subnet) = svc.network().await;
    let id = svc.server("web", IMAGE_PLAIN, None).await;
    let s = svc.show(&id).await;
    let addr = s["addresses"].as_object().unwrap().values().next().unwrap()[0].clone();
    let port_id = addr["OS-EXT-IPS:port_id"].as_str().unwrap();
    let r = svc.get(&format!("/v1/{{p}}/ports/{port_id}")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let p = &r.body["port"];
    assert_eq!(p["device_id"], id);
    assert_eq!(p["network_id"], subnet, "network_id is the subnet the server was created in");
    assert_eq!(p["fixed_ips"][0]["ip_address"], addr["addr"]);
    assert_eq!(p["mac_address"], addr["OS-EXT-IPS-MAC:mac_addr"]);
    assert_eq!(p["device_owner"], format!("compute:{}", s["OS-EXT-AZ:availability_zone"].as_str().unwrap()));
    assert_eq!(p["status"], "ACTIVE");
    assert_eq!(p["admin_state_up"], true);
    assert_eq!(p["security_groups"], json!([s["security_groups"][0]["id"]]));
    assert!(p["allowed_address_pairs"].as_array().unwrap().is_empty());
    assert!(p["binding:vif_details"]["primary_interface"].is_boolean());
    // Terraform's lookup by server, and the other filters.
    let l = svc.get(&format!("/v1/{{p}}/ports?device_id={id}&limit=100")).await;
    assert_eq!(l.body["ports"].as_array().unwrap().len(), 1);
    let ip = addr["addr"].as_str().unwrap();
    let l = svc.get(&format!("/v1/{{p}}/ports?fixed_ips=ip_address%3D{ip}")).await;
    assert_eq!(l.body["ports"][0]["id"], port_id);
    let l = svc.get("/v1/{p}/ports?device_id=00000000-0000-4000-8000-000000000000").await;
    assert!(l.body["ports"].as_array().unwrap().is_empty());
    assert_vpc_error(&svc.get("/v1/{p}/ports?fixed_ips=nonsense").await, 400, "VPC.2500");
    assert_vpc_error(&svc.get("/v1/{p}/ports?marker=nope").await, 400, "VPC.2500");
    // ECS and Nova interfaces name the same port.
    let i = svc.get(&format!("/v1/{{p}}/cloudservers/{id}/os-interface")).await;
    assert_eq!(i.body["interfaceAttachments"][0]["port_id"], port_id);
    let i = svc.get(&format!("/v2.1/{{p}}/servers/{id}/os-interface/{port_id}")).await;
    assert_eq!(i.body["interfaceAttachment"]["mac_addr"], addr["OS-EXT-IPS-MAC:mac_addr"]);
    // Another project's port answers as missing.
    assert_vpc_error(&svc.as_other().get(&format!("/v1/{{p}}/ports/{port_id}")).await, 404, "VPC.2501");
    assert!(svc.as_other().get("/v1/{p}/ports").await.body["ports"].as_array().unwrap().is_empty());
    // Deleting the server deletes its port.
    let r = svc.post("/v1/{p}/cloudservers/delete", json!({"servers": [{"id": id}]})).await;
    svc.job_ok(r.body["job_id"].as_str().unwrap()).await;
    assert_vpc_error(&svc.get(&format!("/v1/{{p}}/ports/{port_id}")).await, 404, "VPC.2501");
    assert_vpc_error(&svc.get("/v1/{p}/ports/not-a-uuid").await, 404, "VPC.2501");
}

#[tokio::test]
async fn servers_get_the_default_group_or_the_groups_named_and_an_unknown_one_creates_nothing() {
    let svc = Svc::start().await;
    let d = default_group(&svc).await;
    let rules = d["security_group_rules"].as_array().unwrap();
    assert_eq!(rules.len(), 4, "{d}");
    assert!(rules.iter().any(|r| r["direction"] == "ingress" && r["remote_group_id"] == d["id"]));
    let id = svc.server("plain", IMAGE_PLAIN, None).await;
    assert_eq!(svc.show(&id).await["security_groups"], json!([{"id": d["id"], "name": "default"}]));

    let web = group(&svc, "web").await;
    let mut body = svc.create_body("named", IMAGE_PLAIN, None, 1).await;
    body["server"]["security_groups"] = json!([{"id": web["id"]}]);
    let r = svc.post("/v1/{p}/cloudservers", body.clone()).await;
    svc.job_ok(r.body["job_id"].as_str().unwrap()).await;
    let named = r.body["serverIds"][0].as_str().unwrap();
    assert_eq!(svc.show(named).await["security_groups"], json!([{"id": web["id"], "name": "web"}]));

    let before = svc.get("/v1/{p}/cloudservers/detail").await.body["count"].clone();
    body["server"]["security_groups"] = json!([{"id": "6f1e0a4e-0000-4000-8000-000000000000"}]);
    svc.post("/v1/{p}/cloudservers", body.clone()).await.assert_error(400, "Ecs.0005");
    let other = svc.as_other();
    let theirs = group(&other, "theirs").await;
    body["server"]["security_groups"] = json!([{"id": theirs["id"]}]);
    svc.post("/v1/{p}/cloudservers", body).await.assert_error(400, "Ecs.0005");
    assert_eq!(svc.get("/v1/{p}/cloudservers/detail").await.body["count"], before, "nothing was created");
}

#[tokio::test]
async fn security_groups_are_created_listed_and_deleted_unless_in_use() {
    let svc = Svc::start().await;
    let (vpc, _) = svc.network().await;
    let r = svc.post("/v1/{p}/security-groups", json!({"security_group": {"name": "db", "vpc_id": vpc}})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let db = r.body["security_group"].clone();
    assert_eq!(db["vpc_id"], vpc);
    let egress: Vec<&Value> = db["security_group_rules"].as_array().unwrap().iter().collect();
    assert_eq!(egress.len(), 2);
    assert!(egress.iter().all(|r| r["direction"] == "egress" && r["protocol"].is_null()));
    let db_id = db["id"].as_str().unwrap();
    assert_eq!(svc.get(&format!("/v1/{{p}}/security-groups/{db_id}")).await.body["security_group"]["name"], "db");
    // Paging and the VPC filter.
    let all = svc.get("/v1/{p}/security-groups").await.body["security_groups"].as_array().unwrap().len();
    assert_eq!(all, 2);
    let first = svc.get("/v1/{p}/security-groups?limit=1").await.body["security_groups"][0]["id"].clone();
    let next = svc.get(&format!("/v1/{{p}}/security-groups?limit=1&marker={}", first.as_str().unwrap())).await;
    assert_eq!(next.body["security_groups"][0]["id"], db["id"]);
    assert_vpc_error(&svc.get("/v1/{p}/security-groups?limit=x").await, 400, "VPC.0601");
    assert_vpc_error(&svc.get("/v1/{p}/security-groups?marker=gone").await, 400, "VPC.0601");
    // Refusals change nothing.
    for bad in [
        json!({}),
        json!({"security_group": {}}),
        json!({"security_group": {"name": "a b"}}),
        json!({"security_group": {"name": "default"}}),
        json!({"security_group": {"name": "x", "vpc_id": "00000000-0000-4000-8000-000000000000"}}),
    ] {
        assert_vpc_error(&svc.post("/v1/{p}/security-groups", bad).await, 400, "VPC.0601");
    }
    assert_eq!(svc.get("/v1/{p}/security-groups").await.body["security_groups"].as_array().unwrap().len(), 2);
    // In use by a server: refused until the server lets go of it.
    let id = svc.server("s", IMAGE_PLAIN, None).await;
    let r = svc.post(&format!("/v2.1/{{p}}/servers/{id}/action"), json!({"addSecurityGroup": {"name": "db"}})).await;
    assert_eq!(r.status, 202, "{}", r.body);
    assert_vpc_error(&svc.call("DELETE", &format!("/v1/{{p}}/security-groups/{db_id}"), None).await, 409, "VPC.0602");
    let d = default_group(&svc).await;
    let r = svc.call("DELETE", &format!("/v1/{{p}}/security-groups/{}", d["id"].as_str().unwrap()), None).await;
    assert_vpc_error(&r, 409, "VPC.0602");
    assert_vpc_error(
        &svc.as_other().call("DELETE", &format!("/v1/{{p}}/security-groups/{db_id}"), None).await,
        404,
        "VPC.0603",
    );
    assert_vpc_error(&svc.as_other().get(&format!("/v1/{{p}}/security-groups/{db_id}")).await, 404, "VPC.0603");
    let r =
        svc.post(&format!("/v2.1/{{p}}/servers/{id}/action"), json!({"removeSecurityGroup": {"name": db_id}})).await;
    assert_eq!(r.status, 202, "{}", r.body);
    assert_eq!(svc.call("DELETE", &format!("/v1/{{p}}/security-groups/{db_id}"), None).await.status, 204);
    assert_vpc_error(&svc.get(&format!("/v1/{{p}}/security-groups/{db_id}")).await, 404, "VPC.0603");
}

#[tokio::test]
async fn rules_are_checked_added_shown_and_deleted() {
    let svc = Svc::start().await;
    let web = group(&svc, "web").await;
    let gid = web["id"].as_str().unwrap();
    let ssh = json!({"security_group_rule": {"security_group_id": gid, "direction": "ingress", "protocol": "tcp",
        "port_range_min": 22, "port_range_max": 22, "remote_ip_prefix": "0.0.0.0/0", "description": "ssh"}});
    let r = svc.post("/v1/{p}/security-group-rules", ssh.clone()).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let rule = r.body["security_group_rule"].clone();
    assert_eq!((rule["ethertype"].as_str(), rule["port_range_min"].as_i64()), (Some("IPv4"), Some(22)));
    let rid = rule["id"].as_str().unwrap();
    assert_vpc_error(&svc.post("/v1/{p}/security-group-rules", ssh).await, 409, "VPC.0604");
    let bad = json!({"security_group_rule": {"security_group_id": gid, "direction": "sideways"}});
    assert_vpc_error(&svc.post("/v1/{p}/security-group-rules", bad).await, 400, "VPC.0601");
    let bad = json!({"security_group_rule": {"security_group_id": gid, "direction": "ingress", "protocol": "tcp",
        "port_range_min": 90, "port_range_max": 80}});
    assert_vpc_error(&svc.post("/v1/{p}/security-group-rules", bad).await, 400, "VPC.0601");
    let missing = json!({"security_group_rule": {"security_group_id": "00000000-0000-4000-8000-000000000000",
        "direction": "ingress"}});
    assert_vpc_error(&svc.post("/v1/{p}/security-group-rules", missing).await, 404, "VPC.0603");
    assert_vpc_error(
        &svc.raw("POST", &format!("/v1/{}/security-group-rules", svc.project), b"{").await,
        400,
        "VPC.0601",
    );
    let listed = svc.get(&format!("/v1/{{p}}/security-group-rules?security_group_id={gid}")).await;
    assert_eq!(listed.body["security_group_rules"].as_array().unwrap().len(), 3, "two egress rules and ssh");
    assert_eq!(
        svc.get(&format!("/v1/{{p}}/security-group-rules/{rid}")).await.body["security_group_rule"]["description"],
        "ssh"
    );
    assert_vpc_error(&svc.as_other().get(&format!("/v1/{{p}}/security-group-rules/{rid}")).await, 404, "VPC.0603");
    assert_vpc_error(
        &svc.as_other().call("DELETE", &format!("/v1/{{p}}/security-group-rules/{rid}"), None).await,
        404,
        "VPC.0603",
    );
    assert_eq!(svc.call("DELETE", &format!("/v1/{{p}}/security-group-rules/{rid}"), None).await.status, 204);
    assert_vpc_error(&svc.get(&format!("/v1/{{p}}/security-group-rules/{rid}")).await, 404, "VPC.0603");
}

#[tokio::test]
async fn nova_adds_and_removes_groups_keeping_the_server_and_its_port_in_step() {
    let svc = Svc::start().await;
    let web = group(&svc, "web").await;
    let id = svc.server("s", IMAGE_PLAIN, None).await;
    let action = format!("/v2.1/{{p}}/servers/{id}/action");
    let r = svc.post(&action, json!({"addSecurityGroup": {"name": "web"}})).await;
    assert_eq!((r.status, &r.body), (202, &Value::Null));
    let s = svc.show(&id).await;
    let names: Vec<&str> =
        s["security_groups"].as_array().unwrap().iter().map(|g| g["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["default", "web"]);
    let port_id = s["addresses"].as_object().unwrap().values().next().unwrap()[0]["OS-EXT-IPS:port_id"].clone();
    let port = svc.get(&format!("/v1/{{p}}/ports/{}", port_id.as_str().unwrap())).await.body;
    assert_eq!(port["port"]["security_groups"].as_array().unwrap().len(), 2);
    let nova = svc.get(&format!("/v2.1/{{p}}/servers/{id}/os-security-groups")).await;
    assert_eq!(nova.status, 200);
    let groups = nova.body["security_groups"].as_array().unwrap();
    assert_eq!(groups.len(), 2);
    assert_eq!(groups[0]["rules"].as_array().unwrap().len(), 2, "the default group's ingress rules");
    assert_eq!(groups[0]["rules"][0]["group"]["name"], "default");
    // Refusals, in Nova's shapes, change nothing.
    assert_nova_error(&svc.post(&action, json!({"addSecurityGroup": {"name": "web"}})).await, 400, "badRequest");
    assert_nova_error(&svc.post(&action, json!({"addSecurityGroup": {"name": "nope"}})).await, 404, "itemNotFound");
    assert_nova_error(&svc.post(&action, json!({"addSecurityGroup": {}})).await, 400, "badRequest");
    let other = svc.as_other();
    assert_nova_error(
        &other.post(&action, json!({"addSecurityGroup": {"name": "default"}})).await,
        404,
        "itemNotFound",
    );
    assert_nova_error(&other.get(&format!("/v2.1/{{p}}/servers/{id}/os-security-groups")).await, 404, "itemNotFound");
    assert_eq!(svc.show(&id).await["security_groups"], s["security_groups"]);
    let r = svc.post(&action, json!({"removeSecurityGroup": {"name": web["id"]}})).await;
    assert_eq!(r.status, 202, "{}", r.body);
    assert_nova_error(&svc.post(&action, json!({"removeSecurityGroup": {"name": "web"}})).await, 400, "badRequest");
    assert_eq!(svc.show(&id).await["security_groups"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_port_update_turns_off_the_source_check_as_terraform_does_and_refuses_bad_fields() {
    let svc = Svc::start().await;
    let web = group(&svc, "web").await;
    let id = svc.server("s", IMAGE_PLAIN, None).await;
    let s = svc.show(&id).await;
    let port_id = s["addresses"].as_object().unwrap().values().next().unwrap()[0]["OS-EXT-IPS:port_id"]
        .as_str()
        .unwrap()
        .to_string();
    let path = format!("/v1/{{p}}/ports/{port_id}");
    let r = svc
        .call("PUT", &path, Some(json!({"port": {"name": "eth0", "allowed_address_pairs": [{"ip_address": "1.1.1.1/0"}],
            "security_groups": [web["id"]], "extra_dhcp_opts": [{"opt_name": "ntp-server", "opt_value": "10.0.0.1"}]}})))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let p = &r.body["port"];
    assert_eq!(p["name"], "eth0");
    assert_eq!(p["allowed_address_pairs"][0]["ip_address"], "1.1.1.1/0");
    assert_eq!(p["allowed_address_pairs"][0]["mac_address"], p["mac_address"]);
    assert_eq!(p["security_groups"], json!([web["id"]]));
    assert_eq!(svc.show(&id).await["security_groups"], json!([{"id": web["id"], "name": "web"}]));
    for bad in [
        json!({"port": {"allowed_address_pairs": [{"ip_address": "0.0.0.0/0"}]}}),
        json!({"port": {"allowed_address_pairs": [{"mac_address": "fa:16:3e:00:00:01"}]}}),
        json!({"port": {"security_groups": ["00000000-0000-4000-8000-000000000000"]}}),
        json!({"port": {"extra_dhcp_opts": [{"opt_name": "x"}]}}),
        json!({"port": {"name": 5}}),
        json!({}),
    ] {
        assert_vpc_error(&svc.call("PUT", &path, Some(bad)).await, 400, "VPC.2500");
    }
    let after = svc.get(&path).await.body;
    assert_eq!(after["port"]["name"], "eth0", "refused updates changed nothing");
    assert_eq!(after["port"]["security_groups"], json!([web["id"]]));
    let r = svc.as_other().call("PUT", &path, Some(json!({"port": {"name": "x"}}))).await;
    assert_vpc_error(&r, 404, "VPC.2501");
}
