//! `change-network-interface`: a stopped server's primary NIC takes a new address in its
//! subnet, the old one is free again, and every refusal changes nothing; and a NIC's
//! `delete_on_termination` (`PUT .../os-interface/{port_id}`).

use crate::client::*;
use serde_json::{json, Value};

fn path(id: &str, port: &str) -> String {
    format!("/v1/{{p}}/cloudservers/{id}/os-interface/{port}/change-network-interface")
}

/// The primary NIC's (port, address) as the server shows it.
fn primary(s: &Value) -> (String, String) {
    let a = s["addresses"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|l| l.as_array().unwrap().clone())
        .find(|a| a["primary"] == true)
        .unwrap();
    (a["OS-EXT-IPS:port_id"].as_str().unwrap().into(), a["addr"].as_str().unwrap().into())
}

#[tokio::test]
async fn a_stopped_servers_primary_nic_takes_a_new_address_and_frees_the_old() {
    let svc = Svc::start().await;
    let (_, subnet) = svc.network().await;
    let id = svc.server("readdress", IMAGE_PLAIN, None).await;
    let (port, old) = primary(&svc.show(&id).await);

    // Running: refused, nothing changed.
    let r = svc.post(&path(&id, &port), json!({"subnet_id": subnet, "ip_address": "192.168.50.50"})).await;
    r.assert_error(400, "Ecs.0100");
    assert_eq!(primary(&svc.show(&id).await).1, old);

    assert_eq!(svc.power(&id, "os-stop").await["status"], "SUCCESS");
    let cidr =
        svc.get(&format!("/v1/{{p}}/subnets/{subnet}")).await.body["subnet"]["cidr"].as_str().unwrap().to_string();
    let prefix: Vec<&str> = cidr.split('.').collect();
    let wanted = format!("{}.{}.77.77", prefix[0], prefix[1]);
    let r = svc.post(&path(&id, &port), json!({"subnet_id": subnet, "ip_address": wanted})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!((r.body["id"].as_str(), r.body["ip_address"].as_str()), (Some(port.as_str()), Some(wanted.as_str())));
    assert_eq!(primary(&svc.show(&id).await), (port.clone(), wanted.clone()));
    // The VPC view agrees (the port's address is the server's).
    let p = svc.get(&format!("/v1/{{p}}/ports/{port}")).await;
    assert_eq!(p.body["port"]["fixed_ips"][0]["ip_address"], wanted.as_str(), "{}", p.body);

    // The old address is free: another server may take it.
    let mut body = svc.create_body("takes-old", IMAGE_PLAIN, None, 1).await;
    body["server"]["nics"][0]["ip_address"] = json!(old);
    let c = svc.post("/v1/{p}/cloudservers", body).await;
    assert_eq!(c.status, 200, "the old address is free again: {}", c.body);
    let other = c.body["serverIds"][0].as_str().unwrap().to_string();
    svc.job_ok(c.body["job_id"].as_str().unwrap()).await;

    // Empty: any free address. The other server's address is refused as in use.
    let r = svc.post(&path(&id, &port), json!({"subnet_id": subnet, "ip_address": ""})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let any = r.body["ip_address"].as_str().unwrap().to_string();
    assert!(any != wanted && any != old, "{any}");
    let r = svc.post(&path(&id, &port), json!({"subnet_id": subnet, "ip_address": old})).await;
    r.assert_error(400, "Ecs.0005");
    assert_eq!(primary(&svc.show(&id).await).1, any, "a refused change keeps the address");
    assert_eq!(primary(&svc.show(&other).await).1, old);
}

#[tokio::test]
async fn every_refusal_names_what_is_wrong_and_changes_nothing() {
    let svc = Svc::start().await;
    let (_, subnet) = svc.network().await;
    let id = svc.server("refused", IMAGE_PLAIN, None).await;
    assert_eq!(svc.power(&id, "os-stop").await["status"], "SUCCESS");
    let (port, ip) = primary(&svc.show(&id).await);
    let other_subnet = "6a6b4b4e-0e3a-4c38-9b64-000000000000";
    let cases = [
        (path(&id, other_subnet), json!({"subnet_id": subnet, "ip_address": ""}), "Ecs.0005"),
        (path(&id, &port), json!({"subnet_id": subnet}), "Ecs.0005"),
        (path(&id, &port), json!({"ip_address": ""}), "Ecs.0005"),
        (path(&id, &port), json!({"subnet_id": other_subnet, "ip_address": ""}), "Ecs.0005"),
        (path(&id, &port), json!({"subnet_id": subnet, "ip_address": "10.255.255.255"}), "Ecs.0005"),
        (path(&id, &port), json!({"subnet_id": subnet, "ip_address": ip}), "Ecs.0005"),
        (path(&id, &port), json!({"subnet_id": subnet, "ipv6_address": "fd00::1"}), "Ecs.0005"),
        (path(other_subnet, &port), json!({"subnet_id": subnet, "ip_address": ""}), "Ecs.0114"),
    ];
    for (p, body, code) in cases {
        let r = svc.post(&p, body.clone()).await;
        let status = if code == "Ecs.0114" { 404 } else { 400 };
        r.assert_error(status, code);
        assert!(!r.body["error"]["message"].as_str().unwrap_or_default().is_empty(), "{body}");
    }
    assert_eq!(primary(&svc.show(&id).await), (port, ip), "nothing changed");
}

#[tokio::test]
async fn a_nics_delete_on_termination_can_be_set_to_what_it_is_and_no_further() {
    let svc = Svc::start().await;
    let id = svc.server("dot", IMAGE_PLAIN, None).await;
    let (port, _) = primary(&svc.show(&id).await);
    let path = format!("/v1/{{p}}/cloudservers/{id}/os-interface/{port}");
    let r = svc.call("PUT", &path, Some(json!({"interface_attachment": {"delete_on_termination": true}}))).await;
    assert_eq!((r.status, &r.body), (200, &json!({})), "{}", r.body);
    let listed = svc.get(&format!("/v1/{{p}}/cloudservers/{id}/os-interface")).await;
    assert_eq!(listed.body["interfaceAttachments"][0]["delete_on_termination"], true, "{}", listed.body);

    // Keeping the port is refused, saying why; so are a missing field, another port, a lock.
    let r = svc.call("PUT", &path, Some(json!({"interface_attachment": {"delete_on_termination": false}}))).await;
    r.assert_error(400, "Ecs.0000");
    assert!(r.body["error"]["message"].as_str().unwrap().contains("delete_on_termination false"), "{}", r.body);
    for bad in [json!({}), json!({"interface_attachment": {}})] {
        svc.call("PUT", &path, Some(bad)).await.assert_error(400, "Ecs.0005");
    }
    svc.call("PUT", &path, None).await.assert_error(400, "Common.0002");
    svc.raw("PUT", &path.replace("{p}", &svc.project), b"[1]").await.assert_error(400, "Ecs.0005");
    let other = format!("/v1/{{p}}/cloudservers/{id}/os-interface/6a6b4b4e-0e3a-4c38-9b64-000000000001");
    let on = json!({"interface_attachment": {"delete_on_termination": true}});
    svc.call("PUT", &other, Some(on.clone())).await.assert_error(400, "Ecs.0005");
    let missing = format!("/v1/{{p}}/cloudservers/6a6b4b4e-0e3a-4c38-9b64-000000000000/os-interface/{port}");
    svc.call("PUT", &missing, Some(on.clone())).await.assert_error(404, "Ecs.0114");
    assert_eq!(svc.post(&format!("/v2.1/{{p}}/servers/{id}/action"), json!({"lock": null})).await.status, 202);
    svc.call("PUT", &path, Some(on)).await.assert_error(400, "Ecs.0605");
}
