//! The OpenAPI 3 document of every path ecsd serves, generated from the code (`utoipa`), and the
//! unauthenticated `GET /openapi.json` that serves it.
//!
//! Handlers carry `#[utoipa::path]` and the wire types in `ecs-types` derive `ToSchema`, so the
//! document follows the code. A few answers are built as free-form JSON by the application
//! layer; their shapes are described by the `*Doc` types below, which the fuzz run
//! (`tests/fuzz`) checks against real responses. The committed copy is `docs/openapi.json`; a
//! unit test fails when it differs from the generated one.

use axum::http::header;
use axum::response::{IntoResponse, Response};
use ecs_types::errors::*;
use serde::Serialize;
use serde_json::Value;
use std::sync::OnceLock;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa::openapi::OpenApi as Document;
use utoipa::{IntoParams, IntoResponses, Modify, OpenApi, ToSchema};

/// Name of the AK/SK signature security scheme.
pub const SIGNATURE: &str = "sdk_hmac_sha256";
/// Name of the IAM token security scheme.
pub const TOKEN: &str = "x_auth_token";

// ---------------------------------------------------------------------------------------------
// Reusable parameters, responses and error unions
// ---------------------------------------------------------------------------------------------

/// The `{project_id}` of project-scoped paths.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)]
pub struct ProjectPath {
    /// The caller's project id (32 lower-case hex characters); another project's id is refused
    /// with 400 `Ecs.0023`.
    #[param(pattern = "^[0-9a-f]{32}$")]
    pub project_id: String,
}

// ---------------------------------------------------------------------------------------------
// Reusable responses and error unions
// ---------------------------------------------------------------------------------------------

/// What the API gateway may answer any authenticated call with.
#[derive(IntoResponses)]
#[allow(dead_code)]
pub enum GatewayRejections {
    /// `APIGW.0301`: no `Authorization` or `X-Auth-Token`, a wrong signature, an unknown access
    /// key, a request dated more than 15 minutes away, or an invalid or expired token.
    #[response(status = 401)]
    Unauthorized(GatewayErrorBody),
    /// `APIGW.0308`: over the credential's request rate (only with `--rate-limit`).
    #[response(status = 429)]
    Throttled(GatewayErrorBody),
}

/// What the four reinstall / change-OS calls refuse with (one list, so the four stay alike).
#[derive(IntoResponses)]
#[allow(dead_code)]
pub enum OsRebuildRejections {
    #[response(
        status = 400,
        description = "`Ecs.0005`: an invalid body; `Ecs.0011`: password rules; `Ecs.0100`: the \
            server's state does not allow it; `Ecs.0605`: locked; `Ecs.0105`: no system disk; `Ecs.0314`: key \
            pair; `Ecs.0031`/`Ecs.0032`: image; `Common.0002`: empty body; `Ecs.0023`: not the caller's project."
    )]
    Invalid(EcsErrorBody),
    #[response(status = 404, description = "`Ecs.0114`: no such server in the project.")]
    NoServer(EcsErrorBody),
}

/// What the two batch calls (delete, start/stop/reboot) refuse with: one list, so both stay alike.
#[derive(IntoResponses)]
#[allow(dead_code)]
pub enum BatchRejections {
    #[response(
        status = 400,
        description = "`Ecs.0005`: an invalid body; `Ecs.0118`: too many servers; `Ecs.0100`: a \
            server's state does not allow it; `Ecs.0605`: a server is locked; `Common.0002`: empty body; \
            `Ecs.0023`: not the caller's project. Nothing is done unless every server passes."
    )]
    Invalid(EcsErrorBody),
    #[response(status = 404, description = "`Ecs.0114`: a server does not exist in the project.")]
    NoServer(EcsErrorBody),
}

/// A 400 from the Nova-compatible APIs: Nova's `badRequest` for the body and parameters, the ECS
/// shape for what the gateway checks before (project mismatch `Ecs.0023`, oversized body).
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
#[allow(dead_code)]
pub enum NovaOrEcsBadRequest {
    Nova(NovaBadRequest),
    Ecs(EcsErrorBody),
}

/// A 400 from `POST /v3/auth/tokens`: Keystone's shape for the body, the ECS shape for an
/// oversized body.
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
#[allow(dead_code)]
pub enum KeystoneOrEcsBadRequest {
    Keystone(KeystoneErrorBody),
    Ecs(EcsErrorBody),
}

// ---------------------------------------------------------------------------------------------
// Shapes of answers built as free-form JSON
// ---------------------------------------------------------------------------------------------

/// The answer to a `dry_run` create: an empty object.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DryRunAccepted {}

/// What a fault does when it matches (see `faults.rs`).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
#[schema(as = FaultAction)]
#[allow(dead_code)]
pub enum FaultActionDoc {
    Fail,
    Delay,
    Hang,
    Crash,
}

/// The body of `POST /ecsd-admin/v1/faults`; unknown fields are refused.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = FaultSpec)]
pub struct FaultSpecDoc {
    /// A job type: `reinstallOs`, `changeOs`, `createServer`, `deleteServer`, `startServer`,
    /// `stopServer`, `rebootServer`. Absent: every operation.
    pub operation: Option<String>,
    /// A step of the operation's saga (e.g. `create_disk`). Absent: every step.
    pub step: Option<String>,
    /// Must be the caller's own project when given.
    pub project_id: Option<String>,
    pub server_id: Option<String>,
    pub action: FaultActionDoc,
    /// For `fail`: the job's `error_code` (default `Ecs.1000`).
    pub error_code: Option<String>,
    /// For `fail`: the job's `fail_reason`.
    pub message: Option<String>,
    /// For `delay`: at most an hour.
    #[schema(minimum = 0, maximum = 3600000)]
    pub delay_ms: Option<u64>,
    /// How many times it fires before it clears itself. Absent: until cleared.
    #[schema(value_type = Option<i64>, minimum = 1, maximum = 4294967295.0)]
    pub times: Option<u32>,
}

/// A fault in force: its spec, its id and how many times it fired.
#[derive(Serialize, ToSchema)]
#[schema(as = Fault)]
pub struct FaultDoc {
    pub id: String,
    #[schema(required = true)]
    pub operation: Option<String>,
    #[schema(required = true)]
    pub step: Option<String>,
    #[schema(required = true)]
    pub project_id: Option<String>,
    #[schema(required = true)]
    pub server_id: Option<String>,
    pub action: FaultActionDoc,
    #[schema(required = true)]
    pub error_code: Option<String>,
    #[schema(required = true)]
    pub message: Option<String>,
    #[schema(required = true)]
    pub delay_ms: Option<u64>,
    #[schema(required = true)]
    pub times: Option<u32>,
    pub hits: u32,
}

/// `{"faults": [...]}`.
#[derive(Serialize, ToSchema)]
#[schema(as = FaultList)]
pub struct FaultListDoc {
    pub faults: Vec<FaultDoc>,
}

/// `{"cleared": N}`.
#[derive(Serialize, ToSchema)]
#[schema(as = FaultsCleared)]
pub struct FaultsClearedDoc {
    pub cleared: usize,
}

/// `{"lock": null}`.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = LockAction)]
pub struct LockActionDoc {
    #[schema(required = true)]
    pub lock: Option<Value>,
}

/// `{"unlock": null}`.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = UnlockAction)]
pub struct UnlockActionDoc {
    #[schema(required = true)]
    pub unlock: Option<Value>,
}

/// The body of the Nova server action: exactly one of `lock` and `unlock`.
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
#[schema(as = NovaServerAction)]
#[allow(dead_code)]
pub enum NovaServerActionDoc {
    Lock(LockActionDoc),
    Unlock(UnlockActionDoc),
}

// ---------------------------------------------------------------------------------------------
// The document
// ---------------------------------------------------------------------------------------------

/// The generated document.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "ecsd",
        description = "A Huawei Cloud ECS-compatible compute service: the ECS, Nova key-pair, IMS, VPC and IAM \
            calls the official SDKs make, and ecsd's own fault-injection API. Every call but `POST /v3/auth/tokens` \
            and `GET /openapi.json` is authenticated with an SDK-HMAC-SHA256 signature (`Authorization`, with \
            `X-Sdk-Date` and the signed headers) or an IAM token (`X-Auth-Token`). Every answer carries \
            `X-Request-Id`. A path or method that is not listed here is answered with 404 `APIGW.0101`.",
        license(name = "Apache-2.0", identifier = "Apache-2.0"),
    ),
    components(schemas(
        EcsErrorBody,
        GatewayErrorBody,
        NovaItemNotFound,
        NovaBadRequest,
        NovaConflict,
        KeystoneErrorBody,
    )),
    security(("sdk_hmac_sha256" = []), ("x_auth_token" = [])),
    tags(
        (name = "ECS", description = "Servers, their operations and jobs."),
        (name = "Nova", description = "Nova-compatible key pairs and server actions."),
        (name = "IMS", description = "Images."),
        (name = "VPC", description = "VPCs and subnets."),
        (name = "EVS", description = "Disks (the disk service's read side)."),
        (name = "IAM", description = "Tokens and the project lookup."),
        (name = "Jobs", description = "ecsd's own view of a job's progress, step by step."),
        (name = "CTS", description = "The audit trail: traces of the API calls, the trace service's way."),
        (name = "Admin", description = "ecsd's own fault-injection API."),
        (name = "Meta", description = "This document."),
    ),
)]
pub struct ApiDoc;

/// The two ways to authenticate.
struct Security;

impl Modify for Security {
    fn modify(&self, doc: &mut Document) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            SIGNATURE,
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "Authorization",
                "SDK-HMAC-SHA256 signature: `SDK-HMAC-SHA256 Access=<AK>, SignedHeaders=<h1;h2;...>, \
                 Signature=<hex>`, over the canonical request (method, path with a trailing `/`, sorted query, \
                 the signed headers, SHA-256 of the body) and `X-Sdk-Date` (`YYYYMMDDTHHMMSSZ`, within 15 \
                 minutes), keyed with the secret key, as the official SDKs sign.",
            ))),
        );
        components.add_security_scheme(
            TOKEN,
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "X-Auth-Token",
                "An IAM token from `POST /v3/auth/tokens` (its `X-Subject-Token` header).",
            ))),
        );
    }
}

/// The Nova key-pair operations are served under `/v2` as well as `/v2.1`.
struct NovaV2Paths;

impl Modify for NovaV2Paths {
    fn modify(&self, doc: &mut Document) {
        for (alias, path) in super::routes::NOVA_V2_ALIASES {
            let Some(item) = doc.paths.paths.get(path) else { continue };
            let mut copy = item.clone();
            for op in [&mut copy.get, &mut copy.post, &mut copy.delete].into_iter().flatten() {
                op.operation_id = op.operation_id.as_ref().map(|id| format!("{id}V2"));
                op.summary = op.summary.as_ref().map(|s| format!("{s} (the same under `/v2`)"));
            }
            doc.paths.paths.insert(alias.to_string(), copy);
        }
    }
}

/// The statuses the server list's `status` filter accepts, from the model's own table (an
/// empty value is no filter).
struct ServerStatuses;

impl Modify for ServerStatuses {
    fn modify(&self, doc: &mut Document) {
        use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
        use utoipa::openapi::RefOr;
        let Some(op) =
            doc.paths.paths.get_mut("/v1/{project_id}/cloudservers/detail").and_then(|item| item.get.as_mut())
        else {
            return;
        };
        let params = op.parameters.iter_mut().flatten().filter_map(|p| match p {
            RefOr::T(p) => Some(p),
            RefOr::Ref(_) => None,
        });
        for p in params.filter(|p| p.name == "status") {
            let schema = ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some(ecs_model::state::KNOWN_STATUSES.iter().copied()));
            p.schema = Some(RefOr::T(Schema::Object(schema.build())));
            // `?status=` is taken as no filter, like an empty integer (see `EmptyIntegerQueries`).
            p.extensions.get_or_insert_with(Default::default).insert("allowEmptyValue".into(), true.into());
        }
    }
}

/// Integer query parameters are read by `ecs_types::queries::uint`, which takes an empty value
/// (`?limit=`) as an absent one: OpenAPI's `allowEmptyValue` (utoipa has no attribute for it).
struct EmptyIntegerQueries;

impl Modify for EmptyIntegerQueries {
    fn modify(&self, doc: &mut Document) {
        use utoipa::openapi::path::ParameterIn;
        use utoipa::openapi::schema::{Schema, SchemaType, Type};
        use utoipa::openapi::RefOr;
        let ops =
            doc.paths.paths.values_mut().flat_map(|item| {
                [&mut item.get, &mut item.put, &mut item.post, &mut item.delete].into_iter().flatten()
            });
        for op in ops {
            for p in op.parameters.iter_mut().flatten() {
                let RefOr::T(p) = p else { continue };
                let integer = matches!(&p.schema, Some(RefOr::T(Schema::Object(o))) if o.schema_type == SchemaType::Type(Type::Integer));
                if p.parameter_in == ParameterIn::Query && integer {
                    p.extensions.get_or_insert_with(Default::default).insert("allowEmptyValue".into(), true.into());
                }
            }
        }
    }
}

/// Finishes the document once the route table has added every operation: what utoipa's
/// attributes cannot say (the security schemes, the `/v2` key-pair aliases, the status filter's
/// values, empty integer queries).
pub(super) fn complete(doc: &mut Document) {
    for m in [&Security as &dyn Modify, &NovaV2Paths, &ServerStatuses, &EmptyIntegerQueries] {
        m.modify(doc);
    }
}

/// The document, built once from the route table.
pub fn document() -> &'static Document {
    static DOC: OnceLock<Document> = OnceLock::new();
    DOC.get_or_init(|| super::routes::table().1)
}

/// The document as committed in `docs/openapi.json`: pretty-printed, with a final newline.
pub fn document_json() -> String {
    let mut s = serde_json::to_string_pretty(document()).unwrap_or_default();
    s.push('\n');
    s
}

/// `GET /openapi.json`: this document (no authentication).
#[utoipa::path(
    get,
    path = "/openapi.json",
    operation_id = "GetOpenApi",
    tag = "Meta",
    summary = "This OpenAPI document",
    security(()),
    responses((status = 200, description = "The OpenAPI 3 document.", body = Object, content_type = "application/json")),
)]
pub async fn serve() -> Response {
    static BODY: OnceLock<String> = OnceLock::new();
    let body = BODY.get_or_init(document_json).clone();
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn committed_path() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/openapi.json")
    }

    /// `docs/openapi.json` is the generated document; `ECSD_UPDATE_OPENAPI=1` rewrites it.
    #[test]
    fn committed_document_is_up_to_date() {
        let generated = document_json();
        let path = committed_path();
        if std::env::var_os("ECSD_UPDATE_OPENAPI").is_some_and(|v| v == "1") {
            std::fs::write(&path, &generated).unwrap();
            return;
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == generated,
            "docs/openapi.json differs from the document the code generates; regenerate it with \
             `ECSD_UPDATE_OPENAPI=1 cargo test -p ecsd --lib openapi` and review the difference"
        );
    }

    fn schema_json<T: ToSchema>() -> Value {
        serde_json::to_value(T::schema()).unwrap()
    }

    fn keys(v: &Value, field: &str) -> Vec<String> {
        let mut k: Vec<String> = v[field].as_object().map(|o| o.keys().cloned().collect()).unwrap_or_default();
        k.sort();
        k
    }

    fn required(v: &Value) -> Vec<String> {
        let mut k: Vec<String> =
            v["required"].as_array().into_iter().flatten().filter_map(|s| s.as_str().map(String::from)).collect();
        k.sort();
        k
    }

    #[test]
    fn fault_schemas_have_the_fields_faults_serialize() {
        let spec = crate::faults::FaultSpec {
            operation: Some("createServer".into()),
            step: Some("boot".into()),
            project_id: Some("p".into()),
            server_id: Some("s".into()),
            action: crate::faults::FaultAction::Fail,
            error_code: Some("Ecs.1000".into()),
            message: Some("m".into()),
            delay_ms: Some(1),
            times: Some(1),
        };
        let spec_json = serde_json::to_value(&spec).unwrap();
        let fault_json = serde_json::to_value(crate::faults::Fault { id: "f".into(), spec, hits: 0 }).unwrap();
        let sorted = |v: &Value| {
            let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
            k.sort();
            k
        };
        let spec_schema = schema_json::<FaultSpecDoc>();
        assert_eq!(keys(&spec_schema, "properties"), sorted(&spec_json));
        assert_eq!(required(&spec_schema), vec!["action".to_string()]);
        let fault_schema = schema_json::<FaultDoc>();
        assert_eq!(keys(&fault_schema, "properties"), sorted(&fault_json));
        assert_eq!(required(&fault_schema), sorted(&fault_json), "every field of a fault is always sent");
    }

    #[test]
    fn wire_names_and_nullability_follow_serde() {
        use ecs_types::job::{JobEntities, JobView};
        use ecs_types::server::ServerDetail;
        let server = schema_json::<ServerDetail>();
        let props = keys(&server, "properties");
        assert!(props.contains(&"OS-EXT-STS:vm_state".to_string()) && !props.contains(&"vm_state".to_string()));
        assert_eq!(server["properties"]["OS-EXT-STS:task_state"]["type"], serde_json::json!(["string", "null"]));
        assert!(required(&server).contains(&"OS-EXT-STS:task_state".to_string()), "null is sent, not omitted");
        let job = schema_json::<JobView>();
        assert!(required(&job).contains(&"error_code".to_string()));
        let entities = schema_json::<JobEntities>();
        assert_eq!(required(&entities), vec!["sub_jobs_total".to_string()], "skipped when None: optional");
        assert_eq!(entities["properties"]["server_id"]["type"], "string", "never sent as null");
    }

    #[test]
    fn every_authenticated_operation_documents_the_gateway_rejections() {
        let doc = serde_json::to_value(document()).unwrap();
        assert_eq!(doc["security"], serde_json::json!([{SIGNATURE: []}, {TOKEN: []}]), "either scheme");
        assert_eq!(doc["components"]["securitySchemes"][SIGNATURE]["name"], "Authorization");
        assert_eq!(doc["components"]["securitySchemes"][TOKEN]["name"], "X-Auth-Token");
        let gateway = serde_json::json!({"$ref": "#/components/schemas/GatewayErrorBody"});
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                let open = op.get("security").is_some_and(|s| s == &serde_json::json!([{}]));
                let r = &op["responses"];
                let body = |status: &str| &r[status]["content"]["application/json"]["schema"];
                assert_eq!(open, r.get("429").is_none(), "{method} {path}: throttled iff authenticated");
                if !open {
                    assert_eq!(body("401"), &gateway, "{method} {path}");
                    assert_eq!(body("429"), &gateway, "{method} {path}");
                }
            }
        }
    }
}
