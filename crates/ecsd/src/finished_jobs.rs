//! Finished jobs' answers, kept in memory: a job that has ended never changes, so polling it
//! again is answered without a trip to the store.
//!
//! What makes this correct on one node and on several sharing a database:
//! - only a job whose every part has ended is kept (the job, and each sub-job of a batch), and
//!   nothing writes to a job once it has ended;
//! - the one thing that still changes such a job is expiry, which deletes a job (or a batch's
//!   sub-job) a fixed time after it ended, on whichever node runs it; an entry is served only
//!   until the earliest of those times, less a margin for the nodes' clocks, so it never shows
//!   a job, or a sub-job, that the store no longer has;
//! - an entry answers only its own project: another project's caller falls through to the store,
//!   which answers as for an unknown job.
//!
//! The cache is bounded by the bytes it holds; the least recently used answers leave first.

use bytes::Bytes;
use ecs_model::job::Job;
use quick_cache::sync::Cache;
use quick_cache::Weighter;
use std::sync::Arc;
use std::time::Duration;

/// How long a finished job is kept in the store: expiry deletes it this long after it ended,
/// as Huawei does after a day.
pub const JOB_RETENTION: Duration = Duration::from_secs(24 * 3600);

/// An entry stops being served this long before the store may delete its job: more than any
/// clock skew between the nodes that share a database.
const CLOCK_MARGIN_MS: i64 = 10 * 60 * 1000;

/// At most this many bytes of answers are kept.
const CAPACITY_BYTES: u64 = 32 * 1024 * 1024;

struct Entry {
    project_id: String,
    body: Bytes,
    /// Served until then (ms since the epoch), not after.
    valid_until_ms: i64,
}

#[derive(Clone)]
struct BodySize;

impl Weighter<String, Arc<Entry>> for BodySize {
    fn weight(&self, key: &String, entry: &Arc<Entry>) -> u64 {
        (key.len() + entry.project_id.len() + entry.body.len()) as u64
    }
}

/// The finished jobs' rendered answers.
pub struct FinishedJobs {
    cache: Cache<String, Arc<Entry>, BodySize>,
    retention_ms: i64,
}

impl FinishedJobs {
    pub fn new() -> FinishedJobs {
        FinishedJobs::with(CAPACITY_BYTES, JOB_RETENTION)
    }

    fn with(capacity_bytes: u64, retention: Duration) -> FinishedJobs {
        // About 1 KB an answer; the estimate only sizes the table.
        let estimated = (capacity_bytes / 1024) as usize;
        FinishedJobs {
            cache: Cache::with_weighter(estimated, capacity_bytes, BodySize),
            retention_ms: retention.as_millis() as i64,
        }
    }

    /// The answer for `job_id` in `project_id`, if it is kept and still valid at `now_ms`.
    pub fn get(&self, project_id: &str, job_id: &str, now_ms: i64) -> Option<Bytes> {
        let entry = self.cache.get(job_id)?;
        if entry.project_id != project_id {
            return None;
        }
        if now_ms >= entry.valid_until_ms {
            self.cache.remove(job_id);
            return None;
        }
        Some(entry.body.clone())
    }

    /// Keeps `body`, the answer for `job` with its `children`, if every one of them has ended.
    pub fn offer(&self, job: &Job, children: &[Job], body: &Bytes) {
        let Some(earliest_end) = earliest_end(job, children) else { return };
        let entry = Entry {
            project_id: job.project_id.clone(),
            body: body.clone(),
            valid_until_ms: earliest_end + self.retention_ms - CLOCK_MARGIN_MS,
        };
        self.cache.insert(job.id.clone(), Arc::new(entry));
    }
}

impl Default for FinishedJobs {
    fn default() -> Self {
        FinishedJobs::new()
    }
}

/// When the first part of the job may be expired: the earliest end among the job and its
/// sub-jobs, or `None` while any of them runs. A batch's own record may carry no end (its
/// status is its sub-jobs'): it is then never expired, and its sub-jobs' ends decide.
fn earliest_end(job: &Job, children: &[Job]) -> Option<i64> {
    if children.is_empty() {
        return if job.status.is_final() { job.end_ms } else { None };
    }
    let mut earliest = job.end_ms.unwrap_or(i64::MAX);
    for c in children {
        if !c.status.is_final() {
            return None;
        }
        earliest = earliest.min(c.end_ms?);
    }
    Some(earliest)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ecs_model::job::JobStatus;

    const P: &str = "0123456789abcdef0123456789abcdef";

    fn job(status: JobStatus, end_ms: Option<i64>) -> Job {
        let mut j = Job::new(P, "reinstallOs", None, None, 1_000);
        j.status = status;
        j.end_ms = end_ms;
        j
    }

    fn cache() -> FinishedJobs {
        FinishedJobs::with(1 << 20, Duration::from_secs(3600))
    }

    #[test]
    fn a_finished_job_is_served_to_its_project_until_its_expiry_draws_near() {
        let c = cache();
        let j = job(JobStatus::Success, Some(10_000));
        c.offer(&j, &[], &Bytes::from_static(b"{}"));
        assert_eq!(c.get(P, &j.id, 20_000).as_deref(), Some(&b"{}"[..]));
        assert_eq!(c.get("fedcba9876543210fedcba9876543210", &j.id, 20_000), None, "another project's caller");
        let until = 10_000 + 3_600_000 - CLOCK_MARGIN_MS;
        assert!(c.get(P, &j.id, until - 1).is_some());
        assert_eq!(c.get(P, &j.id, until), None);
        assert_eq!(c.get(P, &j.id, until - 1), None, "an expired entry is dropped");
    }

    #[test]
    fn a_job_with_any_part_running_is_not_kept() {
        let c = cache();
        let running = job(JobStatus::Running, None);
        c.offer(&running, &[], &Bytes::from_static(b"{}"));
        assert_eq!(c.get(P, &running.id, 2_000), None);

        let parent = job(JobStatus::Running, None);
        let done = job(JobStatus::Success, Some(5_000));
        let busy = job(JobStatus::Running, None);
        c.offer(&parent, &[done.clone(), busy], &Bytes::from_static(b"{}"));
        assert_eq!(c.get(P, &parent.id, 6_000), None);

        // All sub-jobs ended: kept until the earliest of them may be expired.
        let late = job(JobStatus::Fail, Some(9_000));
        c.offer(&parent, &[done, late], &Bytes::from_static(b"{}"));
        let until = 5_000 + 3_600_000 - CLOCK_MARGIN_MS;
        assert!(c.get(P, &parent.id, until - 1).is_some());
        assert_eq!(c.get(P, &parent.id, until), None);
    }

    #[test]
    fn the_bytes_held_stay_under_the_bound() {
        let c = FinishedJobs::with(64 * 1024, Duration::from_secs(3600));
        let body = Bytes::from(vec![b'x'; 1024]);
        for _ in 0..1000 {
            c.offer(&job(JobStatus::Success, Some(1)), &[], &body);
        }
        assert!(c.cache.weight() <= 64 * 1024, "{}", c.cache.weight());
        assert!(c.cache.len() < 1000);
    }
}
