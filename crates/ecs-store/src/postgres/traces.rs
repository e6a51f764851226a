//! The audit trail's table: traces written in batches, read a page at a time, newest first.

use super::{commit, execute, get, query, transaction, PgStore};
use crate::{StoreError, TraceQuery, TraceRecord};
use tokio_postgres::types::ToSql;

impl PgStore {
    pub(crate) async fn traces_insert(&self, traces: Vec<TraceRecord>) -> Result<(), StoreError> {
        let mut c = self.client().await?;
        let tx = transaction(&mut c).await?;
        for t in &traces {
            execute(
                &tx,
                "INSERT INTO traces (trace_id, project_id, time_ms, service_type, user_name, resource_type,
                     resource_id, resource_name, trace_name, trace_rating, body)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (trace_id) DO NOTHING",
                &[
                    &t.trace_id,
                    &t.project_id,
                    &t.time_ms,
                    &t.service_type,
                    &t.user_name,
                    &t.resource_type,
                    &t.resource_id,
                    &t.resource_name,
                    &t.trace_name,
                    &t.trace_rating,
                    &t.body,
                ],
            )
            .await?;
        }
        commit(tx).await
    }

    pub(crate) async fn traces_list(&self, q: &TraceQuery) -> Result<(Vec<TraceRecord>, bool), StoreError> {
        let mut sql = String::from(
            "SELECT trace_id, project_id, time_ms, service_type, user_name, resource_type, resource_id,
                    resource_name, trace_name, trace_rating, body
               FROM traces WHERE project_id = $1 AND time_ms >= $2 AND time_ms <= $3",
        );
        let filters = q.filters();
        let limit = q.limit + 1;
        let mut args: Vec<&(dyn ToSql + Sync)> = vec![&q.project_id, &q.from_ms, &q.to_ms];
        for (col, v) in &filters {
            args.push(v);
            sql.push_str(&format!(" AND {col} = ${}", args.len()));
        }
        if let Some(after) = &q.after {
            args.push(after);
            let n = args.len();
            sql.push_str(&format!(
                " AND (time_ms, ord) < (SELECT time_ms, ord FROM traces WHERE trace_id = ${n} AND project_id = $1)"
            ));
        }
        args.push(&limit);
        sql.push_str(&format!(" ORDER BY time_ms DESC, ord DESC LIMIT ${}", args.len()));
        let c = self.client().await?;
        let rows = query(&c, &sql, &args).await?;
        let mut out = rows
            .iter()
            .map(|r| {
                Ok(TraceRecord {
                    trace_id: get(r, 0)?,
                    project_id: get(r, 1)?,
                    time_ms: get(r, 2)?,
                    service_type: get(r, 3)?,
                    user_name: get(r, 4)?,
                    resource_type: get(r, 5)?,
                    resource_id: get(r, 6)?,
                    resource_name: get(r, 7)?,
                    trace_name: get(r, 8)?,
                    trace_rating: get(r, 9)?,
                    body: get(r, 10)?,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        let more = out.len() as i64 > q.limit;
        out.truncate(q.limit as usize);
        Ok((out, more))
    }

    pub(crate) async fn traces_expire(&self, before_ms: i64) -> Result<u64, StoreError> {
        let c = self.client().await?;
        execute(&c, "DELETE FROM traces WHERE time_ms < $1", &[&before_ms]).await
    }
}
