//! The audit trail's table: traces written in batches, read a page at a time, newest first.

use super::{execute, get, query, PgStore};
use crate::{StoreError, TraceQuery, TraceRecord};
use tokio_postgres::types::ToSql;

impl PgStore {
    /// A batch in one statement (its columns as arrays, unnested into rows): one parse and one
    /// executor start for the lot, where a statement per trace cost as many round trips.
    pub(crate) async fn traces_insert(&self, traces: Vec<TraceRecord>) -> Result<(), StoreError> {
        if traces.is_empty() {
            return Ok(());
        }
        fn col<'a, T>(traces: &'a [TraceRecord], f: impl Fn(&'a TraceRecord) -> T) -> Vec<T> {
            traces.iter().map(f).collect()
        }
        let c = self.client().await?;
        execute(
            &c,
            "INSERT INTO traces (trace_id, project_id, time_ms, service_type, user_name, resource_type,
                 resource_id, resource_name, trace_name, trace_rating, body)
             SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[],
                                  $7::text[], $8::text[], $9::text[], $10::text[], $11::text[])
             ON CONFLICT (trace_id) DO NOTHING",
            &[
                &col(&traces, |t| t.trace_id.as_str()),
                &col(&traces, |t| t.project_id.as_str()),
                &col(&traces, |t| t.time_ms),
                &col(&traces, |t| t.service_type.as_str()),
                &col(&traces, |t| t.user_name.as_str()),
                &col(&traces, |t| t.resource_type.as_str()),
                &col(&traces, |t| t.resource_id.as_str()),
                &col(&traces, |t| t.resource_name.as_str()),
                &col(&traces, |t| t.trace_name.as_str()),
                &col(&traces, |t| t.trace_rating.as_str()),
                &col(&traces, |t| t.body.as_str()),
            ],
        )
        .await?;
        Ok(())
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
