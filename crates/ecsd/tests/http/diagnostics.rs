//! `actions/trigger-crash-dump` and `remote_console`: an NMI reaches a running guest (its console
//! shows it); a console is refused in documented words where there is none; and a
//! server that is stopped, busy, locked or unknown is refused with nothing sent.

use crate::client::*;
use serde_json::json;
use std::time::Duration;

fn dump(id: &str) -> String {
    format!("/v1/{{p}}/cloudservers/{id}/actions/trigger-crash-dump")
}

/// How many NMIs the server's guest has logged on its console.
async fn nmis_logged(svc: &Svc, id: &str) -> usize {
    let r = svc.get(&format!("/v1/{{p}}/cloudservers/{id}/console-output?length=-1")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body["output"].as_str().unwrap().matches("NMI received").count()
}

#[tokio::test]
async fn a_running_guest_gets_the_nmi_and_logs_it_and_anything_else_is_refused() {
    let svc = Svc::start().await;
    let id = svc.server("dump", IMAGE_PLAIN, None).await;
    assert_eq!(nmis_logged(&svc, &id).await, 0);
    let r = svc.post(&dump(&id), json!({})).await;
    assert_eq!((r.status, &r.body), (200, &json!({})), "{}", r.body);
    assert_eq!(nmis_logged(&svc, &id).await, 1);
    // The SDK sends no body at all.
    let r = svc.call("POST", &dump(&id), None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(nmis_logged(&svc, &id).await, 2);
    assert_eq!(svc.show(&id).await["status"], "ACTIVE", "the server is left as it was");

    // Stopped: refused, and the guest that is not running gets nothing.
    assert_eq!(svc.power(&id, "os-stop").await["status"], "SUCCESS");
    svc.post(&dump(&id), json!({})).await.assert_error(400, "Ecs.0100");
    assert_eq!(nmis_logged(&svc, &id).await, 2);
    assert_eq!(svc.power(&id, "os-start").await["status"], "SUCCESS");

    // Locked: refused as such.
    assert_eq!(svc.post(&format!("/v2.1/{{p}}/servers/{id}/action"), json!({"lock": null})).await.status, 202);
    svc.post(&dump(&id), json!({})).await.assert_error(400, "Ecs.0605");
    assert_eq!(svc.post(&format!("/v2.1/{{p}}/servers/{id}/action"), json!({"unlock": null})).await.status, 202);

    // Unknown, or not a server id at all.
    svc.post(&dump("6a6b4b4e-0e3a-4c38-9b64-000000000000"), json!({})).await.assert_error(404, "Ecs.0114");
    svc.post(&dump("not-a-server"), json!({})).await.assert_error(404, "Ecs.0114");
    // The boot after the stop has logged none of the earlier NMIs again.
    let r = svc.get(&format!("/v1/{{p}}/cloudservers/{id}/console-output?length=5")).await;
    assert!(!r.body["output"].as_str().unwrap().contains("NMI"), "{}", r.body);
}

#[tokio::test]
async fn a_server_under_an_operation_is_refused() {
    let svc = Svc::start_with_step(Duration::from_millis(400)).await;
    let id = svc.server("dump-busy", IMAGE_PLAIN, None).await;
    let r = svc.post("/v1/{p}/cloudservers/action", json!({"reboot": {"type": "SOFT", "servers": [{"id": id}]}})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    svc.post(&dump(&id), json!({})).await.assert_error(400, "Ecs.0100");
    svc.job_ok(r.body["job_id"].as_str().unwrap()).await;
    assert_eq!(nmis_logged(&svc, &id).await, 0);
}

fn console(id: &str) -> String {
    format!("/v1/{{p}}/cloudservers/{id}/remote_console")
}

#[tokio::test]
async fn a_remote_console_is_refused_in_the_documented_words_where_there_is_none() {
    let svc = Svc::start().await;
    let id = svc.server("console", IMAGE_PLAIN, None).await;
    let vnc = json!({"remote_console": {"protocol": "vnc", "type": "novnc"}});
    // The simulated driver's servers have no display: a named refusal pointing at the log.
    let r = svc.post(&console(&id), vnc.clone()).await;
    r.assert_error(400, "Ecs.0000");
    let msg = r.body["error"]["message"].as_str().unwrap();
    assert!(msg.contains("qemu driver") && msg.contains("ShowServerConsoleOutput"), "{msg}");
    for bad in [
        json!({}),
        json!({"remote_console": {"protocol": "serial", "type": "novnc"}}),
        json!({"remote_console": {"protocol": "vnc", "type": "xvpvnc"}}),
        json!({"remote_console": {"protocol": "vnc"}}),
    ] {
        svc.post(&console(&id), bad.clone()).await.assert_error(400, "Ecs.0005");
    }
    // No body, or one that is not JSON, is refused in the same shape.
    svc.call("POST", &console(&id), None).await.assert_error(400, "Common.0002");
    let path = console(&id).replace("{p}", &svc.project);
    svc.raw("POST", &path, b"{not json").await.assert_error(400, "Ecs.0005");
    svc.post(&console("6a6b4b4e-0e3a-4c38-9b64-000000000000"), vnc.clone()).await.assert_error(404, "Ecs.0114");
    assert_eq!(svc.power(&id, "os-stop").await["status"], "SUCCESS");
    svc.post(&console(&id), vnc).await.assert_error(400, "Ecs.0100");

    // A console URL needs no signature, only its token; an unknown one opens nothing.
    let r = reqwest::get(format!("{}/console/vnc/{}", svc.base, "0".repeat(64))).await.unwrap();
    assert_eq!(r.status(), 404);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "Ecs.0000", "{body}");
}
