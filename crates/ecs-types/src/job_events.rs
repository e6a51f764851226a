//! `GET /ecsd/v1/{project_id}/jobs/{job_id}/events`: a job's progress step by step (ecsd's
//! own API, beside the Huawei job view, which it leaves as it is).

use serde::Serialize;
use utoipa::ToSchema;

/// A job with each step of its saga and every entry of its log, and the same for each sub-job.
#[derive(Debug, Clone, Serialize, PartialEq, ToSchema)]
pub struct JobEventsView {
    pub job_id: String,
    pub job_type: String,
    /// `INIT`, `RUNNING`, `SUCCESS` or `FAIL`, as the job view says.
    pub status: String,
    pub server_id: Option<String>,
    pub begin_time: String,
    /// Empty while the job runs.
    pub end_time: String,
    pub error_code: Option<String>,
    pub fail_reason: Option<String>,
    /// The steps that have begun, in the order they first began.
    pub steps: Vec<StepView>,
    /// The saga's log, in order.
    pub events: Vec<JobEvent>,
    /// The sub-jobs of a batch, each with its own steps and log (none of their own).
    #[schema(no_recursion)]
    pub sub_jobs: Vec<JobEventsView>,
}

/// One step of a job's saga, summed up from its log.
#[derive(Debug, Clone, Serialize, PartialEq, ToSchema)]
pub struct StepView {
    /// The step's name in the saga's step table (`stop_server`, `create_disk`, `swap_disk`...).
    pub name: String,
    /// `RUNNING`, `SUCCESS`, `FAIL`, `UNDOING` or `UNDONE` (undone after it or a later step
    /// failed).
    pub status: String,
    /// How many times its action began (more than one: it was retried).
    pub attempts: u32,
    /// When it first began, and when it last succeeded or failed (empty while it runs).
    pub started_at: String,
    pub ended_at: String,
    /// Why it failed, if it did.
    pub error: Option<StepErrorView>,
    /// Its undo, if it was undone or is being undone.
    pub undo: Option<UndoView>,
}

/// The undo of a step.
#[derive(Debug, Clone, Serialize, PartialEq, ToSchema)]
pub struct UndoView {
    pub attempts: u32,
    pub started_at: String,
    /// Empty until the undo has finished.
    pub ended_at: String,
}

/// A step's failure as the job reports it (the code and the user's message).
#[derive(Debug, Clone, Serialize, PartialEq, ToSchema)]
pub struct StepErrorView {
    pub code: Option<String>,
    pub message: String,
}

/// One entry of a saga's log; also one `step` message of the event stream.
#[derive(Debug, Clone, Serialize, PartialEq, ToSchema)]
pub struct JobEvent {
    /// The job whose saga logged it (a sub-job's id for a batch's steps).
    pub job_id: String,
    /// Its number in that job's log: 1, 2, 3...
    pub seq: i64,
    /// When it was logged; empty for entries of versions that did not record it.
    pub time: String,
    /// `started`, `succeeded`, `failed`, `undo_started` or `undo_finished`.
    pub event: String,
    pub step: String,
    pub error: Option<StepErrorView>,
}
