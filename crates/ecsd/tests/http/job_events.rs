//! `GET /ecsd/v1/{project_id}/jobs/{job_id}/events`: a job's steps, as a list and as a live
//! stream of server-sent events.

use crate::client::*;
use serde_json::{json, Value};
use std::time::{Duration, SystemTime};

/// The reinstall saga's steps, in order.
const REINSTALL: [&str; 7] =
    ["stop_server", "new_disk_id", "create_disk", "inject", "swap_disk", "boot", "delete_old_disk"];

fn events_path(job: &str) -> String {
    format!("/ecsd/v1/{{p}}/jobs/{job}/events")
}

/// One server-sent event: its name and its data as JSON.
#[derive(Debug)]
struct Sse {
    event: String,
    data: Value,
}

/// Follows a job's event stream to its end (bounded: a minute), and returns every event.
async fn follow(svc: &Svc, job: &str) -> Vec<Sse> {
    let path = events_path(job).replace("{p}", &svc.project);
    let mut h = svc.signed_headers("GET", &path, None, b"", SystemTime::now());
    h.insert("accept", "text/event-stream".parse().unwrap());
    let mut rb = svc.http.get(format!("{}{}", svc.base, path));
    for (k, v) in h.iter().filter(|(k, _)| *k != "host") {
        rb = rb.header(k.as_str(), v.as_bytes());
    }
    let mut r = rb.send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/event-stream"));
    let mut text = String::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while let Ok(Some(chunk)) = tokio::time::timeout_at(deadline, r.chunk()).await.expect("the stream did not end") {
        text.push_str(std::str::from_utf8(&chunk).unwrap());
    }
    text.split("\n\n")
        .filter_map(|block| {
            let field = |name: &str| {
                block.lines().find_map(|l| l.strip_prefix(&format!("{name}:")).map(|v| v.trim_start().to_string()))
            };
            Some(Sse { event: field("event")?, data: serde_json::from_str(&field("data")?).unwrap() })
        })
        .collect()
}

fn step_events(stream: &[Sse]) -> Vec<(String, String)> {
    stream
        .iter()
        .filter(|e| e.event == "step")
        .map(|e| (e.data["event"].as_str().unwrap().to_string(), e.data["step"].as_str().unwrap().to_string()))
        .collect()
}

#[tokio::test]
async fn a_reinstall_streams_every_step_in_order_from_acceptance_to_success() {
    let svc = Svc::start_with_step(Duration::from_millis(60)).await;
    let kp = svc.keypair("k").await;
    let id = svc.server("s", IMAGE_PLAIN, Some("k")).await;
    let job = svc.reinstall(&id, "k", &kp["user_id"]).await.body["job_id"].as_str().unwrap().to_string();
    let stream = follow(&svc, &job).await;

    let expected: Vec<(String, String)> = REINSTALL
        .iter()
        .flat_map(|s| [("started".to_string(), s.to_string()), ("succeeded".to_string(), s.to_string())])
        .collect();
    assert_eq!(step_events(&stream), expected);
    // Numbered 1, 2, 3... in the job's log, each with its time.
    for (i, e) in stream.iter().filter(|e| e.event == "step").enumerate() {
        assert_eq!(e.data["seq"], i as i64 + 1);
        assert_eq!(e.data["job_id"], job.as_str());
        assert_eq!(e.data["time"].as_str().unwrap().len(), 24, "{}", e.data);
    }
    let statuses: Vec<&str> =
        stream.iter().filter(|e| e.event == "status").map(|e| e.data["status"].as_str().unwrap()).collect();
    assert_eq!(statuses.last(), Some(&"SUCCESS"));
    assert!(statuses.len() >= 2, "saw the job before it ended: {statuses:?}");
    let end = stream.last().unwrap();
    assert_eq!(end.event, "end");
    assert_eq!(end.data["status"], "SUCCESS");
    assert_eq!(end.data["steps"].as_array().unwrap().len(), REINSTALL.len());

    // Read afterwards as a list, the same steps, each started before it ended, in order.
    let r = svc.get(&events_path(&job)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["status"], "SUCCESS");
    assert_eq!(r.body["job_type"], "reinstallOs");
    let steps = r.body["steps"].as_array().unwrap();
    let names: Vec<&str> = steps.iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(names, REINSTALL);
    let mut previous_end = String::new();
    for s in steps {
        assert_eq!(s["status"], "SUCCESS", "{s}");
        assert_eq!(s["attempts"], 1);
        assert!(s["error"].is_null() && s["undo"].is_null());
        let (start, end) = (s["started_at"].as_str().unwrap(), s["ended_at"].as_str().unwrap());
        assert!(previous_end.as_str() <= start && start <= end, "{s}");
        previous_end = end.to_string();
    }
    // The Huawei job view is what it was.
    let job_view = svc.get(&format!("/v1/{{p}}/jobs/{job}")).await.body;
    assert!(job_view.get("steps").is_none() && job_view["status"] == "SUCCESS");
}

#[tokio::test]
async fn an_injected_failure_shows_the_failed_step_and_its_undo_steps() {
    let svc = Svc::start().await;
    let kp = svc.keypair("k").await;
    let id = svc.server("s", IMAGE_PLAIN, Some("k")).await;
    let fault = json!({"operation": "reinstallOs", "step": "boot", "action": "fail", "error_code": "Ecs.0101",
        "message": "The new system disk did not boot.", "times": 1});
    assert_eq!(svc.post("/ecsd-admin/v1/faults", fault).await.status, 201);
    let job = svc.reinstall(&id, "k", &kp["user_id"]).await.body["job_id"].as_str().unwrap().to_string();
    let stream = follow(&svc, &job).await;
    let steps = step_events(&stream);
    let failed = steps.iter().position(|e| *e == ("failed".into(), "boot".into())).expect("boot failed");
    // After the failure, every step that began is undone, latest first (the failed one too: it
    // may have done part of its work).
    let undone: Vec<&str> =
        steps[failed + 1..].iter().filter(|(e, _)| e == "undo_finished").map(|(_, s)| s.as_str()).collect();
    let begun: Vec<&str> = REINSTALL[..=5].iter().rev().copied().collect();
    assert_eq!(undone, begun);
    let fail = stream.iter().find(|e| e.event == "step" && e.data["event"] == "failed").unwrap();
    assert_eq!(fail.data["error"]["code"], "Ecs.0101");
    assert_eq!(fail.data["error"]["message"], "The new system disk did not boot.");
    let end = stream.last().unwrap();
    assert_eq!((end.event.as_str(), end.data["status"].as_str()), ("end", Some("FAIL")));
    let by_name = |n: &str| end.data["steps"].as_array().unwrap().iter().find(|s| s["name"] == n).unwrap().clone();
    assert_eq!(by_name("boot")["status"], "FAIL");
    assert_eq!(by_name("boot")["error"]["code"], "Ecs.0101");
    assert_eq!(by_name("swap_disk")["status"], "UNDONE");
    assert_ne!(by_name("swap_disk")["undo"]["ended_at"], "");
    assert_eq!(by_name("swap_disk")["undo"]["attempts"], 1);
    assert_eq!(end.data["steps"].as_array().unwrap().len(), 6, "the last step never began");
}

#[tokio::test]
async fn a_batch_streams_the_steps_of_each_sub_job() {
    let svc = Svc::start_with_step(Duration::from_millis(30)).await;
    let a = svc.server("a", IMAGE_PLAIN, None).await;
    let b = svc.server("b", IMAGE_PLAIN, None).await;
    let r = svc.post("/v1/{p}/cloudservers/action", json!({"os-stop": {"servers": [{"id": a}, {"id": b}]}})).await;
    let job = r.body["job_id"].as_str().unwrap().to_string();
    let stream = follow(&svc, &job).await;
    let end = stream.last().unwrap();
    assert_eq!(end.event, "end");
    assert_eq!(end.data["status"], "SUCCESS");
    let subs = end.data["sub_jobs"].as_array().unwrap();
    assert_eq!(subs.len(), 2);
    for sub in subs {
        let sub_id = sub["job_id"].as_str().unwrap();
        assert_eq!(sub["status"], "SUCCESS");
        assert!(!sub["steps"].as_array().unwrap().is_empty());
        let streamed = stream.iter().filter(|e| e.event == "step" && e.data["job_id"] == sub_id).count();
        assert_eq!(streamed, sub["events"].as_array().unwrap().len(), "every entry of {sub_id} was streamed");
        assert!(stream
            .iter()
            .any(|e| e.event == "status" && e.data["job_id"] == sub_id && e.data["status"] == "SUCCESS"));
    }
}

#[tokio::test]
async fn another_projects_or_an_unknown_job_has_no_events_and_the_call_is_signed() {
    let svc = Svc::start().await;
    let id = svc.server("s", IMAGE_PLAIN, None).await;
    let r = svc.post("/v1/{p}/cloudservers/action", json!({"os-stop": {"servers": [{"id": id}]}})).await;
    let job = r.body["job_id"].as_str().unwrap().to_string();
    svc.as_other().get(&events_path(&job)).await.assert_error(400, "Common.0011");
    svc.get(&events_path("ff80808288d41e1b018990260955686a")).await.assert_error(400, "Common.0011");
    // The caller's credential with another project in the path.
    svc.get(&format!("/ecsd/v1/{OTHER_PROJECT}/jobs/{job}/events")).await.assert_error(400, "Ecs.0023");
    let unsigned = svc.http.get(format!("{}/ecsd/v1/{PROJECT}/jobs/{job}/events", svc.base)).send().await.unwrap();
    assert_eq!(unsigned.status(), 401);
}
