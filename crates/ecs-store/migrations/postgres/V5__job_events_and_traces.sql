-- The audit trail. (Saga events carry their time since version 3: `saga_events.at`.)

-- One row per recorded API call, queried by project and time range. The
-- columns are what the trace queries filter on; `body` is the whole trace as the API shows it.
CREATE TABLE traces (
    trace_id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL,
    time_ms BIGINT NOT NULL,
    service_type TEXT NOT NULL,
    user_name TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    resource_id TEXT NOT NULL,
    resource_name TEXT NOT NULL,
    trace_name TEXT NOT NULL,
    trace_rating TEXT NOT NULL,
    body TEXT NOT NULL,
    ord BIGINT GENERATED ALWAYS AS IDENTITY
);
CREATE INDEX traces_project_time ON traces (project_id, time_ms DESC, ord DESC);
-- Expiry finds old traces by range.
CREATE INDEX traces_time ON traces (time_ms);
