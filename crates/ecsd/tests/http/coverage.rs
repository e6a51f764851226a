//! The official ECS SDK's 106 operations against the real route table: each one is either served
//! (documented in `/openapi.json`, and answered with anything but an unknown-path 404 or the
//! unsupported refusal) or answered 400 `Ecs.0000` naming it; none is left to `APIGW.0101`.
//!
//! The list is `docs/sdk-ecs-operations.tsv` (method name, verb, path), taken from the public
//! Python SDK's `EcsClient`. Which operations are unsupported is read from the served document
//! (`x-ecsd-unsupported`), so the test follows the route table instead of a copy of it.

use crate::client::*;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

const SDK_OPERATIONS: &str = include_str!("../../../../docs/sdk-ecs-operations.tsv");

/// One operation of the SDK.
struct SdkOp {
    method: &'static str,
    verb: &'static str,
    path: &'static str,
}

fn sdk_operations() -> Vec<SdkOp> {
    let ops: Vec<SdkOp> = SDK_OPERATIONS
        .lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let mut f = l.split('\t');
            let (method, verb, path) = (f.next(), f.next(), f.next());
            SdkOp { method: method.expect("a method name"), verb: verb.expect("a verb"), path: path.expect("a path") }
        })
        .collect();
    assert_eq!(ops.len(), 106, "the SDK's operation list");
    ops
}

/// A path with its parameter names blanked (`{server_id}` → `{}`): the SDK and ecsd may name
/// a parameter differently (`{keypair_name}`, `{name}`) for the same route.
fn shape(path: &str) -> String {
    path.split('/').map(|s| if s.starts_with('{') && s.ends_with('}') { "{}" } else { s }).collect::<Vec<_>>().join("/")
}

/// The PascalCase operation id of an SDK method name.
fn operation_id(method: &str) -> String {
    method
        .split('_')
        .map(|w| {
            let mut c = w.chars();
            c.next().map(|f| f.to_ascii_uppercase().to_string() + c.as_str()).unwrap_or_default()
        })
        .collect()
}

/// The SDK path with its parameters filled: our project, a version name, placeholder ids.
fn concrete(path: &str) -> String {
    path.replace("{project_id}", PROJECT).replace("{api_version}", "v2.1").split('/').fold(String::new(), |acc, s| {
        let seg = if s.starts_with('{') { "0f0e0d0c-0b0a-4908-8706-050403020100" } else { s };
        if acc.is_empty() && seg.is_empty() {
            acc
        } else {
            format!("{acc}/{seg}")
        }
    })
}

/// (verb, path shape) → whether the document marks it unsupported, and its operation id.
async fn documented(svc: &Svc) -> BTreeMap<(String, String), (bool, String)> {
    let r = svc.send("GET", "/openapi.json", Default::default(), vec![]).await;
    assert_eq!(r.status, 200);
    let mut out = BTreeMap::new();
    for (path, item) in r.body["paths"].as_object().expect("paths") {
        for (verb, op) in item.as_object().expect("a path item") {
            let unsupported = op.get("x-ecsd-unsupported") == Some(&Value::Bool(true));
            let id = op["operationId"].as_str().unwrap_or_default().to_string();
            out.insert((verb.to_uppercase(), shape(path)), (unsupported, id));
        }
    }
    out
}

/// Every unsupported operation of the document is an SDK operation, and is answered 400
/// `Ecs.0000` with a message that names it, its method and its path.
#[tokio::test]
async fn unsupported_operations_answer_ecs_0000_naming_the_operation() {
    let svc = Svc::start().await;
    let doc = documented(&svc).await;
    let sdk = sdk_operations();
    let sdk_routes: BTreeSet<(String, String)> = sdk.iter().map(|o| (o.verb.to_string(), shape(o.path))).collect();
    let mut checked = 0;
    for ((verb, path), (unsupported, id)) in &doc {
        if !unsupported {
            continue;
        }
        assert!(sdk_routes.contains(&(verb.clone(), path.clone())), "{verb} {path} ({id}) is not an SDK operation");
    }
    for o in &sdk {
        let Some((true, doc_id)) = doc.get(&(o.verb.to_string(), shape(o.path))) else { continue };
        let r = svc.call(o.verb, &concrete(o.path), None).await;
        r.assert_error(400, "Ecs.0000");
        let msg = r.body["error"]["message"].as_str().unwrap_or_default();
        let id = operation_id(o.method);
        assert!(doc_id.split("Or").any(|d| d == id), "{}: documented as {doc_id}", o.method);
        assert!(msg.contains(&id), "{}: {msg}", o.method);
        assert!(msg.contains(&format!("{} {}", o.verb, o.path)), "{}: {msg}", o.method);
        checked += 1;
    }
    // Every documented refusal was asked (none was skipped), and the table is not empty.
    let documented_refusals = doc.values().filter(|(unsupported, _)| *unsupported).count();
    assert!(checked >= documented_refusals && checked > 0, "{checked} of {documented_refusals} refusals checked");
}

/// The refusal comes after authentication and the project check, as every other answer does.
#[tokio::test]
async fn unsupported_operations_are_authenticated_and_project_checked() {
    let svc = Svc::start().await;
    let other = format!("/v3/{OTHER_PROJECT}/launch-templates");
    svc.raw("GET", &other, b"").await.assert_error(400, "Ecs.0023");
    let other = format!("/v1/{OTHER_PROJECT}/recycle-bin");
    svc.raw("GET", &other, b"").await.assert_error(400, "Ecs.0023");
    let unsigned = svc.send("GET", &format!("/v3/{PROJECT}/launch-templates"), Default::default(), vec![]).await;
    assert_eq!((unsigned.status, unsigned.body["error_code"].as_str()), (401, Some("APIGW.0301")));
    // A single segment that is no API version stays an unknown path.
    let r = svc.get("/nothing-here").await;
    assert_eq!((r.status, r.body["error_code"].as_str()), (404, Some("APIGW.0101")));
    assert_eq!(svc.get("/v2.1").await.body["version"]["id"], "v2.1");
}

/// Every SDK operation the document lists as served is routed: whatever it answers to a request
/// without a body or with placeholder ids, it is neither an unknown path nor the refusal.
#[tokio::test]
async fn supported_operations_are_routed() {
    let svc = Svc::start().await;
    let doc = documented(&svc).await;
    let mut checked = 0;
    for o in sdk_operations() {
        let Some((false, _)) = doc.get(&(o.verb.to_string(), shape(o.path))) else { continue };
        let r = svc.call(o.verb, &concrete(o.path), None).await;
        assert_ne!(r.body["error_code"], "APIGW.0101", "{} {} {}: {}", o.method, o.verb, o.path, r.body);
        assert_ne!(r.body["error"]["code"], "Ecs.0000", "{} {} {}: {}", o.method, o.verb, o.path, r.body);
        checked += 1;
    }
    assert!(checked >= 19, "only {checked} served SDK operations");
}

/// The document (served operations) and the unsupported table together cover every one of the
/// SDK's 106 operations. Operations being added elsewhere fail here until they are served.
#[tokio::test]
async fn every_sdk_operation_is_served_or_refused_by_name() {
    let svc = Svc::start().await;
    let doc = documented(&svc).await;
    let missing: Vec<String> = sdk_operations()
        .into_iter()
        .filter(|o| !doc.contains_key(&(o.verb.to_string(), shape(o.path))))
        .map(|o| format!("{} ({} {})", o.method, o.verb, o.path))
        .collect();
    assert!(
        missing.is_empty(),
        "{} SDK operations are neither served nor refused by name:\n{}",
        missing.len(),
        missing.join("\n")
    );
}

/// A method a path does not serve is an unknown API, as at Huawei's gateway: 404 `APIGW.0101`
/// with the gateway's body, not an empty 405, on served paths and on the table's paths alike.
#[tokio::test]
async fn a_method_a_path_does_not_serve_is_an_unknown_api() {
    let svc = Svc::start().await;
    for (method, path) in [
        ("DELETE", "/v1/{p}/cloudservers/detail"),
        ("DELETE", "/v1/{p}/cloudservers/0f0e0d0c-0b0a-4908-8706-050403020100/reinstallos"),
        ("PATCH", "/v3/{p}/launch-templates"),
    ] {
        let r = svc.call(method, path, None).await;
        assert_eq!((r.status, r.body["error_code"].as_str()), (404, Some("APIGW.0101")), "{method} {path}: {}", r.body);
    }
}

const COVERAGE_DOC: &str = include_str!("../../../../docs/api-coverage.md");

/// `docs/api-coverage.md` has one row per SDK operation, and says "unsupported" of exactly the
/// operations the served document marks unsupported: the page users read cannot drift from
/// the route table.
#[tokio::test]
async fn the_coverage_page_agrees_with_the_route_table() {
    let svc = Svc::start().await;
    let doc = documented(&svc).await;
    // Rows look like: | `method` | VERB | `path` | status ... |
    let rows: BTreeMap<&str, &str> = COVERAGE_DOC
        .lines()
        .filter_map(|l| {
            let cells: Vec<&str> = l.split(" | ").collect();
            let method = cells.first()?.strip_prefix("| `")?.strip_suffix('`')?;
            Some((method, *cells.get(3)?))
        })
        .collect();
    for o in sdk_operations() {
        let status = rows.get(o.method).unwrap_or_else(|| panic!("{} has no row in api-coverage.md", o.method));
        let unsupported = matches!(doc.get(&(o.verb.to_string(), shape(o.path))), Some((true, _)));
        assert_eq!(status.starts_with("unsupported"), unsupported, "{}: the page says {status:?}", o.method);
    }
    assert_eq!(rows.len(), 106, "one row per SDK operation");
}
