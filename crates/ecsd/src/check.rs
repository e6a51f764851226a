//! `ecsd check`: offline verification of a data directory.
//!
//! It takes the directory's lock, so it never runs beside a live service (whose writes would
//! make its findings moot); and it opens everything read-only, so checking changes nothing but
//! the lock file. Where start-up checks only what costs the same at any size, this reads every
//! page and record.

use crate::accounts;
use crate::datadir::{self, DataDir, DB_FILE, ID_FILE};
use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::Path;

/// Exit status: the directory is sound (unfinished operations included: they resume).
pub const HEALTHY: i32 = 0;
/// Exit status: damage was found; the report names it.
pub const DAMAGED: i32 = 1;
/// Exit status: the check could not run (no such directory, or a service is using it).
pub const COULD_NOT_RUN: i32 = 2;

/// Unfinished operations listed one by one at most; the rest are counted.
const LISTED: usize = 20;

/// Checks `root`, prints the report on stdout (or why it could not run on stderr), and returns
/// the exit status.
pub fn run(root: &Path) -> i32 {
    if !root.is_dir() {
        eprintln!("ecsd check: {} is not a directory", root.display());
        return COULD_NOT_RUN;
    }
    let _lock = match DataDir::lock(root) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("ecsd check: {e}");
            return COULD_NOT_RUN;
        }
    };
    let r = check(root);
    print!("{}", r.text(root));
    if r.problems.is_empty() {
        HEALTHY
    } else {
        DAMAGED
    }
}

/// What the check found: a line per part, and the problems (damage) and notes (normal but
/// worth saying) among them.
#[derive(Debug, Default)]
struct Report {
    lines: Vec<(&'static str, String)>,
    problems: Vec<String>,
    notes: Vec<String>,
}

impl Report {
    fn line(&mut self, part: &'static str, text: impl Into<String>) {
        self.lines.push((part, text.into()));
    }

    fn text(&self, root: &Path) -> String {
        let mut out = format!("ecsd check: data directory {}\n", root.display());
        for (part, text) in &self.lines {
            let _ = writeln!(out, "  {:<11} {text}", format!("{part}:"));
        }
        for n in &self.notes {
            let _ = writeln!(out, "  note: {n}");
        }
        if self.problems.is_empty() {
            out.push_str("healthy\n");
        } else {
            let _ = writeln!(out, "DAMAGED: {} problem(s)", self.problems.len());
            for p in &self.problems {
                let _ = writeln!(out, "  - {p}");
            }
            out.push_str(
                "What to do: do not start ecsd on this directory as it is. Restore it from a backup (the \
                 whole directory, or the damaged file with ecsd.db-wal beside ecsd.db); to start afresh \
                 instead, move the directory away and start on an empty one.\n",
            );
        }
        out
    }
}

fn check(root: &Path) -> Report {
    let mut r = Report::default();
    let traces = datadir::traces(root);
    let marker = datadir::read_id(root).unwrap_or_else(|e| {
        r.problems.push(e);
        None
    });
    let db = root.join(DB_FILE);
    let size = std::fs::metadata(&db).map(|m| m.len()).ok();
    let rows = match size {
        None | Some(0) => {
            let what = if size.is_none() { "missing" } else { "empty (0 bytes)" };
            if traces.is_empty() {
                r.line("database", format!("{DB_FILE} {what}: a new directory, nothing to check"));
                return r;
            }
            r.line("database", format!("{DB_FILE} {what}"));
            r.problems
                .push(format!("{DB_FILE} is {what}, but the directory has been used (it holds {})", traces.join(", ")));
            Rows { volumes: Some(BTreeSet::new()), unfinished: 0, owned: false }
        }
        Some(bytes) => database(&mut r, &db, bytes, marker.as_deref()),
    };
    account(&mut r, root, &rows);
    driver(&mut r, root, &rows);
    r
}

/// What the disk comparison needs from the database.
#[derive(Default)]
struct Rows {
    /// `None` when they could not be read: then there is nothing to compare the disks with.
    volumes: Option<BTreeSet<String>>,
    /// Operations in flight: with any, the disks may differ from the rows until they resume.
    unfinished: usize,
    /// Servers or key pairs are there, which only the directory's own account sees.
    owned: bool,
}

/// The database: integrity, schema, records, identity and unfinished operations.
fn database(r: &mut Report, db: &Path, bytes: u64, marker: Option<&str>) -> Rows {
    let found = match ecs_store::sqlite::inspect(db) {
        Ok(f) => f,
        Err(e) => {
            r.line("database", format!("{DB_FILE}: cannot be opened"));
            r.problems.push(format!("{DB_FILE}: {e}"));
            return Rows::default();
        }
    };
    let version = found.schema_version.map(|v| format!("schema version {v}")).unwrap_or("no schema version".into());
    let count = |n: Option<usize>, what: &str| match n {
        Some(n) => format!("{n} {what}"),
        None => format!("{what} unreadable"),
    };
    r.line(
        "database",
        format!(
            "{DB_FILE} ({} KiB), {version}, {}, {}, {}; integrity {}",
            bytes / 1024,
            count(found.servers, "servers"),
            count(found.volumes.as_ref().map(|v| v.len()), "volumes"),
            count(found.jobs, "jobs"),
            if found.problems.is_empty() { "ok" } else { "NOT ok" }
        ),
    );
    r.problems.extend(found.problems.iter().map(|p| format!("{DB_FILE}: {p}")));
    if found.schema_version.is_none() {
        // Nothing more can be read from it: an id comparison would only repeat the damage.
        r.line("identity", "unknown: the database cannot be read");
        return Rows::default();
    }
    match (found.data_dir_id.as_deref(), marker) {
        (Some(a), Some(b)) if a == b => r.line("identity", format!("{a} (in {DB_FILE} and {ID_FILE})")),
        (Some(a), Some(b)) => {
            r.line("identity", format!("{DB_FILE} says {a}, {ID_FILE} says {b}"));
            r.problems.push(format!("{DB_FILE} belongs to another data directory ({a}, not {b})"));
        }
        (Some(a), None) => {
            r.line("identity", format!("{a} (in {DB_FILE})"));
            r.notes.push(format!("{ID_FILE} is missing; the next start writes it again from {DB_FILE}"));
        }
        (None, Some(b)) => {
            r.line("identity", format!("{ID_FILE} says {b}, {DB_FILE} has no id"));
            r.problems.push(format!("{DB_FILE} carries no data directory id, but {ID_FILE} says {b}"));
        }
        (None, None) => {
            r.line("identity", "none yet");
            r.notes.push("the directory has no id yet (an older ecsd made it); the next start gives it one".into());
        }
    }
    match found.unfinished.len() {
        0 => r.line("operations", "none unfinished"),
        n => {
            let mut listed: Vec<String> =
                found.unfinished.iter().take(LISTED).map(|(id, kind)| format!("{id} ({kind})")).collect();
            if n > LISTED {
                listed.push(format!("and {} more", n - LISTED));
            }
            // Normal after a crash or a kill: the saga log is what lets them finish.
            r.line("operations", format!("{n} unfinished, will resume at the next start: {}", listed.join(", ")));
        }
    }
    let owned = found.servers.unwrap_or(1) > 0 || found.keypairs.unwrap_or(1) > 0;
    Rows { volumes: found.volumes, unfinished: found.unfinished.len(), owned }
}

fn account(r: &mut Report, root: &Path, rows: &Rows) {
    let path = root.join(accounts::SAVED);
    match accounts::read_saved(&path) {
        Ok(Some(a)) => r.line("account", format!("{}: project {}, user {}", accounts::SAVED, a.project_id, a.user_id)),
        // Nothing a project owns yet (images only): the first start generates it.
        Ok(None) if !rows.owned => r.line("account", format!("{} not written yet", accounts::SAVED)),
        Ok(None) => {
            r.line("account", format!("{} missing", accounts::SAVED));
            r.problems.push(format!(
                "{} is missing: ecsd starts only with HUAWEICLOUD_SDK_AK, _SK and _PROJECT_ID naming the account \
                 the servers belong to",
                accounts::SAVED
            ));
        }
        Err(e) => {
            r.line("account", format!("{} unreadable", accounts::SAVED));
            r.problems.push(e);
        }
    }
}

/// The driver's state, and whether its disks are exactly the volume rows.
fn driver(r: &mut Report, root: &Path, rows: &Rows) {
    let sim = root.join("sim");
    let qemu_disks = root.join("qemu").join("disks");
    let disks: BTreeSet<String> = if sim.join("state.jsonl").exists() {
        match ecs_driver::sim::SimState::load(&sim) {
            Ok(s) => {
                r.line("driver", format!("sim/state.jsonl: {} disks, {} VMs", s.disks.len(), s.vms.len()));
                s.disks.into_keys().collect()
            }
            Err(e) => {
                r.line("driver", "sim/state.jsonl unreadable");
                r.problems.push(format!("sim/state.jsonl: {e}"));
                return;
            }
        }
    } else if qemu_disks.is_dir() {
        match qcow2_ids(&qemu_disks) {
            Ok(d) => {
                r.line("driver", format!("qemu/disks: {} disks (system and data)", d.len()));
                d
            }
            Err(e) => {
                r.line("driver", "qemu/disks unreadable");
                r.problems.push(format!("{}: {e}", qemu_disks.display()));
                return;
            }
        }
    } else {
        r.line("driver", "no driver state yet");
        BTreeSet::new()
    };
    let Some(volumes) = &rows.volumes else {
        r.line("disks", "not compared: the volume rows cannot be read");
        return;
    };
    let missing: Vec<&String> = volumes.difference(&disks).collect();
    let orphaned: Vec<&String> = disks.difference(volumes).collect();
    if missing.is_empty() && orphaned.is_empty() {
        r.line("disks", "the driver's disks are exactly the volume rows");
        return;
    }
    let mut found = Vec::new();
    if !missing.is_empty() {
        found.push(format!("{} volume(s) without a disk: {}", missing.len(), list(&missing)));
    }
    if !orphaned.is_empty() {
        found.push(format!("{} disk(s) without a volume row: {}", orphaned.len(), list(&orphaned)));
    }
    let found = found.join("; ");
    r.line("disks", found.clone());
    // An operation in flight has made a disk it has not recorded yet, or recorded one it has
    // not made: its saga settles that when it resumes. With none in flight, a difference is
    // damage (the crash test holds the two equal after every recovery).
    if rows.unfinished > 0 {
        r.notes.push(format!("{found} (the unfinished operations may account for this)"));
    } else {
        r.problems.push(format!("the driver's disks do not match the volume rows: {found}"));
    }
}

fn list(ids: &[&String]) -> String {
    let mut s: Vec<&str> = ids.iter().take(LISTED).map(|s| s.as_str()).collect();
    let more = ids.len().saturating_sub(LISTED);
    let more = format!("and {more} more");
    if ids.len() > LISTED {
        s.push(&more);
    }
    s.join(", ")
}

/// The disk ids of `qemu/disks/<id>.qcow2`.
fn qcow2_ids(dir: &Path) -> std::io::Result<BTreeSet<String>> {
    let mut ids = BTreeSet::new();
    for e in std::fs::read_dir(dir)? {
        let p = e?.path();
        if p.extension().is_some_and(|x| x == "qcow2") {
            if let Some(stem) = p.file_stem().and_then(|s| s.to_str()) {
                ids.insert(stem.to_string());
            }
        }
    }
    Ok(ids)
}
