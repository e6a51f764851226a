//! The audit trail and the saga log's times: what every store keeps and reads back alike.

use super::Backend;
use crate::{Begin, TraceQuery, TraceRecord};
use ecs_model::job::{job_type, Job};
use ecs_saga::{SagaRecord, StepEvent};

fn trace(id: &str, project: &str, time_ms: i64, name: &str, rating: &str) -> TraceRecord {
    TraceRecord {
        trace_id: id.into(),
        project_id: project.into(),
        time_ms,
        service_type: "ECS".into(),
        user_name: "alice".into(),
        resource_type: "ecs".into(),
        resource_id: format!("srv-{id}"),
        resource_name: String::new(),
        trace_name: name.into(),
        trace_rating: rating.into(),
        body: format!("{{\"trace_id\":\"{id}\"}}"),
    }
}

fn ids(rows: &[TraceRecord]) -> Vec<&str> {
    rows.iter().map(|t| t.trace_id.as_str()).collect()
}

pub(super) async fn traces_are_listed_newest_first_per_project_filtered_paged_and_expired(b: &dyn Backend) {
    let st = b.open().await;
    let mut batch: Vec<TraceRecord> = (1..=5)
        .map(|i| {
            trace(&format!("t{i}"), "p1", 100 * i, if i % 2 == 0 { "reinstallOs" } else { "createServer" }, "normal")
        })
        .collect();
    batch.push(trace("t6", "p1", 500, "deleteServer", "warning"));
    batch.push(trace("other", "p2", 300, "createServer", "normal"));
    st.trace_insert(batch.clone()).await.unwrap();
    // Written twice (a batch retried after an unclear failure): kept once.
    st.trace_insert(vec![batch[0].clone()]).await.unwrap();

    let all = TraceQuery { project_id: "p1".into(), from_ms: 0, to_ms: 1_000, limit: 10, ..TraceQuery::default() };
    let (rows, more) = st.trace_list(&all).await.unwrap();
    // Same time: the later recorded first.
    assert_eq!(ids(&rows), ["t6", "t5", "t4", "t3", "t2", "t1"]);
    assert!(!more);
    assert_eq!(rows[0], batch[5]);

    let page = TraceQuery { limit: 4, ..all.clone() };
    let (first, more) = st.trace_list(&page).await.unwrap();
    assert_eq!((ids(&first), more), (vec!["t6", "t5", "t4", "t3"], true));
    let (second, more) = st.trace_list(&TraceQuery { after: Some("t3".into()), ..page.clone() }).await.unwrap();
    assert_eq!((ids(&second), more), (vec!["t2", "t1"], false));
    // Another project's trace is no marker here.
    let (none, _) = st.trace_list(&TraceQuery { after: Some("other".into()), ..page }).await.unwrap();
    assert!(none.is_empty());

    let named = TraceQuery { trace_name: Some("reinstallOs".into()), ..all.clone() };
    assert_eq!(ids(&st.trace_list(&named).await.unwrap().0), ["t4", "t2"]);
    let warned = TraceQuery { trace_rating: Some("warning".into()), user_name: Some("alice".into()), ..all.clone() };
    assert_eq!(ids(&st.trace_list(&warned).await.unwrap().0), ["t6"]);
    let ranged = TraceQuery { from_ms: 200, to_ms: 300, ..all.clone() };
    assert_eq!(ids(&st.trace_list(&ranged).await.unwrap().0), ["t3", "t2"]);
    let by_resource = TraceQuery { resource_id: Some("srv-t1".into()), ..all.clone() };
    assert_eq!(ids(&st.trace_list(&by_resource).await.unwrap().0), ["t1"]);

    assert_eq!(st.trace_expire(250).await.unwrap(), 2);
    assert_eq!(ids(&st.trace_list(&all).await.unwrap().0), ["t6", "t5", "t4", "t3"]);
    let theirs = TraceQuery { project_id: "p2".into(), ..all };
    assert_eq!(ids(&st.trace_list(&theirs).await.unwrap().0), ["other"]);
}

pub(super) async fn saga_events_are_read_back_in_order_with_their_times(b: &dyn Backend) {
    let st = b.open().await;
    let job = Job::new("p1", job_type::REINSTALL_OS, None, Some("srv"), 5);
    let saga = SagaRecord::new(job.id.clone(), "rebuild_os", 2, serde_json::json!({}));
    st.begin(Begin { jobs: vec![job.clone()], sagas: vec![saga], ..Default::default() }).await.unwrap();
    let before = ecs_model::timefmt::now_ms();
    st.append(&job.id, 0, &[StepEvent::Started { step: "stop_server".into() }]).await.unwrap();
    st.append(&job.id, 0, &[StepEvent::Succeeded { step: "stop_server".into(), output: serde_json::json!(null) }])
        .await
        .unwrap();
    let after = ecs_model::timefmt::now_ms();
    let events = st.saga_events(&[job.id.clone(), "no-such-saga".into()]).await.unwrap();
    assert_eq!(events.iter().map(|e| e.seq).collect::<Vec<_>>(), [1, 2]);
    assert_eq!(events[0].event, StepEvent::Started { step: "stop_server".into() });
    for e in &events {
        assert_eq!(e.saga_id, job.id);
        let at = e.at_ms.expect("a time");
        // The database's clock and this process's agree to within a second on one machine.
        assert!(at >= before - 1_000 && at <= after + 1_000, "{at} not in {before}..{after}");
    }
    assert!(st.saga_events(&[]).await.unwrap().is_empty());
}
