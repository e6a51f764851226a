//! Jobs and the saga log.

use super::Backend;
use crate::Begin;
use ecs_model::job::{job_type, Job, JobStatus};
use ecs_model::server::Server;
use ecs_saga::{Outcome, SagaRecord, StepError, StepEvent};

pub(super) async fn a_saga_recorded_as_started_makes_its_job_running_and_keeps_its_events(b: &dyn Backend) {
    let st = b.open().await;
    let job = Job::new("p1", job_type::REINSTALL_OS, None, Some("srv"), 5);
    let mut saga = SagaRecord::new(job.id.clone(), "reinstall_os", 2, serde_json::json!({}));
    saga.events.push(StepEvent::Started { step: "stop_server".into() });
    let other = Job::new("p1", job_type::REINSTALL_OS, None, Some("srv2"), 5);
    let not_started = SagaRecord::new(other.id.clone(), "reinstall_os", 2, serde_json::json!({}));
    let begin = Begin { jobs: vec![job.clone(), other.clone()], sagas: vec![saga, not_started], ..Default::default() };
    st.begin(begin).await.unwrap();
    assert_eq!(st.job_get("p1", &job.id).await.unwrap().unwrap().0.status, JobStatus::Running);
    assert_eq!(st.job_get("p1", &other.id).await.unwrap().unwrap().0.status, JobStatus::Init);
    // The next append numbers its event after the one the record brought.
    st.append(&job.id, 0, &[StepEvent::Succeeded { step: "stop_server".into(), output: serde_json::json!(1) }])
        .await
        .unwrap();
    let open = st.unfinished().await.unwrap();
    assert_eq!(open.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(), [job.id.as_str(), other.id.as_str()]);
    let mine = open.iter().find(|r| r.id == job.id).unwrap();
    assert_eq!(
        mine.events,
        [
            StepEvent::Started { step: "stop_server".into() },
            StepEvent::Succeeded { step: "stop_server".into(), output: serde_json::json!(1) }
        ]
    );
    assert!(open.iter().find(|r| r.id == other.id).unwrap().events.is_empty());
}

pub(super) async fn one_unfinished_saga_is_read_by_its_id(b: &dyn Backend) {
    let st = b.open().await;
    let job = Job::new("p1", job_type::REINSTALL_OS, None, Some("srv"), 5);
    let other = Job::new("p1", job_type::REINSTALL_OS, None, Some("srv2"), 5);
    let sagas = vec![
        SagaRecord::new(job.id.clone(), "reinstall_os", 3, serde_json::json!({"image": "i1"})),
        SagaRecord::new(other.id.clone(), "reinstall_os", 3, serde_json::json!({"image": "i2"})),
    ];
    st.begin(Begin { jobs: vec![job.clone(), other.clone()], sagas, ..Default::default() }).await.unwrap();
    let events = [
        StepEvent::Started { step: "stop_server".into() },
        StepEvent::Succeeded { step: "stop_server".into(), output: serde_json::json!({"was": "ACTIVE"}) },
        StepEvent::Started { step: "create_disk".into() },
    ];
    st.append(&job.id, 0, &events[..1]).await.unwrap();
    st.append(&job.id, 0, &events[1..]).await.unwrap();
    let got = st.load(&job.id).await.unwrap().expect("an unfinished saga is found");
    assert_eq!((got.id.as_str(), got.kind.as_str(), got.version), (job.id.as_str(), "reinstall_os", 3));
    assert_eq!(got.params, serde_json::json!({"image": "i1"}));
    assert_eq!(got.events, events);
    // The same record as the whole list of unfinished sagas gives.
    let listed = st.unfinished().await.unwrap();
    assert_eq!(listed.iter().find(|r| r.id == job.id), Some(&got));
    assert!(st.load(&other.id).await.unwrap().unwrap().events.is_empty());
    // Finished, or never recorded: nothing.
    st.finish(&job.id, 0, &Outcome::Succeeded).await.unwrap();
    assert_eq!(st.load(&job.id).await.unwrap(), None);
    assert_eq!(st.load("no-such-saga").await.unwrap(), None);
}

pub(super) async fn the_saga_log_drives_the_job_and_survives_reopening(b: &dyn Backend) {
    let job = Job::new("p1", job_type::REINSTALL_OS, None, Some("srv"), 5);
    {
        let st = b.open().await;
        let saga = SagaRecord::new(job.id.clone(), "reinstall_os", 2, serde_json::json!({"a": 1}));
        st.begin(Begin { jobs: vec![job.clone()], sagas: vec![saga], ..Default::default() }).await.unwrap();
        assert_eq!(st.job_get("p1", &job.id).await.unwrap().unwrap().0.status, JobStatus::Init);
        let events = [
            StepEvent::Started { step: "stop_server".into() },
            StepEvent::Succeeded { step: "stop_server".into(), output: serde_json::json!("x") },
        ];
        st.append(&job.id, 0, &events).await.unwrap();
        assert_eq!(st.job_get("p1", &job.id).await.unwrap().unwrap().0.status, JobStatus::Running);
    }
    let st = b.open().await;
    let open = st.unfinished().await.unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!((open[0].kind.as_str(), open[0].version), ("reinstall_os", 2));
    assert_eq!(open[0].params, serde_json::json!({"a": 1}));
    assert_eq!(open[0].events.len(), 2);
    st.finish(&job.id, 0, &Outcome::Failed(StepError::new("Ecs.0105", "no disk"))).await.unwrap();
    let (j, _) = st.job_get("p1", &job.id).await.unwrap().unwrap();
    assert_eq!(j.status, JobStatus::Fail);
    assert_eq!(j.error_code.as_deref(), Some("Ecs.0105"));
    assert_eq!(j.fail_reason.as_deref(), Some("no disk"));
    assert!(j.end_ms.is_some());
    assert!(st.unfinished().await.unwrap().is_empty());
    // Another project cannot see the job.
    assert!(st.job_get("p2", &job.id).await.unwrap().is_none());
}

pub(super) async fn a_batch_job_lists_its_sub_jobs_in_order(b: &dyn Backend) {
    let st = b.open().await;
    let parent = Job::new("p1", job_type::CREATE_SERVER, None, None, 5);
    let children: Vec<Job> = (0..5)
        .map(|i| Job::new("p1", job_type::CREATE_SINGLE_SERVER, Some(&parent.id), Some(&format!("s{i}")), 5))
        .collect();
    let sagas =
        children.iter().map(|c| SagaRecord::new(c.id.clone(), "create_server", 1, serde_json::json!({}))).collect();
    let mut jobs = vec![parent.clone()];
    jobs.extend(children.iter().cloned());
    st.begin(Begin { jobs, sagas, ..Default::default() }).await.unwrap();
    let (got, subs) = st.job_get("p1", &parent.id).await.unwrap().unwrap();
    assert_eq!(got.id, parent.id);
    assert_eq!(
        subs.iter().map(|j| j.id.clone()).collect::<Vec<_>>(),
        children.iter().map(|j| j.id.clone()).collect::<Vec<_>>()
    );
    st.finish(&children[0].id, 0, &Outcome::Succeeded).await.unwrap();
    let (_, subs) = st.job_get("p1", &parent.id).await.unwrap().unwrap();
    assert_eq!(subs[0].status, JobStatus::Success);
    assert_eq!(subs[1].status, JobStatus::Init);
}

pub(super) async fn finished_jobs_expire_with_their_sagas(b: &dyn Backend) {
    let st = b.open().await;
    let done = Job::new("p1", job_type::REINSTALL_OS, None, Some("a"), 5);
    let running = Job::new("p1", job_type::REINSTALL_OS, None, Some("b"), 5);
    let sagas = [&done, &running]
        .iter()
        .map(|j| {
            let mut s = SagaRecord::new(j.id.clone(), "reinstall_os", 2, serde_json::json!({}));
            s.events.push(StepEvent::Started { step: "stop_server".into() });
            s
        })
        .collect();
    st.begin(Begin { jobs: vec![done.clone(), running.clone()], sagas, ..Default::default() }).await.unwrap();
    st.finish(&done.id, 0, &Outcome::Succeeded).await.unwrap();
    let ended = st.job_get("p1", &done.id).await.unwrap().unwrap().0.end_ms.expect("an end time");
    assert_eq!(st.job_expire(ended).await.unwrap(), 0, "not before it ended");
    assert_eq!(st.job_expire(ended + 1).await.unwrap(), 1);
    assert!(st.job_get("p1", &done.id).await.unwrap().is_none());
    assert_eq!(st.job_get("p1", &running.id).await.unwrap().unwrap().0.status, JobStatus::Running);
    assert_eq!(st.unfinished().await.unwrap().len(), 1, "the running saga stays");
}

/// A step's record ([`Begin::log`]) with the step's changes: a server's state, a volume
/// inserted and one deleted. All of it lands, or none of it.
pub(super) async fn a_steps_record_lands_with_its_changes_or_not_at_all(b: &dyn Backend) {
    let st = b.open().await;
    let server = super::create(st.as_ref(), "p1", &["s"]).await.remove(0);
    let old = super::volume("p1", Some(&server.id), Some(0), true);
    st.volume_put(old.clone()).await.unwrap();
    let begin = super::reinstall_of(&server, true);
    let id = begin.jobs[0].id.clone();
    st.begin(begin).await.unwrap();
    let server = st.server_only("p1", &server.id).await.unwrap().unwrap();
    let new = super::volume("p1", Some(&server.id), Some(0), true);
    let record = |events: Vec<StepEvent>, outcome: Option<Outcome>| {
        Some(ecs_saga::LogWrite { saga_id: id.clone(), epoch: 0, events, outcome })
    };
    let ok = |step: &'static str| StepEvent::Succeeded { step: step.into(), output: serde_json::json!(null) };
    let started = |step: &'static str| StepEvent::Started { step: step.into() };
    let mut changed = server.clone();
    changed.name = "changed".into();

    // One that loses its compare-and-swap writes nothing: no event, no volume.
    let stale = Server { generation: server.generation - 1, ..changed.clone() };
    let lost = Begin {
        update_servers: vec![stale],
        insert_volumes: vec![new.clone()],
        delete_volumes: vec![old.id.clone()],
        log: record(vec![ok("stop_server"), started("swap_disk")], None),
        ..Default::default()
    };
    assert!(matches!(st.begin(lost).await, Err(crate::StoreError::Conflict(_))));
    assert_eq!(st.load(&id).await.unwrap().unwrap().events, [started("stop_server")]);
    assert!(st.volume_get(&new.id).await.unwrap().is_none());
    assert!(st.volume_get(&old.id).await.unwrap().is_some());

    let won = Begin {
        update_servers: vec![changed],
        insert_volumes: vec![new.clone()],
        delete_volumes: vec![old.id.clone()],
        log: record(vec![ok("stop_server"), started("swap_disk")], None),
        ..Default::default()
    };
    st.begin(won).await.unwrap();
    assert_eq!(
        st.load(&id).await.unwrap().unwrap().events,
        [started("stop_server"), ok("stop_server"), started("swap_disk")]
    );
    assert_eq!(st.server_only("p1", &server.id).await.unwrap().unwrap().name, "changed");
    assert!(st.volume_get(&new.id).await.unwrap().is_some());
    assert!(st.volume_get(&old.id).await.unwrap().is_none());

    // The last step's record with the saga's end: the job is over, the saga no longer open.
    let last = Begin { log: record(vec![ok("swap_disk")], Some(Outcome::Succeeded)), ..Default::default() };
    st.begin(last).await.unwrap();
    assert!(st.load(&id).await.unwrap().is_none());
    let job = st.job_get("p1", &id).await.unwrap().unwrap().0;
    assert_eq!(job.status, JobStatus::Success);
    assert!(job.end_ms.is_some());
    let logged = st.saga_events(std::slice::from_ref(&id)).await.unwrap();
    assert_eq!(logged.len(), 4, "{logged:?}");
}

/// The last events and the end in one call, as the executor records a saga's last step.
pub(super) async fn the_last_events_and_the_end_are_recorded_together(b: &dyn Backend) {
    let st = b.open().await;
    let job = Job::new("p1", job_type::REINSTALL_OS, None, Some("srv"), 5);
    let saga = SagaRecord::new(job.id.clone(), "reinstall_os", 2, serde_json::json!({}));
    st.begin(Begin { jobs: vec![job.clone()], sagas: vec![saga], ..Default::default() }).await.unwrap();
    let failure = StepError::new("Ecs.0101", "the image is gone");
    let events = [StepEvent::Failed { step: "stop_server".into(), error: failure.clone() }];
    st.append_and_finish(&job.id, 0, &events, &Outcome::Failed(failure)).await.unwrap();
    assert!(st.load(&job.id).await.unwrap().is_none());
    let got = st.job_get("p1", &job.id).await.unwrap().unwrap().0;
    assert_eq!((got.status, got.error_code.as_deref()), (JobStatus::Fail, Some("Ecs.0101")));
    assert_eq!(st.saga_events(std::slice::from_ref(&job.id)).await.unwrap().len(), 1);
}
