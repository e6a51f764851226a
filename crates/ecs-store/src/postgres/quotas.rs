//! A project's usage of its quotas, and the check made inside the transaction that inserts
//! servers or changes their flavors.

use super::{get, query};
use crate::StoreError;
use deadpool_postgres::GenericClient;
use ecs_model::quota::{Quotas, Usage};
use ecs_model::server::Server;

/// What `flavor_id` servers cost; a flavor no longer in the catalog counts as a server only.
pub(super) fn usage_of(flavor_id: &str, count: i64) -> Usage {
    match ecs_model::flavor::find(flavor_id) {
        Some(f) => Usage::of(f.vcpus, f.ram_mb, count),
        None => Usage::of(0, 0, count),
    }
}

/// The project's usage, from the `flavor_id` column (one grouped scan of its servers).
pub(super) async fn usage_in(c: &impl GenericClient, project_id: &str) -> Result<Usage, StoreError> {
    usage_where(c, "project_id", project_id).await
}

/// What the servers whose `column` is `value` use, by their flavors (one grouped scan).
pub(super) async fn usage_where(c: &impl GenericClient, column: &str, value: &str) -> Result<Usage, StoreError> {
    let sql = format!("SELECT flavor_id, COUNT(*) FROM servers WHERE {column} = $1 GROUP BY flavor_id");
    let rows = query(c, &sql, &[&value]).await?;
    let mut total = Usage::default();
    for r in &rows {
        total = total.plus(usage_of(get(r, 0)?, get(r, 1)?));
    }
    Ok(total)
}

/// Refuses the insertion of `inserts`, and the flavor changes of `updates`, if they would take
/// the project past `quotas`. An update counts for what its new flavor adds to the flavor the
/// server has in the table (the compare-and-swap that follows proves that flavor is the one the
/// request was decided on). The caller holds the project's row lock (see
/// [`super::catalog::lock_project`]) in the transaction that writes them: a concurrent create
/// or resize of the same project waits for that transaction to end, and its own usage query (a
/// new snapshot, at READ COMMITTED) then counts these servers and flavors.
pub(super) async fn check_in(
    c: &impl GenericClient,
    project_id: &str,
    quotas: &Quotas,
    inserts: &[Server],
    updates: &[Server],
) -> Result<(), StoreError> {
    let mut asked = inserts.iter().fold(Usage::default(), |u, s| u.plus(usage_of(&s.flavor_id, 1)));
    for s in updates {
        let rows = query(c, "SELECT flavor_id FROM servers WHERE id = $1", &[&s.id]).await?;
        if let Some(r) = rows.first() {
            let old: String = get(r, 0)?;
            asked = asked.plus(usage_of(&old, 1).growth_to(usage_of(&s.flavor_id, 1)));
        }
    }
    let used = usage_in(c, project_id).await?;
    match quotas.refusal(used, asked) {
        Some(why) => Err(StoreError::QuotaExceeded(why)),
        None => Ok(()),
    }
}
