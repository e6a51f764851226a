//! The HTTP face of ecsd: one route table, authentication, request ids, and the one place
//! where domain errors become Huawei-shaped responses.

pub(crate) mod audit;
pub mod auth;
pub mod error;
pub mod json;
pub mod openapi;
pub mod request_id;
mod routes;
pub mod web_console;

use crate::context::App;
use axum::Router;

pub use auth::Caller;
pub use error::ApiError;

/// Largest request body accepted (the biggest legitimate one, a create with 32 KiB of user
/// data, is far below this).
pub const MAX_BODY: usize = 1024 * 1024;

/// Builds the whole router.
pub fn router(app: App) -> Router {
    routes::table()
        .0
        .fallback(error::no_route)
        // A served path asked with another method is an unknown API too (axum would answer an
        // empty 405): Huawei's gateway does not tell the two apart.
        .method_not_allowed_fallback(error::no_route)
        .layer(axum::middleware::from_fn_with_state(app.clone(), auth::authenticate))
        .layer(axum::middleware::from_fn(request_id::assign))
        .with_state(app)
}
