//! Running the real `ecsd` binary as a child process.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};

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
    match try_start_with(data, env, args) {
        Ok(started) => started,
        Err((status, log)) => panic!("ecsd exited during start-up ({status}): {log}"),
    }
}

/// Starts `ecsd serve` like [`start`]; if it exits before its banner instead (it refused to
/// start), its exit status and what it wrote to stderr.
pub fn try_start(data: &Path, env: &[(&str, &str)]) -> Result<(Ecsd, HashMap<String, String>), (ExitStatus, String)> {
    try_start_with(data, env, &[])
}

fn try_start_with(
    data: &Path,
    env: &[(&str, &str)],
    args: &[&str],
) -> Result<(Ecsd, HashMap<String, String>), (ExitStatus, String)> {
    let log = data.with_extension("log");
    let log_start = std::fs::metadata(&log).map(|m| m.len()).unwrap_or(0);
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
    // A test that names its store (`--store`, `ECSD_STORE`) keeps it; the others run on the
    // store of the run, the database belonging to `data` on PostgreSQL.
    let names_store = args.contains(&"--store") || env.iter().any(|(k, _)| *k == "ECSD_STORE");
    if !names_store {
        match crate::store::database_for(data) {
            Some(url) => cmd.env("ECSD_STORE", url),
            None => cmd.env_remove("ECSD_STORE"),
        };
    }
    let mut child = Ecsd(cmd.spawn().expect("ecsd starts"));
    let out = child.stdout.take().expect("stdout is piped");
    let mut banner = HashMap::new();
    let mut lines = BufReader::new(out).lines();
    // Ends at the banner's last line, or when stdout closes: the process has exited.
    for line in lines.by_ref() {
        let line = line.expect("banner line");
        if let Some((k, v)) = line.trim().split_once(':') {
            banner.insert(k.trim().to_string(), v.trim().to_string());
        }
        if line.trim().starts_with("data dir:") {
            break;
        }
    }
    if !banner.contains_key("endpoint") {
        let status = child.wait().expect("wait");
        let text = std::fs::read(&log).unwrap_or_default();
        let stderr = String::from_utf8_lossy(text.get(log_start as usize..).unwrap_or_default()).into_owned();
        return Err((status, stderr));
    }
    // Keep draining stdout so the child never writes into a closed pipe.
    std::thread::spawn(move || lines.for_each(drop));
    Ok((child, banner))
}

/// Runs `ecsd check --data-dir DATA`; its exit code, stdout and stderr.
pub fn check(data: &Path) -> (Option<i32>, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_ecsd"))
        .args(["check", "--data-dir"])
        .arg(data)
        .env_remove("ECSD_DATA_DIR")
        .output()
        .expect("ecsd check runs");
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (out.status.code(), text(&out.stdout), text(&out.stderr))
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
