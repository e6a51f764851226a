//! `GET /v1/{project_id}/jobs/{job_id}`: the job view clients poll.

use serde::Serialize;
use utoipa::ToSchema;

/// A job as the ECS job API returns it. `error_code`/`fail_reason` are `null` unless the job
/// failed; `end_time` is the empty string while the job runs (as seen on the real service).
#[derive(Debug, Clone, Serialize, PartialEq, ToSchema)]
pub struct JobView {
    pub status: String,
    pub entities: JobEntities,
    pub job_id: String,
    pub job_type: String,
    pub begin_time: String,
    pub end_time: String,
    #[schema(required = true)]
    pub error_code: Option<String>,
    #[schema(required = true)]
    pub fail_reason: Option<String>,
}

/// `entities` of a top-level job.
#[derive(Debug, Clone, Serialize, PartialEq, Default, ToSchema)]
pub struct JobEntities {
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub server_id: Option<String>,
    /// The volume of a disk operation (`createVolume`, `deleteVolume`, `attachVolume`, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub volume_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub sub_jobs: Option<Vec<SubJobView>>,
    /// Always present; 0 when the job has no sub-jobs.
    pub sub_jobs_total: i64,
}

/// One sub-job of a batch job (`createSingleServer`, one per server of a batch action).
#[derive(Debug, Clone, Serialize, PartialEq, ToSchema)]
pub struct SubJobView {
    pub status: String,
    pub entities: SubJobEntities,
    pub job_id: String,
    pub job_type: String,
    pub begin_time: String,
    pub end_time: String,
    #[schema(required = true)]
    pub error_code: Option<String>,
    #[schema(required = true)]
    pub fail_reason: Option<String>,
}

/// `entities` of a sub-job; `errorcode_message` explains a sub-job failure.
#[derive(Debug, Clone, Serialize, PartialEq, Default, ToSchema)]
pub struct SubJobEntities {
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub server_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub errorcode_message: Option<String>,
}

/// `{"job_id": "..."}`, the answer of every asynchronous call.
#[derive(Debug, Clone, Serialize, PartialEq, ToSchema)]
pub struct JobAccepted {
    pub job_id: String,
}

/// The answer of `POST /v1/{project_id}/cloudservers`.
#[derive(Debug, Clone, Serialize, PartialEq, ToSchema)]
pub struct ServersCreated {
    pub job_id: String,
    #[serde(rename = "serverIds")]
    pub server_ids: Vec<String>,
}
