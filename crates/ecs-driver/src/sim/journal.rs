//! The simulated driver's records kept in a journal file, for a node on its own (SQLite).
//!
//! Every change is appended to `state.jsonl` (one JSON record a line) before it is applied in
//! memory, so a process killed at any moment finds on restart exactly the changes it made; the
//! journal is compacted to one line per object when the driver opens it and when it grows past
//! a few times that. An append cut short (a full disk) is cut back off before the verb fails,
//! so a record never follows half of another; a whole line that does not parse is damage, and
//! the driver refuses to open such a journal rather than guess. One append per change replaced
//! one small file per object (written and renamed into place), whose inode work in the kernel
//! was a fifth of ecsd's CPU in the reinstall benchmark.

use super::{SimDisk, SimRecords, SimState, SimVm};
use crate::DriverError;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// One line of the journal.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
enum Record {
    Disk(SimDisk),
    DiskGone { disk_id: String },
    Vm(SimVm),
    VmGone { server_id: String },
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

pub(super) struct Journal {
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
    pub(super) short_write: Option<usize>,
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

/// The journal-backed records of a driver rooted at a directory.
pub struct JournalRecords {
    root: PathBuf,
    pub(super) journal: Mutex<Journal>,
}

fn io(what: &str, e: std::io::Error) -> DriverError {
    DriverError::io(&format!("sim driver: {what}"), &e)
}

fn journal_path(root: &Path) -> PathBuf {
    root.join("state.jsonl")
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

impl JournalRecords {
    /// The records kept under `root` (created if missing), replayed from its journal.
    pub fn open(root: impl AsRef<Path>) -> Result<Self, DriverError> {
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
        Ok(JournalRecords { root, journal: Mutex::new(journal) })
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
}

#[async_trait]
impl SimRecords for JournalRecords {
    async fn disk(&self, id: &str) -> Result<Option<SimDisk>, DriverError> {
        self.read(|s| s.disks.get(id).cloned())
    }
    async fn put_disk(&self, disk: SimDisk) -> Result<(), DriverError> {
        self.record(Record::Disk(disk))
    }
    async fn delete_disk(&self, id: &str) -> Result<(), DriverError> {
        if !self.read(|s| s.disks.contains_key(id))? {
            return Ok(());
        }
        self.record(Record::DiskGone { disk_id: id.to_string() })
    }
    async fn disk_ids(&self) -> Result<Vec<String>, DriverError> {
        self.read(|s| s.disks.keys().cloned().collect())
    }
    async fn vm(&self, id: &str) -> Result<Option<SimVm>, DriverError> {
        self.read(|s| s.vms.get(id).cloned())
    }
    async fn put_vm(&self, vm: SimVm) -> Result<(), DriverError> {
        self.record(Record::Vm(vm))
    }
    async fn delete_vm(&self, id: &str) -> Result<(), DriverError> {
        if !self.read(|s| s.vms.contains_key(id))? {
            return Ok(());
        }
        self.record(Record::VmGone { server_id: id.to_string() })
    }
    async fn state(&self) -> Result<SimState, DriverError> {
        self.read(SimState::clone)
    }
}
