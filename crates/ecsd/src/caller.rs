//! Who is calling: the identity the authentication layer establishes and the application
//! layer acts for. It lives below both, so that `app/` needs nothing of HTTP.

/// The authenticated caller: a user of a project, through one credential.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user_id: String,
    pub project_id: String,
    pub ak: String,
}
