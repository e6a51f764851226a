//! One trace from one request: who made it, from where, on which resource, and how it ended.

use super::operations::{action_trace_name, Operation};
use ecs_store::TraceRecord;
use ecs_types::cts::{TraceDomain, TraceUser, TraceView};
use serde_json::Value;

/// What is known of a request when its answer is in.
pub struct Call<'a> {
    pub project_id: &'a str,
    pub user: TraceUser,
    /// The operation matched, if any (an unmatched path is traced by its path alone).
    pub operation: Option<&'a Operation>,
    pub route: Option<&'a str>,
    pub path: &'a str,
    pub host: &'a str,
    pub source_ip: String,
    pub request_id: &'a str,
    /// When the request came, in milliseconds since the epoch.
    pub time_ms: i64,
    pub status: u16,
    pub request: &'a [u8],
    pub response: &'a [u8],
}

/// The user of a known credential.
pub fn known_user(ak: &str, user_id: &str, user_name: Option<&str>, domain: &str) -> TraceUser {
    let name = user_name.unwrap_or(user_id).to_string();
    TraceUser {
        id: user_id.to_string(),
        user_name: name.clone(),
        name,
        access_key_id: ak.to_string(),
        domain: TraceDomain { id: domain.to_string(), name: domain.to_string() },
        kind: "IAMUser".into(),
    }
}

/// The user a refused password login named (not proven to be that user).
pub fn claimed_user(name: &str, domain: &str) -> TraceUser {
    TraceUser {
        name: name.to_string(),
        user_name: name.to_string(),
        domain: TraceDomain { id: domain.to_string(), name: domain.to_string() },
        ..unknown_user("")
    }
}

/// The caller of a failed authentication: the access key it claimed, if any.
pub fn unknown_user(ak: &str) -> TraceUser {
    TraceUser {
        id: String::new(),
        name: String::new(),
        user_name: String::new(),
        access_key_id: ak.to_string(),
        domain: TraceDomain { id: String::new(), name: String::new() },
        kind: "Unknown".into(),
    }
}

/// The trace of a call.
pub fn trace(call: Call<'_>) -> TraceRecord {
    let request: Value = serde_json::from_slice(call.request).unwrap_or(Value::Null);
    let response: Value = serde_json::from_slice(call.response).unwrap_or(Value::Null);
    let (service_type, resource_type, mut trace_name, operation_id) = match call.operation {
        Some(op) => (op.service_type, op.resource_type, op.trace_name.clone(), op.id.clone()),
        None => ("ECS", "ecs", "unknownOperation".to_string(), String::new()),
    };
    // One path, several actions: the body's key says which.
    if matches!(operation_id.as_str(), "BatchServersAction" | "NovaServerAction") {
        if let Some(name) = first_key(&request).and_then(action_trace_name) {
            trace_name = name.to_string();
        }
    }
    let params = call.route.map(|r| path_params(r, call.path)).unwrap_or_default();
    let resource_id =
        params.first().map(|(_, v)| v.clone()).or_else(|| ids_in(&request, &response)).unwrap_or_default();
    let resource_name = match resource_type {
        "keypair" => params.first().map(|(_, v)| v.clone()).or_else(|| name_in(&request)),
        _ => name_in(&request),
    }
    .unwrap_or_default();
    let failed = call.status >= 400;
    let trace_rating = match call.status {
        0..=399 => "normal",
        400..=499 => "warning",
        _ => "incident",
    };
    let trace_id = uuid::Uuid::new_v4().to_string();
    let view = TraceView {
        trace_id: trace_id.clone(),
        trace_name: trace_name.clone(),
        trace_rating: trace_rating.to_string(),
        trace_type: "ApiCall".into(),
        service_type: service_type.to_string(),
        resource_type: resource_type.to_string(),
        resource_id: resource_id.clone(),
        resource_name: resource_name.clone(),
        resource_url: call.path.to_string(),
        operation_id,
        api_version: call.path.trim_start_matches('/').split('/').next().unwrap_or_default().to_string(),
        code: call.status.to_string(),
        message: if failed { message_in(&response).unwrap_or_default() } else { String::new() },
        request: None,
        // A refusal's body says why, and holds nothing secret; a success's may (a private key).
        response: failed.then(|| String::from_utf8_lossy(call.response).into_owned()),
        time: call.time_ms,
        record_time: ecs_model::timefmt::now_ms(),
        request_id: call.request_id.to_string(),
        source_ip: call.source_ip,
        endpoint: call.host.to_string(),
        location_info: String::new(),
        read_only: false,
        user: call.user,
    };
    TraceRecord {
        trace_id,
        project_id: call.project_id.to_string(),
        time_ms: call.time_ms,
        service_type: service_type.to_string(),
        user_name: view.user.name.clone(),
        resource_type: resource_type.to_string(),
        resource_id,
        resource_name,
        trace_name,
        trace_rating: trace_rating.to_string(),
        body: serde_json::to_string(&view).unwrap_or_default(),
    }
}

/// The path's parameters other than the project, in order (`server_id`, then `volume_id`...).
fn path_params(route: &str, path: &str) -> Vec<(String, String)> {
    route
        .split('/')
        .zip(path.split('/'))
        .filter_map(|(r, p)| {
            let name = r.strip_prefix('{')?.strip_suffix('}')?;
            (name != "project_id").then(|| (name.to_string(), p.to_string()))
        })
        .collect()
}

fn first_key(v: &Value) -> Option<&str> {
    v.as_object().and_then(|o| o.keys().next()).map(String::as_str)
}

/// The resources a call without one in its path is about: the servers of a batch (in the
/// request), or what a create made (in the answer).
fn ids_in(request: &Value, response: &Value) -> Option<String> {
    let join = |ids: Vec<&str>| (!ids.is_empty()).then(|| ids.join(","));
    fn servers(v: &Value) -> Vec<&str> {
        v.get("servers").and_then(Value::as_array).into_iter().flatten().filter_map(|s| s["id"].as_str()).collect()
    }
    let batch = servers(request);
    let batch =
        if batch.is_empty() { first_key(request).map(|k| servers(&request[k])).unwrap_or_default() } else { batch };
    if let Some(ids) = join(batch) {
        return Some(ids);
    }
    for key in ["server_ids", "serverIds", "volume_ids"] {
        if let Some(ids) = join(response[key].as_array().into_iter().flatten().filter_map(Value::as_str).collect()) {
            return Some(ids);
        }
    }
    for key in ["server", "keypair", "security_group", "security_group_rule", "server_group", "volume", "fault"] {
        if let Some(id) = response[key]["id"].as_str().or_else(|| response[key]["name"].as_str()) {
            return Some(id.to_string());
        }
    }
    response["id"].as_str().map(str::to_string)
}

/// The name a create gives its resource.
fn name_in(request: &Value) -> Option<String> {
    ["server", "keypair", "security_group", "server_group", "volume"]
        .iter()
        .find_map(|k| request[*k]["name"].as_str())
        .map(str::to_string)
}

/// The message of an error body, whichever family's shape it has.
fn message_in(v: &Value) -> Option<String> {
    let top = v.as_object()?;
    if let Some(m) = top.get("error_msg").or_else(|| top.get("message")).and_then(Value::as_str) {
        return Some(m.to_string());
    }
    top.values().find_map(|inner| inner.get("message").and_then(Value::as_str)).map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call<'a>(route: &'a str, path: &'a str, status: u16, req: &'a [u8], resp: &'a [u8]) -> Call<'a> {
        Call {
            project_id: "p",
            user: known_user("AK", "u1", Some("alice"), "acme"),
            operation: None,
            route: Some(route),
            path,
            host: "127.0.0.1:1",
            source_ip: "127.0.0.1".into(),
            request_id: "r",
            time_ms: 5,
            status,
            request: req,
            response: resp,
        }
    }

    #[test]
    fn the_resource_comes_from_the_path_then_the_batch_then_the_answer() {
        let t = trace(call(
            "/v1/{project_id}/cloudservers/{server_id}/reinstallos",
            "/v1/p/cloudservers/s1/reinstallos",
            200,
            b"{}",
            b"{}",
        ));
        assert_eq!(t.resource_id, "s1");
        let body = br#"{"os-stop":{"servers":[{"id":"a"},{"id":"b"}]}}"#;
        let t = trace(call("/v1/{project_id}/cloudservers/action", "/v1/p/cloudservers/action", 200, body, b"{}"));
        assert_eq!(t.resource_id, "a,b");
        let t = trace(call(
            "/v1/{project_id}/cloudservers",
            "/v1/p/cloudservers",
            200,
            br#"{"server":{"name":"web"}}"#,
            br#"{"job_id":"j","serverIds":["x"]}"#,
        ));
        assert_eq!((t.resource_id.as_str(), t.resource_name.as_str()), ("x", "web"));
        assert_eq!(t.trace_rating, "normal");
    }

    #[test]
    fn a_refusal_keeps_its_error_and_a_success_keeps_no_answer() {
        let err = br#"{"error":{"code":"Ecs.0114","message":"no such server"}}"#;
        let t = trace(call("/v1/{project_id}/cloudservers/{server_id}", "/v1/p/cloudservers/s", 404, b"", err));
        let v: TraceView = serde_json::from_str(&t.body).unwrap();
        assert_eq!(
            (v.code.as_str(), v.trace_rating.as_str(), v.message.as_str()),
            ("404", "warning", "no such server")
        );
        assert!(v.response.unwrap().contains("Ecs.0114"));
        let secret = br#"{"keypair":{"name":"k","private_key":"-----BEGIN"}}"#;
        let t = trace(call(
            "/v2.1/{project_id}/os-keypairs",
            "/v2.1/p/os-keypairs",
            200,
            br#"{"keypair":{"name":"k"}}"#,
            secret,
        ));
        assert!(!t.body.contains("BEGIN"), "{}", t.body);
        assert_eq!(t.user_name, "alice");
    }
}
