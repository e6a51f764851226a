//! `ecsctl jobs ...`: the Huawei job API, and ecsd's step-by-step view of a job's saga.

use super::follow;
use crate::client::enc;
use crate::error::Error;
use crate::output::{self, cell, Format};
use crate::{Ctx, JobsCmd};
use serde_json::Value;

pub async fn run(ctx: &Ctx, cmd: JobsCmd) -> Result<(), Error> {
    match cmd {
        JobsCmd::Show { job } => show(ctx, &job).await,
        JobsCmd::Steps { job } => steps(ctx, &job).await,
        JobsCmd::Watch { job } => follow(ctx, &job).await,
    }
}

async fn show(ctx: &Ctx, job_id: &str) -> Result<(), Error> {
    let job = ctx.client.get(&format!("/v1/{{p}}/jobs/{}", enc(job_id))).await?;
    if ctx.format == Format::Json {
        output::json(&job);
        return Ok(());
    }
    output::fields(vec![
        ("job_id", cell(&job["job_id"])),
        ("job_type", cell(&job["job_type"])),
        ("status", cell(&job["status"])),
        ("server_id", cell(&job["entities"]["server_id"])),
        ("begin_time", cell(&job["begin_time"])),
        ("end_time", cell(&job["end_time"])),
        ("error_code", cell(&job["error_code"])),
        ("fail_reason", cell(&job["fail_reason"])),
    ]);
    let subs: Vec<Vec<String>> = job["entities"]["sub_jobs"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|s| {
            vec![
                cell(&s["job_id"]),
                cell(&s["job_type"]),
                cell(&s["status"]),
                cell(&s["entities"]["server_id"]),
                cell(&s["error_code"]),
                cell(&s["fail_reason"]),
            ]
        })
        .collect();
    if !subs.is_empty() {
        println!();
        output::rows(&["SUB-JOB", "TYPE", "STATUS", "SERVER", "ERROR", "REASON"], subs);
    }
    Ok(())
}

/// `GET /ecsd/v1/{project_id}/jobs/{job_id}/events` as JSON: every step of the saga.
async fn steps(ctx: &Ctx, job_id: &str) -> Result<(), Error> {
    let view = ctx.client.get(&format!("/ecsd/v1/{{p}}/jobs/{}/events", enc(job_id))).await?;
    if ctx.format == Format::Json {
        output::json(&view);
        return Ok(());
    }
    let mut rows = Vec::new();
    for j in std::iter::once(&view).chain(view["sub_jobs"].as_array().into_iter().flatten()) {
        for s in j["steps"].as_array().into_iter().flatten() {
            rows.push(step_row(j, s));
        }
    }
    println!("job {} {}: {}", cell(&view["job_id"]), cell(&view["job_type"]), cell(&view["status"]));
    output::rows(&["JOB", "STEP", "STATUS", "ATTEMPTS", "STARTED", "ENDED", "ERROR"], rows);
    Ok(())
}

fn step_row(job: &Value, s: &Value) -> Vec<String> {
    let error = match s["error"].as_object() {
        Some(e) => format!("{}: {}", cell(&e["code"]), cell(&e["message"])),
        None => String::new(),
    };
    vec![
        cell(&job["job_id"]),
        cell(&s["name"]),
        cell(&s["status"]),
        cell(&s["attempts"]),
        cell(&s["started_at"]),
        cell(&s["ended_at"]),
        error,
    ]
}
