//! The ecsd child process: start it, read its banner, measure its memory, stop it by its PID.

use anyhow::{anyhow, bail, Context, Result};
use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The credential the bench serves and signs with (passed to ecsd through the variables the
/// official SDKs read).
pub const AK: &str = "BENCHAK0000000000001";
pub const SK: &str = "bench-secret-key-000000000000000000000000";
pub const PROJECT: &str = "0123456789abcdef0123456789abcdef";

/// How to start ecsd.
#[derive(Debug, Clone)]
pub struct Launch {
    pub binary: PathBuf,
    pub data_dir: PathBuf,
    /// `--store`: a PostgreSQL URL, or `None` for SQLite in the data directory.
    pub store: Option<String>,
    /// `ECSD_STORE_POOL`: PostgreSQL connections of ecsd's pool (ecsd's default when `None`).
    pub store_pool: Option<usize>,
    /// Extra accounts (`--config`), for datasets larger than one project's subnet holds.
    pub config: Option<PathBuf>,
    /// Where ecsd's stderr (its log) goes.
    pub log: PathBuf,
    /// How long to wait for the banner (a large database takes a while to open).
    pub banner_timeout: Duration,
    /// `ECSD_DRIVER`: `sim` for every scenario but `vm`, which runs real guests on `qemu`.
    pub driver: &'static str,
    /// Further arguments of `ecsd serve` (the `vm` scenario's QEMU settings).
    pub extra_args: Vec<String>,
}

/// A running ecsd.
pub struct EcsdProcess {
    child: Option<Child>,
    pub endpoint: SocketAddr,
    /// Every `key: value` line of the banner (`endpoint`, `project_id`, `user_id`, ...).
    pub banner: HashMap<String, String>,
    /// When the process was spawned, and how long until its banner was read.
    pub spawned: Instant,
    pub time_to_banner: Duration,
    log: PathBuf,
}

/// One `  key:   value` line of the banner.
pub fn banner_field(line: &str) -> Option<(String, String)> {
    let (k, v) = line.trim().split_once(':')?;
    let k = k.trim();
    // Banner keys are short lower-case words; this skips the Python example below the banner.
    if k.is_empty() || k.len() > 20 || !k.chars().all(|c| c.is_ascii_lowercase() || c == '_' || c == ' ') {
        return None;
    }
    Some((k.to_string(), v.trim().to_string()))
}

/// The listening address from `  endpoint:   http://127.0.0.1:PORT`.
pub fn parse_endpoint(line: &str) -> Option<SocketAddr> {
    let (k, v) = banner_field(line)?;
    if k != "endpoint" {
        return None;
    }
    v.strip_prefix("http://")?.trim_end_matches('/').parse().ok()
}

/// `VmRSS` in KiB from the text of `/proc/PID/status`.
pub fn parse_vm_rss_kib(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let mut parts = line["VmRSS:".len()..].split_whitespace();
    let n: u64 = parts.next()?.parse().ok()?;
    match parts.next() {
        Some("kB") | None => Some(n),
        Some(_) => None,
    }
}

impl EcsdProcess {
    /// Spawns `ecsd serve` on a free port and waits for its banner.
    pub fn start(l: &Launch) -> Result<EcsdProcess> {
        if !l.binary.is_file() {
            bail!(
                "ecsd binary not found at {} (build it with `cargo build --release -p ecsd`, or pass --ecsd)",
                l.binary.display()
            );
        }
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&l.log)
            .with_context(|| format!("cannot open {}", l.log.display()))?;
        let mut cmd = Command::new(&l.binary);
        cmd.args(["serve", "--listen", "127.0.0.1:0", "--sim-step-ms", "0", "--data-dir"])
            .arg(&l.data_dir)
            .env("HUAWEICLOUD_SDK_AK", AK)
            .env("HUAWEICLOUD_SDK_SK", SK)
            .env("HUAWEICLOUD_SDK_PROJECT_ID", PROJECT)
            // The measured service is the plain HTTP one on the simulated driver (unless told
            // otherwise), without a rate limit. These are set through the environment, which a
            // version of ecsd without the option ignores (an unknown flag would stop it). The
            // HTTPS listener is off so that its fixed default port cannot collide with another
            // ecsd.
            .env("ECSD_DRIVER", l.driver)
            .env("ECSD_RATE_LIMIT", "0")
            .env("ECSD_LISTEN_TLS", "off")
            // A stray config in the caller's shell must not add accounts or faults.
            .env_remove("ECSD_CONFIG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log));
        if let Some(c) = &l.config {
            cmd.arg("--config").arg(c);
        }
        cmd.args(&l.extra_args);
        // Through the environment too, and removed when SQLite is measured: a stray
        // `ECSD_STORE` in the caller's shell must not move the records elsewhere.
        match &l.store {
            Some(url) => cmd.env("ECSD_STORE", url),
            None => cmd.env_remove("ECSD_STORE"),
        };
        if let Some(n) = l.store_pool {
            cmd.env("ECSD_STORE_POOL", n.to_string());
        }
        let spawned = Instant::now();
        let mut child = cmd.spawn().with_context(|| format!("cannot start {}", l.binary.display()))?;
        let out = child.stdout.take().ok_or_else(|| anyhow!("ecsd stdout is not piped"))?;

        // A thread reads the banner and then keeps draining stdout for the child's lifetime, so
        // ecsd never blocks on (or dies of) a full or closed pipe.
        let (tx, rx) = mpsc::channel::<String>();
        std::thread::Builder::new()
            .name("ecsd-stdout".into())
            .spawn(move || {
                for line in BufReader::new(out).lines() {
                    let Ok(line) = line else { break };
                    // Once the receiver is gone (banner read) the rest is discarded.
                    let _ = tx.send(line);
                }
            })
            .context("cannot start the stdout reader")?;

        let mut proc = EcsdProcess {
            child: Some(child),
            endpoint: SocketAddr::from(([127, 0, 0, 1], 0)),
            banner: HashMap::new(),
            spawned,
            time_to_banner: Duration::ZERO,
            log: l.log.clone(),
        };
        let deadline = spawned + l.banner_timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) => {
                    if let Some(addr) = parse_endpoint(&line) {
                        proc.endpoint = addr;
                    }
                    if let Some((k, v)) = banner_field(&line) {
                        let last = k == "data dir";
                        proc.banner.insert(k, v);
                        if last {
                            break;
                        }
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    bail!("ecsd printed no banner within {:?}{}", l.banner_timeout, proc.log_tail())
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => bail!("ecsd exited during start-up{}", proc.log_tail()),
            }
        }
        proc.time_to_banner = spawned.elapsed();
        if proc.endpoint.port() == 0 {
            bail!("ecsd's banner has no endpoint line: {:?}", proc.banner);
        }
        if !proc.endpoint.ip().is_loopback() {
            bail!("ecsd listens on {}, not on the loopback address", proc.endpoint);
        }
        Ok(proc)
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Resident memory in MiB, from `/proc/PID/status`.
    pub fn rss_mib(&self) -> Result<f64> {
        let pid = self.pid().ok_or_else(|| anyhow!("ecsd is not running"))?;
        let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
            .with_context(|| format!("cannot read /proc/{pid}/status"))?;
        let kib = parse_vm_rss_kib(&status).ok_or_else(|| anyhow!("no VmRSS in /proc/{pid}/status"))?;
        Ok(kib as f64 / 1024.0)
    }

    /// Asks ecsd to shut down (SIGTERM: graceful, the database is closed cleanly) and waits;
    /// SIGKILL after `grace`.
    pub fn stop(&mut self, grace: Duration) -> Result<()> {
        let Some(mut child) = self.child.take() else { return Ok(()) };
        if child.try_wait()?.is_some() {
            return Ok(());
        }
        signal(child.id(), libc::SIGTERM);
        let deadline = Instant::now() + grace;
        while Instant::now() < deadline {
            if child.try_wait()?.is_some() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        eprintln!("ecsd (pid {}) did not stop within {grace:?}; killing it", child.id());
        child.kill()?;
        child.wait()?;
        Ok(())
    }

    fn log_tail(&self) -> String {
        tail_of(&self.log)
    }
}

/// The last lines of ecsd's log, for an error message.
fn tail_of(path: &Path) -> String {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let lines: Vec<&str> = text.lines().collect();
            let from = lines.len().saturating_sub(15);
            format!("; its log ({}) ends with:\n{}", path.display(), lines[from..].join("\n"))
        }
        Err(_) => String::new(),
    }
}

/// Sends `sig` to our own child `pid`.
pub fn signal(pid: u32, sig: libc::c_int) {
    let Ok(pid) = libc::pid_t::try_from(pid) else { return };
    // SAFETY: kill(2) takes plain integers and has no memory-safety preconditions; the pid is
    // that of a child we have not reaped yet, so it cannot have been reused by another process.
    unsafe {
        libc::kill(pid, sig);
    }
}

impl Drop for EcsdProcess {
    /// On an error, a panic or ctrl-c the process is killed outright: nothing is kept anyway.
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BANNER: &str = "ecsd 0.1.0 serving the Huawei Cloud ECS API
  endpoint:   http://127.0.0.1:40123
  project_id: 0123456789abcdef0123456789abcdef
  user_id:    7e25b1da389f4697a79df3a0e5bd494e
  ak:         BENCHAK0000000000001
  sk:         bench-secret
  driver:     Sim (0 ms per step)
  data dir:   /tmp/x

Python SDK:
  client = (EcsClient.new_builder()
            .with_credentials(BasicCredentials(\"AK\", \"<sk>\", \"P\"))
            .with_endpoints([\"http://127.0.0.1:40123\"]).build())
";

    #[test]
    fn finds_the_endpoint_line_only() {
        let found: Vec<SocketAddr> = BANNER.lines().filter_map(parse_endpoint).collect();
        assert_eq!(found, vec!["127.0.0.1:40123".parse::<SocketAddr>().unwrap()]);
        assert_eq!(parse_endpoint("  endpoint:   http://127.0.0.1:8080/"), Some("127.0.0.1:8080".parse().unwrap()));
        assert_eq!(parse_endpoint("  endpoint:   https://127.0.0.1:8080"), None);
        assert_eq!(parse_endpoint("  endpoint:   http://localhost"), None);
    }

    #[test]
    fn reads_every_banner_field_and_skips_the_example() {
        let fields: HashMap<String, String> = BANNER.lines().filter_map(banner_field).collect();
        assert_eq!(fields["project_id"], "0123456789abcdef0123456789abcdef");
        assert_eq!(fields["user_id"], "7e25b1da389f4697a79df3a0e5bd494e");
        assert_eq!(fields["data dir"], "/tmp/x");
        assert_eq!(fields["driver"], "Sim (0 ms per step)");
        assert!(!fields.contains_key("client = (EcsClient.new_builder()"));
        assert!(!fields.keys().any(|k| k.contains("Python")));
    }

    #[test]
    fn vm_rss_from_proc_status() {
        let status = "Name:\tecsd\nVmPeak:\t  123456 kB\nVmRSS:\t   45678 kB\nThreads:\t4\n";
        assert_eq!(parse_vm_rss_kib(status), Some(45678));
        assert_eq!(parse_vm_rss_kib("Name:\tx\n"), None);
        assert_eq!(parse_vm_rss_kib("VmRSS:\t 12 MB\n"), None);
    }
}
