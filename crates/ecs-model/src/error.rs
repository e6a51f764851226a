//! The domain error: a wire code plus a message a person understands.
//!
//! Every rejection in ecsd ends up here, and exactly one place (the HTTP layer) turns it into
//! a response, so the code, its HTTP status and its body shape can never disagree.

use ecs_types::Code;

/// A failed request or operation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code:?}: {message}")]
pub struct Error {
    pub code: Code,
    pub message: String,
}

impl Error {
    /// An error with a specific message.
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Error { code, message: message.into() }
    }

    /// An error with the code's documented message.
    pub fn code(code: Code) -> Self {
        Error { code, message: code.default_message().to_string() }
    }

    /// `Ecs.0005` with a message naming what is wrong.
    pub fn invalid(message: impl Into<String>) -> Self {
        Error::new(Code::Ecs0005, message)
    }

    /// `Ecs.0114`, worded as the real service words it.
    pub fn server_not_found(id: &str) -> Self {
        Error::new(Code::Ecs0114, format!("Instance[{id}] could not be found."))
    }

    /// An internal failure (store or driver); the message is logged, not sent in full.
    pub fn internal(message: impl Into<String>) -> Self {
        Error::new(Code::Common0001, message)
    }
}
