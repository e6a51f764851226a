//! Jobs: the public face of sagas.
//!
//! A single-server operation (reinstall, change OS) is one job whose id is also its saga's id.
//! A batch (create, delete, start, stop, reboot) is a parent job with one sub-job, and one saga,
//! per server; the parent's status is derived from its sub-jobs when it is read.

use serde::{Deserialize, Serialize};

/// The job status values of the ECS job API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum JobStatus {
    #[serde(rename = "INIT")]
    Init,
    #[serde(rename = "RUNNING")]
    Running,
    #[serde(rename = "SUCCESS")]
    Success,
    #[serde(rename = "FAIL")]
    Fail,
}

impl JobStatus {
    /// The wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Init => "INIT",
            JobStatus::Running => "RUNNING",
            JobStatus::Success => "SUCCESS",
            JobStatus::Fail => "FAIL",
        }
    }

    /// Parses the wire spelling.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "INIT" => JobStatus::Init,
            "RUNNING" => JobStatus::Running,
            "SUCCESS" => JobStatus::Success,
            "FAIL" => JobStatus::Fail,
            _ => return None,
        })
    }

    /// SUCCESS or FAIL.
    pub fn is_final(self) -> bool {
        matches!(self, JobStatus::Success | JobStatus::Fail)
    }
}

/// Job types. `createServer`/`createSingleServer` are documented; the others are the CTS names
/// of the same operations (inferred: no client checks them).
pub mod job_type {
    pub const CREATE_SERVER: &str = "createServer";
    pub const CREATE_SINGLE_SERVER: &str = "createSingleServer";
    pub const REINSTALL_OS: &str = "reinstallOs";
    pub const CHANGE_OS: &str = "changeOs";
    pub const DELETE_SERVER: &str = "deleteServer";
    pub const DELETE_SINGLE_SERVER: &str = "deleteSingleServer";
    pub const START_SERVER: &str = "startServer";
    pub const START_SINGLE_SERVER: &str = "startSingleServer";
    pub const STOP_SERVER: &str = "stopServer";
    pub const STOP_SINGLE_SERVER: &str = "stopSingleServer";
    pub const REBOOT_SERVER: &str = "rebootServer";
    pub const REBOOT_SINGLE_SERVER: &str = "rebootSingleServer";
    pub const RESIZE_SERVER: &str = "resizeServer";
    /// A sub-job of a batch resize (inferred, after the other batch operations' names).
    pub const RESIZE_SINGLE_SERVER: &str = "resizeSingleServer";
    pub const ADD_NICS: &str = "batchAddServerNics";
    pub const DELETE_NICS: &str = "batchDeleteServerNics";
    pub const ATTACH_VOLUME: &str = "attachVolume";
    pub const DETACH_VOLUME: &str = "detachVolume";
    /// The disk service's names (EVS `ShowJobResponse.job_type`).
    pub const CREATE_VOLUME: &str = "createVolume";
    pub const BATCH_CREATE_VOLUME: &str = "batchCreateVolume";
    pub const DELETE_VOLUME: &str = "deleteVolume";
}

/// A job row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Job {
    pub id: String,
    pub project_id: String,
    pub job_type: String,
    pub parent_id: Option<String>,
    pub server_id: Option<String>,
    pub status: JobStatus,
    pub begin_ms: i64,
    pub end_ms: Option<i64>,
    pub error_code: Option<String>,
    pub fail_reason: Option<String>,
    /// The volume a disk operation is about (`entities.volume_id`); absent in older records.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume_id: Option<String>,
}

impl Job {
    /// A new job in INIT, as recorded when a request is accepted.
    pub fn new(project_id: &str, job_type: &str, parent_id: Option<&str>, server_id: Option<&str>, now_ms: i64) -> Job {
        Job {
            id: crate::new_job_id(),
            project_id: project_id.to_string(),
            job_type: job_type.to_string(),
            parent_id: parent_id.map(str::to_string),
            server_id: server_id.map(str::to_string),
            status: JobStatus::Init,
            begin_ms: now_ms,
            end_ms: None,
            error_code: None,
            fail_reason: None,
            volume_id: None,
        }
    }
}

impl Job {
    /// Whether sub-jobs may point at this job: only the jobs of batch and multi-server
    /// operations have them. A sub-job has none, and neither has a reinstall or change of OS
    /// (one server, one job), so readers can skip looking for them.
    pub fn may_have_sub_jobs(&self) -> bool {
        self.parent_id.is_none() && self.job_type != job_type::REINSTALL_OS && self.job_type != job_type::CHANGE_OS
    }
}

/// The status of a batch parent from its sub-jobs: RUNNING until every sub-job has ended, then
/// FAIL if any failed, else SUCCESS. INIT while none has started.
pub fn parent_status(children: &[Job]) -> JobStatus {
    if children.is_empty() {
        return JobStatus::Success;
    }
    if children.iter().all(|c| c.status == JobStatus::Init) {
        return JobStatus::Init;
    }
    if !children.iter().all(|c| c.status.is_final()) {
        return JobStatus::Running;
    }
    if children.iter().any(|c| c.status == JobStatus::Fail) {
        JobStatus::Fail
    } else {
        JobStatus::Success
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn child(status: JobStatus) -> Job {
        let mut j = Job::new("p", job_type::CREATE_SINGLE_SERVER, Some("x"), None, 0);
        j.status = status;
        j
    }

    #[test]
    fn parent_status_waits_for_every_child() {
        use JobStatus::*;
        assert_eq!(parent_status(&[child(Init), child(Init)]), Init);
        assert_eq!(parent_status(&[child(Success), child(Running)]), Running);
        assert_eq!(parent_status(&[child(Fail), child(Init)]), Running);
        assert_eq!(parent_status(&[child(Success), child(Success)]), Success);
        assert_eq!(parent_status(&[child(Success), child(Fail)]), Fail);
    }
}
