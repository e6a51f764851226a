//! Jobs and the saga log.

use super::Backend;
use crate::Begin;
use ecs_model::job::{job_type, Job, JobStatus};
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
