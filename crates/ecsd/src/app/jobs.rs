//! `GET /v1/{project_id}/jobs/{job_id}`.

use super::{internal, views};
use crate::caller::Caller;
use crate::context::App;
use bytes::Bytes;
use ecs_model::job::Job;
use ecs_model::timefmt::now_ms;
use ecs_model::Error;
use ecs_types::job::JobView;
use ecs_types::Code;

/// The job view, or `Common.0011` for an id that is malformed, unknown or another project's.
pub async fn show(app: &App, caller: &Caller, id: &str) -> Result<JobView, Error> {
    let (job, children) = find(app, caller, id).await?;
    Ok(views::job_view(&job, &children))
}

/// The job view as the API answers it, in JSON: from the finished jobs' cache where it is
/// there, else read, rendered and, if the job has ended, kept there.
pub async fn answer(app: &App, caller: &Caller, id: &str) -> Result<Bytes, Error> {
    if let Some(body) = app.finished_jobs.get(&caller.project_id, id, now_ms()) {
        return Ok(body);
    }
    let (job, children) = find(app, caller, id).await?;
    let body =
        Bytes::from(serde_json::to_vec(&views::job_view(&job, &children)).map_err(|e| Error::internal(e.to_string()))?);
    app.finished_jobs.offer(&job, &children, &body);
    Ok(body)
}

/// The caller's job `id` with its sub-jobs, or `Common.0011` for an id that is malformed,
/// unknown or another project's.
pub async fn find(app: &App, caller: &Caller, id: &str) -> Result<(Job, Vec<Job>), Error> {
    let not_found =
        || Error::new(Code::Common0011, format!("Failed to query system tasks: job [{id}] does not exist."));
    if !ecs_model::ids::is_job_id(id) {
        return Err(not_found());
    }
    app.ctx.store.job_get(&caller.project_id, id).await.map_err(internal)?.ok_or_else(not_found)
}
