//! `PUT /v1/{project_id}/cloudservers/server-name`: gives several servers one name.

use super::servers::batch_ids;
use super::{begin, server_of, validate};
use crate::caller::Caller;
use crate::context::App;
use ecs_model::timefmt::now_ms;
use ecs_model::{gates, Error};
use ecs_store::Begin;
use ecs_types::passwords::{BatchRenameBody, BatchServersAnswer, ServerIdView};

/// What a batch request did.
pub enum Batch {
    /// `dry_run`: every check passed, nothing was changed.
    DryRun,
    Done(BatchServersAnswer),
}

/// Renames every server named, or none: each must exist in the project and pass the update gate
/// (not locked), and all are written in one transaction, which a concurrent change to any of
/// them makes fail as busy (`Ecs.0100`). Names are not numbered: three servers renamed
/// `develop` are all called `develop`.
pub async fn rename(app: &App, caller: &Caller, body: BatchRenameBody) -> Result<Batch, Error> {
    let name = body.name.ok_or_else(|| Error::invalid("request body is illegal: name is required."))?;
    validate::server_name(&name)?;
    let ids = batch_ids(body.servers)?;
    let now = now_ms();
    let mut b = Begin::default();
    for id in &ids {
        let mut s = server_of(app, &caller.project_id, id).await?.server;
        gates::update_allowed(&s)?;
        s.name = name.clone();
        s.updated_ms = now;
        b.update_servers.push(s);
    }
    if body.dry_run == Some(true) {
        return Ok(Batch::DryRun);
    }
    begin(app, b).await?;
    Ok(Batch::Done(BatchServersAnswer { response: ids.into_iter().map(|id| ServerIdView { id }).collect() }))
}
