//! Server groups: create, list, show, delete, members (one at a time and in batches), the
//! scheduler hint at create, the group quota in the limits, and anti-affinity across the
//! nodes of one PostgreSQL database, where a scheduled deletion is carried out once (skipped,
//! with a notice, where PostgreSQL is missing).

use crate::client::*;
use crate::process::{kill, start_with};
use ecs_store::pg_cluster::Cluster;
use serde_json::{json, Value};

const GROUPS: &str = "/v1/{p}/cloudservers/os-server-groups";

fn group_path(id: &str) -> String {
    format!("{GROUPS}/{id}")
}

async fn new_group(svc: &Svc, name: &str) -> String {
    let r = svc.post(GROUPS, json!({"server_group": {"name": name, "policies": ["anti-affinity"]}})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let g = &r.body["server_group"];
    assert_eq!(
        (g["name"].as_str(), &g["policies"], &g["members"]),
        (Some(name), &json!(["anti-affinity"]), &json!([]))
    );
    assert!(g["metadata"].is_object(), "{g}");
    g["id"].as_str().unwrap().to_string()
}

async fn members(svc: &Svc, id: &str) -> Value {
    let r = svc.get(&group_path(id)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body["server_group"]["members"].clone()
}

/// A create of one server in group `group`; the answer as it comes.
async fn create_in(svc: &Svc, name: &str, group: &str) -> Resp {
    let mut body = svc.create_body(name, IMAGE_PLAIN, None, 1).await;
    body["server"]["os:scheduler_hints"] = json!({"group": group});
    svc.post("/v1/{p}/cloudservers", body).await
}

async fn server_in(svc: &Svc, name: &str, group: &str) -> String {
    let r = create_in(svc, name, group).await;
    assert_eq!(r.status, 200, "{}", r.body);
    svc.job_ok(r.body["job_id"].as_str().unwrap()).await;
    r.body["serverIds"][0].as_str().unwrap().to_string()
}

async fn server_count(svc: &Svc) -> u64 {
    svc.get("/v1/{p}/cloudservers/detail").await.body["count"].as_u64().unwrap()
}

#[tokio::test]
async fn groups_keep_their_members_from_create_to_delete() {
    let svc = Svc::start().await;
    let gid = new_group(&svc, "web").await;
    let limits = svc.get("/v1/{p}/cloudservers/limits").await.body;
    assert_eq!(
        (&limits["absolute"]["totalServerGroupsUsed"], &limits["absolute"]["maxServerGroups"]),
        (&json!(1), &json!(10)),
        "{limits}"
    );

    // A server created in the group is a member at once; on one host, a second one is too.
    let a = server_in(&svc, "a", &gid).await;
    assert_eq!(svc.show(&a).await["os:scheduler_hints"], json!({"group": [gid]}));
    let b = server_in(&svc, "b", &gid).await;
    assert_eq!(members(&svc, &gid).await, json!([a, b]));

    // A group that does not exist is refused, and nothing is created.
    let before = server_count(&svc).await;
    create_in(&svc, "c", "6a6b4b4e-0e3a-4c38-9b64-00000000dead").await.assert_error(400, "Ecs.0005");
    assert_eq!(server_count(&svc).await, before);

    // Members leave and join one at a time, and in batches, all or none.
    let action = format!("{}/action", group_path(&gid));
    let r = svc.post(&action, json!({"remove_member": {"instance_uuid": b}})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    svc.post(&action, json!({"remove_member": {"instance_uuid": b}})).await.assert_error(400, "Ecs.0005");
    let r = svc.post(&action, json!({"add_member": {"instance_uuid": b}})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    svc.post(&action, json!({"add_member": {"instance_uuid": b}})).await.assert_error(400, "Ecs.0005");
    svc.post(&action, json!({})).await.assert_error(400, "Ecs.0005");
    svc.post(&action, json!({"add_member": {}})).await.assert_error(400, "Ecs.0005");
    let missing = "6a6b4b4e-0e3a-4c38-9b64-00000000beef";
    svc.post(&action, json!({"add_member": {"instance_uuid": missing}})).await.assert_error(404, "Ecs.0114");
    let remove = format!("{}/remove_members", group_path(&gid));
    let add = format!("{}/add_members", group_path(&gid));
    let r = svc.post(&remove, json!({"server_ids": [a, b]})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["status"], "success");
    assert_eq!(r.body["servers"][1], json!({"server_id": b, "status": "success"}));
    assert_eq!(members(&svc, &gid).await, json!([]));
    svc.post(&add, json!({"server_ids": [a, missing]})).await.assert_error(404, "Ecs.0114");
    assert_eq!(members(&svc, &gid).await, json!([]), "all or none");
    svc.post(&add, json!({"server_ids": [a, a]})).await.assert_error(400, "Ecs.0005");
    svc.post(&add, json!({})).await.assert_error(400, "Ecs.0005");
    assert_eq!(svc.post(&add, json!({"server_ids": [a, b]})).await.status, 200);
    // A server is in one group at most.
    let other = new_group(&svc, "other").await;
    let r = svc.post(&format!("{}/add_members", group_path(&other)), json!({"server_ids": [a]})).await;
    r.assert_error(400, "Ecs.0005");

    // Reads: the list pages by marker; another project's group is missing.
    let r = svc.get(&format!("{GROUPS}?limit=1")).await;
    assert_eq!(r.body["server_groups"].as_array().unwrap().len(), 1, "{}", r.body);
    assert_eq!(r.body["page_info"]["next_marker"], json!(gid));
    let r = svc.get(&format!("{GROUPS}?marker={gid}")).await;
    assert_eq!(r.body["server_groups"][0]["id"], json!(other), "{}", r.body);
    assert_eq!(r.body["page_info"]["next_marker"], Value::Null);
    svc.as_other().get(&group_path(&gid)).await.assert_error(404, "Ecs.0114");
    svc.get(&group_path(missing)).await.assert_error(404, "Ecs.0114");

    // A deleted server leaves its group; a deleted group leaves its members in none.
    let r = svc.post("/v1/{p}/cloudservers/delete", json!({"servers": [{"id": b}]})).await;
    svc.job_ok(r.body["job_id"].as_str().unwrap()).await;
    assert_eq!(members(&svc, &gid).await, json!([a]));
    assert_eq!(svc.call("DELETE", &group_path(&gid), None).await.status, 204);
    svc.call("DELETE", &group_path(&gid), None).await.assert_error(404, "Ecs.0114");
    svc.get(&group_path(&gid)).await.assert_error(404, "Ecs.0114");
    assert_eq!(svc.show(&a).await["status"], "ACTIVE");
    let r = svc.post(&format!("{}/add_members", group_path(&other)), json!({"server_ids": [a]})).await;
    assert_eq!(r.status, 200, "{}", r.body);
}

#[tokio::test]
async fn bad_groups_are_refused_and_the_quota_holds() {
    let svc = Svc::start().await;
    for body in [
        json!({}),
        json!({"server_group": {"policies": ["anti-affinity"]}}),
        json!({"server_group": {"name": "", "policies": ["anti-affinity"]}}),
        json!({"server_group": {"name": "x".repeat(256), "policies": ["anti-affinity"]}}),
        json!({"server_group": {"name": "g"}}),
        json!({"server_group": {"name": "g", "policies": []}}),
        json!({"server_group": {"name": "g", "policies": ["affinity"]}}),
        json!({"server_group": {"name": "g", "policies": ["soft-anti-affinity"]}}),
    ] {
        let r = svc.post(GROUPS, body.clone()).await;
        assert_eq!((r.status, r.body["error"]["code"].as_str()), (400, Some("Ecs.0005")), "{body}: {}", r.body);
    }
    assert_eq!(svc.get(GROUPS).await.body["server_groups"], json!([]), "nothing was created");
    for i in 0..10 {
        new_group(&svc, &format!("g{i}")).await;
    }
    let r = svc.post(GROUPS, json!({"server_group": {"name": "eleventh", "policies": ["anti-affinity"]}})).await;
    r.assert_error(400, "Ecs.0001");
    assert_eq!(svc.get(GROUPS).await.body["server_groups"].as_array().unwrap().len(), 10);
    svc.get(&format!("{GROUPS}?limit=0")).await.assert_error(400, "Ecs.0005");
}

fn node_args<'a>(url: &'a str, name: &'a str) -> Vec<&'a str> {
    vec![
        "--store",
        url,
        "--node-name",
        name,
        "--lease-ms",
        "3000",
        "--heartbeat-ms",
        "300",
        "--host-vcpus",
        "64",
        "--host-memory-mib",
        "65536",
    ]
}

/// Two nodes on one database: members of an anti-affinity group land on distinct hosts; once
/// every host runs one, a create in the group is refused, and an existing server does not join
/// where a member runs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anti_affinity_spreads_members_over_the_nodes_and_refuses_when_none_is_left() {
    let Some(cluster) = Cluster::shared() else { return };
    let url = cluster.fresh_database();
    let dir = tempfile::tempdir().unwrap();
    let (mut n1, banner) = start_with(&dir.path().join("n1"), &SDK_ENV, &node_args(&url, "n1"));
    let (mut n2, _) = start_with(&dir.path().join("n2"), &SDK_ENV, &node_args(&url, "n2"));
    let svc = Svc::remote(&banner["endpoint"], AK, SK, PROJECT);
    let gid = new_group(&svc, "spread").await;
    let a = server_in(&svc, "a", &gid).await;
    let b = server_in(&svc, "b", &gid).await;
    let host = |s: Value| s["OS-EXT-SRV-ATTR:host"].as_str().unwrap_or_default().to_string();
    let (ha, hb) = (host(svc.show(&a).await), host(svc.show(&b).await));
    assert_ne!(ha, hb, "members on distinct hosts");
    let before = server_count(&svc).await;
    let r = create_in(&svc, "c", &gid).await;
    r.assert_error(400, "Ecs.0000");
    assert!(r.body["error"]["message"].as_str().unwrap_or_default().contains("anti-affinity"), "{}", r.body);
    assert_eq!(server_count(&svc).await, before, "nothing created");
    // A server outside the group is placed anywhere, and cannot join it: its host runs a member.
    let c = svc.server("c", IMAGE_PLAIN, None).await;
    let action = format!("{}/action", group_path(&gid));
    svc.post(&action, json!({"add_member": {"instance_uuid": c}})).await.assert_error(400, "Ecs.0005");
    // A member that leaves frees its host.
    assert_eq!(svc.post(&action, json!({"remove_member": {"instance_uuid": a}})).await.status, 200);
    let d = server_in(&svc, "d", &gid).await;
    assert_eq!(host(svc.show(&d).await), ha);
    // A scheduled deletion on a shared database: both nodes' schedulers see it, one deletes it.
    let at = time::OffsetDateTime::now_utc() + std::time::Duration::from_secs(2);
    let at = at.format(time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z")).unwrap();
    let r = svc
        .post(
            &format!("/v1/{{p}}/cloudservers/{c}/actions/update-auto-terminate-time"),
            json!({"auto_terminate_time": at}),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.body);
    let until = std::time::Instant::now() + std::time::Duration::from_secs(15);
    while svc.get(&format!("/v1/{{p}}/cloudservers/{c}")).await.status != 404 {
        assert!(std::time::Instant::now() < until, "deleted at its time");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    kill(&mut n1);
    kill(&mut n2);
}
