//! The state the nodes of one database share: the simulated driver's records, the faults in
//! force, and the settings written once (see `migrations/postgres/V2__shared_state.sql`).

use super::{commit, execute, get, query, query_opt, transaction, PgStore};
use crate::{SharedFault, SimKind, StoreError};

/// The columns of a fault, in the order [`fault_from_row`] reads them.
const FAULT_COLUMNS: &str = "id, project_id, spec, times, hits";

fn fault_from_row(row: &tokio_postgres::Row) -> Result<SharedFault, StoreError> {
    let count = |v: i64| u32::try_from(v).map_err(|_| StoreError::Damaged(format!("a fault count of {v}")));
    Ok(SharedFault {
        id: get(row, 0)?,
        project_id: get(row, 1)?,
        spec: get(row, 2)?,
        times: get::<Option<i64>>(row, 3)?.map(count).transpose()?,
        hits: count(get(row, 4)?)?,
    })
}

impl PgStore {
    pub(crate) async fn sim_get(&self, kind: SimKind, id: &str) -> Result<Option<String>, StoreError> {
        let c = self.client().await?;
        let row =
            query_opt(&c, "SELECT body FROM sim_records WHERE kind = $1 AND id = $2", &[&kind.as_str(), &id]).await?;
        row.as_ref().map(|r| get(r, 0)).transpose()
    }

    pub(crate) async fn sim_put(&self, kind: SimKind, id: &str, body: &str) -> Result<(), StoreError> {
        let c = self.client().await?;
        execute(
            &c,
            "INSERT INTO sim_records (kind, id, body) VALUES ($1, $2, $3)
             ON CONFLICT (kind, id) DO UPDATE SET body = excluded.body",
            &[&kind.as_str(), &id, &body],
        )
        .await?;
        Ok(())
    }

    pub(crate) async fn sim_delete(&self, kind: SimKind, id: &str) -> Result<bool, StoreError> {
        let c = self.client().await?;
        let n = execute(&c, "DELETE FROM sim_records WHERE kind = $1 AND id = $2", &[&kind.as_str(), &id]).await?;
        Ok(n > 0)
    }

    pub(crate) async fn sim_list(&self, kind: SimKind) -> Result<Vec<(String, String)>, StoreError> {
        let c = self.client().await?;
        let rows = query(&c, "SELECT id, body FROM sim_records WHERE kind = $1 ORDER BY id", &[&kind.as_str()]).await?;
        rows.iter().map(|r| Ok((get(r, 0)?, get(r, 1)?))).collect()
    }

    pub(crate) async fn faults_insert(&self, f: &SharedFault) -> Result<(), StoreError> {
        let c = self.client().await?;
        let times = f.times.map(i64::from);
        execute(
            &c,
            "INSERT INTO faults (id, project_id, spec, times, hits) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (id) DO NOTHING",
            &[&f.id, &f.project_id, &f.spec, &times, &i64::from(f.hits)],
        )
        .await?;
        Ok(())
    }

    pub(crate) async fn faults_list(&self) -> Result<Vec<SharedFault>, StoreError> {
        let c = self.client().await?;
        let rows = query(&c, &format!("SELECT {FAULT_COLUMNS} FROM faults ORDER BY ord"), &[]).await?;
        rows.iter().map(fault_from_row).collect()
    }

    pub(crate) async fn faults_remove(&self, project_id: &str, id: &str) -> Result<bool, StoreError> {
        let c = self.client().await?;
        let n = execute(&c, "DELETE FROM faults WHERE id = $1 AND project_id = $2", &[&id, &project_id]).await?;
        Ok(n > 0)
    }

    pub(crate) async fn faults_clear(&self, project_id: &str) -> Result<u64, StoreError> {
        let c = self.client().await?;
        execute(&c, "DELETE FROM faults WHERE project_id = $1", &[&project_id]).await
    }

    /// The UPDATE takes the row's lock, so of two nodes firing the last allowed hit at once the
    /// second waits, then (READ COMMITTED re-checks the WHERE on the row as committed) finds it
    /// used up or gone.
    pub(crate) async fn faults_hit(&self, id: &str) -> Result<Option<SharedFault>, StoreError> {
        let mut c = self.client().await?;
        let tx = transaction(&mut c).await?;
        let row = query_opt(
            &tx,
            &format!(
                "UPDATE faults SET hits = hits + 1 WHERE id = $1 AND (times IS NULL OR hits < times)
                 RETURNING {FAULT_COLUMNS}"
            ),
            &[&id],
        )
        .await?;
        let Some(fault) = row.as_ref().map(fault_from_row).transpose()? else { return Ok(None) };
        if fault.times.is_some_and(|t| fault.hits >= t) {
            execute(&tx, "DELETE FROM faults WHERE id = $1", &[&id]).await?;
        }
        commit(tx).await?;
        Ok(Some(fault))
    }

    pub(crate) async fn settings_get(&self, key: &str) -> Result<Option<String>, StoreError> {
        let c = self.client().await?;
        let row = query_opt(&c, "SELECT value FROM settings WHERE key = $1", &[&key]).await?;
        row.as_ref().map(|r| get(r, 0)).transpose()
    }

    pub(crate) async fn settings_init(&self, key: &str, value: &str) -> Result<String, StoreError> {
        let c = self.client().await?;
        // Two statements, not one: a racing first writer's row is not visible to this INSERT's
        // RETURNING, but is to the SELECT after it (READ COMMITTED, each statement its snapshot).
        execute(&c, "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING", &[&key, &value])
            .await?;
        let row = query_opt(&c, "SELECT value FROM settings WHERE key = $1", &[&key]).await?;
        match row {
            Some(r) => get(&r, 0),
            None => Err(StoreError::Backend(format!("setting {key} vanished as it was written"))),
        }
    }
}
