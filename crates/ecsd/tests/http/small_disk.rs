//! A small filesystem mounted by a test, so that a full disk is a real one (`ENOSPC` from the
//! kernel), not a simulation of it.
//!
//! It is an ext4 image on a loop device where that can be had, so that `fsync` costs what it
//! costs on a disk (on a tmpfs it costs nothing, and the crash test's timing would change
//! with it), else a tmpfs. Mounting needs root: where it is refused, the tests that need it say
//! so and skip, unless `ECSD_REQUIRE_SMALL_DISK=1` (set by CI), where they fail instead.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// A mounted filesystem; unmounted when dropped (drop it after the processes using it).
pub struct SmallDisk {
    path: PathBuf,
}

fn run(cmd: &mut Command) -> Result<(), String> {
    match cmd.stdout(Stdio::null()).output() {
        Ok(o) if o.status.success() => Ok(()),
        Ok(o) => Err(String::from_utf8_lossy(&o.stderr).trim().to_string()),
        Err(e) => Err(e.to_string()),
    }
}

impl SmallDisk {
    /// Mounts a filesystem of `mib` MiB at `path` (created if missing); its image, if any, is
    /// `image`. `None`, after saying why, where this process may not mount.
    pub fn mount(path: &Path, image: &Path, mib: u32) -> Option<SmallDisk> {
        std::fs::create_dir_all(path).expect("mount point");
        let ext4 = std::fs::File::create(image)
            .and_then(|f| f.set_len(u64::from(mib) << 20))
            .map_err(|e| e.to_string())
            .and_then(|_| run(Command::new("mkfs.ext4").args(["-q", "-F", "-m", "0"]).arg(image)))
            .and_then(|_| run(Command::new("mount").args(["-o", "loop"]).arg(image).arg(path)));
        let mounted = ext4.or_else(|loop_err| {
            let _ = std::fs::remove_file(image);
            run(Command::new("mount").args(["-t", "tmpfs", "-o", &format!("size={mib}m"), "tmpfs"]).arg(path))
                .map_err(|e| format!("loop-mounted ext4: {loop_err}; tmpfs: {e}"))
        });
        match mounted {
            Ok(()) => Some(SmallDisk { path: path.to_path_buf() }),
            Err(why) => {
                assert!(
                    std::env::var("ECSD_REQUIRE_SMALL_DISK").as_deref() != Ok("1"),
                    "ECSD_REQUIRE_SMALL_DISK=1 but no small filesystem can be mounted: {why}"
                );
                eprintln!(
                    "SKIPPED: cannot mount a small filesystem to fill up ({why}); run as root to test a full disk"
                );
                None
            }
        }
    }

    fn filler(&self) -> PathBuf {
        self.path.join("filler")
    }

    /// Fills the filesystem to the last byte: big writes first, then small ones, until the
    /// kernel answers "no space left".
    pub fn fill(&self) {
        let mut f = std::fs::OpenOptions::new().create(true).append(true).open(self.filler()).expect("filler");
        for chunk in [1 << 20, 64 << 10, 4 << 10, 512, 1] {
            let buf = vec![0xa5u8; chunk];
            // Bounded: the filesystems here are at most a few hundred MiB.
            for _ in 0..4096 {
                match f.write_all(&buf) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::StorageFull => break,
                    Err(e) => panic!("filling the small disk: {e}"),
                }
            }
        }
    }

    /// Frees what [`SmallDisk::fill`] took.
    pub fn free(&self) {
        std::fs::remove_file(self.filler()).expect("remove the filler");
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        // A store the test opened may still be closing its files on its own threads.
        for _ in 0..50 {
            if run(Command::new("umount").arg(&self.path)).is_ok() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        // Still busy: detach it now; the kernel frees it once the last file is closed.
        let _ = run(Command::new("umount").arg("-l").arg(&self.path));
    }
}
