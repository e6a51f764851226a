//! A tiny bootable guest built from Debian packages: busybox init and shell, dropbear SSH,
//! Debian's cloud kernel booted directly by QEMU. No Cloud-Init, root password locked.
//!
//! Built without mounting anything and without root networking: `apt-get download` fetches
//! the packages (the only network use), `dpkg-deb -x` unpacks them into a staging tree,
//! `mkfs.ext4 -d` turns the tree into a filesystem image, `qemu-img convert` makes it qcow2,
//! and a boot sidecar tells the driver which kernel and command line to start it with.

use super::image::{BootInfo, DiskBus};
use super::process::{self, tool};
use std::collections::{BTreeMap, HashSet};
use std::os::unix::fs::{symlink, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The guest userland: busybox (static) and dropbear with the libraries it links.
const PACKAGES: &[&str] =
    &["busybox-static", "dropbear-bin", "libc6", "libcrypt1", "zlib1g", "libtomcrypt1", "libtommath1", "libgmp10"];
/// Debian's meta package that points at the current cloud kernel (NVMe and ext4 built in).
const KERNEL_META: &str = "linux-image-cloud-amd64";
/// Modules the guest loads at boot (with their dependencies): network, entropy, data disks
/// (virtio-blk: the system disk is NVMe, built in), and the ACPI power button that lets QMP
/// `system_powerdown` shut the guest down cleanly.
const MODULES: &[&str] = &["virtio_pci", "virtio_net", "virtio_rng", "virtio_blk", "button", "evdev"];
/// Kernel command line. `panic=-1` with QEMU's `-no-reboot` turns a guest panic into a QEMU
/// exit instead of a core burnt forever. `cryptomgr.notests` skips the self-tests of the
/// kernel's crypto algorithms, the longest step of its start-up under TCG (0.3 s of 4).
const APPEND: &str = "console=ttyS0 root=/dev/nvme0n1 rootfstype=ext4 rw quiet panic=-1 cryptomgr.notests";

/// What the ACPI power button (QMP `system_powerdown`) runs: a clean power-off at once.
/// busybox init's own `poweroff` pauses a second after its SIGTERM and another before the
/// power-off, most of a stop's time; here the processes get their SIGTERM and a moment to
/// exit, the file systems are flushed and made read-only (as the inittab's shutdown lines do),
/// and the kernel powers off. The data disks are flushed by the same `sync`.
const POWER_BUTTON: &str = "#!/bin/sh\n\
    kill -TERM -1\n\
    sleep 0.2\n\
    sync\n\
    mount -o remount,ro /\n\
    poweroff -f\n";

/// A built demo image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoImage {
    /// The qcow2 base file: pass it as `DiskSpec::image_file`.
    pub image: PathBuf,
    /// Its boot sidecar (`<image>.boot.json`).
    pub sidecar: PathBuf,
    pub boot: BootInfo,
    pub variant: String,
    /// The guest's `/etc/os-release`.
    pub os_release: String,
    pub kernel_version: String,
}

/// The guest's `/etc/os-release`; the variant tells two demo images apart (change-OS tests).
pub fn os_release(variant: &str) -> String {
    format!(
        "NAME=\"ecsd demo\"\nID=ecsd-demo\nVARIANT_ID={variant}\nVERSION_ID=1\n\
         PRETTY_NAME=\"ecsd demo ({variant})\"\n"
    )
}

fn io(what: &str, path: &Path, e: std::io::Error) -> String {
    format!("demo image: cannot {what} {}: {e}", path.display())
}

fn write(path: &Path, content: &str, mode: u32) -> Result<(), String> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| io("create", dir, e))?;
    }
    std::fs::write(path, content).map_err(|e| io("write", path, e))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).map_err(|e| io("chmod", path, e))
}

/// Files of the guest's own making (everything else comes from packages).
fn guest_files(variant: &str, modules: &[String]) -> Vec<(&'static str, String, u32)> {
    let rcs = format!(
        "#!/bin/sh\n\
         # Early boot: file systems, drivers, network (QEMU user networking: fixed addresses).\n\
         mount -t proc proc /proc\n\
         mount -t sysfs sysfs /sys\n\
         mount -t devtmpfs devtmpfs /dev 2>/dev/null\n\
         mkdir -p /dev/pts && mount -t devpts devpts /dev/pts\n\
         mount -t tmpfs tmpfs /run\n\
         mount -o remount,rw /\n\
         for m in {}; do insmod /lib/modules/$m; done\n\
         hostname -F /etc/hostname\n\
         ip link set lo up\n\
         ip link set eth0 up\n\
         ip addr add 10.0.2.15/24 dev eth0\n\
         ip route add default via 10.0.2.2\n\
         mkdir -p /etc/dropbear\n\
         echo \"ecsd demo ({variant}) is up\"\n",
        modules.join(" ")
    );
    vec![
        (
            "etc/inittab",
            "::sysinit:/etc/init.d/rcS\n\
             ::respawn:/usr/sbin/dropbear -F -E -R -p 22\n\
             ::respawn:/sbin/acpid -f\n\
             ::ctrlaltdel:/sbin/reboot\n\
             ::shutdown:/bin/sync\n\
             ::shutdown:/bin/mount -o remount,ro /\n"
                .into(),
            0o644,
        ),
        ("etc/init.d/rcS", rcs, 0o755),
        // busybox acpid runs /etc/acpi/<event>/<code> for the ACPI power button.
        ("etc/acpi/PWRF/00000080", POWER_BUTTON.into(), 0o755),
        ("etc/passwd", "root:x:0:0:root:/root:/bin/sh\n".into(), 0o644),
        ("etc/group", "root:x:0:\nshadow:x:42:\n".into(), 0o644),
        // `*`: no password works, but key logins do (`!` would lock the account for dropbear).
        ("etc/shadow", "root:*:19000:0:99999:7:::\n".into(), 0o600),
        ("etc/shells", "/bin/sh\n".into(), 0o644),
        ("etc/nsswitch.conf", "passwd: files\ngroup: files\nshadow: files\nhosts: files dns\n".into(), 0o644),
        ("etc/hostname", "ecsd-demo\n".into(), 0o644),
        ("etc/hosts", "127.0.0.1 localhost\n".into(), 0o644),
        ("etc/resolv.conf", "nameserver 10.0.2.3\n".into(), 0o644),
        ("etc/profile", "export PATH=/usr/sbin:/usr/bin:/sbin:/bin\n".into(), 0o644),
        ("etc/os-release", os_release(variant), 0o644),
    ]
}

/// Resolves the cloud kernel package the meta package currently points at.
async fn kernel_package() -> Result<String, String> {
    let out = process::run(
        tool("apt-cache").args(["depends", KERNEL_META]),
        "find the cloud kernel package",
        Duration::from_secs(60),
    )
    .await?;
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.trim().strip_prefix("Depends: "))
        .find(|p| p.starts_with("linux-image-") && p.ends_with("-cloud-amd64"))
        .map(str::to_string)
        .ok_or_else(|| format!("apt knows no {KERNEL_META}; run apt-get update"))
}

/// The downloaded .deb of a package in `debs`, if any.
fn deb_in(debs: &Path, pkg: &str) -> Option<PathBuf> {
    let prefix = format!("{pkg}_");
    std::fs::read_dir(debs).ok()?.flatten().map(|e| e.path()).find(|p| {
        let name = p.file_name().unwrap_or_default().to_string_lossy();
        name.starts_with(&prefix) && name.ends_with(".deb")
    })
}

/// Downloads the packages not already in `debs` (kept there, so rebuilding is offline).
async fn download(debs: &Path, pkgs: &[String]) -> Result<Vec<PathBuf>, String> {
    let missing: Vec<&String> = pkgs.iter().filter(|p| deb_in(debs, p).is_none()).collect();
    if !missing.is_empty() {
        process::run(
            tool("apt-get").arg("download").args(&missing).current_dir(debs),
            "download the demo image's packages",
            Duration::from_secs(300),
        )
        .await?;
    }
    pkgs.iter().map(|p| deb_in(debs, p).ok_or_else(|| format!("apt-get download gave no .deb for {p}"))).collect()
}

async fn unpack(deb: &Path, into: &Path) -> Result<(), String> {
    process::run(tool("dpkg-deb").arg("-x").arg(deb).arg(into), "unpack a package", Duration::from_secs(120))
        .await
        .map(|_| ())
}

/// A module's name as the kernel knows it (dashes become underscores).
fn module_name(file: &Path) -> String {
    file.file_name().unwrap_or_default().to_string_lossy().trim_end_matches(".ko").replace('-', "_")
}

/// The `depends=` field of a module's `.modinfo` section (NUL-separated `key=value` strings;
/// the Debian kernel package ships no modules.dep, depmod makes it at install time).
pub(crate) fn module_depends(ko: &[u8]) -> Vec<String> {
    ko.split(|b| *b == 0)
        .find_map(|s| s.strip_prefix(b"depends="))
        .map(|v| String::from_utf8_lossy(v).split(',').filter(|d| !d.is_empty()).map(|d| d.replace('-', "_")).collect())
        .unwrap_or_default()
}

/// `wanted` modules and their dependencies, dependencies first.
pub(crate) fn module_order(
    wanted: &[&str],
    depends: &dyn Fn(&str) -> Result<Vec<String>, String>,
) -> Result<Vec<String>, String> {
    fn visit(
        m: &str,
        depends: &dyn Fn(&str) -> Result<Vec<String>, String>,
        seen: &mut HashSet<String>,
        out: &mut Vec<String>,
    ) -> Result<(), String> {
        if !seen.insert(m.to_string()) {
            return Ok(());
        }
        for d in depends(m)? {
            visit(&d, depends, seen, out)?;
        }
        out.push(m.to_string());
        Ok(())
    }
    let (mut seen, mut out) = (HashSet::new(), Vec::new());
    for m in wanted {
        visit(m, depends, &mut seen, &mut out)?;
    }
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), String> {
    for entry in std::fs::read_dir(dir).map_err(|e| io("read", dir, e))? {
        let path = entry.map_err(|e| io("read", dir, e))?.path();
        let meta = std::fs::symlink_metadata(&path).map_err(|e| io("stat", &path, e))?;
        out.push(path.clone());
        if meta.is_dir() {
            walk(&path, out)?;
        }
    }
    Ok(())
}

/// Copies the wanted modules into the guest; returns their file names in load order.
fn install_modules(kernel_tree: &Path, version: &str, rootfs: &Path) -> Result<Vec<String>, String> {
    let mut all = Vec::new();
    walk(&kernel_tree.join("lib/modules").join(version).join("kernel"), &mut all)?;
    let by_name: BTreeMap<String, PathBuf> =
        all.into_iter().filter(|p| p.extension().is_some_and(|e| e == "ko")).map(|p| (module_name(&p), p)).collect();
    let file = |m: &str| by_name.get(m).ok_or_else(|| format!("demo image: the kernel has no module {m}"));
    let order = module_order(MODULES, &|m| {
        let path = file(m)?;
        Ok(module_depends(&std::fs::read(path).map_err(|e| io("read", path, e))?))
    })?;
    let dest = rootfs.join("lib/modules");
    std::fs::create_dir_all(&dest).map_err(|e| io("create", &dest, e))?;
    let mut names = Vec::new();
    for m in order {
        let src = file(&m)?;
        let name = src.file_name().unwrap_or_default().to_string_lossy().to_string();
        std::fs::copy(src, dest.join(&name)).map_err(|e| io("copy", src, e))?;
        names.push(name);
    }
    Ok(names)
}

/// Links every busybox applet (as busybox itself lists them) to `/bin/busybox`.
async fn link_applets(rootfs: &Path) -> Result<(), String> {
    let busybox = rootfs.join("bin/busybox");
    // busybox-static runs on the host as it is.
    let out = process::run(
        tokio::process::Command::new(&busybox).arg("--list-full"),
        "list busybox applets",
        Duration::from_secs(30),
    )
    .await?;
    for applet in String::from_utf8_lossy(&out.stdout).lines().map(str::trim).filter(|a| !a.is_empty()) {
        let link = rootfs.join(applet);
        if std::fs::symlink_metadata(&link).is_ok() {
            continue; // a real program from a package (dropbear's) wins
        }
        if let Some(dir) = link.parent() {
            std::fs::create_dir_all(dir).map_err(|e| io("create", dir, e))?;
        }
        symlink("/bin/busybox", &link).map_err(|e| io("link", &link, e))?;
    }
    Ok(())
}

fn dir_size(dir: &Path) -> Result<u64, String> {
    let mut all = Vec::new();
    walk(dir, &mut all)?;
    Ok(all.iter().filter_map(|p| std::fs::symlink_metadata(p).ok()).map(|m| m.len().max(4096)).sum())
}

/// debugfs commands making every file root's (mkfs.ext4 -d copies the builder's uid/gid; a
/// guest whose /root belongs to someone else refuses key logins).
pub(crate) fn ownership_script(rootfs: &Path, files: &[PathBuf]) -> String {
    let mut s = String::new();
    for f in files {
        if let Ok(rel) = f.strip_prefix(rootfs) {
            let p = format!("/{}", rel.to_string_lossy());
            s += &format!("set_inode_field \"{p}\" uid 0\nset_inode_field \"{p}\" gid 0\n");
        }
    }
    s
}

fn check_variant(variant: &str) -> Result<(), String> {
    let ok = !variant.is_empty()
        && variant.len() <= 32
        && variant.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(format!("demo image variant {variant:?} must be 1-32 characters of a-z, 0-9 and '-'"))
    }
}

/// Builds the demo image `demo-<variant>.qcow2` (with its boot sidecar and the kernel it
/// names) in `out_dir`. Downloaded packages are kept in `out_dir/debs`, so building another
/// variant into the same directory downloads nothing. Takes a few seconds; needs `apt-get`
/// with working package lists, `dpkg-deb`, `mkfs.ext4` and `qemu-img`. Two builds must not run
/// at once in the same directory.
pub async fn build_demo_image(out_dir: &Path, variant: &str) -> Result<DemoImage, String> {
    check_variant(variant)?;
    let debs = out_dir.join("debs");
    std::fs::create_dir_all(&debs).map_err(|e| io("create", &debs, e))?;
    let out_dir = out_dir.canonicalize().map_err(|e| io("resolve", out_dir, e))?;
    let debs = out_dir.join("debs");

    let kernel_pkg = kernel_package().await?;
    let version = kernel_pkg.trim_start_matches("linux-image-").to_string();
    let mut pkgs: Vec<String> = PACKAGES.iter().map(|p| p.to_string()).collect();
    pkgs.push(kernel_pkg);
    let files = download(&debs, &pkgs).await?;

    let staging = out_dir.join(format!(".build-{variant}"));
    if staging.exists() {
        std::fs::remove_dir_all(&staging).map_err(|e| io("clean", &staging, e))?;
    }
    let result = build_in(&out_dir, &staging, variant, &version, &files).await;
    let _ = std::fs::remove_dir_all(&staging);
    result
}

async fn build_in(
    out_dir: &Path,
    staging: &Path,
    variant: &str,
    version: &str,
    debs: &[PathBuf],
) -> Result<DemoImage, String> {
    let rootfs = staging.join("rootfs");
    let kernel_tree = staging.join("kernel");
    for dir in [&rootfs, &kernel_tree] {
        std::fs::create_dir_all(dir).map_err(|e| io("create", dir, e))?;
    }
    let (userland, kernel_deb) = debs.split_at(debs.len() - 1);
    for deb in userland {
        unpack(deb, &rootfs).await?;
    }
    unpack(&kernel_deb[0], &kernel_tree).await?;

    // Documentation, locales and charset converters are most of libc6's size; a shell and an
    // SSH server need none of them.
    for junk in ["usr/share/doc", "usr/share/man", "usr/share/info", "usr/share/lintian", "usr/share/locale"] {
        let _ = std::fs::remove_dir_all(rootfs.join(junk));
    }
    let _ = std::fs::remove_dir_all(rootfs.join("usr/lib/x86_64-linux-gnu/gconv"));

    link_applets(&rootfs).await?;
    for (dir, mode) in [
        ("proc", 0o555),
        ("sys", 0o555),
        ("dev", 0o755),
        ("run", 0o755),
        ("tmp", 0o1777),
        ("root", 0o700),
        ("etc/dropbear", 0o755),
        ("var/log", 0o755),
        ("home", 0o755),
    ] {
        let p = rootfs.join(dir);
        std::fs::create_dir_all(&p).map_err(|e| io("create", &p, e))?;
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).map_err(|e| io("chmod", &p, e))?;
    }
    let modules = install_modules(&kernel_tree, version, &rootfs)?;
    for (path, content, mode) in guest_files(variant, &modules) {
        write(&rootfs.join(path), &content, mode)?;
    }

    // Kernel next to the image (shared by the variants built in this directory).
    let kernel_name = format!("vmlinuz-{version}");
    let kernel = out_dir.join(&kernel_name);
    if !kernel.is_file() {
        let src = kernel_tree.join("boot").join(&kernel_name);
        let tmp = staging.join(&kernel_name);
        std::fs::copy(&src, &tmp).map_err(|e| io("copy", &src, e))?;
        std::fs::rename(&tmp, &kernel).map_err(|e| io("move", &kernel, e))?;
    }

    // Filesystem: the tree's size plus room to work in, at least 64 MiB.
    let used = dir_size(&rootfs)?;
    let mib = ((used as f64 * 1.4) as u64 / (1 << 20) + 16).max(64);
    let raw = staging.join("root.raw");
    std::fs::File::create(&raw).and_then(|f| f.set_len(mib << 20)).map_err(|e| io("create", &raw, e))?;
    process::run(
        tool("mkfs.ext4").args(["-q", "-F", "-L", "root", "-E", "root_owner=0:0", "-d"]).arg(&rootfs).arg(&raw),
        "make the demo image's filesystem",
        Duration::from_secs(120),
    )
    .await?;
    let owner = std::fs::metadata(rootfs.join("etc/passwd")).map_err(|e| io("stat", &rootfs, e))?;
    if owner.uid() != 0 || owner.gid() != 0 {
        let mut all = Vec::new();
        walk(&rootfs, &mut all)?;
        let script = staging.join("chown.cmds");
        std::fs::write(&script, ownership_script(&rootfs, &all)).map_err(|e| io("write", &script, e))?;
        process::run(
            tool("debugfs").arg("-w").arg("-f").arg(&script).arg(&raw),
            "give the demo image's files to root",
            Duration::from_secs(120),
        )
        .await?;
    }

    let image = out_dir.join(format!("demo-{variant}.qcow2"));
    let partial = staging.join("image.qcow2");
    process::run(
        tool("qemu-img").args(["convert", "-O", "qcow2"]).arg(&raw).arg(&partial),
        "convert the demo image to qcow2",
        Duration::from_secs(120),
    )
    .await?;
    std::fs::rename(&partial, &image).map_err(|e| io("move", &image, e))?;

    let boot = BootInfo {
        kernel: Some(PathBuf::from(&kernel_name)),
        initrd: None,
        append: Some(APPEND.to_string()),
        disk_bus: Some(DiskBus::Nvme),
    };
    let sidecar = boot.write_for(&image)?;
    // Hand back the sidecar as the driver will read it (absolute paths).
    let boot = BootInfo::load_for(&image)?.ok_or("demo image: the boot sidecar vanished")?;
    Ok(DemoImage {
        image,
        sidecar,
        boot,
        variant: variant.to_string(),
        os_release: os_release(variant),
        kernel_version: version.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modules_load_after_their_dependencies() {
        let deps = |m: &str| -> Result<Vec<String>, String> {
            Ok(match m {
                "virtio_net" => vec!["virtio_ring".into(), "virtio".into(), "net_failover".into()],
                "net_failover" => vec!["failover".into()],
                "virtio_pci" => vec!["virtio_ring".into(), "virtio".into()],
                "virtio_ring" => vec!["virtio".into()],
                _ => vec![],
            })
        };
        let order = module_order(&["virtio_pci", "virtio_net", "button"], &deps).unwrap();
        assert_eq!(
            order,
            vec!["virtio", "virtio_ring", "virtio_pci", "failover", "net_failover", "virtio_net", "button"]
        );
    }

    #[test]
    fn modinfo_depends_is_found() {
        let ko = b"\x7fELF...\0license=GPL\0depends=virtio_ring,virtio,net-failover\0vermagic=6.1\0";
        assert_eq!(module_depends(ko), vec!["virtio_ring", "virtio", "net_failover"]);
        assert!(module_depends(b"\0depends=\0").is_empty());
        assert_eq!(module_name(Path::new("/k/virtio-rng.ko")), "virtio_rng");
    }

    #[test]
    fn variants_differ_in_os_release_and_names_are_checked() {
        assert!(os_release("a").contains("ID=ecsd-demo\n"));
        assert_ne!(os_release("a"), os_release("b"));
        assert!(check_variant("alpha-2").is_ok());
        assert!(check_variant("../x").is_err());
        assert!(check_variant("").is_err());
        let script = ownership_script(Path::new("/s/root"), &[PathBuf::from("/s/root/etc/passwd")]);
        assert_eq!(script, "set_inode_field \"/etc/passwd\" uid 0\nset_inode_field \"/etc/passwd\" gid 0\n");
    }
}
