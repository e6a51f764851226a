//! A job's progress step by step: its saga's log read back as steps (with their times,
//! attempts, undo and errors), for the job and each of its sub-jobs.

use super::{internal, views};
use crate::caller::Caller;
use crate::context::App;
use ecs_model::job::{Job, JobStatus};
use ecs_model::timefmt::job_time;
use ecs_model::Error;
use ecs_saga::{StepError, StepEvent};
use ecs_store::LoggedEvent;
use ecs_types::job_events::{JobEvent, JobEventsView, StepErrorView, StepView, UndoView};

/// The job `id` of the caller's project with its sub-jobs and every logged event of their
/// sagas, or `Common.0011` (as the job view answers) for an id that is malformed, unknown or
/// another project's.
pub async fn load(app: &App, caller: &Caller, id: &str) -> Result<(Job, Vec<Job>, Vec<LoggedEvent>), Error> {
    let (job, children) = super::jobs::find(app, caller, id).await?;
    let ids: Vec<String> = std::iter::once(job.id.clone()).chain(children.iter().map(|c| c.id.clone())).collect();
    let events = app.ctx.store.saga_events(&ids).await.map_err(internal)?;
    Ok((job, children, events))
}

/// The view of a job, its sub-jobs and their logs.
pub fn view(job: &Job, children: &[Job], events: &[LoggedEvent]) -> JobEventsView {
    let shown = views::job_view(job, children);
    let mut v = one(job, events);
    // A batch's status and end are its sub-jobs' (the parent itself runs no saga).
    v.status = shown.status;
    v.end_time = shown.end_time;
    v.sub_jobs = children.iter().map(|c| one(c, events)).collect();
    v
}

/// Whether the job of a view (with its sub-jobs) has ended: nothing more will be logged for it.
pub fn finished(view: &JobEventsView) -> bool {
    JobStatus::parse(&view.status).is_some_and(JobStatus::is_final)
}

/// One logged event as the stream and the list show it.
pub fn event_view(e: &LoggedEvent) -> JobEvent {
    let (event, error) = match &e.event {
        StepEvent::Started { .. } => ("started", None),
        StepEvent::Succeeded { .. } => ("succeeded", None),
        StepEvent::Failed { error, .. } => ("failed", Some(error_view(error))),
        StepEvent::UndoStarted { .. } => ("undo_started", None),
        StepEvent::UndoFinished { .. } => ("undo_finished", None),
    };
    JobEvent {
        job_id: e.saga_id.clone(),
        seq: e.seq,
        time: e.at_ms.map(job_time).unwrap_or_default(),
        event: event.to_string(),
        step: e.event.step().to_string(),
        error,
    }
}

/// The code and the user's message of a failure; never its detail, which is for the log.
fn error_view(e: &StepError) -> StepErrorView {
    StepErrorView { code: e.code.clone(), message: e.message.clone() }
}

/// A job's own view from its own saga's events.
fn one(job: &Job, events: &[LoggedEvent]) -> JobEventsView {
    let own: Vec<&LoggedEvent> = events.iter().filter(|e| e.saga_id == job.id).collect();
    let mut steps: Vec<StepView> = Vec::new();
    for e in &own {
        let name = e.event.step().to_string();
        let time = e.at_ms.map(job_time).unwrap_or_default();
        let at = match steps.iter().position(|s| s.name == name) {
            Some(i) => i,
            None => {
                steps.push(StepView {
                    name,
                    status: "RUNNING".into(),
                    attempts: 0,
                    started_at: time.clone(),
                    ended_at: String::new(),
                    error: None,
                    undo: None,
                });
                steps.len() - 1
            }
        };
        let s = &mut steps[at];
        match &e.event {
            StepEvent::Started { .. } => {
                s.attempts += 1;
                s.status = "RUNNING".into();
                s.ended_at.clear();
            }
            StepEvent::Succeeded { .. } => {
                s.status = "SUCCESS".into();
                s.ended_at = time;
            }
            StepEvent::Failed { error, .. } => {
                s.status = "FAIL".into();
                s.ended_at = time;
                s.error = Some(error_view(error));
            }
            // A failed step is undone too (it may have done part of its work), and stays FAIL.
            StepEvent::UndoStarted { .. } => {
                if s.status != "FAIL" {
                    s.status = "UNDOING".into();
                }
                let undo = s.undo.get_or_insert(UndoView { attempts: 0, started_at: time, ended_at: String::new() });
                undo.attempts += 1;
            }
            StepEvent::UndoFinished { .. } => {
                if s.status != "FAIL" {
                    s.status = "UNDONE".into();
                }
                if let Some(undo) = &mut s.undo {
                    undo.ended_at = time;
                }
            }
        }
    }
    // A step that kept failing past the point of no return logs no failure of its own (it is
    // retried, then the saga ends stuck): the job's failure is that step's.
    if job.status == JobStatus::Fail {
        for s in steps.iter_mut().filter(|s| s.status == "RUNNING") {
            s.status = "FAIL".into();
            s.ended_at = job.end_ms.map(job_time).unwrap_or_default();
            s.error = Some(StepErrorView {
                code: job.error_code.clone(),
                message: job.fail_reason.clone().unwrap_or_default(),
            });
        }
    }
    JobEventsView {
        job_id: job.id.clone(),
        job_type: job.job_type.clone(),
        status: job.status.as_str().to_string(),
        server_id: job.server_id.clone(),
        begin_time: job_time(job.begin_ms),
        end_time: job.end_ms.map(job_time).unwrap_or_default(),
        error_code: job.error_code.clone(),
        fail_reason: job.fail_reason.clone(),
        steps,
        events: own.into_iter().map(event_view).collect(),
        sub_jobs: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn logged(seq: i64, event: StepEvent) -> LoggedEvent {
        LoggedEvent { saga_id: "j".into(), seq, at_ms: Some(1_000 * seq), event }
    }

    fn job(status: JobStatus) -> Job {
        let mut j = Job::new("p", "reinstallOs", None, Some("s"), 0);
        j.id = "j".into();
        j.status = status;
        j
    }

    #[test]
    fn a_failed_step_and_its_undone_predecessors_are_told_apart() {
        let err = StepError::new("Ecs.1000", "boom").with_detail("secret host path");
        let events = vec![
            logged(1, StepEvent::Started { step: "stop".into() }),
            logged(2, StepEvent::Succeeded { step: "stop".into(), output: serde_json::Value::Null }),
            logged(3, StepEvent::Started { step: "detach".into() }),
            logged(4, StepEvent::Failed { step: "detach".into(), error: err }),
            logged(5, StepEvent::UndoStarted { step: "detach".into() }),
            logged(6, StepEvent::UndoFinished { step: "detach".into() }),
            logged(7, StepEvent::UndoStarted { step: "stop".into() }),
            logged(8, StepEvent::UndoFinished { step: "stop".into() }),
        ];
        let v = view(&job(JobStatus::Fail), &[], &events);
        let names: Vec<(&str, &str)> = v.steps.iter().map(|s| (s.name.as_str(), s.status.as_str())).collect();
        assert_eq!(names, [("stop", "UNDONE"), ("detach", "FAIL")]);
        assert_eq!(v.steps[0].undo.as_ref().map(|u| u.ended_at.as_str()), Some(job_time(8_000).as_str()));
        assert!(v.steps[1].undo.is_some());
        assert_eq!(v.steps[1].error.as_ref().map(|e| e.message.as_str()), Some("boom"));
        assert_eq!(v.events.len(), 8);
        assert!(!serde_json::to_string(&v).unwrap().contains("secret host path"));
    }

    #[test]
    fn a_retried_step_counts_its_attempts_and_a_stuck_one_takes_the_jobs_failure() {
        let events = vec![
            logged(1, StepEvent::Started { step: "start".into() }),
            logged(2, StepEvent::Started { step: "start".into() }),
        ];
        let mut j = job(JobStatus::Fail);
        j.error_code = Some("Ecs.1000".into());
        j.fail_reason = Some("stuck".into());
        let v = view(&j, &[], &events);
        assert_eq!(v.steps[0].attempts, 2);
        assert_eq!(v.steps[0].status, "FAIL");
        assert_eq!(v.steps[0].error.as_ref().map(|e| e.message.as_str()), Some("stuck"));
    }
}
