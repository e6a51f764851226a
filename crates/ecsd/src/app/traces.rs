//! `ListTraces` (`GET /v3/{project_id}/traces`): the caller's project's audit trail, newest
//! first, filtered and paged as the trace service does.

use super::internal;
use crate::caller::Caller;
use crate::context::App;
use ecs_model::Error;
use ecs_store::TraceQuery;
use ecs_types::cts::{TraceList, TraceMetaData, TraceView};
use ecs_types::Code;
use serde::Deserialize;

/// The query parameters, as the SDK sends them (values as text: each is checked below, so that
/// a bad one is named in the answer).
#[derive(Debug, Default, Deserialize)]
pub struct TraceParams {
    pub trace_type: Option<String>,
    pub limit: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub next: Option<String>,
    pub tracker_name: Option<String>,
    pub service_type: Option<String>,
    pub user: Option<String>,
    pub resource_id: Option<String>,
    pub resource_name: Option<String>,
    pub resource_type: Option<String>,
    pub trace_id: Option<String>,
    pub trace_name: Option<String>,
    pub trace_rating: Option<String>,
}

/// Traces per page by default, and at most.
const DEFAULT_LIMIT: i64 = 10;
const MAX_LIMIT: i64 = 200;
/// The time range when none is given: the last hour.
const DEFAULT_RANGE_MS: i64 = 3600 * 1000;

fn invalid(message: impl Into<String>) -> Error {
    Error::new(Code::Cts0001, message)
}

fn number(name: &str, v: &Option<String>) -> Result<Option<i64>, Error> {
    v.as_deref()
        .map(|s| s.parse::<i64>().map_err(|_| invalid(format!("{name} must be an integer, not {s:?}."))))
        .transpose()
}

/// Checks the parameters and makes them a store query.
pub fn query(caller: &Caller, p: TraceParams, now_ms: i64) -> Result<Option<TraceQuery>, Error> {
    match p.trace_type.as_deref() {
        Some("system") => {}
        // No data trackers here: nothing is ever recorded as a data trace.
        Some("data") => return Ok(None),
        Some(other) => return Err(invalid(format!("trace_type must be system or data, not {other:?}."))),
        None => return Err(invalid("trace_type is mandatory (system or data).")),
    }
    if let Some(t) = p.tracker_name.as_deref().filter(|t| *t != "system") {
        return Err(invalid(format!("The tracker {t:?} does not exist; the management tracker is \"system\".")));
    }
    let limit = number("limit", &p.limit)?.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(invalid(format!("limit must be from 1 to {MAX_LIMIT}, not {limit}.")));
    }
    let to = number("to", &p.to)?.unwrap_or(now_ms + 1);
    let from = number("from", &p.from)?.unwrap_or(to - DEFAULT_RANGE_MS);
    if from >= to {
        return Err(invalid(format!("from ({from}) must be earlier than to ({to}).")));
    }
    if let Some(r) = p.trace_rating.as_deref().filter(|r| !matches!(*r, "normal" | "warning" | "incident")) {
        return Err(invalid(format!("trace_rating must be normal, warning or incident, not {r:?}.")));
    }
    let mut q = TraceQuery {
        project_id: caller.project_id.clone(),
        // Both ends of the service's range are exclusive.
        from_ms: from + 1,
        to_ms: to - 1,
        after: p.next.filter(|n| !n.is_empty()),
        limit,
        ..TraceQuery::default()
    };
    // A trace id names one trace: the other filters do not apply then.
    if p.trace_id.is_some() {
        q.trace_id = p.trace_id;
    } else {
        q.service_type = p.service_type;
        q.user_name = p.user;
        q.resource_id = p.resource_id;
        q.resource_name = p.resource_name;
        q.resource_type = p.resource_type;
        q.trace_name = p.trace_name;
        q.trace_rating = p.trace_rating;
    }
    Ok(Some(q))
}

/// A page of the caller's traces. The recorder is flushed first, so that every call this node
/// has answered is in the page.
pub async fn list(app: &App, caller: &Caller, params: TraceParams) -> Result<TraceList, Error> {
    let Some(q) = query(caller, params, ecs_model::timefmt::now_ms())? else {
        return Ok(TraceList { traces: Vec::new(), meta_data: TraceMetaData { count: 0, marker: None } });
    };
    app.audit.flush().await;
    let (rows, more) = app.ctx.store.trace_list(&q).await.map_err(internal)?;
    let traces: Vec<TraceView> = rows
        .iter()
        .map(|r| serde_json::from_str(&r.body))
        .collect::<Result<_, _>>()
        .map_err(|e| Error::internal(format!("a stored trace does not parse: {e}")))?;
    let marker = if more { traces.last().map(|t| t.trace_id.clone()) } else { None };
    Ok(TraceList { meta_data: TraceMetaData { count: traces.len() as i64, marker }, traces })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caller() -> Caller {
        Caller { user_id: "u".into(), project_id: "p".into(), ak: "a".into() }
    }

    fn params(pairs: &str) -> TraceParams {
        serde_urlencoded::from_str(pairs).unwrap()
    }

    #[test]
    fn bad_parameters_are_named_and_good_ones_make_the_query() {
        let bad = |q: &str| query(&caller(), params(q), 1_000_000).unwrap_err().message;
        assert!(bad("").contains("trace_type"));
        assert!(bad("trace_type=system&limit=201").contains("limit"));
        assert!(bad("trace_type=system&limit=x").contains("integer"));
        assert!(bad("trace_type=system&from=5&to=5").contains("earlier"));
        assert!(bad("trace_type=system&trace_rating=bad").contains("trace_rating"));
        assert!(bad("trace_type=system&tracker_name=other").contains("tracker"));
        assert!(query(&caller(), params("trace_type=data"), 0).unwrap().is_none());
        let q = query(&caller(), params("trace_type=system&user=alice&trace_id=t&from=10&to=20"), 0).unwrap().unwrap();
        assert_eq!((q.from_ms, q.to_ms, q.limit), (11, 19, DEFAULT_LIMIT));
        assert_eq!((q.trace_id.as_deref(), q.user_name), (Some("t"), None), "a trace id overrides the filters");
    }
}
