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
        ApiError::from(crate::app::internal(e))
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
        let message = if self.error.log_only {
            // Internal details go to the log, not to the client.
            tracing::error!(error = %self.error.message, "internal error");
            code.default_message().to_string()
        } else {
            if code == Code::Common0001 {
                tracing::error!(error = %self.error.message, "request refused: the service cannot serve it");
            }
            self.error.message
        };
        (status, Json(body(code, message, self.request_id.unwrap_or_default()))).into_response()
    }
}

/// The error body of `code`, in its shape (the types in `ecs_types::errors` describe each).
fn body(code: Code, message: String, request_id: String) -> serde_json::Value {
    match code.shape() {
        Shape::Ecs => json!({"error": {"code": code.as_str(), "message": message}}),
        Shape::Gateway => json!({
            "error_code": code.as_str(),
            "error_msg": message,
            "request_id": request_id,
        }),
        Shape::Nova(fault) => json!({fault: {"code": code.http_status(), "message": message}}),
        Shape::Keystone(title) => {
            json!({"error": {"code": code.http_status(), "message": message, "title": title}})
        }
        Shape::Vpc => json!({"code": code.as_str(), "message": message}),
    }
}

/// The answer for a path or method ecsd does not serve.
pub async fn no_route(Extension(rid): Extension<RequestId>) -> ApiError {
    ApiError::gateway(Code::Apigw0101, Code::Apigw0101.default_message(), &rid.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ecs_types::errors::*;
    use serde::de::DeserializeOwned;

    fn parses_as<T: DeserializeOwned>(v: &serde_json::Value) -> bool {
        serde_json::from_value::<T>(v.clone()).is_ok()
    }

    /// Every code's body is exactly one of the documented error shapes (no field more or less).
    #[test]
    fn every_error_body_matches_its_documented_shape() {
        for &code in ecs_types::codes::ALL {
            let v = body(code, "m".into(), "r".into());
            let ok = match code.shape() {
                Shape::Ecs => parses_as::<EcsErrorBody>(&v),
                Shape::Gateway => parses_as::<GatewayErrorBody>(&v),
                Shape::Nova("itemNotFound") => parses_as::<NovaItemNotFound>(&v),
                Shape::Nova("badRequest") => parses_as::<NovaBadRequest>(&v),
                Shape::Nova("conflictingRequest") => parses_as::<NovaConflict>(&v),
                Shape::Nova(_) => false,
                Shape::Keystone(_) => parses_as::<KeystoneErrorBody>(&v),
                Shape::Vpc => parses_as::<VpcErrorBody>(&v),
            };
            assert!(ok, "{code:?}: {v}");
        }
    }
}
