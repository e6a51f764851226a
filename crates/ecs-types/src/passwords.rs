//! Passwords and batch renames: the one-click reset (single and batch), the Windows password
//! calls, the reset flag, and `PUT /v1/{project_id}/cloudservers/server-name`, whose request
//! and answer have the same batch shape (SDK `ResetServerPasswordRequestBody`,
//! `BatchResetServersPasswordRequestBody`, `BatchUpdateServersNameRequestBody`,
//! `ShowServerPasswordResponse`, `ShowResetPasswordFlagResponse`).

use crate::requests::IdRef;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// `PUT /v1/{project_id}/cloudservers/{server_id}/os-reset-password`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct ResetPasswordBody {
    #[serde(rename = "reset-password")]
    pub reset_password: Option<ResetPasswordOption>,
}

/// The new password, and whether its complexity is checked (it is not by default).
#[derive(Clone, Deserialize, ToSchema)]
pub struct ResetPasswordOption {
    pub new_password: Option<String>,
    pub is_check_password: Option<bool>,
}

/// Never prints the password.
impl std::fmt::Debug for ResetPasswordOption {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResetPasswordOption").field("is_check_password", &self.is_check_password).finish()
    }
}

/// `PUT /v1/{project_id}/cloudservers/os-reset-passwords`.
#[derive(Clone, Deserialize, ToSchema)]
pub struct BatchResetPasswordBody {
    /// Required unless `dry_run`.
    pub new_password: Option<String>,
    pub dry_run: Option<bool>,
    pub servers: Option<Vec<IdRef>>,
}

/// Never prints the password.
impl std::fmt::Debug for BatchResetPasswordBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BatchResetPasswordBody").field("dry_run", &self.dry_run).finish()
    }
}

/// `PUT /v1/{project_id}/cloudservers/server-name`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct BatchRenameBody {
    pub name: Option<String>,
    pub dry_run: Option<bool>,
    pub servers: Option<Vec<IdRef>>,
}

/// `{"id": "..."}` of an answer.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, ToSchema)]
pub struct ServerIdView {
    pub id: String,
}

/// The answer of the batch reset and rename: the servers the request was carried out on.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BatchServersAnswer {
    pub response: Vec<ServerIdView>,
}

/// `GET /v1/{project_id}/cloudservers/{server_id}/os-server-password`: the Windows password,
/// encrypted with the key pair; always empty for the Linux servers ecsd runs.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ServerPassword {
    pub password: String,
}

/// `GET /v1/{project_id}/cloudservers/{server_id}/os-resetpwd-flag`: `"True"` or `"False"`, a
/// string.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ResetPasswordFlag {
    pub resetpwd_flag: String,
}
