//! `--wait`: follows a job to its end through ecsd's job-event stream (server-sent events),
//! showing each saga step as it happens, or by polling the Huawei job API where the endpoint
//! has no stream (answers 404).

use crate::client::{enc, Client};
use crate::error::Error;
use eventsource_stream::Eventsource;
use futures_util::StreamExt;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::Value;
use std::collections::HashMap;
use std::io::IsTerminal;
use std::time::Duration;

/// How often the Huawei job API is read when there is no event stream.
const POLL: Duration = Duration::from_millis(500);

/// Follows `job_id` until it ends and returns its Huawei job view, `Err(JobFailed)` when it
/// ended `FAIL`, `Err(TimedOut)` after `timeout`.
pub async fn wait(client: &Client, job_id: &str, timeout: Duration) -> Result<Value, Error> {
    let mut show = Show::new(job_id);
    let r = tokio::time::timeout(timeout, follow(client, job_id, &mut show)).await;
    show.close();
    let job = match r {
        Ok(r) => r?,
        Err(_) => return Err(Error::TimedOut { job_id: job_id.to_string(), secs: timeout.as_secs() }),
    };
    if job["status"] == "FAIL" {
        let (code, reason) = failure(&job);
        return Err(Error::JobFailed { job_id: job_id.to_string(), code, reason, job });
    }
    Ok(job)
}

async fn follow(client: &Client, job_id: &str, show: &mut Show) -> Result<Value, Error> {
    if stream(client, job_id, show).await? {
        return client.get(&format!("/v1/{{p}}/jobs/{}", enc(job_id))).await;
    }
    poll(client, job_id, show).await
}

/// Reads the event stream to its `end`. `Ok(false)`: there is no stream here (404), or it
/// broke off before the end; the caller then polls.
async fn stream(client: &Client, job_id: &str, show: &mut Show) -> Result<bool, Error> {
    let path = format!("/ecsd/v1/{{p}}/jobs/{}/events", enc(job_id));
    let resp = client
        .request(reqwest::Method::GET, &path, None, Some("text/event-stream"))?
        .send()
        .await
        .map_err(|e| client.unreachable(e))?;
    let status = resp.status().as_u16();
    if status == 404 {
        // Another Huawei-compatible endpoint (or a job unknown here: the job API says which).
        return Ok(false);
    }
    if status >= 300 {
        let text = resp.text().await.map_err(|e| client.unreachable(e))?;
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        return Err(Error::from_answer(status, &body, &text));
    }
    let mut events = resp.bytes_stream().eventsource();
    while let Some(ev) = events.next().await {
        let Ok(ev) = ev else { return Ok(false) };
        let data: Value = serde_json::from_str(&ev.data).unwrap_or(Value::Null);
        let id = data["job_id"].as_str().unwrap_or_default();
        if matches!(ev.event.as_str(), "step" | "status") && !show.labels.contains_key(id) {
            show.learn(client, id).await;
        }
        match ev.event.as_str() {
            "step" => show.step(&data),
            "status" => show.status(cell(&data["job_id"]), cell(&data["status"])),
            "end" => {
                show.flush();
                return Ok(true);
            }
            "error" => {
                // The job expired while it was followed.
                return Err(Error::from_answer(404, &data, &ev.data));
            }
            _ => {}
        }
    }
    Ok(false)
}

/// Reads the Huawei job view until the job ends, reporting status changes of it and its
/// sub-jobs.
async fn poll(client: &Client, job_id: &str, show: &mut Show) -> Result<Value, Error> {
    let path = format!("/v1/{{p}}/jobs/{}", enc(job_id));
    loop {
        let job = client.get(&path).await?;
        for sub in job["entities"]["sub_jobs"].as_array().into_iter().flatten() {
            let id = cell(&sub["job_id"]);
            show.labels.entry(id.clone()).or_insert_with(|| server_label(&sub["entities"]["server_id"], &id));
            show.status(id, cell(&sub["status"]));
        }
        show.status(job_id.to_string(), cell(&job["status"]));
        if matches!(job["status"].as_str(), Some("SUCCESS" | "FAIL")) {
            show.flush();
            return Ok(job);
        }
        tokio::time::sleep(POLL).await;
    }
}

/// The error code and reason of a failed job: its own, or its first failed sub-job's.
fn failure(job: &Value) -> (String, String) {
    let own = (cell(&job["error_code"]), cell(&job["fail_reason"]));
    if !own.0.is_empty() || !own.1.is_empty() {
        return own;
    }
    for sub in job["entities"]["sub_jobs"].as_array().into_iter().flatten() {
        if sub["status"] == "FAIL" {
            return (cell(&sub["error_code"]), cell(&sub["fail_reason"]));
        }
    }
    own
}

fn cell(v: &Value) -> String {
    crate::output::cell(v)
}

/// How a sub-job's lines are marked: by its server (a create has one sub-job per server), or
/// by the end of its id (job ids share their beginning).
fn server_label(server_id: &Value, job_id: &str) -> String {
    match server_id.as_str().filter(|s| !s.is_empty()) {
        Some(s) => format!("[server {}]", s.get(..8).unwrap_or(s)),
        None => format!("[job ..{}]", job_id.get(job_id.len().saturating_sub(6)..).unwrap_or(job_id)),
    }
}

/// Where progress goes: a live bar on a terminal, one line per step otherwise (logs, CI).
struct Show {
    job_id: String,
    bar: Option<ProgressBar>,
    /// The last status reported, by job id.
    seen: HashMap<String, String>,
    /// The mark of each sub-job's lines, by its id.
    labels: HashMap<String, String>,
    /// Final statuses held back to the end: the stream sends a read's status changes before
    /// that read's steps, so a job's SUCCESS would otherwise come before its last steps.
    held: Vec<(String, String)>,
}

impl Show {
    fn new(job_id: &str) -> Show {
        let bar = std::io::stderr().is_terminal().then(|| {
            let b = ProgressBar::new_spinner();
            let style = ProgressStyle::with_template("{spinner} {elapsed:>4} {prefix} [{pos} steps done] {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner());
            b.set_style(style);
            b.set_prefix(format!("job {job_id}"));
            b.enable_steady_tick(Duration::from_millis(100));
            b
        });
        // The job's own lines (and any without a job id) carry no mark.
        let labels = HashMap::from([(job_id.to_string(), String::new()), (String::new(), String::new())]);
        Show { job_id: job_id.to_string(), bar, seen: HashMap::new(), labels, held: Vec::new() }
    }

    /// Finds which server a sub-job works on (its job view says), to mark its lines with.
    async fn learn(&mut self, client: &Client, job_id: &str) {
        let server = match client.get(&format!("/v1/{{p}}/jobs/{}", enc(job_id))).await {
            Ok(job) => job["entities"]["server_id"].clone(),
            Err(_) => Value::Null,
        };
        self.labels.insert(job_id.to_string(), server_label(&server, job_id));
    }

    fn label(&self, job_id: &str, what: &str) -> String {
        match self.labels.get(job_id).map(String::as_str) {
            Some("") => what.to_string(),
            Some(mark) => format!("{mark} {what}"),
            None => format!("{} {what}", server_label(&Value::Null, job_id)),
        }
    }

    fn step(&mut self, e: &Value) {
        let label = self.label(e["job_id"].as_str().unwrap_or_default(), &cell(&e["step"]));
        let event = cell(&e["event"]);
        let error = match e["error"].as_object() {
            Some(err) => format!(" ({}: {})", cell(&err["code"]), cell(&err["message"])),
            None => String::new(),
        };
        match &self.bar {
            None => eprintln!("{label}: {event}{error}"),
            Some(b) => match event.as_str() {
                "started" => b.set_message(format!("{label} ...")),
                "succeeded" => {
                    b.inc(1);
                    b.println(format!("  ok    {label}"));
                }
                "failed" => b.println(format!("  FAIL  {label}{error}")),
                "undo_started" => b.set_message(format!("undoing {label} ...")),
                "undo_finished" => b.println(format!("  undone {label}")),
                _ => b.set_message(format!("{label} {event}")),
            },
        }
    }

    fn status(&mut self, job_id: String, status: String) {
        if status.is_empty() || self.seen.get(&job_id) == Some(&status) {
            return;
        }
        self.seen.insert(job_id.clone(), status.clone());
        if matches!(status.as_str(), "SUCCESS" | "FAIL") {
            self.held.push((job_id, status));
        } else {
            self.say(&job_id, &status);
        }
    }

    /// Reports the final statuses held back, sub-jobs first.
    fn flush(&mut self) {
        let mut held = std::mem::take(&mut self.held);
        held.sort_by_key(|(id, _)| *id == self.job_id);
        for (id, status) in held {
            self.say(&id, &status);
        }
    }

    fn say(&self, job_id: &str, status: &str) {
        let who = if job_id == self.job_id { "job".to_string() } else { self.label(job_id, "sub-job") };
        match &self.bar {
            None => eprintln!("{who}: {status}"),
            Some(b) => b.println(format!("  {who} {status}")),
        }
    }

    fn close(&mut self) {
        if let Some(b) = self.bar.take() {
            b.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn failure_prefers_the_job_then_its_failed_sub_job() {
        let own = json!({"status": "FAIL", "error_code": "Ecs.0101", "fail_reason": "disk", "entities": {}});
        assert_eq!(failure(&own), ("Ecs.0101".into(), "disk".into()));
        let batch = json!({"status": "FAIL", "error_code": null, "fail_reason": null, "entities": {"sub_jobs": [
            {"status": "SUCCESS", "error_code": null, "fail_reason": null},
            {"status": "FAIL", "error_code": "Ecs.1000", "fail_reason": "no"}]}});
        assert_eq!(failure(&batch), ("Ecs.1000".into(), "no".into()));
    }
}
