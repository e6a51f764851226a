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
    /// The message is for the operator's log only (an internal failure whose detail would mean
    /// nothing to a client, or say too much); the client gets the code's documented message.
    pub log_only: bool,
}

impl Error {
    /// An error with a specific message.
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Error { code, message: message.into(), log_only: false }
    }

    /// An error with the code's documented message.
    pub fn code(code: Code) -> Self {
        Error { code, message: code.default_message().to_string(), log_only: false }
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
        Error { log_only: true, ..Error::new(Code::Common0001, message) }
    }

    /// The service cannot store anything because its data volume is full. Nothing was changed;
    /// the same request succeeds once the operator has freed space, so the client is told so.
    pub fn storage_full() -> Self {
        Error::new(
            Code::Common0001,
            "A system exception occurred: the service's storage is full (no space left on device). \
             Nothing was changed; try again once space has been freed.",
        )
    }

    /// The service's store is damaged: the request was not carried out, and the operator must
    /// look (`ecsd check`). Said plainly, so the client does not retry in vain.
    pub fn store_damaged() -> Self {
        Error::new(
            Code::Common0001,
            "A system exception occurred: the service's store is damaged and this request could not be \
             carried out. Nothing was changed; the operator must check the data directory (ecsd check).",
        )
    }
}
