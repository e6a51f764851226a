//! The `Authorization: SDK-HMAC-SHA256 Access=..., SignedHeaders=..., Signature=...` header.

use std::fmt;

use crate::{AuthError, ALGORITHM};

/// A parsed `Authorization` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization {
    /// The access key (AK) the client claims to sign with.
    pub access: String,
    /// Header names covered by the signature, in the order the client listed them.
    pub signed_headers: Vec<String>,
    /// Hex HMAC-SHA256 signature as sent.
    pub signature: String,
}

/// Renders the header value exactly as the SDKs send it (comma + space separators).
impl fmt::Display for Authorization {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{ALGORITHM} Access={}, SignedHeaders={}, Signature={}",
            self.access,
            self.signed_headers.join(";"),
            self.signature
        )
    }
}

/// Parses an `Authorization` header value.
///
/// Stricter than a regex on content (each field exactly once, non-empty, hex signature) but
/// lenient on layout: any amount of whitespace around the separators and any field order,
/// since hand-written clients are not always as tidy as the SDKs.
pub fn parse_authorization(value: &str) -> Result<Authorization, AuthError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(AuthError::MissingAuthorization);
    }
    let (algorithm, fields) = value.split_once(char::is_whitespace).ok_or(AuthError::MalformedAuthorization)?;
    if algorithm != ALGORITHM {
        return Err(AuthError::UnsupportedAlgorithm);
    }

    let (mut access, mut signed_headers, mut signature) = (None, None, None);
    for field in fields.split(',') {
        let (key, val) = field.trim().split_once('=').ok_or(AuthError::MalformedAuthorization)?;
        let slot = match key {
            "Access" => &mut access,
            "SignedHeaders" => &mut signed_headers,
            "Signature" => &mut signature,
            _ => return Err(AuthError::MalformedAuthorization),
        };
        if val.is_empty() || val.contains(char::is_whitespace) || slot.replace(val).is_some() {
            return Err(AuthError::MalformedAuthorization);
        }
    }
    let (Some(access), Some(signed_headers), Some(signature)) = (access, signed_headers, signature) else {
        return Err(AuthError::MalformedAuthorization);
    };

    let signed_headers: Vec<String> = signed_headers.split(';').map(str::to_owned).collect();
    if signed_headers.iter().any(String::is_empty) {
        return Err(AuthError::MalformedAuthorization);
    }
    if !signature.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(AuthError::MalformedAuthorization);
    }

    Ok(Authorization { access: access.to_owned(), signed_headers, signature: signature.to_owned() })
}

#[cfg(test)]
mod tests {
    use super::*;

    const V1_HEADER: &str = "SDK-HMAC-SHA256 Access=HWAKEXAMPLE0000000001, SignedHeaders=content-type;host;user-agent;x-project-id;x-sdk-date, Signature=8e77a19bf9c4804eb5257d886264c3e6e080a4055bd3562434d37fc56ff8199b";

    fn v1() -> Authorization {
        Authorization {
            access: "HWAKEXAMPLE0000000001".into(),
            signed_headers: ["content-type", "host", "user-agent", "x-project-id", "x-sdk-date"]
                .map(String::from)
                .to_vec(),
            signature: "8e77a19bf9c4804eb5257d886264c3e6e080a4055bd3562434d37fc56ff8199b".into(),
        }
    }

    #[test]
    fn parses_the_sdk_format() {
        assert_eq!(parse_authorization(V1_HEADER), Ok(v1()));
    }

    #[test]
    fn display_reproduces_the_sdk_format() {
        assert_eq!(v1().to_string(), V1_HEADER);
    }

    #[test]
    fn tolerates_extra_whitespace_and_field_order() {
        let messy = "  SDK-HMAC-SHA256   Signature=8e77a19bf9c4804eb5257d886264c3e6e080a4055bd3562434d37fc56ff8199b ,Access=HWAKEXAMPLE0000000001,   SignedHeaders=content-type;host;user-agent;x-project-id;x-sdk-date  ";
        assert_eq!(parse_authorization(messy), Ok(v1()));
        let no_space = V1_HEADER.replace(", ", ",");
        assert_eq!(parse_authorization(&no_space), Ok(v1()));
    }

    #[test]
    fn empty_value_is_missing() {
        assert_eq!(parse_authorization("   "), Err(AuthError::MissingAuthorization));
    }

    #[test]
    fn other_algorithms_are_unsupported() {
        for v in [
            "Bearer abc",
            "SDK-HMAC-SM3 Access=a, SignedHeaders=host, Signature=00",
            "sdk-hmac-sha256 Access=a, SignedHeaders=host, Signature=00",
        ] {
            assert_eq!(parse_authorization(v), Err(AuthError::UnsupportedAlgorithm), "{v}");
        }
    }

    #[test]
    fn rejects_malformed_values() {
        for v in [
            "SDK-HMAC-SHA256",
            "SDK-HMAC-SHA256 Access=a, SignedHeaders=host",
            "SDK-HMAC-SHA256 Access=a, SignedHeaders=host, Signature=00, Signature=00",
            "SDK-HMAC-SHA256 Access=a, SignedHeaders=host, Signature=00, Extra=1",
            "SDK-HMAC-SHA256 Access=, SignedHeaders=host, Signature=00",
            "SDK-HMAC-SHA256 Access=a, SignedHeaders=host;;date, Signature=00",
            "SDK-HMAC-SHA256 Access=a, SignedHeaders=host, Signature=xyz",
            "SDK-HMAC-SHA256 Access=a b, SignedHeaders=host, Signature=00",
            "SDK-HMAC-SHA256 Access=a, SignedHeaders=host, Signature=00,",
            "SDK-HMAC-SHA256 access=a, SignedHeaders=host, Signature=00",
        ] {
            assert_eq!(parse_authorization(v), Err(AuthError::MalformedAuthorization), "{v}");
        }
    }
}
