//! A project's usage of its quotas, and the check made inside the transaction that inserts
//! servers or changes their flavors.

use super::backend;
use crate::StoreError;
use ecs_model::quota::{Quotas, Usage};
use ecs_model::server::Server;
use rusqlite::{params, Connection, OptionalExtension};

/// What `flavor_id` servers cost; a flavor no longer in the catalog counts as a server only.
fn usage_of(flavor_id: &str, count: i64) -> Usage {
    match ecs_model::flavor::find(flavor_id) {
        Some(f) => Usage::of(f.vcpus, f.ram_mb, count),
        None => Usage::of(0, 0, count),
    }
}

/// The project's usage, from the `flavor_id` column (one grouped scan of its servers).
pub(super) fn usage_in(c: &Connection, project_id: &str) -> Result<Usage, StoreError> {
    let mut st = c
        // Kept by the schema's triggers (version 6): a few rows, however many servers.
        .prepare_cached("SELECT flavor_id, n FROM server_counts WHERE project_id = ?1 AND n > 0")
        .map_err(backend)?;
    let rows =
        st.query_map(params![project_id], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))).map_err(backend)?;
    let mut total = Usage::default();
    for row in rows {
        let (flavor, n) = row.map_err(backend)?;
        total = total.plus(usage_of(&flavor, n));
    }
    Ok(total)
}

/// Refuses the insertion of `inserts`, and the flavor changes of `updates`, if they would take
/// the project past `quotas`. An update counts for what its new flavor adds to the flavor the
/// server has in the table (the compare-and-swap that follows proves that flavor is the one the
/// request was decided on). Runs on the writer's connection inside the transaction (savepoint)
/// of the writes: the usage it reads includes every write committed or made earlier in the
/// same group commit, and nothing can come between the check and the writes.
pub(super) fn check_in(
    c: &Connection,
    project_id: &str,
    quotas: &Quotas,
    inserts: &[Server],
    updates: &[Server],
) -> Result<(), StoreError> {
    let mut asked = inserts.iter().fold(Usage::default(), |u, s| u.plus(usage_of(&s.flavor_id, 1)));
    let mut st = c.prepare_cached("SELECT flavor_id FROM servers WHERE id = ?1").map_err(backend)?;
    for s in updates {
        let stored: Option<String> = st.query_row(params![s.id], |r| r.get(0)).optional().map_err(backend)?;
        if let Some(old) = stored {
            asked = asked.plus(usage_of(&old, 1).growth_to(usage_of(&s.flavor_id, 1)));
        }
    }
    let used = usage_in(c, project_id)?;
    match quotas.refusal(used, asked) {
        Some(why) => Err(StoreError::QuotaExceeded(why)),
        None => Ok(()),
    }
}
