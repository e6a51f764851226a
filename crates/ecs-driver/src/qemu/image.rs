//! Images: the boot sidecar that tells the driver how to start an image, and image inspection.
//!
//! An image is one base file (qcow2 or raw). Images that boot through their own bootloader
//! need nothing more. Images that must be started with a kernel given to QEMU (like the demo
//! image, which has no bootloader) carry a sidecar JSON file next to the base file, named
//! `<base file name>.boot.json`:
//!
//! ```json
//! { "kernel": "vmlinuz-6.1.0-48-cloud-amd64", "initrd": null,
//!   "append": "console=ttyS0 root=/dev/nvme0n1 rw panic=-1", "disk_bus": "nvme" }
//! ```
//!
//! Relative paths are resolved against the sidecar's directory, so an image directory can be
//! moved or copied as a whole. Whoever copies an image's base file should copy its sidecar too
//! ([`BootInfo::sidecar_path`]).

use super::partition::{self, ExtFs, Layout, Table};
use super::process::{self, tool};
use serde::{Deserialize, Serialize};
use std::ffi::OsString;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How the system disk is presented to the guest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DiskBus {
    /// virtio-blk (`/dev/vda`): what cloud images expect.
    #[default]
    Virtio,
    /// NVMe (`/dev/nvme0n1`): built into kernels that have virtio only as modules.
    Nvme,
}

/// How to boot an image, from its sidecar. All fields optional: an empty sidecar is the same
/// as none (boot the disk's own bootloader over virtio-blk).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct BootInfo {
    /// Kernel image given to QEMU with `-kernel`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kernel: Option<PathBuf>,
    /// Initial ramdisk (`-initrd`), only with a kernel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initrd: Option<PathBuf>,
    /// Kernel command line (`-append`), only with a kernel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub append: Option<String>,
    /// Bus of the system disk; virtio when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disk_bus: Option<DiskBus>,
}

impl BootInfo {
    /// The sidecar file of an image base file: `<base>.boot.json`.
    pub fn sidecar_path(base: &Path) -> PathBuf {
        let mut name = base.file_name().unwrap_or_default().to_os_string();
        name.push(".boot.json");
        base.with_file_name(name)
    }

    /// Reads an image's sidecar, with relative paths made absolute; `None` if there is none.
    pub fn load_for(base: &Path) -> Result<Option<BootInfo>, String> {
        let path = Self::sidecar_path(base);
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(format!("cannot read boot sidecar {}: {e}", path.display())),
        };
        let mut info: BootInfo =
            serde_json::from_slice(&bytes).map_err(|e| format!("boot sidecar {} is invalid: {e}", path.display()))?;
        let dir = path.parent().unwrap_or(Path::new("."));
        for file in [&mut info.kernel, &mut info.initrd].into_iter().flatten() {
            if file.is_relative() {
                *file = dir.join(&*file);
            }
            if !file.is_file() {
                return Err(format!("boot sidecar {} names {}, which does not exist", path.display(), file.display()));
            }
        }
        if info.kernel.is_none() && (info.initrd.is_some() || info.append.is_some()) {
            return Err(format!("boot sidecar {}: initrd and append need a kernel", path.display()));
        }
        Ok(Some(info))
    }

    /// Writes the sidecar of `base` (atomically: temp file, then rename).
    pub fn write_for(&self, base: &Path) -> Result<PathBuf, String> {
        let path = Self::sidecar_path(base);
        let json = serde_json::to_vec_pretty(self).map_err(|e| e.to_string())?;
        write_atomic(&path, &json)?;
        Ok(path)
    }

    /// The bus to use for the system disk.
    pub fn bus(&self) -> DiskBus {
        self.disk_bus.unwrap_or_default()
    }
}

/// Writes a file so that a crash leaves either the old content or the new, never half.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), String> {
    let mut tmp = path.as_os_str().to_os_string();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    std::fs::write(&tmp, bytes).map_err(|e| format!("cannot write {}: {e}", tmp.display()))?;
    std::fs::rename(&tmp, path).map_err(|e| format!("cannot rename {} into place: {e}", path.display()))
}

/// What `ecsd image import` needs to know about an image file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImageFacts {
    /// `qcow2` or `raw` (other formats QEMU reads are reported as they are named).
    pub format: String,
    /// Size the guest sees, in bytes.
    pub virtual_size: u64,
    /// Bytes the file takes on the host.
    pub actual_size: Option<u64>,
    /// The image's own backing file, if it is an overlay.
    pub backing_file: Option<String>,
    pub partition_table: Table,
    pub partitions: Vec<partition::Partition>,
    /// The most likely root ext filesystem (whole disk or a partition), if there is one:
    /// without it keys cannot be injected offline (Cloud-Init images do not need that).
    pub root_fs: Option<ExtFs>,
    /// Boot instructions from the image's sidecar, if present.
    pub boot: Option<BootInfo>,
}

/// Format and sizes reported by `qemu-img info`.
pub(crate) struct QemuImgInfo {
    pub format: String,
    pub virtual_size: u64,
    pub actual_size: Option<u64>,
    pub backing_file: Option<String>,
}

pub(crate) async fn qemu_img_info(path: &Path) -> Result<QemuImgInfo, String> {
    // -U: read without taking the image lock, so a base file in use by running VMs can be inspected.
    let out = process::run(
        tool("qemu-img").args(["info", "-U", "--output=json"]).arg(path),
        &format!("inspect image {}", path.display()),
        Duration::from_secs(30),
    )
    .await?;
    let v: serde_json::Value =
        serde_json::from_slice(&out.stdout).map_err(|e| format!("qemu-img info gave invalid JSON: {e}"))?;
    Ok(QemuImgInfo {
        format: v["format"].as_str().unwrap_or("unknown").to_string(),
        virtual_size: v["virtual-size"].as_u64().ok_or("qemu-img info reported no virtual size")?,
        actual_size: v["actual-size"].as_u64(),
        backing_file: v["backing-filename"].as_str().map(str::to_string),
    })
}

/// The `qemu-img` arguments that make a qcow2 disk of `size` bytes at `path`: an overlay over
/// `backing` (a base file and its format) for a system disk, a blank disk without one. Either is
/// sparse and made in constant time, whatever the size; an existing file at `path` (a partial
/// disk left by a crash) is overwritten.
pub(crate) fn create_args(path: &Path, size: u64, backing: Option<(&Path, &str)>) -> Vec<OsString> {
    let mut args: Vec<OsString> = ["create", "-q", "-f", "qcow2"].map(OsString::from).into();
    if let Some((base, format)) = backing {
        args.extend(["-F".into(), format.into(), "-b".into(), base.as_os_str().to_os_string()]);
    }
    args.extend([path.as_os_str().to_os_string(), size.to_string().into()]);
    args
}

/// Reads bytes of an image as the guest would see them. Raw files are read directly; other
/// formats through `qemu-img dd` (no mounting, no daemon), one small read at a time.
fn image_reader<'a>(path: &'a Path, format: &'a str, scratch: &'a Path) -> Box<partition::Reader<'a>> {
    if format == "raw" {
        return Box::new(move |off, len| {
            let mut f = std::fs::File::open(path).map_err(|e| format!("cannot open {}: {e}", path.display()))?;
            f.seek(SeekFrom::Start(off)).map_err(|e| format!("cannot seek in {}: {e}", path.display()))?;
            let mut buf = Vec::with_capacity(len);
            f.take(len as u64).read_to_end(&mut buf).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            Ok(buf)
        });
    }
    let mut n = 0;
    Box::new(move |off, len| {
        // qemu-img dd counts in blocks of bs, and its `count` is where copying ends, counted from
        // the start of the image (not from `skip`). Read whole 512-byte sectors around the range.
        let first = off / 512;
        let last = (off + len as u64).div_ceil(512);
        n += 1;
        let out = scratch.join(format!("read{n}.raw"));
        let status = std::process::Command::new(process::find_tool("qemu-img").unwrap_or_else(|| "qemu-img".into()))
            .args(["dd", "-U", "-f", format, "-O", "raw", "bs=512"])
            .arg(format!("skip={first}"))
            .arg(format!("count={last}"))
            .arg(format!("if={}", path.display()))
            .arg(format!("of={}", out.display()))
            .stdout(std::process::Stdio::null())
            .output()
            .map_err(|e| format!("cannot run qemu-img dd: {e}"))?;
        if !status.status.success() {
            return Err(format!("qemu-img dd on {} failed: {}", path.display(), process::tail(&status.stderr)));
        }
        let bytes = std::fs::read(&out).map_err(|e| format!("cannot read {}: {e}", out.display()))?;
        let _ = std::fs::remove_file(&out);
        let skip = (off - first * 512) as usize;
        Ok(bytes.get(skip..).unwrap_or_default().iter().take(len).copied().collect())
    })
}

/// Format, size, partitions and root filesystem of an image file, without mounting or booting
/// it. Reads only a few sectors, so it is quick for any image size.
pub async fn inspect_image(path: &Path) -> Result<ImageFacts, String> {
    if !path.is_file() {
        return Err(format!("image file {} does not exist", path.display()));
    }
    let info = qemu_img_info(path).await?;
    let boot = BootInfo::load_for(path)?;
    let path = path.to_path_buf();
    let format = info.format.clone();
    let (layout, root) = tokio::task::spawn_blocking(move || -> Result<(Layout, Option<ExtFs>), String> {
        let scratch = tempfile::tempdir().map_err(|e| format!("cannot create a temporary directory: {e}"))?;
        let mut read = image_reader(&path, &format, scratch.path());
        let layout = partition::read_layout(&mut *read)?;
        let root = partition::ext_candidates(&mut *read, &layout)?.into_iter().next();
        Ok((layout, root))
    })
    .await
    .map_err(|e| format!("image inspection failed: {e}"))??;
    Ok(ImageFacts {
        format: info.format,
        virtual_size: info.virtual_size,
        actual_size: info.actual_size,
        backing_file: info.backing_file,
        partition_table: layout.table,
        partitions: layout.partitions,
        root_fs: root,
        boot,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disks_are_made_as_overlays_or_blank() {
        let words = |args: Vec<OsString>| args.iter().map(|a| a.to_string_lossy().to_string()).collect::<Vec<_>>();
        let path = Path::new("/state/disks/.d1.qcow2.partial");
        assert_eq!(
            words(create_args(path, 10 << 30, None)),
            ["create", "-q", "-f", "qcow2", "/state/disks/.d1.qcow2.partial", "10737418240"]
        );
        assert_eq!(
            words(create_args(path, 1 << 30, Some((Path::new("/img/base.qcow2"), "qcow2")))),
            [
                "create",
                "-q",
                "-f",
                "qcow2",
                "-F",
                "qcow2",
                "-b",
                "/img/base.qcow2",
                "/state/disks/.d1.qcow2.partial",
                "1073741824"
            ]
        );
    }

    #[test]
    fn sidecar_paths_resolve_relative_to_the_image() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().join("img.qcow2");
        assert_eq!(BootInfo::sidecar_path(&base), dir.path().join("img.qcow2.boot.json"));
        assert_eq!(BootInfo::load_for(&base).unwrap(), None);
        std::fs::write(dir.path().join("vmlinuz"), b"k").unwrap();
        let info = BootInfo {
            kernel: Some("vmlinuz".into()),
            append: Some("console=ttyS0".into()),
            disk_bus: Some(DiskBus::Nvme),
            ..Default::default()
        };
        info.write_for(&base).unwrap();
        let text = std::fs::read_to_string(BootInfo::sidecar_path(&base)).unwrap();
        assert!(text.contains("\"disk_bus\": \"nvme\""), "{text}");
        let loaded = BootInfo::load_for(&base).unwrap().unwrap();
        assert_eq!(loaded.kernel, Some(dir.path().join("vmlinuz")));
        assert_eq!(loaded.bus(), DiskBus::Nvme);
        std::fs::write(BootInfo::sidecar_path(&base), br#"{"kernel": "missing"}"#).unwrap();
        assert!(BootInfo::load_for(&base).unwrap_err().contains("does not exist"));
        std::fs::write(BootInfo::sidecar_path(&base), br#"{"append": "x"}"#).unwrap();
        assert!(BootInfo::load_for(&base).unwrap_err().contains("need a kernel"));
    }
}
