//! The two IAM (Keystone) answers the SDKs read from ecsd: a password token's description and
//! the project list of the region lookup.

use serde::Serialize;
use utoipa::ToSchema;

/// The answer of `POST /v3/auth/tokens`; the token itself is in `X-Subject-Token`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TokenResponse {
    pub token: Token,
}

/// The token's description.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Token {
    pub expires_at: String,
    pub issued_at: String,
    pub methods: Vec<String>,
    pub project: TokenProject,
    pub user: TokenUser,
    pub roles: Vec<TokenRole>,
    pub catalog: Vec<serde_json::Value>,
}

/// `{"id": ..., "name": ...}` of a domain.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TokenDomain {
    pub id: String,
    pub name: String,
}

/// The project a token is scoped to.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TokenProject {
    pub id: String,
    pub name: String,
    pub domain: TokenDomain,
}

/// The user a token belongs to.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TokenUser {
    pub id: String,
    pub name: String,
    pub domain: TokenDomain,
    pub password_expires_at: String,
}

/// A role of the token.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TokenRole {
    pub id: String,
    pub name: String,
}

/// The answer of `GET /v3/projects`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProjectList {
    pub projects: Vec<Project>,
    pub links: ProjectListLinks,
}

/// One project.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Project {
    pub id: String,
    pub name: String,
    pub domain_id: String,
    pub description: String,
    pub enabled: bool,
    pub is_domain: bool,
    pub parent_id: String,
    pub links: SelfLink,
}

/// `{"self": ...}`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SelfLink {
    #[serde(rename = "self")]
    pub self_link: String,
}

/// The list's links (`previous` and `next` are always `null`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProjectListLinks {
    #[serde(rename = "self")]
    pub self_link: String,
    #[schema(required = true)]
    pub previous: Option<String>,
    #[schema(required = true)]
    pub next: Option<String>,
}
