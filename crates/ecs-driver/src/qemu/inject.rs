//! Offline injection of login data into a system disk: no mount, no guest agent, no libguestfs.
//!
//! The qcow2 overlay is exported as a raw file through a qemu-storage-daemon FUSE export, the
//! root ext filesystem is located with our own partition parser, and `debugfs -w` writes root's
//! `authorized_keys` (and optionally the root line of `/etc/shadow`, and `/etc/hostname`).
//! debugfs exits 0 even when a command fails, so every file is read back and its mode checked
//! before the injection counts as done. The export is then detached cleanly over QMP so the
//! overlay's metadata is flushed before the daemon stops.

use super::partition::{self, ExtFs};
use super::process::{self, tool};
use super::qmp::Qmp;
use crate::Injection;
use serde_json::json;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Time limit for one debugfs or e2fsck run (they only touch metadata and a few small files).
const TOOL_LIMIT: Duration = Duration::from_secs(120);

/// A directory the injection makes sure of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DirSpec {
    pub path: String,
    pub mode: u32,
}

/// A file the injection writes (whole content, owner and permission bits).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FileSpec {
    pub path: String,
    pub content: Vec<u8>,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
}

/// What debugfs `stat` says about an inode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct InodeInfo {
    pub kind: String,
    /// Permission bits (and setuid/sticky), without the file type.
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
}

/// Splits an absolute guest path into its directory and file name.
fn split(path: &str) -> (&str, &str) {
    match path.rfind('/') {
        Some(0) => ("/", &path[1..]),
        Some(i) => (&path[..i], &path[i + 1..]),
        None => ("/", path),
    }
}

/// debugfs' command parser splits on white space and understands double quotes; anything we
/// pass must therefore be free of quotes and line breaks.
fn quoted(s: &str) -> Result<String, String> {
    if s.contains('"') || s.contains('\n') || s.contains('\r') {
        return Err(format!("path {s:?} cannot be passed to debugfs"));
    }
    Ok(format!("\"{s}\""))
}

/// The `debugfs -w -f` script creating `dirs` and (re)writing each file from its local copy.
///
/// `write` refuses to replace a file, so each file is removed first; `write` also links the
/// new inode into the *current* directory under the name given, so we `cd` to the parent
/// instead of passing a path. Failures of `mkdir` on an existing directory and of `rm` on a
/// missing file are expected and harmless; whatever else fails is caught by read-back.
pub(crate) fn debugfs_script(dirs: &[DirSpec], files: &[(FileSpec, PathBuf)]) -> Result<String, String> {
    let mut s = String::new();
    for d in dirs {
        let p = quoted(&d.path)?;
        s += &format!("mkdir {p}\n");
        s += &format!("set_inode_field {p} mode 0{:o}\n", 0o40000 | (d.mode & 0o7777));
        s += &format!("set_inode_field {p} uid 0\nset_inode_field {p} gid 0\n");
    }
    for (f, local) in files {
        let (dir, name) = split(&f.path);
        if name.is_empty() {
            return Err(format!("{} is not a file path", f.path));
        }
        let (dir, name) = (quoted(dir)?, quoted(name)?);
        let local = quoted(&local.to_string_lossy())?;
        s += &format!("cd {dir}\nrm {name}\nwrite {local} {name}\n");
        s += &format!("set_inode_field {name} mode 0{:o}\n", 0o100000 | (f.mode & 0o7777));
        s += &format!("set_inode_field {name} uid {}\nset_inode_field {name} gid {}\n", f.uid, f.gid);
        s += "cd /\n";
    }
    Ok(s)
}

/// Parses the first lines of debugfs `stat` output:
/// `Inode: 12   Type: regular    Mode:  0600   Flags: 0x80000` and `User:     0   Group:    42 ...`.
pub(crate) fn parse_stat(text: &str) -> Option<InodeInfo> {
    let field = |key: &str| -> Option<&str> {
        let i = text.find(key)?;
        text[i + key.len()..].split_whitespace().next()
    };
    Some(InodeInfo {
        kind: field("Type:")?.to_string(),
        mode: u32::from_str_radix(field("Mode:")?, 8).ok()?,
        uid: field("User:")?.parse().ok()?,
        gid: field("Group:")?.parse().ok()?,
    })
}

/// `existing` authorized_keys content with `key` added once (idempotent: a key already
/// present is not added again; other keys baked into the image are kept).
pub(crate) fn merge_authorized_keys(existing: &str, key: &str) -> String {
    let key = key.trim();
    let mut lines: Vec<&str> = existing.lines().filter(|l| !l.trim().is_empty()).collect();
    if !lines.iter().any(|l| l.trim() == key) {
        lines.push(key);
    }
    let mut out = lines.join("\n");
    out.push('\n');
    out
}

/// `/etc/shadow` with root's password field set to `hash`. A last-change date of 0 (which
/// forces a change at first login) becomes `today` (days since the epoch); a missing root line
/// is added.
pub(crate) fn replace_root_password(shadow: &str, hash: &str, today: u64) -> String {
    let mut found = false;
    let mut out: Vec<String> = shadow
        .lines()
        .map(|line| {
            let mut fields: Vec<String> = line.split(':').map(str::to_string).collect();
            if fields.first().map(String::as_str) != Some("root") || fields.len() < 2 {
                return line.to_string();
            }
            found = true;
            fields[1] = hash.to_string();
            if fields.get(2).map(String::as_str) == Some("0") {
                fields[2] = today.to_string();
            }
            fields.join(":")
        })
        .collect();
    if !found {
        out.insert(0, format!("root:{hash}:{today}:0:99999:7:::"));
    }
    let mut s = out.join("\n");
    s.push('\n');
    s
}

/// Refuses values that would break the files they go into.
pub(crate) fn validate(inj: &Injection) -> Result<(), String> {
    if let Some(key) = &inj.public_key {
        let key = key.trim();
        if key.is_empty() || key.contains('\n') || key.contains('\r') || key.split_whitespace().count() < 2 {
            return Err("the public key is not a single OpenSSH key line".to_string());
        }
    }
    if let Some(hash) = &inj.password_hash {
        if !hash.starts_with('$') || hash.contains(':') || hash.chars().any(char::is_whitespace) {
            return Err("the password hash is not a crypt(3) hash such as $6$salt$...".to_string());
        }
    }
    if let Some(name) = &inj.hostname {
        if name.is_empty()
            || name.len() > 253
            || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
        {
            return Err(format!("hostname {name:?} is not a valid host name"));
        }
    }
    Ok(())
}

fn days_since_epoch() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() / 86_400).unwrap_or(0)
}

/// A running qemu-storage-daemon exporting one qcow2 disk as a raw file (`export.raw`), and
/// partitions of it as files of their own (`partN.raw`) when the root is not the whole disk.
///
/// A partition gets its own export (a raw node with an offset) rather than debugfs'
/// `file?offset=N`: e2fsck loses the offset when it re-opens the device after replaying a
/// journal, and tools are simplest on a plain file.
struct Export {
    work: PathBuf,
    raw: PathBuf,
    sock: PathBuf,
    pidfile: PathBuf,
    /// Partition exports added so far (node names), detached before the disk itself.
    parts: Vec<String>,
    /// Whether `export.raw` is still exported (it is withdrawn once partitions are exported:
    /// a writable whole-disk export and a partition node cannot share the disk).
    whole: bool,
}

impl Export {
    async fn start(disk: &Path, work: &Path) -> Result<Export, String> {
        let raw = work.join("export.raw");
        let sock = work.join("qsd.sock");
        let pidfile = work.join("qsd.pid");
        process::check_socket_path(&sock)?;
        // A FUSE export needs an existing regular file as its mount point.
        std::fs::write(&raw, b"").map_err(|e| format!("cannot create {}: {e}", raw.display()))?;
        let esc = |p: &Path| p.to_string_lossy().replace(',', ",,");
        process::run(
            tool("qemu-storage-daemon")
                .arg("--blockdev")
                .arg(format!("driver=file,node-name=file0,filename={}", esc(disk)))
                .args(["--blockdev", "driver=qcow2,node-name=disk0,file=file0"])
                .arg("--export")
                .arg(format!("type=fuse,id=exp0,node-name=disk0,mountpoint={},writable=on", esc(&raw)))
                .arg("--chardev")
                .arg(format!("socket,id=mon0,path={},server=on,wait=off", esc(&sock)))
                .args(["--monitor", "chardev=mon0", "--pidfile"])
                .arg(&pidfile)
                .arg("--daemonize"),
            &format!("export disk {} for injection", disk.display()),
            Duration::from_secs(30),
        )
        .await
        .map_err(|e| {
            if e.contains("lock") {
                format!("{e} (the disk is in use, probably by a running VM)")
            } else {
                e
            }
        })?;
        Ok(Export { work: work.to_path_buf(), raw, sock, pidfile, parts: Vec::new(), whole: true })
    }

    /// The file to run e2fsprogs on for `fs`: the whole export, or a new export of its partition.
    async fn file_for(&mut self, fs: &ExtFs) -> Result<PathBuf, String> {
        let (Some(n), Some(size)) = (fs.partition, fs.size) else { return Ok(self.raw.clone()) };
        let node = format!("part{n}");
        let file = self.work.join(format!("{node}.raw"));
        if self.parts.contains(&node) {
            return Ok(file);
        }
        std::fs::write(&file, b"").map_err(|e| format!("cannot create {}: {e}", file.display()))?;
        let mut qmp = Qmp::connect(&self.sock, Duration::from_secs(5)).await?;
        if self.whole {
            // The partition table has been read; the whole-disk export is no longer needed.
            qmp.execute("block-export-del", Some(json!({ "id": "exp0" }))).await?;
            qmp.wait_event("BLOCK_EXPORT_DELETED", Some("exp0"), Duration::from_secs(20)).await?;
            self.whole = false;
        }
        qmp.execute(
            "blockdev-add",
            Some(json!({ "driver": "raw", "node-name": node, "file": "disk0", "offset": fs.offset, "size": size })),
        )
        .await?;
        self.parts.push(node.clone());
        qmp.execute(
            "block-export-add",
            Some(json!({
                "type": "fuse", "id": format!("exp-{node}"), "node-name": node,
                "mountpoint": file.to_string_lossy(), "writable": true
            })),
        )
        .await?;
        Ok(file)
    }

    /// Detaches in order: partition exports and nodes, the disk export, the qcow2 node
    /// (flushing its metadata), the file node; then stops the daemon. Falls back to signals
    /// if QMP fails.
    async fn stop(&self) -> Result<(), String> {
        let pid = process::live_pid(&self.pidfile, &self.sock);
        let clean = async {
            let mut qmp = Qmp::connect(&self.sock, Duration::from_secs(5)).await?;
            for node in &self.parts {
                let id = format!("exp-{node}");
                // An export whose creation failed is simply not there.
                if qmp.execute("block-export-del", Some(json!({ "id": id }))).await.is_ok() {
                    qmp.wait_event("BLOCK_EXPORT_DELETED", Some(&id), Duration::from_secs(20)).await?;
                }
                qmp.execute("blockdev-del", Some(json!({ "node-name": node }))).await?;
            }
            if self.whole {
                qmp.execute("block-export-del", Some(json!({ "id": "exp0" }))).await?;
                qmp.wait_event("BLOCK_EXPORT_DELETED", Some("exp0"), Duration::from_secs(20)).await?;
            }
            qmp.execute("blockdev-del", Some(json!({ "node-name": "disk0" }))).await?;
            qmp.execute("blockdev-del", Some(json!({ "node-name": "file0" }))).await?;
            qmp.quit().await
        }
        .await;
        if let Some(pid) = pid {
            if !process::wait_gone(pid, Duration::from_secs(10)).await
                && !process::terminate(pid, Duration::from_secs(5)).await
            {
                return Err(format!("qemu-storage-daemon (pid {pid}) does not exit"));
            }
        }
        clean.map_err(|e| format!("detaching the injection export failed: {e}"))
    }
}

/// Removes what an interrupted injection left in `work`: a daemon still running, FUSE mounts
/// whose daemon died (they answer "transport endpoint is not connected"), the files.
pub(crate) async fn cleanup_stale(work: &Path) -> Result<(), String> {
    if !work.exists() {
        return Ok(());
    }
    if let Some(pid) = process::live_pid(&work.join("qsd.pid"), &work.join("qsd.sock")) {
        tracing::warn!(pid, dir = %work.display(), "stopping a leftover qemu-storage-daemon");
        process::terminate(pid, Duration::from_secs(5)).await;
    }
    let entries = std::fs::read_dir(work).map_err(|e| format!("cannot list {}: {e}", work.display()))?;
    for mount in entries.flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|x| x == "raw")) {
        if std::fs::metadata(&mount).is_err() {
            // A stat that fails on a listed name is a dead FUSE mount: detach it lazily.
            let _ =
                process::output(tool("fusermount3").args(["-u", "-z"]).arg(&mount), "unmount", Duration::from_secs(10))
                    .await;
            let _ = process::output(tool("umount").arg("-l").arg(&mount), "unmount", Duration::from_secs(10)).await;
        }
    }
    std::fs::remove_dir_all(work).map_err(|e| format!("cannot clean up {}: {e}", work.display()))
}

/// debugfs on one exported filesystem.
struct Fs {
    file: PathBuf,
}

impl Fs {
    async fn request(&self, req: &str) -> Result<std::process::Output, String> {
        process::run(
            tool("debugfs").env("DEBUGFS_PAGER", "__none__").arg("-R").arg(req).arg(&self.file),
            "read the guest filesystem",
            TOOL_LIMIT,
        )
        .await
    }

    async fn stat(&self, path: &str) -> Result<Option<InodeInfo>, String> {
        let out = self.request(&format!("stat {}", quoted(path)?)).await?;
        Ok(parse_stat(&String::from_utf8_lossy(&out.stdout)))
    }

    async fn cat(&self, path: &str) -> Result<Vec<u8>, String> {
        Ok(self.request(&format!("cat {}", quoted(path)?)).await?.stdout)
    }

    /// A file's content if it is a regular file.
    async fn read_file(&self, path: &str) -> Result<Option<(Vec<u8>, InodeInfo)>, String> {
        match self.stat(path).await? {
            Some(st) if st.kind == "regular" => Ok(Some((self.cat(path).await?, st))),
            _ => Ok(None),
        }
    }
}

/// Picks the root filesystem: the first candidate that has `/etc/passwd` (after replaying its
/// journal if it was not cleanly unmounted: a mount would replay it over our edits).
async fn find_root(export: &mut Export) -> Result<Fs, String> {
    let raw_path = export.raw.clone();
    let candidates = tokio::task::spawn_blocking(move || -> Result<Vec<ExtFs>, String> {
        let mut file = std::fs::File::open(&raw_path).map_err(|e| format!("cannot open the exported disk: {e}"))?;
        let mut read = |off: u64, len: usize| -> Result<Vec<u8>, String> {
            file.seek(SeekFrom::Start(off)).map_err(|e| format!("cannot seek in the exported disk: {e}"))?;
            let mut buf = Vec::with_capacity(len);
            (&mut file)
                .take(len as u64)
                .read_to_end(&mut buf)
                .map_err(|e| format!("cannot read the exported disk: {e}"))?;
            Ok(buf)
        };
        let layout = partition::read_layout(&mut read)?;
        partition::ext_candidates(&mut read, &layout)
    })
    .await
    .map_err(|e| format!("partition scan failed: {e}"))??;
    for candidate in candidates {
        let fs = Fs { file: export.file_for(&candidate).await? };
        if candidate.needs_recovery {
            let out = process::output(
                tool("e2fsck").args(["-E", "journal_only", "-y"]).arg(&fs.file),
                "replay the guest filesystem's journal",
                TOOL_LIMIT,
            )
            .await?;
            if out.status.code().is_none_or(|c| c >= 4) {
                return Err(format!("the guest filesystem needs repair: e2fsck said {}", process::tail(&out.stdout)));
            }
        }
        if fs.stat("/etc/passwd").await?.is_some() {
            return Ok(fs);
        }
    }
    Err("no root filesystem found on the disk: injection needs an ext2/3/4 root (whole disk or an MBR/GPT \
         partition with /etc/passwd); LVM, XFS and btrfs roots need a Cloud-Init image"
        .to_string())
}

/// Writes `inj` into the disk's root filesystem and verifies it. `work` is a scratch directory
/// owned by this call (the FUSE mount points and the files debugfs copies from).
pub(crate) async fn inject_direct(disk: &Path, work: &Path, inj: &Injection) -> Result<(), String> {
    validate(inj)?;
    if inj.public_key.is_none() && inj.password_hash.is_none() && inj.hostname.is_none() {
        return Ok(());
    }
    cleanup_stale(work).await?;
    std::fs::create_dir_all(work).map_err(|e| format!("cannot create {}: {e}", work.display()))?;
    let mut export = match Export::start(disk, work).await {
        Ok(export) => export,
        Err(e) => {
            let _ = cleanup_stale(work).await;
            return Err(e);
        }
    };
    let result = write_and_verify(&mut export, work, inj).await;
    let detached = export.stop().await;
    let cleaned = cleanup_stale(work).await;
    result?;
    detached?;
    cleaned
}

async fn write_and_verify(export: &mut Export, work: &Path, inj: &Injection) -> Result<(), String> {
    let fs = find_root(export).await?;
    let mut dirs = Vec::new();
    let mut files = Vec::new();
    if let Some(key) = &inj.public_key {
        if fs.stat("/root").await?.is_none() {
            dirs.push(DirSpec { path: "/root".into(), mode: 0o700 });
        }
        dirs.push(DirSpec { path: "/root/.ssh".into(), mode: 0o700 });
        let existing = fs.read_file("/root/.ssh/authorized_keys").await?.map(|(c, _)| c).unwrap_or_default();
        let content = merge_authorized_keys(&String::from_utf8_lossy(&existing), key).into_bytes();
        files.push(FileSpec { path: "/root/.ssh/authorized_keys".into(), content, mode: 0o600, uid: 0, gid: 0 });
    }
    if let Some(hash) = &inj.password_hash {
        let (shadow, st) =
            fs.read_file("/etc/shadow").await?.ok_or("the image has no /etc/shadow to set the root password in")?;
        let content = replace_root_password(&String::from_utf8_lossy(&shadow), hash, days_since_epoch()).into_bytes();
        files.push(FileSpec { path: "/etc/shadow".into(), content, mode: st.mode, uid: st.uid, gid: st.gid });
    }
    if let Some(name) = &inj.hostname {
        let (mode, uid, gid) = match fs.stat("/etc/hostname").await? {
            Some(st) if st.kind == "regular" => (st.mode, st.uid, st.gid),
            _ => (0o644, 0, 0),
        };
        files.push(FileSpec {
            path: "/etc/hostname".into(),
            content: format!("{name}\n").into_bytes(),
            mode,
            uid,
            gid,
        });
    }

    // Skip what is already in place (a repeated injection writes nothing).
    let mut todo = Vec::new();
    for f in files {
        let current = fs.read_file(&f.path).await?;
        let done = current
            .is_some_and(|(c, st)| c == f.content && (st.mode & 0o7777, st.uid, st.gid) == (f.mode, f.uid, f.gid));
        if !done {
            let local = work.join(format!("file{}", todo.len()));
            std::fs::write(&local, &f.content).map_err(|e| format!("cannot write {}: {e}", local.display()))?;
            todo.push((f, local));
        }
    }
    let mut dirs_todo = Vec::new();
    for d in dirs {
        let ok = fs
            .stat(&d.path)
            .await?
            .is_some_and(|st| st.kind == "directory" && (st.mode & 0o7777, st.uid, st.gid) == (d.mode, 0, 0));
        if !ok {
            dirs_todo.push(d);
        }
    }
    if !todo.is_empty() || !dirs_todo.is_empty() {
        let script = work.join("debugfs.cmds");
        std::fs::write(&script, debugfs_script(&dirs_todo, &todo)?)
            .map_err(|e| format!("cannot write {}: {e}", script.display()))?;
        process::run(
            tool("debugfs").arg("-w").arg("-f").arg(&script).arg(&fs.file),
            "write into the guest filesystem",
            TOOL_LIMIT,
        )
        .await?;
    }

    // Read everything back: debugfs reports success whatever happened.
    for d in &dirs_todo {
        match fs.stat(&d.path).await? {
            Some(st) if st.kind == "directory" && st.mode & 0o7777 == d.mode && st.uid == 0 => {}
            other => return Err(format!("injection did not take: {} is {other:?} after writing", d.path)),
        }
    }
    for (f, _) in &todo {
        let Some((content, st)) = fs.read_file(&f.path).await? else {
            return Err(format!("injection did not take: {} is missing after writing", f.path));
        };
        if content != f.content {
            return Err(format!("injection did not take: {} reads back different content", f.path));
        }
        if (st.mode & 0o7777, st.uid, st.gid) != (f.mode, f.uid, f.gid) {
            return Err(format!(
                "injection did not take: {} has mode {:o} owner {}:{} instead of {:o} {}:{}",
                f.path, st.mode, st.uid, st.gid, f.mode, f.uid, f.gid
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_script_creates_dirs_and_rewrites_files_from_their_parent() {
        let dirs = vec![DirSpec { path: "/root/.ssh".into(), mode: 0o700 }];
        let files = vec![
            (
                FileSpec {
                    path: "/root/.ssh/authorized_keys".into(),
                    content: b"k\n".to_vec(),
                    mode: 0o600,
                    uid: 0,
                    gid: 0,
                },
                PathBuf::from("/w/file0"),
            ),
            (
                FileSpec { path: "/etc/shadow".into(), content: b"s\n".to_vec(), mode: 0o640, uid: 0, gid: 42 },
                PathBuf::from("/w/file1"),
            ),
        ];
        let script = debugfs_script(&dirs, &files).unwrap();
        let expected = "\
mkdir \"/root/.ssh\"
set_inode_field \"/root/.ssh\" mode 040700
set_inode_field \"/root/.ssh\" uid 0
set_inode_field \"/root/.ssh\" gid 0
cd \"/root/.ssh\"
rm \"authorized_keys\"
write \"/w/file0\" \"authorized_keys\"
set_inode_field \"authorized_keys\" mode 0100600
set_inode_field \"authorized_keys\" uid 0
set_inode_field \"authorized_keys\" gid 0
cd /
cd \"/etc\"
rm \"shadow\"
write \"/w/file1\" \"shadow\"
set_inode_field \"shadow\" mode 0100640
set_inode_field \"shadow\" uid 0
set_inode_field \"shadow\" gid 42
cd /
";
        assert_eq!(script, expected);
        let bad = vec![(files[0].0.clone(), PathBuf::from("/w/\"evil\""))];
        assert!(debugfs_script(&[], &bad).is_err());
    }

    #[test]
    fn stat_output_is_parsed() {
        let out = "Inode: 12   Type: regular    Mode:  0640   Flags: 0x80000\n\
                   Generation: 0    Version: 0x00000000:00000000\n\
                   User:     0   Group:    42   Project:     0   Size: 95\n";
        assert_eq!(parse_stat(out), Some(InodeInfo { kind: "regular".into(), mode: 0o640, uid: 0, gid: 42 }));
        let dir = "Inode: 7   Type: directory    Mode:  0700   Flags: 0x0\nUser:     0   Group:     0   Size: 1024\n";
        assert_eq!(parse_stat(dir).unwrap().kind, "directory");
        assert_eq!(parse_stat(""), None);
    }

    #[test]
    fn keys_are_added_once_and_others_kept() {
        assert_eq!(merge_authorized_keys("", "ssh-ed25519 AAAA a\n"), "ssh-ed25519 AAAA a\n");
        let once = merge_authorized_keys("ssh-rsa BBBB old\n\n", "ssh-ed25519 AAAA a");
        assert_eq!(once, "ssh-rsa BBBB old\nssh-ed25519 AAAA a\n");
        assert_eq!(merge_authorized_keys(&once, "ssh-ed25519 AAAA a"), once);
    }

    #[test]
    fn the_root_shadow_line_gets_the_hash() {
        let shadow = "root:*:0:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\n";
        let out = replace_root_password(shadow, "$6$salt$hash", 20000);
        assert_eq!(out, "root:$6$salt$hash:20000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\n");
        assert_eq!(replace_root_password(&out, "$6$salt$hash", 20001), out, "idempotent");
        let added = replace_root_password("daemon:*:1:0:99999:7:::\n", "$6$x$y", 5);
        assert!(added.starts_with("root:$6$x$y:5:0:99999:7:::\ndaemon"));
        let not_root = replace_root_password("rootless:*:1::::::\n", "$6$x$y", 5);
        assert!(not_root.contains("rootless:*:1::::::"));
    }

    #[test]
    fn unsafe_values_are_refused() {
        let ok = Injection {
            public_key: Some("ssh-ed25519 AAAA me@host".into()),
            password_hash: Some("$6$salt$abc".into()),
            hostname: Some("web-1.example".into()),
            ..Default::default()
        };
        assert!(validate(&ok).is_ok());
        let key = Injection { public_key: Some("ssh-ed25519 AAAA\nssh-rsa B".into()), ..Default::default() };
        assert!(validate(&key).is_err());
        let hash = Injection { password_hash: Some("$6$a:b".into()), ..Default::default() };
        assert!(validate(&hash).is_err());
        let host = Injection { hostname: Some("a b".into()), ..Default::default() };
        assert!(validate(&host).is_err());
    }
}
