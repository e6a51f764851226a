//! Test vectors V1–V4 from the ECS wire-contract spec, section 9.5, shared by the unit tests.

use http::{HeaderMap, HeaderName, HeaderValue};

use crate::RequestParts;

pub(crate) const AK: &str = "HWAKEXAMPLE0000000001";
pub(crate) const SK: &str = "HWSKEXAMPLE00000000000000000000000000002";
/// 2024-01-01T12:00:00Z as Unix seconds.
pub(crate) const VECTOR_UNIX: u64 = 1_704_110_400;

const PROJECT: &str = "0123456789abcdef0123456789abcdef";
const EMPTY_HASH: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

pub(crate) struct Vector {
    pub name: &'static str,
    pub method: &'static str,
    /// Raw path as it arrives on the wire.
    pub path: &'static str,
    pub query: Option<&'static str>,
    /// Every header present at signing time, including unsigned ones.
    pub headers: &'static [(&'static str, &'static str)],
    pub signed: &'static [&'static str],
    pub body: &'static [u8],
    pub date: &'static str,
    pub canonical_request: &'static str,
    pub canonical_hash: &'static str,
    pub signature: &'static str,
}

impl Vector {
    pub fn header_map(&self) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in self.headers {
            map.append(HeaderName::from_bytes(name.as_bytes()).unwrap(), HeaderValue::from_static(value));
        }
        map
    }

    pub fn parts<'a>(&'a self, headers: &'a HeaderMap) -> RequestParts<'a> {
        RequestParts { method: self.method, path: self.path, query: self.query, headers, body: self.body }
    }

    pub fn signed_headers(&self) -> Vec<String> {
        self.signed.iter().map(|s| s.to_string()).collect()
    }

    /// The `Authorization` header the Python SDK sent.
    pub fn authorization(&self) -> String {
        format!("SDK-HMAC-SHA256 Access={AK}, SignedHeaders={}, Signature={}", self.signed.join(";"), self.signature)
    }
}

pub(crate) const V1: Vector = Vector {
    name: "V1 reinstallos POST",
    method: "POST",
    path: "/v1/0123456789abcdef0123456789abcdef/cloudservers/e6b99563-0000-4000-8000-1820d4fd2a67/reinstallos",
    query: None,
    headers: &[
        ("content-type", "application/json;charset=utf-8"),
        ("x-project-id", PROJECT),
        ("x-sdk-date", "20240101T120000Z"),
        ("user-agent", "huaweicloud-usdk-python/3.0"),
        ("host", "127.0.0.1:8080"),
    ],
    signed: &["content-type", "host", "user-agent", "x-project-id", "x-sdk-date"],
    body: br#"{"os-reinstall": {"keyname": "KeyPair-350b", "userid": "7e25b1da389f4697a79df3a0e5bd494e", "mode": "withStopServer"}}"#,
    date: "20240101T120000Z",
    canonical_request: "POST\n/v1/0123456789abcdef0123456789abcdef/cloudservers/e6b99563-0000-4000-8000-1820d4fd2a67/reinstallos/\n\ncontent-type:application/json;charset=utf-8\nhost:127.0.0.1:8080\nuser-agent:huaweicloud-usdk-python/3.0\nx-project-id:0123456789abcdef0123456789abcdef\nx-sdk-date:20240101T120000Z\n\ncontent-type;host;user-agent;x-project-id;x-sdk-date\nf89ecd695c6d704b5d77045dd7b0ee456fe46b1c643acbff1ef4a96a0bf7bf66",
    canonical_hash: "25f87b05f8aba07b6e4f703e511bfbe93c67ef2b748b7d798799c1d3e7a90761",
    signature: "8e77a19bf9c4804eb5257d886264c3e6e080a4055bd3562434d37fc56ff8199b",
};

pub(crate) const V2: Vector = Vector {
    name: "V2 show_job GET",
    method: "GET",
    path: "/v1/0123456789abcdef0123456789abcdef/jobs/ff80808288d41e1b018990260955686a",
    query: None,
    headers: &[
        ("content-type", "application/json"),
        ("x-project-id", PROJECT),
        ("x-sdk-date", "20240101T120000Z"),
        ("user-agent", "huaweicloud-usdk-python/3.0"),
        ("host", "127.0.0.1:8080"),
    ],
    signed: &["content-type", "host", "user-agent", "x-project-id", "x-sdk-date"],
    body: b"",
    date: "20240101T120000Z",
    canonical_request: "GET\n/v1/0123456789abcdef0123456789abcdef/jobs/ff80808288d41e1b018990260955686a/\n\ncontent-type:application/json\nhost:127.0.0.1:8080\nuser-agent:huaweicloud-usdk-python/3.0\nx-project-id:0123456789abcdef0123456789abcdef\nx-sdk-date:20240101T120000Z\n\ncontent-type;host;user-agent;x-project-id;x-sdk-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    canonical_hash: "bf7ba53e97558e7d8c746f8711f610cbf549cb816dbe5f9d339ee3466026268c",
    signature: "a0b093409e190c7de84ae26c4854191b69e30624cbe68ee12339c6833815a3f7",
};

pub(crate) const V3: Vector = Vector {
    name: "V3 list with query",
    method: "GET",
    path: "/v1/0123456789abcdef0123456789abcdef/cloudservers/detail",
    // The caller's order, not the canonical one, so the verifier has to sort.
    query: Some("offset=1&limit=25&name=web%2001%2F%C3%BC~x&status=ACTIVE"),
    headers: &[
        ("content-type", "application/json"),
        ("x-project-id", PROJECT),
        ("x-sdk-date", "20240101T120000Z"),
        ("host", "ecs.cn-north-4.myhuaweicloud.com"),
    ],
    signed: &["content-type", "host", "x-project-id", "x-sdk-date"],
    body: b"",
    date: "20240101T120000Z",
    canonical_request: "GET\n/v1/0123456789abcdef0123456789abcdef/cloudservers/detail/\nlimit=25&name=web%2001%2F%C3%BC~x&offset=1&status=ACTIVE\ncontent-type:application/json\nhost:ecs.cn-north-4.myhuaweicloud.com\nx-project-id:0123456789abcdef0123456789abcdef\nx-sdk-date:20240101T120000Z\n\ncontent-type;host;x-project-id;x-sdk-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    canonical_hash: "234d5277579f90d6d37ab38176e25faf6277f322a6eb4a2f1ed92b16a6278a19",
    signature: "8af1606bcbe28b63677796e3de69cf5a73d6b5f4bc5bf751476860740abbdc03",
};

pub(crate) const V4: Vector = Vector {
    name: "V4 DELETE keypair",
    method: "DELETE",
    path: "/v2.1/0123456789abcdef0123456789abcdef/os-keypairs/my%20key",
    query: None,
    headers: &[
        ("content-type", "application/json"),
        ("x-project-id", PROJECT),
        ("x-sdk-date", "20240101T120000Z"),
        ("x_custom", "skipped"),
        ("x-security-token", "tok"),
        ("host", "127.0.0.1:8080"),
    ],
    signed: &["content-type", "host", "x-project-id", "x-sdk-date", "x-security-token"],
    body: b"",
    date: "20240101T120000Z",
    canonical_request: "DELETE\n/v2.1/0123456789abcdef0123456789abcdef/os-keypairs/my%20key/\n\ncontent-type:application/json\nhost:127.0.0.1:8080\nx-project-id:0123456789abcdef0123456789abcdef\nx-sdk-date:20240101T120000Z\nx-security-token:tok\n\ncontent-type;host;x-project-id;x-sdk-date;x-security-token\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    canonical_hash: "7f27d0de8e76f42d7a84bde832d9767fd1c2824b2ac157e06fed5bc23cf419fe",
    signature: "531d2fe3ba073762dda3d02d4d937bccf1d6398682261a797dcb04394604d35c",
};

pub(crate) const ALL: [&Vector; 4] = [&V1, &V2, &V3, &V4];

#[test]
fn v2_to_v4_have_no_body() {
    // Guards the fixtures themselves: the spec gives the empty-body hash for these three.
    for v in [&V2, &V3, &V4] {
        assert!(v.canonical_request.ends_with(EMPTY_HASH), "{}", v.name);
        assert!(v.body.is_empty(), "{}", v.name);
    }
}
