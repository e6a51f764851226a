//! `vm`: real guests on QEMU, each timed from the request to the moment SSH takes the key; a
//! create, then a reinstall with another key, each split into its parts from the job's steps.
//!
//! It runs an ecsd of its own (`--driver qemu`, on SQLite in a directory of its own) on the
//! demo image that `ecsd image build-demo` makes from Debian packages, so it needs
//! `qemu-system-x86_64`, `ssh` and the package sources that build uses. The guests are QEMU's
//! daemonized processes, not ours: they are deleted through the API, and any a failure leaves
//! behind is killed by the pid its QEMU wrote.

use super::Bench;
use crate::conn::Conn;
use crate::ecsd_process::{self, EcsdProcess, Launch};
use crate::populate::{self, call};
use crate::report::Target;
use crate::signer::Signer;
use anyhow::{anyhow, bail, Context, Result};
use http::Method;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};
use tokio::io::AsyncReadExt;

const SCENARIO: &str = "vm";
/// The flavor of the guests (1 vCPU: under TCG a second one only adds a thread).
const FLAVOR: &str = "s6.small.1";
/// Longest wait for a job, and for a guest's SSH after its job.
const JOB_TIMEOUT: Duration = Duration::from_secs(180);
const SSH_TIMEOUT: Duration = Duration::from_secs(120);
/// The bound on both figures, request to SSH-ready.
const TARGET_S: f64 = 6.0;

/// Why the scenario cannot run here, if it cannot: the programs it starts are missing.
pub fn missing_tools() -> Option<String> {
    let missing: Vec<&str> = ["qemu-system-x86_64", "ssh"].into_iter().filter(|t| !on_path(t)).collect();
    (!missing.is_empty())
        .then(|| format!("{} not installed (scripts/install-qemu installs them)", missing.join(" and ")))
}

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH").map(|p| std::env::split_paths(&p).any(|d| d.join(program).is_file())).unwrap_or(false)
}

/// One timed operation: its total and its parts, in seconds.
struct Timed {
    total: f64,
    parts: Vec<(&'static str, f64)>,
}

/// The steps each operation's job is split by, with the names the figures get. What is left
/// (the request, the other steps, polling) is reported as "the rest".
const CREATE_PARTS: &[(&str, &str)] = &[("create_disk", "disk"), ("inject", "injection"), ("boot", "QEMU start")];
const REINSTALL_PARTS: &[(&str, &str)] =
    &[("stop_server", "stop"), ("create_disk", "disk"), ("inject", "injection"), ("boot", "QEMU start")];

pub async fn run(b: &mut Bench, rounds: usize) -> Result<()> {
    if let Some(why) = missing_tools() {
        bail!("the vm scenario needs QEMU and ssh: {why}");
    }
    let root = b.launch.data_dir.with_file_name("vm");
    // A directory of its own, emptied first: an earlier run's guests and disks must not count.
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).with_context(|| format!("cannot create {}", root.display()))?;
    let accel = std::env::var("ECSD_QEMU_ACCEL").unwrap_or_else(|_| "tcg".into());
    let data = root.join("data");
    let (image, built) = build_image(&b.launch.binary, &data).await?;
    let launch = Launch {
        binary: b.launch.binary.clone(),
        data_dir: data.clone(),
        store: None,
        store_pool: None,
        config: None,
        log: root.join("ecsd.log"),
        banner_timeout: Duration::from_secs(120),
        driver: "qemu",
        extra_args: ["--accel", &accel, "--qemu-stop-timeout-secs", "20"].map(String::from).to_vec(),
    };
    let l = launch.clone();
    let mut ecsd = tokio::task::spawn_blocking(move || EcsdProcess::start(&l)).await??;
    println!("== vm: real guests on QEMU ({accel}), demo image built in {built:.1} s");
    let r = rounds_on(&ecsd, &root, &image, rounds).await;
    if let Err(e) = ecsd.stop(Duration::from_secs(30)) {
        eprintln!("stopping the vm scenario's ecsd: {e:#}");
    }
    kill_guests(&data);
    let (creates, reinstalls) = r?;
    for (what, runs) in [("create", creates), ("reinstall", reinstalls)] {
        for t in &runs {
            let figure = format!("{what} request to SSH-ready");
            b.report.add(SCENARIO, figure, t.total, "s", Target::AtMost(TARGET_S));
            for (part, secs) in &t.parts {
                b.report.add(SCENARIO, format!("{what}: {part}"), *secs, "s", Target::None);
            }
        }
    }
    let _ = std::fs::remove_dir_all(&root);
    Ok(())
}

/// `ecsd image build-demo` into `data`: the image id and how long the build took.
async fn build_image(binary: &Path, data: &Path) -> Result<(String, f64)> {
    let started = Instant::now();
    let mut cmd = tokio::process::Command::new(binary);
    cmd.args(["image", "build-demo", "--variant", "one", "--name", "ecs-bench demo", "--data-dir"]).arg(data);
    let out = cmd.output().await.with_context(|| format!("cannot start {}", binary.display()))?;
    let text = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        bail!("ecsd image build-demo failed: {}{}", text, String::from_utf8_lossy(&out.stderr));
    }
    let id = built_image_id(&text).ok_or_else(|| anyhow!("no image id in the build's output: {text}"))?;
    Ok((id, started.elapsed().as_secs_f64()))
}

/// The id in `image <id> built in ...`.
fn built_image_id(out: &str) -> Option<String> {
    out.lines().find_map(|l| {
        let rest = l.trim().strip_prefix("image ")?;
        let (id, tail) = rest.split_once(' ')?;
        tail.starts_with("built").then(|| id.to_string())
    })
}

/// Each round: create a guest with key A, reinstall it with key B, delete it.
async fn rounds_on(ecsd: &EcsdProcess, root: &Path, image: &str, rounds: usize) -> Result<(Vec<Timed>, Vec<Timed>)> {
    let signer = Signer::new(ecsd_process::AK, ecsd_process::SK, ecsd_process::PROJECT, &ecsd.endpoint.to_string());
    let mut conn = Conn::new(ecsd.endpoint);
    let (vpc, subnet) = populate::network(&mut conn, &signer).await?;
    let user_id = ecsd.banner.get("user_id").cloned().unwrap_or_default();
    let key_a = keypair(&mut conn, &signer, root, "vm-a").await?;
    let key_b = keypair(&mut conn, &signer, root, "vm-b").await?;
    let (mut creates, mut reinstalls) = (Vec::new(), Vec::new());
    for round in 0..rounds.max(1) {
        let body = json!({"server": {
            "name": format!("vm-{round}"), "imageRef": image, "flavorRef": FLAVOR, "vpcid": vpc,
            "nics": [{"subnet_id": subnet}], "root_volume": {"volumetype": "SSD"}, "key_name": "vm-a",
        }});
        let asked = SystemTime::now();
        let v = call(&mut conn, &signer, Method::POST, "/v1/{p}/cloudservers", Some(&body)).await?;
        let job = str_field(&v, "job_id")?;
        let server = v["serverIds"][0].as_str().ok_or_else(|| anyhow!("create answered without serverIds: {v}"))?;
        let server = server.to_string();
        finished(&mut conn, &signer, &job).await?;
        let port = ssh_port(&mut conn, &signer, &server).await?;
        let ready = ssh_ready(port, &key_a).await?;
        // A create job's steps are those of its sub-job (one per server).
        let steps = events(&mut conn, &signer, &job).await?["sub_jobs"][0]["steps"].clone();
        let t = timed(asked, ready, &steps, CREATE_PARTS)?;
        print_timed("create", &t);
        creates.push(t);

        let body = json!({"os-reinstall": {"keyname": "vm-b", "userid": user_id, "mode": "withStopServer"}});
        let asked = SystemTime::now();
        let path = format!("/v1/{{p}}/cloudservers/{server}/reinstallos");
        let v = call(&mut conn, &signer, Method::POST, &path, Some(&body)).await?;
        let job = str_field(&v, "job_id")?;
        finished(&mut conn, &signer, &job).await?;
        let ready = ssh_ready(port, &key_b).await?;
        let t = timed(asked, ready, &events(&mut conn, &signer, &job).await?["steps"], REINSTALL_PARTS)?;
        print_timed("reinstall", &t);
        reinstalls.push(t);
        // The new disk took the new key only: the old one must be refused now.
        if ssh_once(port, &key_a).await? != Login::Refused {
            bail!("after the reinstall with key B, the guest does not refuse key A");
        }

        let body = json!({"servers": [{"id": server}], "delete_volume": true});
        let v = call(&mut conn, &signer, Method::POST, "/v1/{p}/cloudservers/delete", Some(&body)).await?;
        finished(&mut conn, &signer, &str_field(&v, "job_id")?).await?;
    }
    Ok((creates, reinstalls))
}

fn str_field(v: &Value, k: &str) -> Result<String> {
    v[k].as_str().map(str::to_string).ok_or_else(|| anyhow!("no {k} in {v}"))
}

/// Creates a key pair and keeps its private key in a file SSH accepts (mode 0600).
async fn keypair(conn: &mut Conn, signer: &Signer, root: &Path, name: &str) -> Result<PathBuf> {
    let v =
        call(conn, signer, Method::POST, "/v2.1/{p}/os-keypairs", Some(&json!({"keypair": {"name": name}}))).await?;
    let key = v["keypair"]["private_key"].as_str().ok_or_else(|| anyhow!("no private key in {v}"))?;
    let path = root.join(format!("{name}.key"));
    std::fs::write(&path, key)?;
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
    Ok(path)
}

/// Polls a job every 50 ms (the SSH wait starts when it ends, so a coarse poll would be
/// counted in the figure) until it succeeds.
async fn finished(conn: &mut Conn, signer: &Signer, job: &str) -> Result<()> {
    let deadline = Instant::now() + JOB_TIMEOUT;
    let path = format!("/v1/{{p}}/jobs/{job}");
    loop {
        let v = call(conn, signer, Method::GET, &path, None).await?;
        match v["status"].as_str() {
            Some("SUCCESS") => return Ok(()),
            Some("FAIL") => bail!("job {job} failed: {v}"),
            _ if Instant::now() > deadline => bail!("job {job} not finished after {JOB_TIMEOUT:?}"),
            _ => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
}

async fn events(conn: &mut Conn, signer: &Signer, job: &str) -> Result<Value> {
    call(conn, signer, Method::GET, &format!("/ecsd/v1/{{p}}/jobs/{job}/events"), None).await
}

/// The guest's forwarded SSH port, from the access line ecsd puts in the server's metadata
/// (`ssh -p PORT root@127.0.0.1`).
async fn ssh_port(conn: &mut Conn, signer: &Signer, server: &str) -> Result<u16> {
    let v = call(conn, signer, Method::GET, &format!("/v1/{{p}}/cloudservers/{server}"), None).await?;
    let access = v["server"]["metadata"]["ecsd.access"].as_str().unwrap_or_default();
    port_of(access).ok_or_else(|| anyhow!("no SSH access in the server's metadata: {}", v["server"]["metadata"]))
}

fn port_of(access: &str) -> Option<u16> {
    let mut words = access.split_whitespace();
    words.by_ref().find(|w| *w == "-p")?;
    words.next()?.parse().ok()
}

/// What one login attempt gave.
#[derive(Debug, PartialEq, Eq)]
enum Login {
    In,
    /// The server answered and refused the key.
    Refused,
    /// Anything else (the guest is not up yet, the connection was closed).
    NotYet,
}

/// Waits until the guest's SSH server takes `key`; when that happened.
///
/// QEMU's user-mode network accepts the host side of the forwarded port at once, and a SYN
/// sent to a guest that is not up yet is retried on the emulated stack's own timers (a second
/// or more). So each attempt first reads the server's banner over a fresh connection with a
/// short timeout, and only a guest that sends one gets an SSH login (ssh itself would wait on
/// those timers).
async fn ssh_ready(port: u16, key: &Path) -> Result<SystemTime> {
    let deadline = Instant::now() + SSH_TIMEOUT;
    loop {
        if banner(port).await {
            match ssh_once(port, key).await? {
                Login::In => return Ok(SystemTime::now()),
                Login::Refused => bail!("the guest on port {port} refuses the key {}", key.display()),
                Login::NotYet => {}
            }
        }
        if Instant::now() > deadline {
            bail!("no SSH login on port {port} within {SSH_TIMEOUT:?}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Whether an SSH server greets a new connection to `port` within 150 ms (a guest that is up
/// answers in a few; the timeout is how late the figure can see a guest come up).
async fn banner(port: u16) -> bool {
    let probe = async {
        let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.ok()?;
        let mut b = [0u8; 7];
        s.read_exact(&mut b).await.ok()?;
        Some(&b == b"SSH-2.0")
    };
    matches!(tokio::time::timeout(Duration::from_millis(150), probe).await, Ok(Some(true)))
}

/// One `ssh root@127.0.0.1 true` with `key` only, ignoring the caller's SSH configuration.
async fn ssh_once(port: u16, key: &Path) -> Result<Login> {
    let mut cmd = tokio::process::Command::new("ssh");
    cmd.args(["-F", "/dev/null", "-i"]).arg(key).args(["-p", &port.to_string()]);
    for o in [
        "StrictHostKeyChecking=no",
        "UserKnownHostsFile=/dev/null",
        "BatchMode=yes",
        "IdentitiesOnly=yes",
        "ConnectTimeout=5",
        "LogLevel=ERROR",
    ] {
        cmd.args(["-o", o]);
    }
    cmd.args(["root@127.0.0.1", "true"]).stdin(std::process::Stdio::null()).kill_on_drop(true);
    let out = tokio::time::timeout(Duration::from_secs(20), cmd.output())
        .await
        .map_err(|_| anyhow!("ssh to port {port} hung for 20 s"))?
        .context("cannot run ssh")?;
    Ok(if out.status.success() {
        Login::In
    } else if String::from_utf8_lossy(&out.stderr).contains("Permission denied") {
        Login::Refused
    } else {
        Login::NotYet
    })
}

/// Milliseconds since the epoch.
fn ms(t: SystemTime) -> f64 {
    t.duration_since(SystemTime::UNIX_EPOCH).map(|d| d.as_secs_f64() * 1000.0).unwrap_or(0.0)
}

/// The operation's total and parts: the named steps' durations, the boot from the end of the
/// `boot` step (QEMU started) to the login, and the rest.
fn timed(asked: SystemTime, ready: SystemTime, steps: &Value, parts: &[(&str, &'static str)]) -> Result<Timed> {
    let time = |v: &Value| -> Result<f64> {
        let s = v.as_str().unwrap_or_default();
        ecs_model::timefmt::parse_time(s).map(|m| m as f64).ok_or_else(|| anyhow!("not a job time: {v}"))
    };
    let step = |name: &str| -> Result<&Value> {
        steps
            .as_array()
            .and_then(|a| a.iter().find(|s| s["name"] == name))
            .ok_or_else(|| anyhow!("the job has no step {name}: {steps}"))
    };
    let total = (ms(ready) - ms(asked)) / 1000.0;
    let mut out = Vec::new();
    for (name, label) in parts {
        let s = step(name)?;
        out.push((*label, (time(&s["ended_at"])? - time(&s["started_at"])?) / 1000.0));
    }
    out.push(("boot to SSH", (ms(ready) - time(&step("boot")?["ended_at"])?) / 1000.0));
    // Job times are whole milliseconds: a rest a few of them below zero is rounding.
    let rest = (total - out.iter().map(|(_, s)| s).sum::<f64>()).max(0.0);
    out.push(("the rest", rest));
    Ok(Timed { total, parts: out })
}

fn print_timed(what: &str, t: &Timed) {
    let parts: Vec<String> = t.parts.iter().map(|(p, s)| format!("{p} {s:.2}")).collect();
    println!("   {what} request to SSH-ready {:.2} s ({})", t.total, parts.join(", "));
}

/// Kills the QEMU of every guest still running under `data` (a failed round's), by the pid
/// it wrote, if that pid is still a QEMU.
fn kill_guests(data: &Path) {
    let Ok(dirs) = std::fs::read_dir(data.join("qemu").join("vms")) else { return };
    for d in dirs.flatten() {
        let Ok(pid) = std::fs::read_to_string(d.path().join("qemu.pid")) else { continue };
        let Ok(pid) = pid.trim().parse::<u32>() else { continue };
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        if String::from_utf8_lossy(&cmdline).contains("qemu-system") {
            eprintln!("vm: killing a guest left running (QEMU pid {pid})");
            ecsd_process::signal(pid, libc::SIGKILL);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_image_id_and_the_ssh_port_are_read_from_what_ecsd_prints() {
        let out = "image 919e2e79-9f64-4171-aaaf-65e7fa5d580e built in 5.7 s: demo1 (10176 KiB)\n";
        assert_eq!(built_image_id(out).as_deref(), Some("919e2e79-9f64-4171-aaaf-65e7fa5d580e"));
        assert_eq!(built_image_id("image build failed\n"), None);
        assert_eq!(port_of("ssh -p 40123 root@127.0.0.1"), Some(40123));
        assert_eq!(port_of("ssh root@127.0.0.1"), None);
    }

    #[test]
    fn an_operation_is_split_into_its_steps_the_boot_and_the_rest() {
        let at = |ms: u64| SystemTime::UNIX_EPOCH + Duration::from_millis(ms);
        let t = |ms: i64| ecs_model::timefmt::job_time(ms);
        let steps = json!([
            {"name": "stop_server", "started_at": t(1_000), "ended_at": t(1_500)},
            {"name": "create_disk", "started_at": t(1_500), "ended_at": t(1_520)},
            {"name": "inject", "started_at": t(1_520), "ended_at": t(1_720)},
            {"name": "swap_disk", "started_at": t(1_720), "ended_at": t(1_730)},
            {"name": "boot", "started_at": t(1_730), "ended_at": t(1_830)},
        ]);
        let got = timed(at(900), at(5_830), &steps, REINSTALL_PARTS).unwrap();
        assert!((got.total - 4.93).abs() < 1e-9, "{}", got.total);
        let parts: Vec<(&str, i64)> = got.parts.iter().map(|(p, s)| (*p, (s * 1000.0).round() as i64)).collect();
        assert_eq!(
            parts,
            [
                ("stop", 500),
                ("disk", 20),
                ("injection", 200),
                ("QEMU start", 100),
                ("boot to SSH", 4000),
                ("the rest", 110)
            ]
        );
        assert!(timed(at(900), at(5_830), &json!([]), REINSTALL_PARTS).is_err(), "a missing step is an error");
    }
}
