//! Volume queries by project, and what becomes of a server's volumes when it goes.

use super::servers::volume_put_in;
use super::{bodies, decode, execute, get, query, query_opt};
use crate::{StoreError, VolumeSwap};
use deadpool_postgres::GenericClient;
use ecs_model::volume::Volume;

/// Every volume of a project, oldest first (by its `project_id` column).
pub(super) async fn of_project(c: &impl GenericClient, project_id: &str) -> Result<Vec<Volume>, StoreError> {
    let mut v: Vec<Volume> =
        bodies(&query(c, "SELECT body FROM volumes WHERE project_id = $1", &[&project_id]).await?)?;
    v.sort_by(|a, b| (a.created_ms, &a.id).cmp(&(b.created_ms, &b.id)));
    Ok(v)
}

/// The volumes of a server that is being removed: data disks that outlive their server are
/// detached (no server, no boot index), every other row goes. Their rows are locked while this
/// transaction decides, so that a concurrent write of one of them waits for the decision.
pub(super) async fn release_in(c: &impl GenericClient, server_id: &str) -> Result<(), StoreError> {
    let attached: Vec<Volume> =
        bodies(&query(c, "SELECT body FROM volumes WHERE server_id = $1 FOR UPDATE", &[&server_id]).await?)?;
    for mut v in attached {
        if v.is_system() || v.delete_on_termination {
            execute(c, "DELETE FROM volumes WHERE id = $1", &[&v.id]).await?;
        } else {
            v.server_id = None;
            v.boot_index = None;
            volume_put_in(c, &v).await?;
        }
    }
    Ok(())
}

/// Writes `sw.to` if the stored row is still `sw.from`, holding the row's lock from the read to
/// the end of the transaction.
pub(super) async fn swap_in(c: &impl GenericClient, sw: &VolumeSwap) -> Result<(), StoreError> {
    let now: Option<Volume> =
        match query_opt(c, "SELECT body FROM volumes WHERE id = $1 FOR UPDATE", &[&sw.from.id]).await? {
            Some(row) => Some(decode(&get::<String>(&row, 0)?)?),
            None => None,
        };
    if now.as_ref() != Some(&sw.from) {
        return Err(StoreError::Conflict(format!("volume {} changed meanwhile", sw.from.id)));
    }
    volume_put_in(c, &sw.to).await
}
