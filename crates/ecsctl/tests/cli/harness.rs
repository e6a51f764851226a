//! An ecsd started in-process on `127.0.0.1:0` (its own runtime and data directory), and the
//! `ecsctl` binary run against it with the SDK's environment variables.

use ecsd::accounts::{Account, Accounts};
use ecsd::server::{build, serve, Options};
use serde_json::Value;
use std::process::{Command, Stdio};
use std::time::Duration;

pub const PROJECT: &str = "0123456789abcdef0123456789abcdef";
pub const USER: &str = "7e25b1da389f4697a79df3a0e5bd494e";
pub const AK: &str = "HWAKEXAMPLE0000000001";
pub const SK: &str = "HWSKEXAMPLE00000000000000000000000000002";
/// How long each simulated driver action takes: long enough for the steps to be seen one by
/// one, short enough for the whole run to stay quick.
pub const STEP: Duration = Duration::from_millis(50);

pub struct Svc {
    pub endpoint: String,
    /// `https://127.0.0.1:PORT`, when started with TLS (a generated self-signed certificate).
    pub tls_endpoint: Option<String>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    // Dropped after `stop` has been sent: the runtime's threads end with it.
    rt: Option<tokio::runtime::Runtime>,
    _dir: tempfile::TempDir,
}

/// What one run of `ecsctl` did.
#[derive(Debug)]
pub struct Out {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Out {
    /// Asserts exit 0 and returns stdout.
    #[track_caller]
    pub fn ok(&self) -> &str {
        assert_eq!(self.code, 0, "{self:#?}");
        &self.stdout
    }

    /// Asserts exit 0 and parses stdout as JSON.
    #[track_caller]
    pub fn json(&self) -> Value {
        serde_json::from_str(self.ok()).unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {self:#?}"))
    }

    /// Asserts this exit code and that stderr mentions `text`.
    #[track_caller]
    pub fn fails(&self, code: i32, text: &str) {
        assert_eq!(self.code, code, "{self:#?}");
        assert!(self.stderr.contains(text), "stderr lacks {text:?}: {self:#?}");
    }
}

impl Svc {
    pub fn start() -> Svc {
        Self::start_with(false)
    }

    pub fn start_with(tls: bool) -> Svc {
        let dir = tempfile::tempdir().unwrap();
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let accounts = Accounts::from_list(vec![Account {
            ak: AK.into(),
            sk: SK.into(),
            user_id: USER.into(),
            project_id: PROJECT.into(),
            project_name: "cn-north-4".into(),
            ..Account::blank()
        }]);
        let mut opts = Options::new(dir.path().into(), accounts);
        opts.sim_step = STEP;
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let (addr, tls_addr) = rt.block_on(async {
            let app = build(opts).await.unwrap();
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let tls = if tls {
                let _ = rustls::crypto::ring::default_provider().install_default();
                let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                Some((l, ecsd::tls::server_config(dir.path(), None, None).unwrap()))
            } else {
                None
            };
            let tls_addr = tls.as_ref().map(|(l, _)| l.local_addr().unwrap());
            tokio::spawn(serve(listener, tls, Default::default(), app, async move {
                let _ = rx.await;
            }));
            (addr, tls_addr)
        });
        Svc {
            endpoint: format!("http://{addr}"),
            tls_endpoint: tls_addr.map(|a| format!("https://{a}")),
            stop: Some(tx),
            rt: Some(rt),
            _dir: dir,
        }
    }

    /// The endpoint and credentials, as the environment gives them to ecsctl.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("ECSD_ENDPOINT", self.endpoint.clone()),
            ("HUAWEICLOUD_SDK_AK", AK.into()),
            ("HUAWEICLOUD_SDK_SK", SK.into()),
            ("HUAWEICLOUD_SDK_PROJECT_ID", PROJECT.into()),
        ]
    }

    /// The command with this service's endpoint and credentials in its environment.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut c = ecsctl(args);
        c.envs(self.env());
        c
    }

    /// Runs `ecsctl ARGS` (stdout and stderr are pipes: no terminal).
    pub fn run(&self, args: &[&str]) -> Out {
        run(self.command(args))
    }

    /// An image's id, by whether it has Cloud-Init.
    pub fn image(&self, cloud_init: bool) -> String {
        let list = self.run(&["images", "list", "-o", "json"]).json();
        let want = if cloud_init { "true" } else { "false" };
        list["images"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["__is_config_init"] == want)
            .map(|i| i["id"].as_str().unwrap().to_string())
            .expect("such an image")
    }

    /// A key pair made through ecsctl.
    pub fn keypair(&self, name: &str) -> Value {
        self.run(&["keypairs", "create", name, "-o", "json"]).json()["keypair"].clone()
    }

    /// One server created and waited for; its id.
    pub fn server(&self, name: &str, image: &str, key: &str) -> String {
        let job = self
            .run(&["servers", "create", "--name", name, "--image", image, "--key-name", key, "--wait", "-o", "json"])
            .json();
        assert_eq!(job["status"], "SUCCESS", "{job}");
        job["entities"]["sub_jobs"][0]["entities"]["server_id"].as_str().unwrap().to_string()
    }

    /// `servers show -o json`'s `server`.
    pub fn show(&self, id: &str) -> Value {
        self.run(&["servers", "show", id, "-o", "json"]).json()["server"].clone()
    }
}

/// `ecsctl ARGS` without credentials, and without a proxy a machine's environment may name:
/// every request of the tests goes straight to 127.0.0.1.
pub fn ecsctl(args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_ecsctl"));
    c.args(args).env("NO_PROXY", "*").env("no_proxy", "*").stdin(Stdio::null());
    for v in ["HUAWEICLOUD_SDK_AK", "HUAWEICLOUD_SDK_SK", "HUAWEICLOUD_SDK_PROJECT_ID", "ECSD_ENDPOINT"] {
        c.env_remove(v);
    }
    c
}

pub fn run(mut c: Command) -> Out {
    let o = c.output().unwrap();
    Out {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

impl Drop for Svc {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(rt) = self.rt.take() {
            rt.shutdown_timeout(Duration::from_secs(2));
        }
    }
}
