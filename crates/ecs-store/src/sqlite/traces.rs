//! The audit trail's table: traces written in batches, read a page at a time, newest first.

use super::{backend, execute_cached, SqliteStore};
use crate::{StoreError, TraceQuery, TraceRecord};
use rusqlite::types::Value;
use rusqlite::{params, params_from_iter};

impl SqliteStore {
    pub(crate) async fn traces_insert(&self, traces: Vec<TraceRecord>) -> Result<(), StoreError> {
        self.write(move |c| {
            for t in &traces {
                execute_cached(
                    c,
                    "INSERT OR IGNORE INTO traces (trace_id, project_id, time_ms, service_type, user_name, resource_type,
                         resource_id, resource_name, trace_name, trace_rating, body)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                    params![
                        t.trace_id,
                        t.project_id,
                        t.time_ms,
                        t.service_type,
                        t.user_name,
                        t.resource_type,
                        t.resource_id,
                        t.resource_name,
                        t.trace_name,
                        t.trace_rating,
                        t.body
                    ],
                )
                .map_err(backend)?;
            }
            Ok(())
        })
        .await
    }

    pub(crate) async fn traces_list(&self, q: &TraceQuery) -> Result<(Vec<TraceRecord>, bool), StoreError> {
        let mut sql = String::from(
            "SELECT trace_id, project_id, time_ms, service_type, user_name, resource_type, resource_id,
                    resource_name, trace_name, trace_rating, body
               FROM traces WHERE project_id = ?1 AND time_ms >= ?2 AND time_ms <= ?3",
        );
        let mut args: Vec<Value> = vec![q.project_id.clone().into(), q.from_ms.into(), q.to_ms.into()];
        for (col, v) in q.filters() {
            args.push(v.to_string().into());
            sql.push_str(&format!(" AND {col} = ?{}", args.len()));
        }
        if let Some(after) = &q.after {
            args.push(after.clone().into());
            let n = args.len();
            sql.push_str(&format!(
                " AND (time_ms, rowid) < (SELECT time_ms, rowid FROM traces WHERE trace_id = ?{n} AND project_id = ?1)"
            ));
        }
        args.push((q.limit + 1).into());
        sql.push_str(&format!(" ORDER BY time_ms DESC, rowid DESC LIMIT ?{}", args.len()));
        let limit = q.limit as usize;
        self.read(move |c| {
            let mut st = c.prepare_cached(&sql).map_err(backend)?;
            let mut rows: Vec<TraceRecord> = st
                .query_map(params_from_iter(args), |r| {
                    Ok(TraceRecord {
                        trace_id: r.get(0)?,
                        project_id: r.get(1)?,
                        time_ms: r.get(2)?,
                        service_type: r.get(3)?,
                        user_name: r.get(4)?,
                        resource_type: r.get(5)?,
                        resource_id: r.get(6)?,
                        resource_name: r.get(7)?,
                        trace_name: r.get(8)?,
                        trace_rating: r.get(9)?,
                        body: r.get(10)?,
                    })
                })
                .map_err(backend)?
                .collect::<Result<_, _>>()
                .map_err(backend)?;
            let more = rows.len() > limit;
            rows.truncate(limit);
            Ok((rows, more))
        })
        .await
    }

    pub(crate) async fn traces_expire(&self, before_ms: i64) -> Result<u64, StoreError> {
        self.write(move |c| {
            let n = execute_cached(c, "DELETE FROM traces WHERE time_ms < ?1", params![before_ms]).map_err(backend)?;
            Ok(n as u64)
        })
        .await
    }
}
