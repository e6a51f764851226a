//! NICs added to and removed from a server after its create, through the ECS batch calls and
//! Nova's attach: what the server, its ports and its interfaces show, every refusal (and that
//! it changes nothing), and the console output.

use crate::client::*;
use serde_json::{json, Value};

fn add(id: &str) -> String {
    format!("/v1/{{p}}/cloudservers/{id}/nics")
}

fn delete(id: &str) -> String {
    format!("/v1/{{p}}/cloudservers/{id}/nics/delete")
}

/// The addresses a server shows, in order (the primary first).
fn addresses(s: &Value) -> Vec<(String, String, bool)> {
    let mut out = Vec::new();
    for list in s["addresses"].as_object().unwrap().values() {
        for a in list.as_array().unwrap() {
            out.push((
                a["addr"].as_str().unwrap().to_string(),
                a["OS-EXT-IPS:port_id"].as_str().unwrap().to_string(),
                a["primary"].as_bool().unwrap(),
            ));
        }
    }
    out
}

async fn used_ports(svc: &Svc, server: &str) -> Vec<String> {
    let r = svc.get(&format!("/v1/{{p}}/ports?device_id={server}")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body["ports"].as_array().unwrap().iter().map(|p| p["id"].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn nics_are_added_shown_everywhere_and_deleted_with_their_addresses() {
    let svc = Svc::start().await;
    let (_, subnet) = svc.network().await;
    let id = svc.server("s", IMAGE_PLAIN, None).await;
    let r = svc
        .post(&add(&id), json!({"nics": [{"subnet_id": subnet}, {"subnet_id": subnet, "ip_address": "192.168.0.77"}]}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let job = svc.job_ok(r.body["job_id"].as_str().unwrap()).await;
    assert_eq!(job["job_type"], "batchAddServerNics");

    let s = svc.show(&id).await;
    assert_eq!(s["status"], "ACTIVE");
    let addrs = addresses(&s);
    assert_eq!(addrs.len(), 3, "{}", s["addresses"]);
    assert!(addrs[0].2 && !addrs[1].2 && !addrs[2].2, "the primary first: {addrs:?}");
    assert_eq!(addrs[2].0, "192.168.0.77");
    let added: Vec<String> = addrs[1..].iter().map(|a| a.1.clone()).collect();

    // The ports list, the port itself and both interface lists show every NIC.
    let mut ports = used_ports(&svc, &id).await;
    ports.sort();
    let mut want: Vec<String> = addrs.iter().map(|a| a.1.clone()).collect();
    want.sort();
    assert_eq!(ports, want);
    let port = svc.get(&format!("/v1/{{p}}/ports/{}", added[1])).await;
    assert_eq!(port.body["port"]["fixed_ips"][0]["ip_address"], "192.168.0.77");
    assert_eq!(port.body["port"]["binding:vif_details"]["primary_interface"], false);
    let mac = port.body["port"]["mac_address"].as_str().unwrap().to_string();
    for path in [format!("/v1/{{p}}/cloudservers/{id}/os-interface"), format!("/v2.1/{{p}}/servers/{id}/os-interface")]
    {
        let l = svc.get(&path).await;
        let list = l.body["interfaceAttachments"].as_array().unwrap();
        assert_eq!(list.len(), 3, "{path}: {}", l.body);
        assert!(list.iter().any(|i| i["mac_addr"] == mac.as_str()), "{path}: {}", l.body);
    }
    let n = svc.get(&format!("/v1/{{p}}/cloudservers/{id}/os-interface_extension")).await;
    assert_eq!(n.status, 200, "{}", n.body);
    assert_eq!(n.body["attachableQuantity"]["free_nic"], 2);
    assert_eq!(n.body["interfaceAttachments"].as_array().unwrap().len(), 3);

    // Deleted: gone from the server and the ports, and the fixed address is free again.
    let r = svc.post(&delete(&id), json!({"nics": [{"id": added[1]}]})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(svc.job_ok(r.body["job_id"].as_str().unwrap()).await["job_type"], "batchDeleteServerNics");
    assert_eq!(addresses(&svc.show(&id).await).len(), 2);
    assert_eq!(svc.get(&format!("/v1/{{p}}/ports/{}", added[1])).await.status, 404);
    let again = svc.post(&add(&id), json!({"nics": [{"subnet_id": subnet, "ip_address": "192.168.0.77"}]})).await;
    svc.job_ok(again.body["job_id"].as_str().unwrap()).await;

    // Deleting the server removes every port it had.
    let r = svc.post("/v1/{p}/cloudservers/delete", json!({"servers": [{"id": id}]})).await;
    svc.job_ok(r.body["job_id"].as_str().unwrap()).await;
    assert!(used_ports(&svc, &id).await.is_empty());
}

#[tokio::test]
async fn a_stopped_server_takes_nics_and_nova_attach_answers_the_port() {
    let svc = Svc::start().await;
    let (_, subnet) = svc.network().await;
    let id = svc.server("s", IMAGE_PLAIN, None).await;
    svc.power(&id, "os-stop").await;
    let r = svc
        .post(
            &format!("/v2.1/{{p}}/servers/{id}/os-interface"),
            json!({"interfaceAttachment": {"net_id": subnet, "fixed_ips": [{"ip_address": "192.168.0.50"}]}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let a = &r.body["interfaceAttachment"];
    assert_eq!(a["fixed_ips"][0]["ip_address"], "192.168.0.50");
    assert_eq!((a["net_id"].as_str(), a["port_state"].as_str()), (Some(subnet.as_str()), Some("DOWN")));
    let port = a["port_id"].as_str().unwrap().to_string();
    let shown = svc.get(&format!("/v2.1/{{p}}/servers/{id}/os-interface/{port}")).await;
    assert_eq!(shown.status, 200, "{}", shown.body);
    assert_eq!(shown.body["interfaceAttachment"]["mac_addr"], a["mac_addr"]);
    // Wait for the plug's job to end: the server is free again, and still stopped.
    for _ in 0..100 {
        if svc.show(&id).await["OS-EXT-STS:task_state"].is_null() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let s = svc.show(&id).await;
    assert_eq!((s["status"].as_str(), addresses(&s).len()), (Some("SHUTOFF"), 2));
}

#[tokio::test]
async fn every_refusal_has_its_code_and_changes_nothing() {
    let svc = Svc::start().await;
    let (_, subnet) = svc.network().await;
    let id = svc.server("s", IMAGE_PLAIN, None).await;
    let other = svc.server("t", IMAGE_PLAIN, None).await;
    let taken = svc.show(&other).await["addresses"].as_object().unwrap().values().next().unwrap()[0]["addr"]
        .as_str()
        .unwrap()
        .to_string();
    let primary = addresses(&svc.show(&id).await)[0].1.clone();
    let missing_subnet = "6a6b4b4e-0e3a-4c38-9b64-000000000001";
    let cases = [
        (json!({}), "Ecs.0005"),
        (json!({"nics": []}), "Ecs.0005"),
        (json!({"nics": [{}]}), "Ecs.0005"),
        (json!({"nics": [{"subnet_id": missing_subnet}]}), "Ecs.0005"),
        (json!({"nics": [{"subnet_id": subnet, "port_id": primary}]}), "Ecs.0005"),
        (json!({"nics": [{"subnet_id": subnet, "ipv6_enable": true}]}), "Ecs.0005"),
        (json!({"nics": [{"subnet_id": subnet, "ip_address": "10.0.0.5"}]}), "Ecs.0005"),
        (json!({"nics": [{"subnet_id": subnet, "ip_address": taken}]}), "Ecs.0005"),
        (json!({"nics": [{"subnet_id": subnet, "security_groups": [{"id": missing_subnet}]}]}), "Ecs.0005"),
        (
            json!({"nics": [{"subnet_id": subnet}, {"subnet_id": subnet}, {"subnet_id": subnet}, {"subnet_id": subnet}, {"subnet_id": subnet}]}),
            "Ecs.0005",
        ),
    ];
    let before = svc.show(&id).await;
    let ports_before = svc.get("/v1/{p}/ports").await.body["ports"].as_array().unwrap().len();
    for (body, code) in cases {
        svc.post(&add(&id), body.clone()).await.assert_error(400, code);
    }
    svc.post(&add("6a6b4b4e-0e3a-4c38-9b64-000000000000"), json!({"nics": [{"subnet_id": subnet}]}))
        .await
        .assert_error(404, "Ecs.0114");
    // Another project's server is missing too.
    svc.as_other().post(&add(&id), json!({"nics": [{"subnet_id": subnet}]})).await.assert_error(404, "Ecs.0114");

    // Delete: the primary NIC is refused with 403; a port that is not the server's with 400.
    svc.post(&delete(&id), json!({"nics": [{"id": primary}]})).await.assert_error(403, "Ecs.0003");
    svc.post(&delete(&id), json!({"nics": [{"id": missing_subnet}]})).await.assert_error(400, "Ecs.0005");
    svc.post(&delete(&id), json!({"nics": []})).await.assert_error(400, "Ecs.0005");
    svc.post(&delete(&id), json!({"nics": [{}]})).await.assert_error(400, "Ecs.0005");

    // Nova's attach answers in Nova's shapes.
    let nova = format!("/v2.1/{{p}}/servers/{id}/os-interface");
    let r = svc.post(&nova, json!({"interfaceAttachment": {}})).await;
    assert_eq!((r.status, r.body["badRequest"]["code"].as_i64()), (400, Some(400)), "{}", r.body);
    let r = svc.post(&nova, json!({"interfaceAttachment": {"net_id": missing_subnet}})).await;
    assert_eq!(r.status, 400, "{}", r.body);
    let r = svc
        .post(
            "/v2.1/{p}/servers/6a6b4b4e-0e3a-4c38-9b64-000000000000/os-interface",
            json!({"interfaceAttachment": {"net_id": subnet}}),
        )
        .await;
    r.assert_error_nova(404);

    // Locked: refused as such, in each API.
    assert_eq!(svc.post(&format!("/v2.1/{{p}}/servers/{id}/action"), json!({"lock": null})).await.status, 202);
    svc.post(&add(&id), json!({"nics": [{"subnet_id": subnet}]})).await.assert_error(400, "Ecs.0605");
    let r = svc.post(&nova, json!({"interfaceAttachment": {"net_id": subnet}})).await;
    assert_eq!((r.status, r.body["conflictingRequest"]["code"].as_i64()), (409, Some(409)), "{}", r.body);

    let after = svc.show(&id).await;
    assert_eq!(addresses(&after), addresses(&before));
    assert_eq!(svc.get("/v1/{p}/ports").await.body["ports"].as_array().unwrap().len(), ports_before);
}

#[tokio::test]
async fn a_busy_server_is_refused() {
    let svc = Svc::start_with_step(std::time::Duration::from_millis(400)).await;
    let (_, subnet) = svc.network().await;
    let id = svc.server("s", IMAGE_PLAIN, None).await;
    let first = svc.post(&add(&id), json!({"nics": [{"subnet_id": subnet}]})).await;
    assert_eq!(first.status, 200, "{}", first.body);
    svc.post(&add(&id), json!({"nics": [{"subnet_id": subnet}]})).await.assert_error(400, "Ecs.0100");
    svc.job_ok(first.body["job_id"].as_str().unwrap()).await;
    assert_eq!(addresses(&svc.show(&id).await).len(), 2);
}

#[tokio::test]
async fn the_console_shows_the_boot_log_and_its_last_lines() {
    let svc = Svc::start().await;
    let id = svc.server("s", IMAGE_PLAIN, None).await;
    let path = format!("/v1/{{p}}/cloudservers/{id}/console-output");
    let all = svc.get(&format!("{path}?length=-1")).await;
    assert_eq!(all.status, 200, "{}", all.body);
    let text = all.body["output"].as_str().unwrap();
    assert!(text.contains(&id) && text.contains("Linux version"), "{text}");
    let two = svc.get(&format!("{path}?length=2")).await;
    assert_eq!(two.body["output"].as_str().unwrap().lines().count(), 2, "{}", two.body);
    assert!(svc.get(&path).await.body["output"].as_str().is_some());
    svc.get(&format!("{path}?length=-2")).await.assert_error(400, "Ecs.0005");
    svc.get(&format!("{path}?length=x")).await.assert_error(400, "Ecs.0005");
    svc.get("/v1/{p}/cloudservers/6a6b4b4e-0e3a-4c38-9b64-000000000000/console-output")
        .await
        .assert_error(404, "Ecs.0114");
}

#[tokio::test]
async fn a_virtual_ip_is_an_address_pair_of_the_nic_until_disassociated() {
    let svc = Svc::start().await;
    let (_, subnet) = svc.network().await;
    let id = svc.server("s", IMAGE_PLAIN, None).await;
    let s = svc.show(&id).await;
    let (own, nic) = (addresses(&s)[0].0.clone(), addresses(&s)[0].1.clone());
    let path = format!("/v1/{{p}}/cloudservers/nics/{nic}");
    let r = svc
        .call(
            "PUT",
            &path,
            Some(json!({"nic": {"subnet_id": subnet, "ip_address": "192.168.0.99", "reverse_binding": true}})),
        )
        .await;
    assert_eq!((r.status, r.body["port_id"].as_str()), (200, Some(nic.as_str())), "{}", r.body);
    let pairs = svc.get(&format!("/v1/{{p}}/ports/{nic}")).await.body["port"]["allowed_address_pairs"].clone();
    assert_eq!(pairs[0]["ip_address"], "192.168.0.99", "{pairs}");

    for body in [
        json!({}),
        json!({"nic": {"subnet_id": subnet}}),
        json!({"nic": {"subnet_id": "6a6b4b4e-0e3a-4c38-9b64-000000000001", "ip_address": "192.168.0.98"}}),
        json!({"nic": {"subnet_id": subnet, "ip_address": "10.1.1.1"}}),
        json!({"nic": {"subnet_id": subnet, "ip_address": own}}),
    ] {
        svc.call("PUT", &path, Some(body.clone())).await.assert_error(400, "Ecs.0005");
    }
    svc.call(
        "PUT",
        "/v1/{p}/cloudservers/nics/6a6b4b4e-0e3a-4c38-9b64-000000000000",
        Some(json!({"nic": {"subnet_id": "", "ip_address": ""}})),
    )
    .await
    .assert_error(400, "Ecs.0005");

    let r = svc.call("PUT", &path, Some(json!({"nic": {"subnet_id": "", "ip_address": ""}}))).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let pairs = svc.get(&format!("/v1/{{p}}/ports/{nic}")).await.body["port"]["allowed_address_pairs"].clone();
    assert_eq!(pairs, json!([]));
}
