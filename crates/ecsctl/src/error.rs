//! What can go wrong, and the exit code each kind of failure ends the process with.

use serde_json::Value;

/// The exit codes, documented in `docs/ecsctl.md`; scripts branch on them.
pub mod exit {
    pub const OK: i32 = 0;
    /// The API refused the request (a 4xx answer).
    pub const REFUSED: i32 = 1;
    /// The command line was wrong (clap's own code for this, kept for ours).
    pub const USAGE: i32 = 2;
    /// The job that was waited for ended `FAIL`.
    pub const JOB_FAILED: i32 = 3;
    /// The service could not be reached, or answered 5xx.
    pub const UNAVAILABLE: i32 = 4;
    /// `--wait` gave up before the job ended.
    pub const TIMED_OUT: i32 = 5;
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A 4xx answer, with the error code and message the body carried (Huawei, API gateway or
    /// Nova shape).
    #[error("HTTP {status}{}: {message}", spaced(.code))]
    Refused { status: u16, code: String, message: String },
    /// A 5xx answer.
    #[error("HTTP {status}{}: {message}", spaced(.code))]
    Unavailable { status: u16, code: String, message: String },
    #[error("cannot reach {endpoint}: {reason}")]
    Unreachable { endpoint: String, reason: String },
    #[error("job {job_id} ended FAIL: {code}: {reason}")]
    JobFailed { job_id: String, code: String, reason: String, job: Value },
    #[error("gave up waiting for job {job_id} after {secs} s (it goes on in the service)")]
    TimedOut { job_id: String, secs: u64 },
    #[error("{0}")]
    Usage(String),
    /// A name given for a server, image or key pair that matches nothing (or several).
    #[error("{0}")]
    NotFound(String),
    /// Anything else local: a file that cannot be read or written, an answer that is not JSON.
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

impl Error {
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Refused { .. } | Error::NotFound(_) => exit::REFUSED,
            Error::Unavailable { .. } | Error::Unreachable { .. } => exit::UNAVAILABLE,
            Error::JobFailed { .. } => exit::JOB_FAILED,
            Error::TimedOut { .. } => exit::TIMED_OUT,
            Error::Usage(_) => exit::USAGE,
            // A local failure is not the API's refusal, but nothing a retry or a restart of the
            // service would mend either: it gets the generic failure code.
            Error::Other(_) => exit::REFUSED,
        }
    }

    /// The error for a non-2xx answer: its status and the code and message of its body,
    /// whichever of the shapes the service uses for that path.
    pub fn from_answer(status: u16, body: &Value, raw: &str) -> Error {
        let (code, message) = error_fields(body).unwrap_or_else(|| {
            let text = raw.trim();
            (String::new(), if text.is_empty() { "(empty body)".to_string() } else { text.to_string() })
        });
        if status >= 500 {
            Error::Unavailable { status, code, message }
        } else {
            Error::Refused { status, code, message }
        }
    }
}

/// ` CODE`, or nothing for a body without one.
fn spaced(code: &str) -> String {
    if code.is_empty() {
        String::new()
    } else {
        format!(" {code}")
    }
}

/// `{"error": {"code", "message"}}` (ECS), `{"error_code", "error_msg"}` (API gateway),
/// `{"itemNotFound" | "badRequest" | ...: {"code": 404, "message"}}` (Nova).
fn error_fields(body: &Value) -> Option<(String, String)> {
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    };
    if let Some(e) = body.get("error").filter(|e| e.is_object()) {
        return Some((text(&e["code"]), text(&e["message"])));
    }
    if body.get("error_code").is_some() {
        return Some((text(&body["error_code"]), text(&body["error_msg"])));
    }
    let obj = body.as_object()?;
    if obj.len() == 1 {
        let (_, fault) = obj.iter().next()?;
        if fault.get("message").is_some() {
            return Some((text(&fault["code"]), text(&fault["message"])));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_each_error_shape() {
        let e = Error::from_answer(404, &json!({"error": {"code": "Ecs.0114", "message": "gone"}}), "");
        assert_eq!(e.to_string(), "HTTP 404 Ecs.0114: gone");
        assert_eq!(e.exit_code(), exit::REFUSED);
        let e = Error::from_answer(401, &json!({"error_code": "APIGW.0301", "error_msg": "bad sig"}), "");
        assert_eq!(e.to_string(), "HTTP 401 APIGW.0301: bad sig");
        let e = Error::from_answer(404, &json!({"itemNotFound": {"code": 404, "message": "no key"}}), "");
        assert_eq!(e.to_string(), "HTTP 404 404: no key");
        let e = Error::from_answer(503, &Value::Null, "busy");
        assert_eq!(e.exit_code(), exit::UNAVAILABLE);
        assert_eq!(e.to_string(), "HTTP 503: busy");
    }
}
