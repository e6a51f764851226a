//! Running the real `ecsd` binary as a child process.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// A running `ecsd`: killed and reaped when dropped, so that a test that fails half-way does
/// not leave the process behind.
pub struct Ecsd(Child);

impl std::ops::Deref for Ecsd {
    type Target = Child;
    fn deref(&self) -> &Child {
        &self.0
    }
}

impl std::ops::DerefMut for Ecsd {
    fn deref_mut(&mut self) -> &mut Child {
        &mut self.0
    }
}

impl Drop for Ecsd {
    fn drop(&mut self) {
        // Already gone when the test killed it itself: both calls then fail harmlessly.
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `ecsd serve` on a free port with 250 ms simulated steps; returns the child and its
/// banner fields (`endpoint`, `ak`, `sk`, `project_id`, `user_id`, ...).
pub fn start(data: &Path, env: &[(&str, &str)]) -> (Ecsd, HashMap<String, String>) {
    start_with(data, env, &[])
}

/// Like [`start`], with extra command-line arguments (`--sim-step-ms`, `--config`).
pub fn start_with(data: &Path, env: &[(&str, &str)], args: &[&str]) -> (Ecsd, HashMap<String, String>) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ecsd"));
    cmd.args(["serve", "--listen", "127.0.0.1:0", "--listen-tls", "127.0.0.1:0", "--data-dir"])
        .arg(data)
        .args(args)
        .env("ECSD_SIM_STEP_MS", "250")
        .env_remove("HUAWEICLOUD_SDK_AK")
        .env_remove("HUAWEICLOUD_SDK_SK")
        .env_remove("HUAWEICLOUD_SDK_PROJECT_ID")
        .env_remove("ECSD_CONFIG")
        .stdout(Stdio::piped())
        .stderr(stderr_log(data));
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = Ecsd(cmd.spawn().expect("ecsd starts"));
    let out = child.stdout.take().expect("stdout is piped");
    let mut banner = HashMap::new();
    let mut lines = BufReader::new(out).lines();
    for line in lines.by_ref() {
        let line = line.expect("banner line");
        if let Some((k, v)) = line.trim().split_once(':') {
            banner.insert(k.trim().to_string(), v.trim().to_string());
        }
        if line.trim().starts_with("data dir:") {
            break;
        }
    }
    assert!(banner.contains_key("endpoint"), "banner: {banner:?}");
    // Keep draining stdout so the child never writes into a closed pipe.
    std::thread::spawn(move || lines.for_each(drop));
    (child, banner)
}

/// SIGKILL, and reap.
pub fn kill(child: &mut Child) {
    child.kill().expect("kill");
    child.wait().expect("wait");
}

/// The child's log, appended next to its data directory (kept for a failed test to show).
fn stderr_log(data: &Path) -> Stdio {
    let path = data.with_extension("log");
    match std::fs::OpenOptions::new().create(true).append(true).open(path) {
        Ok(f) => Stdio::from(f),
        Err(_) => Stdio::null(),
    }
}
