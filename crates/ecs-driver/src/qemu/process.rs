//! Host processes: running tools with readable errors, watching the daemons we start, free ports.

use std::ffi::OsStr;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::Duration;
use tokio::process::Command;

/// Where a host tool lives: `PATH` first, then the sbin directories (`debugfs` and `mkfs.ext4`
/// live in `/usr/sbin`, which is not on an ordinary user's `PATH`).
pub fn find_tool(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/sbin", "/usr/bin", "/bin"].into_iter().map(PathBuf::from))
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

/// A command for a host tool, found with [`find_tool`] (or by bare name, so that a missing tool
/// fails with a "not installed" message from [`output`]).
pub fn tool(name: &str) -> Command {
    let mut cmd = Command::new(find_tool(name).unwrap_or_else(|| PathBuf::from(name)));
    cmd.stdin(Stdio::null()).kill_on_drop(true);
    cmd
}

/// The last part of a tool's stderr (or stdout), enough to tell a person what went wrong.
pub fn tail(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let text = text.trim();
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let start = lines.len().saturating_sub(6);
    let joined = lines[start..].join(" | ");
    if joined.len() > 800 {
        let mut cut = joined.len() - 800;
        while !joined.is_char_boundary(cut) {
            cut += 1;
        }
        format!("...{}", &joined[cut..])
    } else {
        joined
    }
}

fn program_name(cmd: &Command) -> String {
    let p = cmd.as_std().get_program();
    Path::new(p).file_name().unwrap_or(OsStr::new("?")).to_string_lossy().to_string()
}

/// Runs a command to completion with a time limit, whatever its exit status.
pub async fn output(cmd: &mut Command, what: &str, limit: Duration) -> Result<Output, String> {
    let program = program_name(cmd);
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    match tokio::time::timeout(limit, cmd.output()).await {
        Err(_) => Err(format!("{what}: {program} did not finish within {} s", limit.as_secs())),
        Ok(Ok(out)) => Ok(out),
        Ok(Err(e)) if e.kind() == std::io::ErrorKind::NotFound => {
            Err(format!("{what}: {program} is not installed ({})", package_hint(&program)))
        }
        Ok(Err(e)) => Err(format!("{what}: cannot run {program}: {e}")),
    }
}

/// Runs a command to completion; a non-zero exit is an error quoting the tool's stderr.
pub async fn run(cmd: &mut Command, what: &str, limit: Duration) -> Result<Output, String> {
    let program = program_name(cmd);
    let out = output(cmd, what, limit).await?;
    if !out.status.success() {
        let msg = if out.stderr.is_empty() { tail(&out.stdout) } else { tail(&out.stderr) };
        return Err(format!("{what}: {program} failed ({}): {msg}", out.status));
    }
    Ok(out)
}

/// The Debian package that provides a tool, for error messages.
pub fn package_hint(program: &str) -> String {
    let pkg = match program {
        "qemu-system-x86_64" => "qemu-system-x86",
        "qemu-img" | "qemu-storage-daemon" => "qemu-utils",
        "debugfs" | "mkfs.ext4" | "e2fsck" => "e2fsprogs",
        "genisoimage" => "genisoimage",
        "fusermount3" => "fuse3",
        "apt-get" | "apt-cache" => "apt",
        "dpkg-deb" => "dpkg",
        "ssh" | "ssh-keygen" => "openssh-client",
        _ => return "see scripts/install-qemu".to_string(),
    };
    format!("apt-get install {pkg}, or run scripts/install-qemu")
}

/// Reads a pid file written by QEMU or qemu-storage-daemon.
pub fn read_pid_file(path: &Path) -> Option<i32> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok().filter(|p| *p > 0)
}

/// Whether a process exists and is not a zombie. Daemonized QEMU is re-parented to init, which
/// may reap it late; a zombie has already exited and must count as gone.
pub fn pid_alive(pid: i32) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { return false };
    // The command name is in parentheses and may itself contain ") ", so look after the last one.
    match stat.rfind(')').and_then(|i| stat[i + 1..].split_whitespace().next()) {
        Some(state) => state != "Z" && state != "X",
        None => false,
    }
}

/// Whether a live process's command line mentions `needle` (one of the paths we gave it). A pid
/// file can outlive its process and the pid be reused; this tells ours from a stranger.
pub fn pid_is_ours(pid: i32, needle: &Path) -> bool {
    if !pid_alive(pid) {
        return false;
    }
    let Ok(cmdline) = std::fs::read(format!("/proc/{pid}/cmdline")) else { return false };
    let needle = needle.as_os_str().as_encoded_bytes();
    cmdline.split(|b| *b == 0).any(|arg| arg.windows(needle.len()).any(|w| w == needle))
}

/// The pid in `pid_file` if that process is alive and was started with `needle` on its command line.
pub fn live_pid(pid_file: &Path, needle: &Path) -> Option<i32> {
    read_pid_file(pid_file).filter(|pid| pid_is_ours(*pid, needle))
}

/// Sends a signal to one process (by pid, never a group).
pub fn signal(pid: i32, sig: i32) {
    if pid > 0 {
        // SAFETY: kill(2) takes plain integers and touches no memory of ours.
        unsafe {
            libc::kill(pid, sig);
        }
    }
}

/// Waits until a process is gone; false if it is still there after `limit`.
pub async fn wait_gone(pid: i32, limit: Duration) -> bool {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        if !pid_alive(pid) {
            return true;
        }
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// SIGTERM, then SIGKILL if the process lingers; true once it is gone.
pub async fn terminate(pid: i32, grace: Duration) -> bool {
    signal(pid, libc::SIGTERM);
    if wait_gone(pid, grace).await {
        return true;
    }
    signal(pid, libc::SIGKILL);
    wait_gone(pid, Duration::from_secs(5)).await
}

/// Whether a loopback TCP port can be bound right now.
pub fn port_free(port: u16) -> bool {
    port != 0 && TcpListener::bind(("127.0.0.1", port)).is_ok()
}

/// A loopback port that is free now and not in `taken` (ports recorded for other VMs, which may
/// be stopped but keep their port for their next start).
pub fn free_port(taken: &[u16]) -> Result<u16, String> {
    for _ in 0..64 {
        let listener = TcpListener::bind(("127.0.0.1", 0)).map_err(|e| format!("cannot find a free port: {e}"))?;
        let port = listener.local_addr().map_err(|e| format!("cannot find a free port: {e}"))?.port();
        if !taken.contains(&port) {
            return Ok(port);
        }
    }
    Err("cannot find a free loopback port".to_string())
}

/// Unix socket paths are limited to 107 bytes; say so instead of failing obscurely.
pub fn check_socket_path(path: &Path) -> Result<(), String> {
    if path.as_os_str().len() > 107 {
        return Err(format!(
            "socket path {} is longer than the 107 bytes a unix socket allows; use a shorter state directory",
            path.display()
        ));
    }
    Ok(())
}

/// Removes a file, ignoring "already gone".
pub fn remove_file_quiet(path: &Path) -> Result<(), String> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(format!("cannot remove {}: {e}", path.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_alive_and_ours() {
        let me = std::process::id() as i32;
        assert!(pid_alive(me));
        assert!(!pid_alive(i32::MAX));
        let exe = std::env::current_exe().unwrap();
        assert!(pid_is_ours(me, &exe));
        assert!(!pid_is_ours(me, Path::new("/definitely/not/in/the/cmdline")));
    }

    #[test]
    fn tail_keeps_the_last_lines() {
        let text = (1..=10).map(|i| format!("line {i}")).collect::<Vec<_>>().join("\n");
        assert_eq!(tail(text.as_bytes()), "line 5 | line 6 | line 7 | line 8 | line 9 | line 10");
    }

    #[test]
    fn free_ports_avoid_taken_ones() {
        let p = free_port(&[]).unwrap();
        assert!(p > 0);
        assert!(check_socket_path(Path::new(&"x".repeat(108))).is_err());
    }
}
