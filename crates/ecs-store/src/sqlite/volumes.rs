//! Volume queries by project, and what becomes of a server's volumes when it goes.

use super::backend;
use super::catalog::query_bodies;
use super::servers::volume_put_in;
use crate::{StoreError, VolumeSwap};
use ecs_model::volume::Volume;
use rusqlite::{params, Connection};

/// Every volume of a project, oldest first. The project lives in the JSON body only: a scan,
/// as the volume table is small next to the server table (a few rows per server).
pub(super) fn of_project(c: &Connection, project_id: &str) -> Result<Vec<Volume>, StoreError> {
    let mut v: Vec<Volume> =
        query_bodies(c, "SELECT body FROM volumes WHERE json_extract(body, '$.project_id') = ?1", project_id)?;
    v.sort_by(|a, b| (a.created_ms, &a.id).cmp(&(b.created_ms, &b.id)));
    Ok(v)
}

/// The volumes of a server that is being removed: data disks that outlive their server are
/// detached (no server, no boot index), every other row goes.
pub(super) fn release_in(c: &Connection, server_id: &str) -> Result<(), StoreError> {
    let attached: Vec<Volume> = query_bodies(c, "SELECT body FROM volumes WHERE server_id = ?1", server_id)?;
    for mut v in attached {
        if v.is_system() || v.delete_on_termination {
            c.execute("DELETE FROM volumes WHERE id = ?1", params![v.id]).map_err(backend)?;
        } else {
            v.server_id = None;
            v.boot_index = None;
            volume_put_in(c, &v)?;
        }
    }
    Ok(())
}

/// Writes `sw.to` if the stored row is still `sw.from` (the writer thread runs one transaction
/// at a time, so the read and the write cannot be separated).
pub(super) fn swap_in(c: &Connection, sw: &VolumeSwap) -> Result<(), StoreError> {
    let now: Option<Volume> =
        query_bodies(c, "SELECT body FROM volumes WHERE id = ?1", &sw.from.id)?.into_iter().next();
    if now.as_ref() != Some(&sw.from) {
        return Err(StoreError::Conflict(format!("volume {} changed meanwhile", sw.from.id)));
    }
    volume_put_in(c, &sw.to)
}
