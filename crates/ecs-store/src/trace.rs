//! What the store keeps of the audit trail, and how it is queried: the columns the trace
//! queries filter on, and the trace itself as an opaque JSON body.

/// One recorded API call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceRecord {
    pub trace_id: String,
    pub project_id: String,
    /// When the call was made, in milliseconds since the epoch.
    pub time_ms: i64,
    pub service_type: String,
    pub user_name: String,
    pub resource_type: String,
    pub resource_id: String,
    pub resource_name: String,
    pub trace_name: String,
    pub trace_rating: String,
    /// The trace as the API shows it (JSON).
    pub body: String,
}

/// A page of a project's traces, newest first. Every `Some` filter must match exactly.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TraceQuery {
    pub project_id: String,
    /// The time range, both ends included, in milliseconds since the epoch.
    pub from_ms: i64,
    pub to_ms: i64,
    pub service_type: Option<String>,
    pub user_name: Option<String>,
    pub resource_type: Option<String>,
    pub resource_id: Option<String>,
    pub resource_name: Option<String>,
    pub trace_name: Option<String>,
    pub trace_rating: Option<String>,
    pub trace_id: Option<String>,
    /// The page starts after this trace (the last of the previous page); an id that is not one
    /// of the project's gives an empty page.
    pub after: Option<String>,
    pub limit: i64,
}

impl TraceQuery {
    /// The equality filters in force, by column name.
    pub fn filters(&self) -> Vec<(&'static str, &str)> {
        [
            ("service_type", &self.service_type),
            ("user_name", &self.user_name),
            ("resource_type", &self.resource_type),
            ("resource_id", &self.resource_id),
            ("resource_name", &self.resource_name),
            ("trace_name", &self.trace_name),
            ("trace_rating", &self.trace_rating),
            ("trace_id", &self.trace_id),
        ]
        .into_iter()
        .filter_map(|(col, v)| v.as_deref().map(|v| (col, v)))
        .collect()
    }
}

/// A saga log entry with where it sits and when it was written, as a job's progress shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct LoggedEvent {
    pub saga_id: String,
    /// Its number in its saga's log: 1, 2, 3...
    pub seq: i64,
    /// When it was written (milliseconds since the epoch); `None` for events written before
    /// the log recorded it.
    pub at_ms: Option<i64>,
    pub event: ecs_saga::StepEvent,
}
