//! The two IAM calls clients make of ecsd: `POST /v3/auth/tokens` (password → token) and
//! `GET /v3/projects?name=<region>` (the SDKs' project lookup when given a region).

use crate::app::query::{query_pairs, typed};
use crate::context::App;
use crate::http::openapi::{GatewayRejections, KeystoneOrEcsBadRequest};
use crate::http::{audit, ApiError, Caller};
use crate::iam::iam_time;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use ecs_model::Error;
use ecs_types::errors::{EcsErrorBody, KeystoneErrorBody};
use ecs_types::iam::{
    Project, ProjectList, ProjectListLinks, SelfLink, Token, TokenDomain, TokenProject, TokenResponse, TokenRole,
    TokenUser,
};
use ecs_types::queries::ProjectListQuery;
use ecs_types::Code;
use serde::Deserialize;
use std::time::SystemTime;

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = PasswordTokenRequest)]
struct TokenRequest {
    auth: Auth,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = PasswordAuth)]
struct Auth {
    identity: Identity,
    scope: Option<Scope>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = PasswordAuthIdentity)]
struct Identity {
    methods: Vec<String>,
    password: Option<PasswordMethod>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = PasswordAuthMethod)]
struct PasswordMethod {
    user: PasswordUser,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = PasswordAuthUser)]
struct PasswordUser {
    name: String,
    password: String,
    domain: Option<Named>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = PasswordAuthDomain)]
struct Named {
    name: Option<String>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = PasswordAuthScope)]
struct Scope {
    project: Option<ProjectRef>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = PasswordAuthProject)]
struct ProjectRef {
    id: Option<String>,
    name: Option<String>,
}

fn bad(msg: &str) -> ApiError {
    Error::new(Code::IamBadRequest, msg).into()
}

/// `POST /v3/auth/tokens` (password method): 201, the token in `X-Subject-Token`.
#[utoipa::path(
    post,
    path = "/v3/auth/tokens",
    operation_id = "KeystoneCreateUserTokenByPassword",
    tag = "IAM",
    summary = "Get a token with a user name and password (unauthenticated)",
    security(()),
    request_body = TokenRequest,
    responses(
        (status = 201, description = "The token's description; the token is in `X-Subject-Token`.",
            body = TokenResponse, headers(("X-Subject-Token" = String, description = "The token."))),
        (status = 400, description = "Keystone `Bad Request`: the body is not a password request; `Ecs.0005`: \
            a body over 1 MiB.", body = KeystoneOrEcsBadRequest),
        (status = 401, description = "Keystone `Unauthorized`: wrong user name or password, or a project the \
            user has no access to.", body = KeystoneErrorBody),
    ),
)]
pub async fn issue_token(State(app): State<App>, parts: Parts, body: Bytes) -> Result<Response, ApiError> {
    let req: TokenRequest = serde_json::from_slice(&body).map_err(|e| bad(&format!("Invalid request body: {e}.")))?;
    if !req.auth.identity.methods.iter().any(|m| m == "password") {
        return Err(bad("Only the \"password\" identity method is supported."));
    }
    let pw = req.auth.identity.password.ok_or_else(|| bad("identity.password is required."))?;
    let domain = pw.user.domain.and_then(|d| d.name);
    // A password longer than IAM allows gets the wrong password's 401, not a 400: it cannot
    // be anyone's password, and answering as for any other wrong one tells a guesser nothing.
    // Traced like a signed call: a refusal with its error body, a success as its user.
    let refuse = |error: Error, outcome| {
        let body = serde_json::json!({"error": {"code": 401, "message": error.message, "title": "Unauthorized"}});
        audit::login(&app, &parts, outcome, 401, body.to_string().as_bytes());
        ApiError::from(error)
    };
    let Some(acc) = app.accounts.by_password(&pw.user.name, &pw.user.password, domain.as_deref()).await else {
        return Err(refuse(Error::code(Code::IamUnauthorized), Err((&pw.user.name, domain.as_deref()))));
    };
    if let Some(p) = req.auth.scope.and_then(|s| s.project) {
        let matches = p.id.as_deref().is_none_or(|id| id == acc.project_id)
            && p.name.as_deref().is_none_or(|n| n == acc.project_name);
        if !matches {
            let e = Error::new(Code::IamUnauthorized, "The user has no access to the requested project.");
            return Err(refuse(e, Ok(&acc)));
        }
    }
    audit::login(&app, &parts, Ok(&acc), 201, b"");
    let (token, claims) = app.tokens.mint(&acc.ak, &acc.user_id, &acc.project_id, SystemTime::now());
    let domain = TokenDomain { id: acc.domain_name.clone(), name: acc.domain_name.clone() };
    let body = TokenResponse {
        token: Token {
            expires_at: iam_time(claims.expires),
            issued_at: iam_time(claims.issued),
            methods: vec!["password".into()],
            project: TokenProject {
                id: acc.project_id.clone(),
                name: acc.project_name.clone(),
                domain: domain.clone(),
            },
            user: TokenUser {
                id: acc.user_id.clone(),
                name: acc.user_name.clone().unwrap_or_default(),
                domain,
                password_expires_at: String::new(),
            },
            roles: vec![TokenRole { id: "0".into(), name: "op_service".into() }],
            catalog: vec![],
        },
    };
    let mut resp = (StatusCode::CREATED, Json(body)).into_response();
    let v = HeaderValue::from_str(&token).map_err(|e| Error::internal(e.to_string()))?;
    resp.headers_mut().insert("x-subject-token", v);
    Ok(resp)
}

/// `GET /v3/projects[?name=...]`: the caller's projects.
#[utoipa::path(
    get,
    path = "/v3/projects",
    operation_id = "KeystoneListProjects",
    tag = "IAM",
    summary = "The caller's project (the SDKs' lookup by region name)",
    params(ProjectListQuery),
    responses(
        (status = 200, description = "The caller's projects.", body = ProjectList),
        (status = 400, description = "`Ecs.0005`: the request is malformed (a body over 1 MiB).", body = EcsErrorBody),
        GatewayRejections,
    ),
)]
pub async fn projects(
    State(app): State<App>,
    Extension(c): Extension<Caller>,
    RawQuery(q): RawQuery,
) -> Json<ProjectList> {
    // Only text fields: reading them cannot fail.
    let q: ProjectListQuery = typed(&query_pairs(q.as_deref())).unwrap_or_default();
    let name = q.name.as_deref();
    let mut seen = std::collections::BTreeSet::new();
    let projects = app
        .accounts
        .all()
        .filter(|a| a.user_id == c.user_id && a.project_id == c.project_id)
        .filter(|a| name.is_none_or(|n| n == a.project_name))
        .filter(|a| seen.insert(a.project_id.clone()))
        .map(|a| Project {
            id: a.project_id.clone(),
            name: a.project_name.clone(),
            domain_id: a.domain_name.clone(),
            description: String::new(),
            enabled: true,
            is_domain: false,
            parent_id: a.domain_name.clone(),
            links: SelfLink { self_link: format!("/v3/projects/{}", a.project_id) },
        })
        .collect();
    let links = ProjectListLinks { self_link: "/v3/projects".into(), previous: None, next: None };
    Json(ProjectList { projects, links })
}
