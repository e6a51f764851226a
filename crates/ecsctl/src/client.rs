//! Signed HTTP: every request carries the headers the official SDKs send (`host`,
//! `x-project-id`, `x-sdk-date`, `content-type`), signed with `ecs_auth::sign`.

use crate::error::Error;
use http::{HeaderMap, HeaderValue};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde_json::Value;
use std::time::{Duration, SystemTime};

/// Characters left as they are in a path segment or query value (RFC 3986 unreserved).
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

/// Percent-encodes one path segment or query value.
pub fn enc(s: &str) -> String {
    utf8_percent_encode(s, UNRESERVED).to_string()
}

/// Where to send requests, and as whom.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub endpoint: String,
    pub ak: String,
    pub sk: String,
    pub project: String,
    /// Accept any certificate (ecsd's generated one is self-signed).
    pub insecure: bool,
}

pub struct Client {
    http: reqwest::Client,
    /// `scheme://host[:port]`, without a trailing `/`.
    base: String,
    /// The `Host` header as the HTTP client will send it, which is what must be signed.
    host: String,
    ak: String,
    sk: String,
    pub project: String,
}

/// An answer: status and body (JSON, or `Null` when empty).
pub struct Answer {
    pub status: u16,
    pub body: Value,
}

impl Client {
    pub fn new(c: &Credentials) -> Result<Client, Error> {
        let url = reqwest::Url::parse(&c.endpoint)
            .map_err(|e| Error::Usage(format!("--endpoint {:?} is not a URL: {e}", c.endpoint)))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(Error::Usage(format!("--endpoint {:?}: only http:// and https:// are spoken", c.endpoint)));
        }
        let host_name =
            url.host_str().ok_or_else(|| Error::Usage(format!("--endpoint {:?} has no host", c.endpoint)))?;
        // `Url::port` is `None` for the scheme's default port, and then the HTTP client's
        // `Host` header has none either.
        let host = match url.port() {
            Some(p) => format!("{host_name}:{p}"),
            None => host_name.to_string(),
        };
        for (what, v) in
            [("access key (--ak)", &c.ak), ("secret key (--sk)", &c.sk), ("project id (--project)", &c.project)]
        {
            if v.is_empty() {
                return Err(Error::Usage(format!(
                    "no {what}: set HUAWEICLOUD_SDK_AK, HUAWEICLOUD_SDK_SK and HUAWEICLOUD_SDK_PROJECT_ID, or pass the flags"
                )));
            }
        }
        // One process-wide TLS provider (ring), as ecsd uses; installing it twice is harmless.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .danger_accept_invalid_certs(c.insecure)
            .build()
            .map_err(|e| Error::Other(e.into()))?;
        let base = format!("{}://{}", url.scheme(), host);
        Ok(Client { http, base, host, ak: c.ak.clone(), sk: c.sk.clone(), project: c.project.clone() })
    }

    /// A signed request, ready to send; `{p}` in `path_and_query` is the project id.
    pub fn request(
        &self,
        method: reqwest::Method,
        path_and_query: &str,
        body: Option<&Value>,
        accept: Option<&str>,
    ) -> Result<reqwest::RequestBuilder, Error> {
        let path_and_query = path_and_query.replace("{p}", &self.project);
        let (path, query) = match path_and_query.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (path_and_query.as_str(), None),
        };
        let bytes = match body {
            Some(b) => serde_json::to_vec(b).map_err(|e| Error::Other(e.into()))?,
            None => Vec::new(),
        };
        let header = |v: &str| HeaderValue::from_str(v).map_err(|e| Error::Usage(format!("{v:?}: {e}")));
        let mut h = HeaderMap::new();
        // As the SDKs: a content type on every method, with the charset once there is a body.
        let ct = if bytes.is_empty() { "application/json" } else { "application/json;charset=utf-8" };
        h.insert("content-type", HeaderValue::from_static(ct));
        h.insert("host", header(&self.host)?);
        h.insert("x-project-id", header(&self.project)?);
        h.insert("x-sdk-date", header(&ecs_auth::sdk_date(SystemTime::now()))?);
        let parts = ecs_auth::RequestParts { method: method.as_str(), path, query, headers: &h, body: &bytes };
        let auth = ecs_auth::sign(&parts, &self.ak, &self.sk);
        h.insert("authorization", header(&auth)?);
        // The HTTP client sets `Host` itself, from the URL, to the same value.
        h.remove("host");
        if let Some(a) = accept {
            h.insert("accept", header(a)?);
        }
        Ok(self.http.request(method, format!("{}{}", self.base, path_and_query)).headers(h).body(bytes))
    }

    /// Sends a request and reads the whole answer, whatever its status.
    pub async fn send(&self, method: reqwest::Method, path: &str, body: Option<&Value>) -> Result<Answer, Error> {
        let r = self.request(method, path, body, None)?.send().await.map_err(|e| self.unreachable(e))?;
        let status = r.status().as_u16();
        let text = r.text().await.map_err(|e| self.unreachable(e))?;
        let body = if text.trim().is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or_else(|_| Value::String(text.clone()))
        };
        if status >= 300 {
            return Err(Error::from_answer(status, &body, &text));
        }
        Ok(Answer { status, body })
    }

    pub async fn get(&self, path: &str) -> Result<Value, Error> {
        Ok(self.send(reqwest::Method::GET, path, None).await?.body)
    }

    pub async fn post(&self, path: &str, body: &Value) -> Result<Value, Error> {
        Ok(self.send(reqwest::Method::POST, path, Some(body)).await?.body)
    }

    pub async fn delete(&self, path: &str) -> Result<Value, Error> {
        Ok(self.send(reqwest::Method::DELETE, path, None).await?.body)
    }

    /// A transport failure: nothing answered, or the answer was cut off.
    pub fn unreachable(&self, e: reqwest::Error) -> Error {
        // The source chain says why (refused, reset, certificate); the top level only "error
        // sending request".
        let mut reason = e.to_string();
        let mut src = std::error::Error::source(&e);
        while let Some(s) = src {
            reason = format!("{reason}: {s}");
            src = s.source();
        }
        Error::Unreachable { endpoint: self.base.clone(), reason }
    }
}
