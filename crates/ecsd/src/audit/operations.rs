//! What a trace says an operation is: its trace name, service and resource type, looked up by
//! the route template and method the request matched, from the API document's operations.
//!
//! Trace names follow the trace service's list of key ECS operations (`createServer`,
//! `reinstallOs`, `attachVolume`...); an operation that list does not name is traced under its
//! operation id with a lower-case first letter (`CreateServerGroup` → `createServerGroup`).

use axum::http::Method;
use std::collections::HashMap;
use utoipa::openapi::OpenApi;

/// One operation as traces name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operation {
    /// The API document's operation id.
    pub id: String,
    pub trace_name: String,
    pub service_type: &'static str,
    pub resource_type: &'static str,
}

/// Every operation of the API, by method and route template.
#[derive(Debug, Default)]
pub struct Operations {
    by_route: HashMap<(Method, String), Operation>,
}

impl Operations {
    /// The operations of the document.
    pub fn from_document(doc: &OpenApi) -> Operations {
        let mut by_route = HashMap::new();
        for (path, item) in &doc.paths.paths {
            let ops = [
                (Method::GET, &item.get),
                (Method::POST, &item.post),
                (Method::PUT, &item.put),
                (Method::PATCH, &item.patch),
                (Method::DELETE, &item.delete),
            ];
            for (method, op) in ops {
                let Some(op) = op else { continue };
                let Some(id) = op.operation_id.clone() else { continue };
                let tag = op.tags.as_ref().and_then(|t| t.first()).map(String::as_str).unwrap_or("ECS");
                let operation = Operation {
                    trace_name: trace_name(&id),
                    service_type: service_type(tag),
                    resource_type: resource_type(path),
                    id,
                };
                by_route.insert((method, path.clone()), operation);
            }
        }
        Operations { by_route }
    }

    /// The operation a request matched, if it is one of the document's.
    pub fn get(&self, method: &Method, route: &str) -> Option<&Operation> {
        self.by_route.get(&(method.clone(), route.to_string()))
    }
}

/// The trace service's name of an operation it lists; otherwise the operation id, first letter
/// lowered.
fn trace_name(id: &str) -> String {
    let known = match id {
        "CreateServers" | "CreatePostPaidServers" => "createServer",
        "NovaCreateServers" => "createServerV21",
        "DeleteServers" => "deleteServer",
        "NovaDeleteServer" => "deleteServerV21",
        "ResizeServer" | "ResizePostPaidServer" => "resizeServer",
        "BatchAddServerNics" | "NovaAttachInterface" => "addNic",
        "BatchDeleteServerNics" => "deleteNic",
        "AttachServerVolume" => "attachVolume",
        "DetachServerVolume" => "detachVolume",
        "ReinstallServerWithoutCloudInit" | "ReinstallServerWithCloudInit" => "reinstallOs",
        "ChangeServerOsWithoutCloudInit" | "ChangeServerOsWithCloudInit" => "changeOs",
        "UpdateServerMetadata" => "updateMetadata",
        "ShowServerRemoteConsole" => "remoteConsole",
        "NovaCreateKeypair" | "NovaCreateKeypairV2" => "createKeypair",
        "NovaDeleteKeypair" | "NovaDeleteKeypairV2" => "deleteKeypair",
        "CreateVolume" | "CreateVolumeV2" => "createVolume",
        "DeleteVolume" => "deleteVolume",
        _ => "",
    };
    if !known.is_empty() {
        return known.to_string();
    }
    let mut chars = id.chars();
    chars.next().map(|c| c.to_ascii_lowercase().to_string() + chars.as_str()).unwrap_or_default()
}

/// The trace name of a batch action, which its body's key chooses (`os-start`, `reboot`...):
/// the same names as the single-server operations.
pub fn action_trace_name(body_key: &str) -> Option<&'static str> {
    Some(match body_key {
        "os-start" => "startServer",
        "os-stop" => "stopServer",
        "reboot" => "rebootServer",
        "rebuild" => "rebuildServer",
        "changePassword" => "changePassword",
        "lock" => "lockServer",
        "unlock" => "unlockServer",
        "resize" => "resizeServer",
        _ => return None,
    })
}

/// The service of an operation, by its document tag (Nova's paths are ECS's endpoint).
fn service_type(tag: &str) -> &'static str {
    match tag {
        "EVS" => "EVS",
        "VPC" => "VPC",
        "IAM" => "IAM",
        "IMS" => "IMS",
        "Admin" => "ECSD",
        _ => "ECS",
    }
}

/// The resource type of a path, by the collection it names.
fn resource_type(path: &str) -> &'static str {
    let has = |s: &str| path.split('/').any(|seg| seg == s);
    if has("os-keypairs") {
        "keypair"
    } else if has("os-server-groups") {
        "servergroup"
    } else if has("cloudvolumes") {
        "evs"
    } else if has("security-groups") || has("security-group-rules") {
        "securitygroup"
    } else if has("ports") {
        "port"
    } else if has("faults") {
        "fault"
    } else if has("tokens") {
        "token"
    } else {
        "ecs"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documents_write_operations_are_named_as_the_trace_service_names_them() {
        let ops = Operations::from_document(crate::http::openapi::document());
        let reinstall = ops.get(&Method::POST, "/v1/{project_id}/cloudservers/{server_id}/reinstallos").unwrap();
        assert_eq!(reinstall.trace_name, "reinstallOs");
        assert_eq!((reinstall.service_type, reinstall.resource_type), ("ECS", "ecs"));
        let kp = ops.get(&Method::DELETE, "/v2.1/{project_id}/os-keypairs/{name}").unwrap();
        assert_eq!((kp.trace_name.as_str(), kp.resource_type), ("deleteKeypair", "keypair"));
        let group = ops.get(&Method::POST, "/v1/{project_id}/cloudservers/os-server-groups").unwrap();
        assert_eq!(group.trace_name, "createServerGroup");
        let list = ops.get(&Method::GET, "/v1/{project_id}/cloudservers/detail").unwrap();
        assert_eq!(list.trace_name, "listServersDetails");
    }
}
