//! Domain errors → HTTP responses, in the body shape each API family uses.

use crate::http::request_id::RequestId;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use ecs_model::Error;
use ecs_types::codes::Shape;
use ecs_types::Code;
use serde_json::json;

/// A rejected request. Handlers return `Result<_, ApiError>`; `?` converts domain errors.
#[derive(Debug)]
pub struct ApiError {
    pub error: Error,
    /// Put into gateway-shaped bodies (`request_id`), which carry it in the body too.
    pub request_id: Option<String>,
}

impl From<Error> for ApiError {
    fn from(error: Error) -> Self {
        ApiError { error, request_id: None }
    }
}

impl From<ecs_store::StoreError> for ApiError {
    fn from(e: ecs_store::StoreError) -> Self {
        ApiError::from(Error::internal(e.to_string()))
    }
}

impl ApiError {
    /// A gateway-level rejection (authentication, routing) for a request with this id.
    pub fn gateway(code: Code, message: &str, request_id: &str) -> Self {
        ApiError { error: Error::new(code, message), request_id: Some(request_id.to_string()) }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let code = self.error.code;
        let status = StatusCode::from_u16(code.http_status()).unwrap_or(StatusCode::BAD_REQUEST);
        let message = if code == Code::Common0001 {
            // Internal details go to the log, not to the client.
            tracing::error!(error = %self.error.message, "internal error");
            code.default_message().to_string()
        } else {
            self.error.message
        };
        let body = match code.shape() {
            Shape::Ecs => json!({"error": {"code": code.as_str(), "message": message}}),
            Shape::Gateway => json!({
                "error_code": code.as_str(),
                "error_msg": message,
                "request_id": self.request_id.unwrap_or_default(),
            }),
            Shape::Nova(fault) => json!({fault: {"code": code.http_status(), "message": message}}),
            Shape::Keystone(title) => {
                json!({"error": {"code": code.http_status(), "message": message, "title": title}})
            }
        };
        (status, Json(body)).into_response()
    }
}

/// The answer for a path or method ecsd does not serve.
pub async fn no_route(Extension(rid): Extension<RequestId>) -> ApiError {
    ApiError::gateway(Code::Apigw0101, Code::Apigw0101.default_message(), &rid.0)
}
