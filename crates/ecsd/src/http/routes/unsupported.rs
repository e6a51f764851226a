//! The official ECS SDK's operations that ecsd does not carry out: one declarative table, one
//! handler, and the table's entries in the OpenAPI document.
//!
//! Without this table such a call would reach the router's fallback and be answered 404
//! `APIGW.0101` ("the API does not exist"), which an SDK user cannot tell from a typo in an
//! endpoint, and which Terraform's read functions take for "the resource is gone". Instead each
//! operation is routed at its exact method and path and answered 400 `Ecs.0000` with a message
//! that names the operation, why ecsd does not offer it and what to use instead (see
//! `docs/error-codes.md` for why this code and status).

use super::super::error::ApiError;
use crate::caller::Caller;
use crate::context::App;
use axum::body::Bytes;
use axum::extract::{MatchedPath, RawPathParams};
use axum::http::Method;
use axum::routing::{on, MethodFilter};
use axum::{Extension, Router};
use ecs_model::Error;
use ecs_types::Code;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use utoipa::openapi::path::{HttpMethod, Operation};
use utoipa::openapi::OpenApi as Document;

/// An HTTP method of the table (the four the SDK uses).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verb {
    Get,
    Post,
    Put,
    Delete,
}

impl Verb {
    pub fn as_str(self) -> &'static str {
        match self {
            Verb::Get => "GET",
            Verb::Post => "POST",
            Verb::Put => "PUT",
            Verb::Delete => "DELETE",
        }
    }

    fn filter(self) -> MethodFilter {
        match self {
            Verb::Get => MethodFilter::GET,
            Verb::Post => MethodFilter::POST,
            Verb::Put => MethodFilter::PUT,
            Verb::Delete => MethodFilter::DELETE,
        }
    }

    fn openapi(self) -> HttpMethod {
        match self {
            Verb::Get => HttpMethod::Get,
            Verb::Post => HttpMethod::Post,
            Verb::Put => HttpMethod::Put,
            Verb::Delete => HttpMethod::Delete,
        }
    }
}

/// One SDK operation ecsd answers as unsupported.
#[derive(Debug)]
pub struct Unsupported {
    /// The method name in the official Python SDK (`EcsClient.change_vpc`); the operation id is
    /// its PascalCase form (`ChangeVpc`), as in the SDK's request class names.
    pub sdk_method: &'static str,
    pub verb: Verb,
    /// The path exactly as the SDK's `resource_path` has it, parameters included.
    pub path: &'static str,
    /// Why ecsd does not offer it, and what to use instead: the end of the error message.
    pub why: &'static str,
    /// For operations that share a method and path with another one and are told apart by
    /// their body (none at present): the top-level body key that names this one. The others' names are given when the
    /// body names neither.
    pub body_key: Option<&'static str>,
}

impl Unsupported {
    /// The operation id, as the SDK names its request and response classes.
    pub fn operation_id(&self) -> String {
        self.sdk_method
            .split('_')
            .map(|w| {
                let mut c = w.chars();
                c.next().map(|f| f.to_ascii_uppercase().to_string() + c.as_str()).unwrap_or_default()
            })
            .collect()
    }

    /// The error message for a call of this operation.
    pub fn message(&self) -> String {
        format!(
            "The operation {} ({} {}) is not supported by this service: {}",
            self.operation_id(),
            self.verb.as_str(),
            self.path,
            self.why
        )
    }
}

const fn op(sdk_method: &'static str, verb: Verb, path: &'static str, why: &'static str) -> Unsupported {
    Unsupported { sdk_method, verb, path, why, body_key: None }
}

use Verb::{Delete, Get, Post, Put};

const SCHEDULED_EVENTS: &str = "scheduled events announce maintenance of the physical hosts of a Huawei \
    region; ecsd's servers have no such host and never get one.";
const VOLUMES: &str = "a volume is attached to one server at a time: a shared (multiattach) volume cannot be \
    attached to several servers at once; attach it to one server with AttachServerVolume and detach it with \
    DetachServerVolume.";
const LAUNCH_TEMPLATES: &str = "launch templates are not supported; give the server's parameters in the \
    create request (CreatePostPaidServers).";
const RECYCLE_BIN: &str = "there is no recycle bin: a deleted server (DeleteServers) is deleted at once.";
const CONSOLES: &str = "interactive serial consoles are not offered; read what a server's serial \
    console shows with ShowServerConsoleOutput, or open its VNC console with ShowServerRemoteConsole.";
const METADATA_OPTIONS: &str = "the metadata service's options (IMDS) are not modelled.";

/// Every SDK operation ecsd answers as unsupported. Operations ecsd serves must not appear
/// here: their routes would collide (a test checks the table against the SDK's list and the
/// document).
pub const TABLE: &[Unsupported] = &[
    // Scheduled events
    op(
        "accept_scheduled_event",
        Post,
        "/v3/{project_id}/instance-scheduled-events/{id}/actions/accept",
        SCHEDULED_EVENTS,
    ),
    op("list_scheduled_events", Get, "/v3/{project_id}/instance-scheduled-events", SCHEDULED_EVENTS),
    op("update_scheduled_event", Put, "/v3/{project_id}/instance-scheduled-events/{id}", SCHEDULED_EVENTS),
    // Virtual IP addresses: both calls are one PUT, told apart only by empty fields.
    // Disks after creation
    op("batch_attach_sharable_volumes", Post, "/v1/{project_id}/batchaction/attachvolumes/{volume_id}", VOLUMES),
    op("batch_detach_volumes", Post, "/v1/{project_id}/batchaction/detachvolumes/{volume_id}", VOLUMES),
    // Networks
    op(
        "change_vpc",
        Post,
        "/v1/{project_id}/cloudservers/{server_id}/changevpc",
        "moving a server to another VPC is not supported; a server stays in the VPC it was created in.",
    ),
    // Launch templates
    op("create_launch_template", Post, "/v3/{project_id}/launch-templates", LAUNCH_TEMPLATES),
    op("list_templates", Get, "/v3/{project_id}/launch-templates", LAUNCH_TEMPLATES),
    op("delete_launch_templates", Delete, "/v3/{project_id}/launch-templates/{launch_template_id}", LAUNCH_TEMPLATES),
    op("list_launch_template_versions", Get, "/v3/{project_id}/launch-template-versions", LAUNCH_TEMPLATES),
    // Recycle bin
    op("show_recycle_bin", Get, "/v1/{project_id}/recycle-bin", RECYCLE_BIN),
    op("update_recycle_bin", Put, "/v1/{project_id}/recycle-bin", RECYCLE_BIN),
    op("update_recycle_bin_policy", Put, "/v1/{project_id}/recycle-bin/policy", RECYCLE_BIN),
    op("list_recycle_bin_servers", Get, "/v1/{project_id}/recycle-bin/cloudservers", RECYCLE_BIN),
    op("delete_recycle_bin_server", Delete, "/v1/{project_id}/recycle-bin/cloudservers/{server_id}", RECYCLE_BIN),
    op(
        "revert_recycle_bin_server",
        Post,
        "/v1/{project_id}/recycle-bin/cloudservers/{server_id}/actions/revert",
        RECYCLE_BIN,
    ),
    // Host-level operations
    op(
        "execute_server_redeploy",
        Post,
        "/v1/{project_id}/cloudservers/{server_id}/actions/redeploy",
        "redeploying moves a server to another physical host; this service has only one.",
    ),
    op(
        "migrate_server",
        Post,
        "/v1/{project_id}/cloudservers/{server_id}/migrate",
        "migrating a server between hosts (or to and from a dedicated host) is not supported; this service \
            has only one host.",
    ),
    // Consoles and the metadata service
    op(
        "show_serial_console_actions",
        Post,
        "/v1/{project_id}/cloudservers/{server_id}/actions/serial-console",
        CONSOLES,
    ),
    op(
        "update_serial_console_options",
        Put,
        "/v1/{project_id}/cloudservers/{server_id}/serial-console-options",
        CONSOLES,
    ),
    op("show_metadata_options", Get, "/v1/{project_id}/cloudservers/{server_id}/metadata-options", METADATA_OPTIONS),
    op("update_metadata_options", Put, "/v1/{project_id}/cloudservers/{server_id}/metadata-options", METADATA_OPTIONS),
    op(
        "register_server_monitor",
        Post,
        "/v1.0/servers/{server_id}/action",
        "OS monitoring registration (the Cloud Eye agent) is not supported.",
    ),
];

/// The distinct (method, path) routes of the table: two operations may share one.
fn routes() -> BTreeSet<(&'static str, Verb)> {
    TABLE.iter().map(|u| (u.path, u.verb)).collect()
}

/// Adds one route per distinct method and path of the table, all to one handler.
pub(in crate::http) fn route(router: Router<App>) -> Router<App> {
    routes().into_iter().fold(router, |r, (path, verb)| r.route(path, on(verb.filter(), answer)))
}

/// Whether `body`'s top-level object has `key`.
fn has_key(body: &[u8], key: &str) -> bool {
    serde_json::from_slice::<Value>(body).ok().is_some_and(|v| v.get(key).is_some())
}

/// The handler of every route of the table: the refusal naming the operation.
async fn answer(
    method: Method,
    matched: MatchedPath,
    params: RawPathParams,
    caller: Option<Extension<Caller>>,
    body: Bytes,
) -> ApiError {
    let param = |name: &str| params.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string());
    // The authentication layer checks the project of the `/v1`, `/v1.1` and `/v2.1` paths; the
    // `/v3` paths of this table name one too, and it is checked the same way here, so that
    // another project's id is refused as everywhere else before the operation is named.
    if let (Some(p), Some(Extension(c))) = (param("project_id"), caller.as_ref()) {
        if p != c.project_id {
            let msg = format!("project_id in token mismatches with project_id in url: {p:?}.");
            return ApiError::from(Error::new(Code::Ecs0023, msg));
        }
    }
    let ops: Vec<&Unsupported> =
        TABLE.iter().filter(|u| u.path == matched.as_str() && u.verb.as_str() == method.as_str()).collect();
    let named: Vec<&Unsupported> =
        ops.iter().copied().filter(|u| u.body_key.is_some_and(|k| has_key(&body, k))).collect();
    let message = match (named.as_slice(), ops.as_slice()) {
        ([one], _) | ([], [one]) => one.message(),
        (_, [first, ..]) => {
            let names: Vec<String> = ops.iter().map(|u| u.operation_id()).collect();
            format!(
                "The operations {} ({} {}) are not supported by this service: {}",
                names.join(" and "),
                first.verb.as_str(),
                first.path,
                first.why
            )
        }
        // Unreachable: every route comes from the table.
        (_, []) => Code::Ecs0000.default_message().to_string(),
    };
    ApiError::from(Error::new(Code::Ecs0000, message))
}

/// The path parameters of `path`, in order.
fn path_params(path: &str) -> impl Iterator<Item = &str> {
    path.split('/').filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
}

fn error_response(description: &str, schema: &str) -> Value {
    json!({"description": description, "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{schema}")}}}})
}

/// The document's operation for one (method, path) of the table.
fn operation(ops: &[&Unsupported]) -> Operation {
    let first = ops[0];
    let ids: Vec<String> = ops.iter().map(|u| u.operation_id()).collect();
    let params: Vec<Value> = path_params(first.path)
        .map(|name| match name {
            "project_id" => json!({"name": name, "in": "path", "required": true,
                "description": "The caller's project id (32 lower-case hex characters); another project's id is \
                    refused with 400 `Ecs.0023`.",
                "schema": {"type": "string", "pattern": "^[0-9a-f]{32}$"}}),
            _ => json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}),
        })
        .collect();
    let tag = if first.path.starts_with("/v2.1") { "Nova" } else { "ECS" };
    let responses = json!({
        "400": error_response(
            &format!("`Ecs.0000`: the operation is not supported by this service; the message names it and says \
                what to use instead. `Ecs.0023`: not the caller's project. Every request is refused so. Why: {}",
                first.why),
            "EcsErrorBody"),
        "401": error_response("`APIGW.0301`: no `Authorization` or `X-Auth-Token`, a wrong signature, an unknown \
            access key, a request dated more than 15 minutes away, or an invalid or expired token.", "GatewayErrorBody"),
        "429": error_response("`APIGW.0308`: over the credential's request rate (only with `--rate-limit`).",
            "GatewayErrorBody"),
    });
    let op = json!({
        "tags": [tag],
        "summary": format!("Not supported: {}", ids.join(", ")),
        "description": format!("The SDK operation{} {} is answered 400 `Ecs.0000`: {}",
            if ids.len() > 1 { "s" } else { "" }, ids.join(" and "), first.why),
        "operationId": ids.join("Or"),
        "parameters": params,
        "responses": responses,
        "x-ecsd-unsupported": true,
    });
    // The JSON above is a literal of the Operation schema; a failure here is a programming
    // error that every test of the document would show at once.
    serde_json::from_value(op).expect("an unsupported operation's document entry is a valid Operation")
}

/// Adds the table's operations to the document, beside those already at the same path.
pub(in crate::http) fn document(doc: &mut Document) {
    for (path, verb) in routes() {
        let ops: Vec<&Unsupported> = TABLE.iter().filter(|u| u.path == path && u.verb == verb).collect();
        doc.paths.add_path_operation(path, vec![verb.openapi()], operation(&ops));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_ids_are_the_sdk_class_names() {
        assert_eq!(op("change_vpc", Post, "/", "").operation_id(), "ChangeVpc");
        assert_eq!(op("nova_show_server", Get, "/", "").operation_id(), "NovaShowServer");
    }

    #[test]
    fn the_table_has_no_duplicate_operation_and_shared_routes_are_told_apart_or_named_together() {
        let mut names = BTreeSet::new();
        for u in TABLE {
            assert!(names.insert(u.sdk_method), "{} twice", u.sdk_method);
            assert!(u.why.ends_with('.'), "{}: the reason is a sentence", u.sdk_method);
        }
        // Operations that share a route are told apart by their body keys.
        for (path, verb) in routes() {
            let ops: Vec<&Unsupported> = TABLE.iter().filter(|u| u.path == path && u.verb == verb).collect();
            if ops.len() > 1 {
                assert!(ops.iter().all(|u| u.body_key.is_some()), "{} {path}: shared without body keys", verb.as_str());
            }
        }
    }
}
