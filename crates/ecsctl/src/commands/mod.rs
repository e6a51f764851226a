//! The commands, one module per kind of resource, and what they share: finding a resource by
//! name, reading files, and ending a long operation (its job id, or `--wait`).

pub mod api;
pub mod flavors;
pub mod images;
pub mod jobs;
pub mod keypairs;
pub mod servers;

use crate::client::enc;
use crate::error::Error;
use crate::output::{self, cell, Format};
use crate::{progress, Ctx};
use serde_json::Value;
use std::path::Path;

/// `8-4-4-4-12` hex digits: an id, not a name.
pub fn is_uuid(s: &str) -> bool {
    s.len() == 36
        && s.char_indices().all(|(i, c)| if matches!(i, 8 | 13 | 18 | 23) { c == '-' } else { c.is_ascii_hexdigit() })
}

/// A server's id: the argument itself when it is one, else the one server with that name.
pub async fn server_id(ctx: &Ctx, server: &str) -> Result<String, Error> {
    if is_uuid(server) {
        return Ok(server.to_string());
    }
    // The `name` filter matches parts of names; only an exact match counts here.
    let list = ctx.client.get(&format!("/v1/{{p}}/cloudservers/detail?name={}", enc(server))).await?;
    let ids: Vec<String> = list["servers"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|s| s["name"] == server)
        .map(|s| cell(&s["id"]))
        .collect();
    match ids.as_slice() {
        [id] => Ok(id.clone()),
        [] => Err(Error::NotFound(format!("no server named {server:?}"))),
        _ => Err(Error::NotFound(format!("{} servers are named {server:?}: give an id", ids.len()))),
    }
}

/// An image: the argument's when it is an id, else the one image with that name.
pub async fn image(ctx: &Ctx, image: &str) -> Result<Value, Error> {
    let query = if is_uuid(image) { format!("id={}", enc(image)) } else { format!("name={}", enc(image)) };
    let list = ctx.client.get(&format!("/v2/cloudimages?{query}")).await?;
    let found: Vec<&Value> = list["images"].as_array().into_iter().flatten().collect();
    match found.as_slice() {
        [one] => Ok((*one).clone()),
        [] => Err(Error::NotFound(format!("no image {image:?}"))),
        _ => Err(Error::NotFound(format!("{} images are named {image:?}: give an id", found.len()))),
    }
}

/// The user-data file, base64-encoded as the API takes it.
pub fn user_data(file: &Path) -> Result<String, Error> {
    use base64::Engine;
    let bytes =
        std::fs::read(file).map_err(|e| Error::Usage(format!("cannot read --user-data {}: {e}", file.display())))?;
    Ok(base64::engine::general_purpose::STANDARD.encode(bytes))
}

/// Ends a long operation: with `--wait`, follows its job and prints the result; without, prints
/// the answer (its job id).
pub async fn started(ctx: &Ctx, answer: &Value, wait: bool) -> Result<(), Error> {
    let job_id = cell(&answer["job_id"]);
    if !wait || job_id.is_empty() {
        match ctx.format {
            Format::Json => output::json(answer),
            Format::Table => {
                let mut rows = vec![("job_id", job_id)];
                if let Some(ids) = answer["serverIds"].as_array() {
                    rows.push(("server_ids", ids.iter().map(cell).collect::<Vec<_>>().join(", ")));
                }
                output::fields(rows);
            }
        }
        return Ok(());
    }
    follow(ctx, &job_id).await
}

/// Follows a job to its end: the job view is printed (JSON mode: whatever the result, so that
/// a script can read why it failed) and a FAIL becomes the error.
pub async fn follow(ctx: &Ctx, job_id: &str) -> Result<(), Error> {
    let r = progress::wait(&ctx.client, job_id, ctx.timeout).await;
    match (&r, ctx.format) {
        (Ok(job), Format::Json) | (Err(Error::JobFailed { job, .. }), Format::Json) => output::json(job),
        (Ok(job), Format::Table) => {
            let mut line = format!("job {job_id} {}: {}", cell(&job["job_type"]), cell(&job["status"]));
            let servers: Vec<String> = job["entities"]["sub_jobs"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|s| cell(&s["entities"]["server_id"]))
                .filter(|s| !s.is_empty())
                .collect();
            if !servers.is_empty() {
                line.push_str(&format!(" (servers {})", servers.join(", ")));
            } else if let Some(s) = job["entities"]["server_id"].as_str() {
                line.push_str(&format!(" (server {s})"));
            }
            println!("{line}");
        }
        _ => {}
    }
    r.map(|_| ())
}
