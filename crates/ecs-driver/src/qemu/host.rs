//! The host check and the accelerator choice.
//!
//! `/dev/kvm` existing proves nothing: in a nested VM without vmx/svm it opens and answers
//! `KVM_GET_API_VERSION`, then `-cpu host` aborts on an MSR, and other CPU models die minutes
//! later with an emulation failure. So `auto` runs a real guest instruction stream under KVM
//! with the CPU model the driver would use, and falls back to TCG unless it completes.

use super::process::{find_tool, package_hint, tail};
use super::seed::seed_tool;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::str::FromStr;
use std::time::{Duration, Instant};

/// Which accelerator runs the guests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Accel {
    /// Software emulation: works everywhere, several times slower.
    Tcg,
    /// Hardware virtualization, trusted without a probe (the operator said so).
    Kvm,
    /// KVM if a short probe proves it works, else TCG.
    #[default]
    Auto,
}

impl FromStr for Accel {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "tcg" => Ok(Accel::Tcg),
            "kvm" => Ok(Accel::Kvm),
            "auto" => Ok(Accel::Auto),
            _ => Err(format!("accelerator must be tcg, kvm or auto, not {s:?}")),
        }
    }
}

impl fmt::Display for Accel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Accel::Tcg => "tcg",
            Accel::Kvm => "kvm",
            Accel::Auto => "auto",
        })
    }
}

impl Accel {
    /// QEMU arguments selecting this accelerator and a CPU model that suits it.
    pub(crate) fn qemu_args(self) -> [&'static str; 4] {
        match self {
            Accel::Kvm => ["-accel", "kvm", "-cpu", "host"],
            // `max` gives guests built for x86-64-v2/v3 the instructions they expect.
            Accel::Tcg | Accel::Auto => ["-accel", "tcg", "-cpu", "max"],
        }
    }
}

/// What the host offers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HostInfo {
    /// First line of `qemu-system-x86_64 --version`.
    pub qemu_version: String,
    /// The accelerator guests will use (`tcg` or `kvm`, never `auto`).
    pub accel: Accel,
    /// Why that accelerator (for example the KVM probe's failure).
    pub accel_reason: String,
    /// The ISO tool for Cloud-Init seeds, if installed (only Cloud-Init images need one).
    pub seed_tool: Option<String>,
}

fn version_of(tool: &str) -> Result<String, String> {
    let Some(path) = find_tool(tool) else {
        return Err(format!("{tool} is not installed: {}", package_hint(tool)));
    };
    let out = Command::new(&path)
        .arg("--version")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("{tool} cannot run: {e}"))?;
    if !out.status.success() {
        return Err(format!("{tool} is installed but broken ({}): {}", out.status, tail(&out.stderr)));
    }
    Ok(String::from_utf8_lossy(&out.stdout).lines().next().unwrap_or_default().to_string())
}

/// Checks the host for everything the driver needs, with `auto` acceleration.
pub fn check_host() -> Result<HostInfo, String> {
    check_host_for(Accel::Auto)
}

/// Checks the host for everything the driver needs; every missing piece is named with the
/// Debian package that provides it. Blocking (runs QEMU for up to ~10 s for the KVM probe):
/// call it before serving, or from `spawn_blocking`.
pub fn check_host_for(accel: Accel) -> Result<HostInfo, String> {
    check_host_with(accel, None)
}

/// As [`check_host_for`]; `auto` also boots `kernel` under KVM when one is given (see
/// [`probe_kernel`]), for up to 30 s more.
pub fn check_host_with(accel: Accel, kernel: Option<&Path>) -> Result<HostInfo, String> {
    let mut problems = Vec::new();
    let mut qemu_version = String::new();
    for tool in ["qemu-system-x86_64", "qemu-img", "qemu-storage-daemon", "debugfs", "e2fsck"] {
        let checked = if tool.starts_with("qemu") {
            version_of(tool)
        } else {
            find_tool(tool)
                .map(|_| String::new())
                .ok_or_else(|| format!("{tool} is not installed: {}", package_hint(tool)))
        };
        match checked {
            Ok(v) if tool == "qemu-system-x86_64" => qemu_version = v,
            Ok(_) => {}
            Err(e) => problems.push(e),
        }
    }
    match std::fs::OpenOptions::new().read(true).write(true).open("/dev/fuse") {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            problems.push("/dev/fuse is missing: load the fuse kernel module (modprobe fuse)".to_string())
        }
        Err(e) => problems.push(format!("/dev/fuse cannot be opened ({e}): run as root or give access to /dev/fuse")),
    }
    if !problems.is_empty() {
        return Err(problems.join("; "));
    }
    let (accel, accel_reason) = resolve_accel_with(accel, kernel)?;
    Ok(HostInfo { qemu_version, accel, accel_reason, seed_tool: seed_tool() })
}

/// Turns the configured accelerator into the one to use. Blocking (runs the KVM probe).
pub fn resolve_accel(accel: Accel) -> Result<(Accel, String), String> {
    resolve_accel_with(accel, None)
}

/// As [`resolve_accel`], booting `kernel` under KVM too when `auto` has one to boot.
pub fn resolve_accel_with(accel: Accel, kernel: Option<&Path>) -> Result<(Accel, String), String> {
    match accel {
        Accel::Tcg => Ok((Accel::Tcg, "configured".into())),
        Accel::Kvm => {
            if Path::new("/dev/kvm").exists() {
                Ok((Accel::Kvm, "configured".into()))
            } else {
                Err("accelerator kvm is configured but /dev/kvm does not exist".into())
            }
        }
        Accel::Auto => match kvm_probe().and_then(|t| Ok((t, kernel.map(kvm_kernel_probe).transpose()?))) {
            Ok((t, None)) => Ok((Accel::Kvm, format!("KVM probe ran a guest in {} ms", t.as_millis()))),
            Ok((t, Some(k))) => Ok((
                Accel::Kvm,
                format!(
                    "KVM probe ran a guest in {} ms and booted a Linux kernel in {} ms",
                    t.as_millis(),
                    k.as_millis()
                ),
            )),
            Err(e) => Ok((Accel::Tcg, format!("KVM unusable ({e}); using TCG"))),
        },
    }
}

/// A boot sector that writes 0x21 to the isa-debug-exit port, making QEMU exit with status
/// (0x21 << 1) | 1 = 67: proof that the guest really executed under the accelerator.
fn probe_sector() -> [u8; 512] {
    let mut s = [0u8; 512];
    // mov al, 0x21; out 0xf4, al; hlt; jmp $-1
    s[..7].copy_from_slice(&[0xB0, 0x21, 0xE6, 0xF4, 0xF4, 0xEB, 0xFD]);
    s[510] = 0x55;
    s[511] = 0xAA;
    s
}

/// Runs the probe guest under KVM with `-cpu host` (what KVM guests get).
fn kvm_probe() -> Result<Duration, String> {
    if !Path::new("/dev/kvm").exists() {
        return Err("/dev/kvm does not exist".into());
    }
    let qemu = find_tool("qemu-system-x86_64").ok_or("qemu-system-x86_64 is not installed")?;
    let dir = tempfile::tempdir().map_err(|e| format!("cannot create a temporary directory: {e}"))?;
    let img = dir.path().join("probe.img");
    std::fs::write(&img, probe_sector()).map_err(|e| format!("cannot write the probe: {e}"))?;
    let started = Instant::now();
    let mut child = Command::new(qemu)
        .args(["-accel", "kvm", "-cpu", "host", "-machine", "pc", "-m", "16", "-display", "none"])
        .args(["-nodefaults", "-no-reboot", "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04", "-drive"])
        .arg(format!("file={},format=raw,if=ide", img.to_string_lossy().replace(',', ",,")))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start QEMU: {e}"))?;
    let limit = Duration::from_secs(10);
    let Some(status) =
        wait_bounded(&mut child, started, limit).map_err(|e| format!("cannot wait for the probe: {e}"))?
    else {
        return Err(format!("probe guest did not finish within {} s", limit.as_secs()));
    };
    let mut err = String::new();
    if let Some(mut s) = child.stderr.take() {
        let _ = std::io::Read::read_to_string(&mut s, &mut err);
    }
    if status.code() == Some(67) {
        Ok(started.elapsed())
    } else {
        Err(format!("probe guest failed ({status}): {}", tail(err.as_bytes())))
    }
}

/// Waits for a probe's QEMU to exit, until `limit` after `started`; kills it past that
/// (`None`).
fn wait_bounded(
    child: &mut std::process::Child,
    started: Instant,
    limit: Duration,
) -> std::io::Result<Option<std::process::ExitStatus>> {
    loop {
        match child.try_wait()? {
            Some(status) => return Ok(Some(status)),
            None if started.elapsed() < limit => std::thread::sleep(Duration::from_millis(20)),
            None => {
                let _ = child.kill();
                let _ = child.wait();
                return Ok(None);
            }
        }
    }
}

/// A Linux kernel the KVM probe can boot: one of the images' own (`{images}/{id}/vmlinuz-*`,
/// which the demo images carry), the last by name. `None` when there is none yet.
pub fn probe_kernel(images: &Path) -> Option<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(images)
        .ok()?
        .flatten()
        .filter_map(|d| std::fs::read_dir(d.path()).ok())
        .flat_map(|files| files.flatten().map(|f| f.path()))
        .filter(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with("vmlinuz-")))
        .collect();
    found.sort();
    found.pop()
}

/// Boots `kernel` under KVM with the machine and CPU the guests get, and no root disk: a
/// kernel that works panics on the missing root within a second or two, and `-no-reboot`
/// ends QEMU. Some nested hosts run the boot-sector probe (even in long mode) and still hang
/// every Linux guest in its decompressor; this catches them, where the kernel never gets to
/// its panic.
fn kvm_kernel_probe(kernel: &Path) -> Result<Duration, String> {
    let qemu = find_tool("qemu-system-x86_64").ok_or("qemu-system-x86_64 is not installed")?;
    let dir = tempfile::tempdir().map_err(|e| format!("cannot create a temporary directory: {e}"))?;
    let serial = dir.path().join("serial.log");
    let started = Instant::now();
    let mut child = Command::new(qemu)
        .args(["-accel", "kvm", "-cpu", "host", "-machine", "q35", "-m", "128", "-display", "none"])
        .args(["-nodefaults", "-no-reboot", "-serial"])
        .arg(format!("file:{}", serial.to_string_lossy()))
        .arg("-kernel")
        .arg(kernel)
        .args(["-append", "console=ttyS0 panic=-1 quiet"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start QEMU: {e}"))?;
    let limit = Duration::from_secs(30);
    if wait_bounded(&mut child, started, limit).map_err(|e| format!("cannot wait for the kernel probe: {e}"))?.is_none()
    {
        return Err(format!(
            "a Linux kernel did not boot under KVM within {} s ({} hangs), though the boot-sector probe ran",
            limit.as_secs(),
            kernel.file_name().map(|n| n.to_string_lossy()).unwrap_or_default()
        ));
    }
    let log = std::fs::read(&serial).unwrap_or_default();
    if String::from_utf8_lossy(&log).contains("Kernel panic") {
        Ok(started.elapsed())
    } else {
        Err(format!("the kernel probe ended without booting: {}", tail(&log)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_probe_kernel_is_one_of_the_images_own() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(probe_kernel(&dir.path().join("none")), None);
        assert_eq!(probe_kernel(dir.path()), None);
        for (image, file) in
            [("a", "disk.qcow2"), ("a", "vmlinuz-6.1.0-40-cloud-amd64"), ("b", "vmlinuz-6.1.0-57-cloud-amd64")]
        {
            std::fs::create_dir_all(dir.path().join(image)).unwrap();
            std::fs::write(dir.path().join(image).join(file), b"").unwrap();
        }
        let got = probe_kernel(dir.path()).unwrap();
        assert_eq!(got, dir.path().join("b").join("vmlinuz-6.1.0-57-cloud-amd64"));
    }

    #[test]
    fn accelerators_parse_and_print() {
        for a in [Accel::Tcg, Accel::Kvm, Accel::Auto] {
            assert_eq!(a.to_string().parse::<Accel>().unwrap(), a);
        }
        assert!("xen".parse::<Accel>().is_err());
        assert_eq!(resolve_accel(Accel::Tcg).unwrap().0, Accel::Tcg);
        let s = probe_sector();
        assert_eq!((s[0], s[510], s[511]), (0xB0, 0x55, 0xAA));
    }
}
