//! Authentication failures and the API-gateway wording used for their 401 bodies.

/// Why a request failed authentication.
///
/// Display texts are meant for logs: they never contain the secret key or the signature the
/// server computed, so a log line cannot be turned into a forgery oracle.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// No `Authorization` header (or an empty one).
    #[error("Authorization header not found")]
    MissingAuthorization,
    /// The header does not have the `ALG Access=..., SignedHeaders=..., Signature=...` shape.
    #[error("Authorization header is malformed")]
    MalformedAuthorization,
    /// The header names an algorithm other than `SDK-HMAC-SHA256`.
    #[error("Authorization header uses an unsupported signing algorithm")]
    UnsupportedAlgorithm,
    /// The access key is not known to the server.
    #[error("access key is not known")]
    UnknownAccessKey,
    /// No `X-Sdk-Date` header.
    #[error("X-Sdk-Date header not found")]
    MissingDate,
    /// `X-Sdk-Date` is not a valid `YYYYMMDDTHHMMSSZ` timestamp.
    #[error("X-Sdk-Date header is not a valid YYYYMMDDTHHMMSSZ timestamp")]
    MalformedDate,
    /// `X-Sdk-Date` is more than 15 minutes away from the server clock.
    #[error("X-Sdk-Date is more than 15 minutes away from server time")]
    DateOutOfWindow,
    /// A header listed in `SignedHeaders` is not present on the request.
    #[error("signed header `{0}` is missing from the request")]
    MissingSignedHeader(String),
    /// The signature does not match the request.
    #[error("signature does not match the request")]
    SignatureMismatch,
}

impl AuthError {
    /// Text for the `error_msg` field of the 401 body (`error_code` is [`crate::ERROR_CODE`]).
    ///
    /// A missing signed header is reported like a bad signature because that is what the real
    /// gateway does: it just computes a different signature.
    pub fn message(&self) -> &'static str {
        match self {
            AuthError::MissingAuthorization => "Incorrect IAM authentication information: Authorization not found",
            AuthError::MalformedAuthorization => "Incorrect IAM authentication information: Authorization format error",
            AuthError::UnsupportedAlgorithm => {
                "Incorrect IAM authentication information: unsupported signing algorithm"
            }
            AuthError::UnknownAccessKey => {
                "Incorrect IAM authentication information: Get secretKey failed,err:ak not exist"
            }
            AuthError::MissingDate => "Incorrect IAM authentication information: x-sdk-date not found",
            AuthError::MalformedDate => "Incorrect IAM authentication information: x-sdk-date format error",
            AuthError::DateOutOfWindow => "Incorrect IAM authentication information: x-sdk-date expires",
            AuthError::MissingSignedHeader(_) | AuthError::SignatureMismatch => {
                "Incorrect IAM authentication information: verify aksk signature fail"
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [AuthError; 9] = [
        AuthError::MissingAuthorization,
        AuthError::MalformedAuthorization,
        AuthError::UnsupportedAlgorithm,
        AuthError::UnknownAccessKey,
        AuthError::MissingDate,
        AuthError::MalformedDate,
        AuthError::DateOutOfWindow,
        AuthError::MissingSignedHeader(String::new()),
        AuthError::SignatureMismatch,
    ];

    #[test]
    fn every_message_carries_the_gateway_prefix() {
        for e in &ALL {
            assert!(e.message().starts_with("Incorrect IAM authentication information: "), "{e:?}");
        }
    }

    #[test]
    fn signature_problems_use_the_gateway_wording() {
        let expected = "Incorrect IAM authentication information: verify aksk signature fail";
        assert_eq!(AuthError::SignatureMismatch.message(), expected);
        assert_eq!(AuthError::MissingSignedHeader("host".into()).message(), expected);
        assert_eq!(
            AuthError::MissingAuthorization.message(),
            "Incorrect IAM authentication information: Authorization not found"
        );
        assert_eq!(
            AuthError::DateOutOfWindow.message(),
            "Incorrect IAM authentication information: x-sdk-date expires"
        );
    }

    #[test]
    fn missing_header_display_names_the_header() {
        let e = AuthError::MissingSignedHeader("x-project-id".into());
        assert!(e.to_string().contains("x-project-id"));
    }
}
