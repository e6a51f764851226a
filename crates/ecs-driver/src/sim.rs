//! The simulated driver: disks and VMs are records kept in memory and in a journal file.
//!
//! Nothing boots, but everything a saga does leaves a durable, inspectable trace: a disk records
//! the image it was built from and what was injected into it; a VM records its power state and
//! boot disk. Every change is appended to `state.jsonl` (one JSON record a line) before it is
//! applied in memory, so a process killed at any moment finds on restart exactly the changes it
//! made; the journal is compacted to one line per object when the driver opens it and when it
//! grows past a few times that. An append cut short (a full disk) is cut back off before the
//! verb fails, so a record never follows half of another; a whole line that does not parse is
//! damage, and the driver refuses to open such a journal rather than guess. One append per
//! change replaced one small file per object (written and renamed into place), whose inode work
//! in the kernel was a fifth of ecsd's CPU in the reinstall benchmark. Each verb sleeps for a configurable time, zero for tests and a
//! few seconds to feel real.

use crate::{ComputeDriver, DiskSpec, DriverError, Injection, Power, VmSpec};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

/// A simulated disk's content.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimDisk {
    pub disk_id: String,
    /// The image it was built from; empty for a blank disk.
    pub image_id: String,
    pub size_gb: i64,
    pub injection: Option<Injection>,
}

/// A simulated VM.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimVm {
    pub server_id: String,
    pub running: bool,
    pub boot_disk: Option<String>,
    /// The data disks it was last started with, in device order (left out of the journal when
    /// there are none, so records of servers without data disks read as before).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub data_disks: Vec<String>,
    pub boots: u64,
    /// The vCPUs and memory (MiB) it was last started with; 0 in journals written before they
    /// were recorded.
    #[serde(default)]
    pub vcpus: i64,
    #[serde(default)]
    pub ram_mb: i64,
}

/// One line of the journal.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
enum Record {
    Disk(SimDisk),
    DiskGone { disk_id: String },
    Vm(SimVm),
    VmGone { server_id: String },
}

/// Every disk and VM, as replayed from the journal.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct SimState {
    pub disks: BTreeMap<String, SimDisk>,
    pub vms: BTreeMap<String, SimVm>,
}

impl SimState {
    fn apply(&mut self, r: Record) {
        match r {
            Record::Disk(d) => {
                self.disks.insert(d.disk_id.clone(), d);
            }
            Record::DiskGone { disk_id } => {
                self.disks.remove(&disk_id);
            }
            Record::Vm(v) => {
                self.vms.insert(v.server_id.clone(), v);
            }
            Record::VmGone { server_id } => {
                self.vms.remove(&server_id);
            }
        }
    }

    fn objects(&self) -> usize {
        self.disks.len() + self.vms.len()
    }

    /// Reads the state a driver rooted at `root` left behind (also for tests and invariant
    /// checks from outside the process). A torn last line (power lost mid-append) is ignored;
    /// a damaged line anywhere is an error naming it.
    pub fn load(root: &Path) -> Result<SimState, DriverError> {
        Ok(Self::replay(root)?.0)
    }

    /// The state, the number of journal lines it came from, and the length of the journal up
    /// to the end of its last whole line.
    ///
    /// Only the last line may be incomplete: it is the one append that can have been cut short
    /// by a crash or a power loss, and its verb never reported success, so nothing relied on
    /// it. A complete line that does not parse cannot come from an append of ours (a short
    /// write is cut off before the next append), so it is damage: skipping it would lose a
    /// disk or a VM the store still refers to, and cutting the journal there would lose every
    /// later change, which is what a full disk once did.
    fn replay(root: &Path) -> Result<(SimState, usize, u64), DriverError> {
        let mut state = SimState::default();
        let path = journal_path(root);
        let file = match File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((state, 0, 0)),
            Err(e) => return Err(io("open the journal", e)),
        };
        let (mut lines, mut valid) = (0usize, 0u64);
        let mut reader = BufReader::with_capacity(1 << 20, file);
        let mut line = Vec::new();
        loop {
            line.clear();
            let n = reader.read_until(b'\n', &mut line).map_err(|e| io("read the journal", e))?;
            if n == 0 || line.last() != Some(&b'\n') {
                break;
            }
            match serde_json::from_slice::<Record>(&line) {
                Ok(r) => state.apply(r),
                Err(e) => {
                    return Err(DriverError::system(format!(
                        "sim driver: the journal {} is damaged: line {} (at byte {valid}) is not a record ({e}); \
                         restore the data directory from a backup",
                        path.display(),
                        lines + 1,
                    )))
                }
            }
            lines += 1;
            valid += n as u64;
        }
        Ok((state, lines, valid))
    }
}

struct Journal {
    file: File,
    /// Bytes of whole records in the file: where the next record starts.
    len: u64,
    /// An append failed and what it wrote could not be cut off yet: the next append must
    /// first cut the file back to `len`.
    torn: bool,
    /// Lines in the file, to decide when to compact it.
    lines: usize,
    /// Lines beyond which the next compaction is tried (pushed on after one failed).
    compact_at: usize,
    state: SimState,
    /// Tests: the next append writes this many bytes, then fails as a full disk would.
    #[cfg(test)]
    short_write: Option<usize>,
}

impl Journal {
    /// Appends one record. A write cut short (a full disk) is cut back off before the error
    /// is returned, so the next record never follows half of this one; if even the cut fails,
    /// appends are refused until a later one manages it.
    fn append(&mut self, bytes: &[u8]) -> Result<(), DriverError> {
        if self.torn {
            self.file.set_len(self.len).map_err(|e| io("cut a torn record off the journal", e))?;
            self.torn = false;
        }
        if let Err(e) = self.write(bytes) {
            self.torn = self.file.set_len(self.len).is_err();
            return Err(io("append to the journal", e));
        }
        self.len += bytes.len() as u64;
        Ok(())
    }

    fn write(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        #[cfg(test)]
        if let Some(n) = self.short_write.take() {
            self.file.write_all(&bytes[..n.min(bytes.len())])?;
            return Err(std::io::ErrorKind::StorageFull.into());
        }
        self.file.write_all(bytes)
    }
}

/// Journal lines below which it is never compacted while running.
const COMPACT_AT: usize = 10_000;

/// The simulated driver.
pub struct SimDriver {
    root: PathBuf,
    step: Duration,
    journal: Mutex<Journal>,
}

fn io(what: &str, e: std::io::Error) -> DriverError {
    DriverError::io(&format!("sim driver: {what}"), &e)
}

fn journal_path(root: &Path) -> PathBuf {
    root.join("state.jsonl")
}

/// Ids are the keys of the journal: keep them to what ecsd generates.
fn safe(id: &str) -> Result<&str, DriverError> {
    if id.is_empty() || id.len() > 64 || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        return Err(DriverError::system(format!("sim driver: invalid id {id:?}")));
    }
    Ok(id)
}

fn line(r: &Record) -> Result<Vec<u8>, DriverError> {
    let mut b = serde_json::to_vec(r).map_err(|e| DriverError::system(e.to_string()))?;
    b.push(b'\n');
    Ok(b)
}

/// Writes the state as a fresh journal (one line per object) and puts it in place atomically;
/// returns it opened for appending, with its length. On failure (a full disk) the old journal
/// is left as it was and the partial copy removed.
fn compact(root: &Path, state: &SimState) -> Result<(File, u64), DriverError> {
    let tmp = root.join("state.jsonl.tmp");
    let mut out = Vec::with_capacity(state.objects() * 160);
    for d in state.disks.values() {
        out.extend(line(&Record::Disk(d.clone()))?);
    }
    for v in state.vms.values() {
        out.extend(line(&Record::Vm(v.clone()))?);
    }
    let written = File::create(&tmp).and_then(|mut f| f.write_all(&out).and_then(|_| f.sync_all()));
    if let Err(e) = written.and_then(|_| std::fs::rename(&tmp, journal_path(root))) {
        let _ = std::fs::remove_file(&tmp);
        return Err(io("rewrite the journal", e));
    }
    let file =
        std::fs::OpenOptions::new().append(true).open(journal_path(root)).map_err(|e| io("open the journal", e))?;
    Ok((file, out.len() as u64))
}

/// Opens the journal for appending, cutting it to `valid` bytes: a torn last line is cut off,
/// or the next append would be glued to it.
fn open_journal(root: &Path, valid: u64) -> Result<File, DriverError> {
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(journal_path(root))
        .map_err(|e| io("open the journal", e))?;
    file.set_len(valid).map_err(|e| io("truncate the journal", e))?;
    Ok(file)
}

impl SimDriver {
    /// A driver keeping its state under `root` (created if missing); each verb takes `step`.
    pub fn new(root: impl AsRef<Path>, step: Duration) -> Result<Self, DriverError> {
        let root = root.as_ref().to_path_buf();
        std::fs::create_dir_all(&root).map_err(|e| io("create state directory", e))?;
        let (state, lines, valid) = SimState::replay(&root)?;
        // Rewritten only when mostly history: with 100,000 servers the journal is tens of
        // megabytes, and rewriting it on every start would show in the start-up time. A
        // rewrite that fails (a full disk) leaves the long journal in use.
        let compacted = (lines > 2 * state.objects() + 1_000).then(|| compact(&root, &state));
        let (file, len, lines) = match compacted {
            Some(Ok((file, len))) => (file, len, state.objects()),
            Some(Err(e)) => {
                tracing::warn!(error = %e, "could not compact the simulated driver's journal; keeping it as it is");
                (open_journal(&root, valid)?, valid, lines)
            }
            None => (open_journal(&root, valid)?, valid, lines),
        };
        let journal = Journal {
            file,
            len,
            torn: false,
            lines,
            compact_at: COMPACT_AT,
            state,
            #[cfg(test)]
            short_write: None,
        };
        Ok(SimDriver { root, step, journal: Mutex::new(journal) })
    }

    async fn pause(&self) {
        if !self.step.is_zero() {
            tokio::time::sleep(self.step).await;
        }
    }

    /// Reads the current state under the lock.
    fn read<T>(&self, f: impl FnOnce(&SimState) -> T) -> Result<T, DriverError> {
        let j = self.journal.lock().map_err(|_| DriverError::system("sim driver: state lock poisoned"))?;
        Ok(f(&j.state))
    }

    /// Appends a change to the journal, then applies it. The append reaches the kernel before
    /// this returns (no user-space buffer), which is what survives a killed process; like the
    /// rest of the simulation it is not flushed to the device.
    fn record(&self, r: Record) -> Result<(), DriverError> {
        let bytes = line(&r)?;
        let mut j = self.journal.lock().map_err(|_| DriverError::system("sim driver: state lock poisoned"))?;
        j.append(&bytes)?;
        j.lines += 1;
        j.state.apply(r);
        if j.lines > j.compact_at && j.lines > 2 * j.state.objects() {
            // The change is recorded already; a rewrite that fails (a full disk) only postpones
            // compaction, and is not tried again at every change meanwhile.
            match compact(&self.root, &j.state) {
                Ok((file, len)) => {
                    j.file = file;
                    j.len = len;
                    j.lines = j.state.objects();
                    j.compact_at = COMPACT_AT;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "could not compact the simulated driver's journal");
                    j.compact_at = j.lines + COMPACT_AT;
                }
            }
        }
        Ok(())
    }

    /// Refuses a VM whose disks are not all there, as a real driver would fail to attach them.
    fn check_disks(&self, spec: &VmSpec) -> Result<(), DriverError> {
        let missing = self.read(|s| {
            let boot = (!s.disks.contains_key(&spec.boot_disk)).then(|| format!("boot disk {}", spec.boot_disk));
            boot.or_else(|| {
                spec.data_disks.iter().find(|d| !s.disks.contains_key(*d)).map(|d| format!("data disk {d}"))
            })
        })?;
        match missing {
            Some(what) => Err(DriverError::system(format!("{what} does not exist"))),
            None => Ok(()),
        }
    }

    /// A disk's content (tests and invariant checks).
    pub async fn disk(&self, id: &str) -> Result<Option<SimDisk>, DriverError> {
        self.read(|s| s.disks.get(id).cloned())
    }

    /// A VM's state (tests and invariant checks).
    pub async fn vm(&self, id: &str) -> Result<Option<SimVm>, DriverError> {
        self.read(|s| s.vms.get(id).cloned())
    }
}

#[async_trait]
impl ComputeDriver for SimDriver {
    fn name(&self) -> &'static str {
        "sim"
    }

    async fn disk_create(&self, spec: &DiskSpec) -> Result<(), DriverError> {
        safe(&spec.disk_id)?;
        if self.read(|s| s.disks.contains_key(&spec.disk_id))? {
            return Ok(());
        }
        self.pause().await;
        self.record(Record::Disk(SimDisk {
            disk_id: spec.disk_id.clone(),
            image_id: spec.image_id.clone().unwrap_or_default(),
            size_gb: spec.size_gb,
            injection: None,
        }))
    }

    async fn disk_inject(&self, disk_id: &str, injection: &Injection) -> Result<(), DriverError> {
        let mut disk = self
            .disk(safe(disk_id)?)
            .await?
            .ok_or_else(|| DriverError::system(format!("sim driver: disk {disk_id} does not exist")))?;
        self.pause().await;
        disk.injection = Some(injection.clone());
        self.record(Record::Disk(disk))
    }

    async fn disk_delete(&self, disk_id: &str) -> Result<(), DriverError> {
        let disk_id = safe(disk_id)?;
        if !self.read(|s| s.disks.contains_key(disk_id))? {
            return Ok(());
        }
        self.pause().await;
        self.record(Record::DiskGone { disk_id: disk_id.to_string() })
    }

    async fn disk_list(&self) -> Result<Vec<String>, DriverError> {
        self.read(|s| s.disks.keys().cloned().collect())
    }

    async fn vm_start(&self, spec: &VmSpec) -> Result<(), DriverError> {
        safe(&spec.server_id)?;
        self.check_disks(spec)?;
        let mut vm = self.vm(&spec.server_id).await?.unwrap_or(SimVm {
            server_id: spec.server_id.clone(),
            running: false,
            boot_disk: None,
            data_disks: Vec::new(),
            boots: 0,
            vcpus: 0,
            ram_mb: 0,
        });
        // A running VM keeps its disks and size: a start on another disk or flavor is a
        // restart, as the real driver's is.
        let same = vm.boot_disk.as_deref() == Some(spec.boot_disk.as_str())
            && vm.data_disks == spec.data_disks
            && (vm.vcpus, vm.ram_mb) == (spec.vcpus, spec.ram_mb);
        if vm.running && same {
            return Ok(());
        }
        self.pause().await;
        vm.running = true;
        vm.boot_disk = Some(spec.boot_disk.clone());
        vm.data_disks = spec.data_disks.clone();
        (vm.vcpus, vm.ram_mb) = (spec.vcpus, spec.ram_mb);
        vm.boots += 1;
        self.record(Record::Vm(vm))
    }

    async fn vm_stop(&self, server_id: &str, _force: bool) -> Result<(), DriverError> {
        let Some(mut vm) = self.vm(safe(server_id)?).await? else { return Ok(()) };
        if !vm.running {
            return Ok(());
        }
        self.pause().await;
        vm.running = false;
        self.record(Record::Vm(vm))
    }

    async fn vm_reboot(&self, spec: &VmSpec, _hard: bool) -> Result<(), DriverError> {
        self.pause().await;
        let mut vm = self
            .vm(safe(&spec.server_id)?)
            .await?
            .ok_or_else(|| DriverError::system(format!("no VM for server {}", spec.server_id)))?;
        self.check_disks(spec)?;
        vm.running = true;
        vm.boot_disk = Some(spec.boot_disk.clone());
        vm.data_disks = spec.data_disks.clone();
        (vm.vcpus, vm.ram_mb) = (spec.vcpus, spec.ram_mb);
        vm.boots += 1;
        self.record(Record::Vm(vm))
    }

    async fn vm_destroy(&self, server_id: &str) -> Result<(), DriverError> {
        let server_id = safe(server_id)?;
        if !self.read(|s| s.vms.contains_key(server_id))? {
            return Ok(());
        }
        self.record(Record::VmGone { server_id: server_id.to_string() })
    }

    async fn vm_power(&self, server_id: &str) -> Result<Power, DriverError> {
        self.read(|s| match s.vms.get(server_id) {
            Some(vm) if vm.running => Power::Running,
            Some(_) => Power::Stopped,
            None => Power::Absent,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn driver() -> (tempfile::TempDir, SimDriver) {
        let d = tempfile::tempdir().unwrap();
        let s = SimDriver::new(d.path(), Duration::ZERO).unwrap();
        (d, s)
    }

    fn spec(id: &str) -> DiskSpec {
        DiskSpec::from_image(id, "img", None, 40)
    }

    #[tokio::test]
    async fn every_verb_is_idempotent() {
        let (_d, s) = driver();
        s.disk_create(&spec("d1")).await.unwrap();
        s.disk_create(&spec("d1")).await.unwrap();
        let inj = Injection { public_key: Some("ssh-ed25519 AAAA k".into()), ..Default::default() };
        s.disk_inject("d1", &inj).await.unwrap();
        s.disk_inject("d1", &inj).await.unwrap();
        assert_eq!(s.disk("d1").await.unwrap().unwrap().injection, Some(inj));
        let vm = VmSpec { server_id: "s1".into(), boot_disk: "d1".into(), data_disks: vec![], vcpus: 1, ram_mb: 1024 };
        s.vm_start(&vm).await.unwrap();
        s.vm_start(&vm).await.unwrap();
        assert_eq!(s.vm("s1").await.unwrap().unwrap().boots, 1);
        assert_eq!(s.vm_power("s1").await.unwrap(), Power::Running);
        s.vm_stop("s1", false).await.unwrap();
        s.vm_stop("s1", false).await.unwrap();
        assert_eq!(s.vm_power("s1").await.unwrap(), Power::Stopped);
        s.disk_delete("d1").await.unwrap();
        s.disk_delete("d1").await.unwrap();
        assert!(s.disk_list().await.unwrap().is_empty());
        s.vm_destroy("s1").await.unwrap();
        s.vm_destroy("s1").await.unwrap();
        assert_eq!(s.vm_power("s1").await.unwrap(), Power::Absent);
    }

    #[tokio::test]
    async fn blank_data_disks_are_attached_in_order_and_must_exist() {
        let (d, s) = driver();
        s.disk_create(&spec("sys")).await.unwrap();
        s.disk_create(&DiskSpec::blank("data-1", 10)).await.unwrap();
        s.disk_create(&DiskSpec::blank("data-1", 10)).await.unwrap();
        let blank = s.disk("data-1").await.unwrap().unwrap();
        assert_eq!((blank.image_id.as_str(), blank.size_gb, blank.injection), ("", 10, None));
        let mut vm = VmSpec {
            server_id: "s1".into(),
            boot_disk: "sys".into(),
            data_disks: vec!["data-1".into(), "data-2".into()],
            vcpus: 1,
            ram_mb: 1024,
        };
        assert!(s.vm_start(&vm).await.unwrap_err().message.contains("data disk data-2 does not exist"));
        assert_eq!(s.vm_power("s1").await.unwrap(), Power::Absent);
        s.disk_create(&DiskSpec::blank("data-2", 20)).await.unwrap();
        s.vm_start(&vm).await.unwrap();
        s.vm_start(&vm).await.unwrap();
        let running = s.vm("s1").await.unwrap().unwrap();
        assert_eq!((running.data_disks, running.boots), (vec!["data-1".to_string(), "data-2".to_string()], 1));
        // Other disks: started again on them.
        vm.data_disks.pop();
        s.vm_start(&vm).await.unwrap();
        assert_eq!(s.vm("s1").await.unwrap().unwrap().boots, 2);
        // Journal lines of VMs without data disks are as they were.
        s.vm_start(&VmSpec { server_id: "s2".into(), data_disks: vec![], ..vm }).await.unwrap();
        let text = std::fs::read_to_string(d.path().join("state.jsonl")).unwrap();
        let last = text.lines().last().unwrap();
        assert!(last.contains("\"s2\"") && !last.contains("data_disks"), "{last}");
    }

    #[tokio::test]
    async fn a_vm_cannot_boot_a_missing_disk_and_ids_cannot_escape() {
        let (_d, s) = driver();
        let vm =
            VmSpec { server_id: "s1".into(), boot_disk: "nope".into(), data_disks: vec![], vcpus: 1, ram_mb: 1024 };
        assert!(s.vm_start(&vm).await.is_err());
        assert!(s.disk_create(&spec("../x")).await.is_err());
        assert!(s.disk_inject("missing", &Injection::default()).await.is_err());
    }

    #[tokio::test]
    async fn the_state_survives_a_restart_and_a_torn_last_line() {
        let (d, s) = driver();
        s.disk_create(&spec("d1")).await.unwrap();
        s.disk_create(&spec("d2")).await.unwrap();
        s.disk_delete("d1").await.unwrap();
        let vm = VmSpec { server_id: "s1".into(), boot_disk: "d2".into(), data_disks: vec![], vcpus: 1, ram_mb: 1024 };
        s.vm_start(&vm).await.unwrap();
        drop(s);
        // A power loss can leave half a line at the end: it is dropped, the rest is kept.
        let mut f = std::fs::OpenOptions::new().append(true).open(d.path().join("state.jsonl")).unwrap();
        f.write_all(br#"{"op":"disk_gone","disk_"#).unwrap();
        let s = SimDriver::new(d.path(), Duration::ZERO).unwrap();
        assert_eq!(s.disk_list().await.unwrap(), ["d2"]);
        assert_eq!(s.vm_power("s1").await.unwrap(), Power::Running);
        // Opening cut the torn line off, so the next append starts a line of its own.
        s.disk_delete("d2").await.unwrap();
        let state = SimState::load(d.path()).unwrap();
        assert!(state.disks.is_empty());
        assert_eq!(state.vms.len(), 1);
    }

    #[tokio::test]
    async fn an_append_cut_short_is_cut_off_and_the_records_after_it_are_kept() {
        let (d, s) = driver();
        s.disk_create(&spec("d1")).await.unwrap();
        // The disk fills up in the middle of the next record.
        s.journal.lock().unwrap().short_write = Some(17);
        let err = s.disk_create(&spec("d2")).await.unwrap_err();
        assert!(err.no_space, "a full disk is said as such: {err:?}");
        assert_eq!(s.disk_list().await.unwrap(), ["d1"], "a failed verb changed nothing");
        // Space is back: later changes follow the last whole record, not half of one.
        s.disk_create(&spec("d3")).await.unwrap();
        s.disk_delete("d1").await.unwrap();
        let text = std::fs::read_to_string(d.path().join("state.jsonl")).unwrap();
        assert_eq!(text.lines().count(), 3, "{text}");
        drop(s);
        let s = SimDriver::new(d.path(), Duration::ZERO).unwrap();
        assert_eq!(s.disk_list().await.unwrap(), ["d3"]);
    }

    #[tokio::test]
    async fn a_damaged_line_in_the_middle_is_refused_and_named() {
        let (d, s) = driver();
        for id in ["d1", "d2", "d3"] {
            s.disk_create(&spec(id)).await.unwrap();
        }
        drop(s);
        let path = d.path().join("state.jsonl");
        let mut lines: Vec<String> = std::fs::read_to_string(&path).unwrap().lines().map(String::from).collect();
        lines[1] = "\u{0}garbage{".into();
        std::fs::write(&path, lines.join("\n") + "\n").unwrap();
        for err in [SimDriver::new(d.path(), Duration::ZERO).err().unwrap(), SimState::load(d.path()).unwrap_err()] {
            assert!(err.message.contains("damaged") && err.message.contains("line 2"), "{err}");
        }
        // Nothing was cut: the damaged journal is still there for the operator to look at.
        assert_eq!(std::fs::read_to_string(&path).unwrap().lines().count(), 3);
    }

    #[tokio::test]
    async fn the_journal_is_compacted_as_it_grows() {
        let (d, s) = driver();
        s.disk_create(&spec("d1")).await.unwrap();
        let vm = VmSpec { server_id: "s1".into(), boot_disk: "d1".into(), data_disks: vec![], vcpus: 1, ram_mb: 1024 };
        for _ in 0..6_000 {
            s.vm_start(&vm).await.unwrap();
            s.vm_stop("s1", false).await.unwrap();
        }
        let lines = std::fs::read_to_string(d.path().join("state.jsonl")).unwrap().lines().count();
        assert!(lines <= 10_001, "{lines} lines for 2 objects");
        let state = SimState::load(d.path()).unwrap();
        assert_eq!(state.vms["s1"].boots, 6_000);
        assert!(!state.vms["s1"].running);
    }
}
