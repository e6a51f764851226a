//! Huawei Cloud `SDK-HMAC-SHA256` request signatures: server-side verification and client-side signing.
//!
//! The algorithm follows the Python SDK's `huaweicloudsdkcore/signer/signer.py`:
//! a canonical request is hashed into a string to sign, which is HMAC-SHA256'd with the raw
//! secret key (no key derivation). [`verify`] rebuilds the canonical request from what was
//! received and compares in constant time; [`sign`] produces the `Authorization` header value
//! for our own clients.
//!
//! The HTTP layer is expected to put the `Host` header into the [`http::HeaderMap`] it passes
//! in (HTTP/1.1 always carries one; for HTTP/2 the `:authority` has to be copied over), because
//! the SDKs always sign `host`.

mod authorization;
mod canonical;
mod date;
mod digest;
mod error;
mod sign;
mod verify;

#[cfg(test)]
mod test_vectors;

pub use authorization::{parse_authorization, Authorization};
pub use canonical::{canonical_request, string_to_sign};
pub use date::sdk_date;
pub use error::AuthError;
pub use sign::sign;
pub use verify::verify;

/// The only signing algorithm accepted, and the first token of the `Authorization` header.
pub const ALGORITHM: &str = "SDK-HMAC-SHA256";

/// The API-gateway error code that every authentication failure is reported under.
pub const ERROR_CODE: &str = "APIGW.0301";

/// Header carrying the signing time, `YYYYMMDDTHHMMSSZ` in UTC.
pub const DATE_HEADER: &str = "x-sdk-date";

/// Header that, when present, replaces the body hash in the canonical request.
pub const CONTENT_SHA256_HEADER: &str = "x-sdk-content-sha256";

/// The parts of a received (or to-be-sent) HTTP request that the signature covers.
#[derive(Debug, Clone, Copy)]
pub struct RequestParts<'a> {
    /// `"GET"`, `"POST"`, ... exactly as on the request line.
    pub method: &'a str,
    /// Raw path as received, still percent-encoded, e.g. `/v2.1/p/os-keypairs/my%20key`.
    pub path: &'a str,
    /// Raw query string without the `?`, as received.
    pub query: Option<&'a str>,
    /// Request headers; must include `host`.
    pub headers: &'a http::HeaderMap,
    /// Body bytes exactly as received (never re-serialised).
    pub body: &'a [u8],
}
