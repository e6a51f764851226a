//! Errors raised while generating or validating SSH keys.

use thiserror::Error;

/// Why a key could not be generated or accepted.
///
/// Messages are meant for API users and never echo key material: an imported key is
/// reported by what is wrong with it, not by its content.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The public key was empty or only whitespace.
    #[error("the public key is empty")]
    Empty,
    /// The public key line exceeds [`crate::MAX_PUBLIC_KEY_LEN`] bytes.
    #[error("the public key is longer than {max} bytes")]
    TooLong {
        /// The limit that was exceeded.
        max: usize,
    },
    /// The input held more than one line.
    #[error("the public key must be a single line")]
    MultiLine,
    /// The input held a control character other than a tab.
    #[error("the public key contains control characters")]
    ControlCharacter,
    /// The line did not have the "<type> <base64> [comment]" shape.
    #[error("the public key must have the form \"<type> <base64 data> [comment]\"")]
    Format,
    /// The declared key type is not one that is accepted.
    #[error(
        "unsupported public key type; expected one of ssh-rsa, ssh-ed25519, ssh-dss, \
         ecdsa-sha2-nistp256, ecdsa-sha2-nistp384, ecdsa-sha2-nistp521"
    )]
    UnsupportedType,
    /// The key data is not valid base64.
    #[error("the public key data is not valid base64")]
    Base64,
    /// The type embedded in the key data differs from the declared type.
    #[error("the public key data does not match the declared key type {declared}")]
    TypeMismatch {
        /// The type named at the start of the line (always one of the accepted types).
        declared: &'static str,
    },
    /// The key data decodes but is not a well-formed key of its type.
    #[error("the public key data is malformed")]
    Malformed,
    /// The comment requested for a generated key cannot be put on one OpenSSH line.
    #[error("the key comment must not contain control characters")]
    InvalidComment,
    /// Key generation or serialisation failed inside the SSH library.
    #[error("key pair generation failed")]
    Generation(#[source] ssh_key::Error),
}
