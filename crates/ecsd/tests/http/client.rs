//! A signing test client and a service started on `127.0.0.1:0`.

use ecsd::accounts::{Account, Accounts};
use ecsd::listener::Limits;
use ecsd::server::{build, serve, Options};
use http::{HeaderMap, HeaderValue};
use serde_json::{json, Value};
use std::time::{Duration, SystemTime};

pub const PROJECT: &str = "0123456789abcdef0123456789abcdef";
pub const OTHER_PROJECT: &str = "fedcba9876543210fedcba9876543210";
pub const USER: &str = "7e25b1da389f4697a79df3a0e5bd494e";
pub const AK: &str = "HWAKEXAMPLE0000000001";
pub const SK: &str = "HWSKEXAMPLE00000000000000000000000000002";
/// The environment that gives a started `ecsd` binary the first account, as the SDKs read it.
pub const SDK_ENV: [(&str, &str); 3] =
    [("HUAWEICLOUD_SDK_AK", AK), ("HUAWEICLOUD_SDK_SK", SK), ("HUAWEICLOUD_SDK_PROJECT_ID", PROJECT)];
/// The IAM user of the first account, for token tests.
pub const USER_NAME: &str = "alice";
pub const PASSWORD: &str = "Alice-Password-1";
/// An image without Cloud-Init, and one with it.
pub const IMAGE_PLAIN: &str = "6a6b4b4e-0e3a-4c38-9b64-1f1b2c3d4e02";
pub const IMAGE_CLOUD_INIT: &str = "6a6b4b4e-0e3a-4c38-9b64-1f1b2c3d4e01";
pub const IMAGE_OTHER_PLAIN: &str = "6a6b4b4e-0e3a-4c38-9b64-1f1b2c3d4e04";

/// An HTTP client; the TLS tests need rustls's ring provider installed once per process.
pub fn new_client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

/// How to start a test service.
#[derive(Clone, Default)]
pub struct SvcConfig {
    pub step: Duration,
    pub rate_limit: u32,
    pub token_ttl: Option<Duration>,
    pub tls: bool,
    pub limits: Limits,
    /// Quotas other than the defaults.
    pub quotas: Option<ecs_model::quota::Quotas>,
}

/// A running service and a client for it.
pub struct Svc {
    pub base: String,
    pub host: String,
    /// The HTTPS listener, when started with one.
    pub tls_addr: Option<std::net::SocketAddr>,
    pub http: reqwest::Client,
    pub ak: String,
    pub sk: String,
    pub project: String,
    /// The service itself, for the few tests that must set up a state no API call can reach.
    pub app: Option<ecsd::context::App>,
    _dir: tempfile::TempDir,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

/// A response: status, JSON body (Null when empty) and headers.
pub struct Resp {
    pub status: u16,
    pub body: Value,
    pub headers: reqwest::header::HeaderMap,
}

impl Resp {
    /// Asserts a Huawei `{"error":{"code":..}}` error with this status and code.
    pub fn assert_error(&self, status: u16, code: &str) {
        assert_eq!(self.status, status, "body: {}", self.body);
        assert_eq!(self.body["error"]["code"], code, "body: {}", self.body);
        assert!(self.body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "message: {}", self.body);
    }
}

impl Svc {
    pub async fn start() -> Svc {
        Self::start_cfg(SvcConfig::default()).await
    }

    pub async fn start_with_step(step: Duration) -> Svc {
        Self::start_cfg(SvcConfig { step, ..Default::default() }).await
    }

    pub async fn start_cfg(cfg: SvcConfig) -> Svc {
        let dir = tempfile::tempdir().unwrap();
        let accounts = Accounts::from_list(vec![
            Account {
                ak: AK.into(),
                sk: SK.into(),
                user_id: USER.into(),
                project_id: PROJECT.into(),
                project_name: "cn-north-4".into(),
                user_name: Some(USER_NAME.into()),
                password_hash: Some(ecs_crypto::hash_password(PASSWORD)),
                domain_name: "ecsd".into(),
            },
            Account {
                ak: "OTHERAK".into(),
                sk: "OTHERSK".into(),
                user_id: "99999999999999999999999999999999".into(),
                project_id: OTHER_PROJECT.into(),
                project_name: "eu-west-0".into(),
                ..Account::blank()
            },
        ]);
        let mut opts = Options::new(dir.path().into(), accounts);
        opts.sim_step = cfg.step;
        opts.rate_limit = cfg.rate_limit;
        if let Some(ttl) = cfg.token_ttl {
            opts.token_ttl = ttl;
        }
        if let Some(q) = cfg.quotas {
            opts.quotas = q;
        }
        if let Some(url) = crate::store::database_for(dir.path()) {
            let (store, _) = ecsd::datadir::open_pg_store(&url, ecs_store::postgres::DEFAULT_POOL_SIZE, opts.lease)
                .await
                .unwrap_or_else(|e| panic!("{url}: {e}"));
            opts.store = Some(std::sync::Arc::new(store));
        }
        let app = build(opts).await.unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let tls = if cfg.tls {
            let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let tls_cfg = ecsd::tls::server_config(dir.path(), None, None).unwrap();
            Some((l, tls_cfg))
        } else {
            None
        };
        let tls_addr = tls.as_ref().map(|(l, _)| l.local_addr().unwrap());
        let (tx, rx) = tokio::sync::oneshot::channel();
        tokio::spawn(serve(listener, tls, cfg.limits.clone(), app.clone(), async move {
            let _ = rx.await;
        }));
        Svc {
            base: format!("http://{addr}"),
            host: addr.to_string(),
            tls_addr,
            http: new_client(),
            ak: AK.into(),
            sk: SK.into(),
            project: PROJECT.into(),
            app: Some(app),
            _dir: dir,
            stop: Some(tx),
        }
    }

    /// The service's data directory.
    pub fn data_dir(&self) -> &std::path::Path {
        self._dir.path()
    }

    /// A client for a service running elsewhere (a separate process).
    pub fn remote(base: &str, ak: &str, sk: &str, project: &str) -> Svc {
        Svc {
            base: base.to_string(),
            host: base.trim_start_matches("http://").to_string(),
            tls_addr: None,
            http: new_client(),
            ak: ak.into(),
            sk: sk.into(),
            project: project.into(),
            app: None,
            _dir: tempfile::tempdir().unwrap(),
            stop: None,
        }
    }

    /// The same service seen with another project's credential.
    pub fn as_other(&self) -> Svc {
        Svc {
            base: self.base.clone(),
            host: self.host.clone(),
            tls_addr: self.tls_addr,
            http: self.http.clone(),
            ak: "OTHERAK".into(),
            sk: "OTHERSK".into(),
            project: OTHER_PROJECT.into(),
            app: None,
            _dir: tempfile::tempdir().unwrap(),
            stop: None,
        }
    }

    /// The signed headers the Python SDK sends (Content-Type on every method, X-Project-Id).
    pub fn signed_headers(
        &self,
        method: &str,
        path: &str,
        query: Option<&str>,
        body: &[u8],
        date: SystemTime,
    ) -> HeaderMap {
        let mut h = HeaderMap::new();
        let ct = if body.is_empty() { "application/json" } else { "application/json;charset=utf-8" };
        h.insert("content-type", HeaderValue::from_static(ct));
        h.insert("host", HeaderValue::from_str(&self.host).unwrap());
        h.insert("x-project-id", HeaderValue::from_str(&self.project).unwrap());
        h.insert("x-sdk-date", HeaderValue::from_str(&ecs_auth::sdk_date(date)).unwrap());
        h.insert("user-agent", HeaderValue::from_static("huaweicloud-usdk-python/3.0"));
        let parts = ecs_auth::RequestParts { method, path, query, headers: &h, body };
        let auth = ecs_auth::sign(&parts, &self.ak, &self.sk);
        h.insert("authorization", HeaderValue::from_str(&auth).unwrap());
        h
    }

    /// Sends a request with the given headers as they are.
    pub async fn send(&self, method: &str, path_and_query: &str, headers: HeaderMap, body: Vec<u8>) -> Resp {
        let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut rb = self.http.request(m, format!("{}{}", self.base, path_and_query));
        for (k, v) in headers.iter() {
            if k != "host" {
                rb = rb.header(k.as_str(), v.as_bytes());
            }
        }
        // A transport failure (the server was killed mid-request) is status 0, so that crash
        // tests can tell "cut off" from an answer; every other test asserts a real status.
        let r = match rb.body(body).send().await {
            Ok(r) => r,
            Err(e) => return Resp { status: 0, body: Value::String(e.to_string()), headers: Default::default() },
        };
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let bytes = match r.bytes().await {
            Ok(b) => b,
            Err(e) => return Resp { status: 0, body: Value::String(e.to_string()), headers },
        };
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or(Value::String(String::from_utf8_lossy(&bytes).into()))
        };
        Resp { status, body, headers }
    }

    /// A signed request with a raw body.
    pub async fn raw(&self, method: &str, path_and_query: &str, body: &[u8]) -> Resp {
        let (path, query) = match path_and_query.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (path_and_query, None),
        };
        let h = self.signed_headers(method, path, query, body, SystemTime::now());
        self.send(method, path_and_query, h, body.to_vec()).await
    }

    /// A signed request; `{p}` in the path is replaced by the project id.
    pub async fn call(&self, method: &str, path: &str, body: Option<Value>) -> Resp {
        let path = path.replace("{p}", &self.project);
        let bytes = body.map(|b| serde_json::to_vec(&b).unwrap()).unwrap_or_default();
        self.raw(method, &path, &bytes).await
    }

    pub async fn get(&self, path: &str) -> Resp {
        self.call("GET", path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Resp {
        self.call("POST", path, Some(body)).await
    }

    /// Polls a job until SUCCESS or FAIL (at most 20 s).
    pub async fn wait_job(&self, job_id: &str) -> Value {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            let r = self.get(&format!("/v1/{{p}}/jobs/{job_id}")).await;
            assert_eq!(r.status, 200, "{}", r.body);
            let st = r.body["status"].as_str().unwrap_or_default().to_string();
            if st == "SUCCESS" || st == "FAIL" {
                return r.body;
            }
            assert!(tokio::time::Instant::now() < deadline, "job {job_id} still {st}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Waits for a job and asserts it succeeded.
    pub async fn job_ok(&self, job_id: &str) -> Value {
        let j = self.wait_job(job_id).await;
        assert_eq!(j["status"], "SUCCESS", "{j}");
        j
    }

    pub async fn keypair(&self, name: &str) -> Value {
        let r = self.post("/v2.1/{p}/os-keypairs", json!({"keypair": {"name": name}})).await;
        assert_eq!(r.status, 200, "{}", r.body);
        r.body["keypair"].clone()
    }

    /// The project's default VPC and subnet ids.
    pub async fn network(&self) -> (String, String) {
        let v = self.get("/v1/{p}/vpcs").await;
        let s = self.get("/v1/{p}/subnets").await;
        (v.body["vpcs"][0]["id"].as_str().unwrap().into(), s.body["subnets"][0]["id"].as_str().unwrap().into())
    }

    /// The body of a create request.
    pub async fn create_body(&self, name: &str, image: &str, key: Option<&str>, count: i64) -> Value {
        let (vpc, subnet) = self.network().await;
        let mut s = json!({"name": name, "imageRef": image, "flavorRef": "s6.small.1", "vpcid": vpc,
            "nics": [{"subnet_id": subnet}], "root_volume": {"volumetype": "SSD"}, "count": count});
        if let Some(k) = key {
            s["key_name"] = json!(k);
        }
        json!({"server": s})
    }

    /// Creates one ACTIVE server and returns its id.
    pub async fn server(&self, name: &str, image: &str, key: Option<&str>) -> String {
        let body = self.create_body(name, image, key, 1).await;
        let r = self.post("/v1/{p}/cloudservers", body).await;
        assert_eq!(r.status, 200, "{}", r.body);
        self.job_ok(r.body["job_id"].as_str().unwrap()).await;
        r.body["serverIds"][0].as_str().unwrap().to_string()
    }

    /// Asks for a `/v1` reinstall with key pair `key` of `user_id`, stopping the server first;
    /// the answer as it comes.
    pub async fn reinstall(&self, id: &str, key: &str, user_id: &Value) -> Resp {
        self.post(
            &format!("/v1/{{p}}/cloudservers/{id}/reinstallos"),
            json!({"os-reinstall": {"keyname": key, "userid": user_id, "mode": "withStopServer"}}),
        )
        .await
    }

    pub async fn show(&self, id: &str) -> Value {
        let r = self.get(&format!("/v1/{{p}}/cloudservers/{id}")).await;
        assert_eq!(r.status, 200, "{}", r.body);
        r.body["server"].clone()
    }

    /// A batch action on one server, waited for.
    pub async fn power(&self, id: &str, action: &str) -> Value {
        let r =
            self.post("/v1/{p}/cloudservers/action", json!({action: {"servers": [{"id": id}], "type": "SOFT"}})).await;
        assert_eq!(r.status, 200, "{}", r.body);
        self.wait_job(r.body["job_id"].as_str().unwrap()).await
    }

    /// The id of the system disk.
    pub fn boot_volume(server: &Value) -> String {
        server["os-extended-volumes:volumes_attached"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["bootIndex"] == "0")
            .map(|v| v["id"].as_str().unwrap().to_string())
            .expect("a system disk")
    }
}

impl Drop for Svc {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }
}

impl Resp {
    /// Asserts a Nova/Cinder-shaped `{"itemNotFound": {"code": <status>, "message": ...}}`.
    pub fn assert_error_nova(&self, status: u16) {
        assert_eq!(self.status, status, "body: {}", self.body);
        assert_eq!(self.body["itemNotFound"]["code"], status, "body: {}", self.body);
    }
}
