//! Rules of the saga log that every store applies the same way.

use ecs_model::job::{Job, JobStatus};
use ecs_saga::{Outcome, StepEvent};

/// Whether these events, the first of a saga's log, start its first step: its job is then
/// `RUNNING`. (The first step a log starts is the saga's first.)
pub(crate) fn starts_first_step(events: &[StepEvent]) -> bool {
    events.iter().any(|e| matches!(e, StepEvent::Started { .. }))
}

/// The job of a saga that ended with `outcome`, as the same transaction writes it: ended now,
/// `SUCCESS`, or `FAIL` with the failure's code (a fault of the saga engine itself, which has
/// none, is a system exception) and its message.
pub(crate) fn end_job(job: &mut Job, outcome: Outcome) {
    job.end_ms = Some(ecs_model::timefmt::now_ms());
    match outcome {
        Outcome::Succeeded => job.status = JobStatus::Success,
        Outcome::Failed(e) | Outcome::Stuck(e) => {
            job.status = JobStatus::Fail;
            job.error_code = Some(e.code.unwrap_or_else(|| ecs_types::Code::Ecs1000.as_str().to_string()));
            job.fail_reason = Some(e.message);
        }
    }
}
