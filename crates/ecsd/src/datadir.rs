//! The data directory: one process at a time (an exclusive lock), and an identity, so that a
//! directory that has been used is never taken for a new one.
//!
//! Two processes on one directory would both resume the same sagas and run every step twice;
//! a database that went missing would be re-created empty while the driver still holds the
//! servers' disks. Both are refused here, before anything is written.

use ecs_store::{PgStore, SqliteStore, StoreError};
use std::fs::File;
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

/// The database, relative to the data directory.
pub const DB_FILE: &str = "ecsd.db";
/// Held locked by the process using the directory; says who that is.
pub const LOCK_FILE: &str = "ecsd.lock";
/// The directory's id, also kept in the database (`meta` row `data_dir_id`).
pub const ID_FILE: &str = "ecsd.id";

/// What a data directory holds once a service has used it, besides its database. Any of them
/// present means the directory is not new, whatever state the database is in.
const TRACES: &[&str] = &[ID_FILE, "account.json", "token.secret", "sim/state.jsonl", "qemu", "images"];

/// A data directory this process has locked: no other `ecsd` can use it until this value is
/// dropped or the process ends, however it ends.
#[derive(Debug)]
pub struct DataDir {
    root: PathBuf,
    // The lock is the open file itself: flock(2) locks belong to the open file, and the kernel
    // releases them when the process dies, SIGKILL included, so there is no stale lock to clean
    // up as there would be with a pid file. std opens files close-on-exec, so VMs and tools the
    // driver starts do not inherit (and keep) the lock.
    _lock: File,
}

impl DataDir {
    /// Locks the existing directory `root`, or says which process holds it.
    pub fn lock(root: &Path) -> Result<DataDir, String> {
        let path = root.join(LOCK_FILE);
        // Not truncated on open: until the lock is ours, what it says belongs to the holder.
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                return Err(in_use(root, &holder));
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(format!("cannot lock {}: {e}", path.display())),
        }
        // Written after locking, so that only the holder ever writes it; read only by a process
        // refused the lock, to name the holder.
        let me = format!(
            "pid: {}\nsince: {}\ncommand: {}\n",
            std::process::id(),
            ecs_model::timefmt::server_time(ecs_model::timefmt::now_ms()),
            std::env::args().collect::<Vec<_>>().join(" ")
        );
        file.set_len(0)
            .and_then(|_| file.rewind())
            .and_then(|_| file.write_all(me.as_bytes()))
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        Ok(DataDir { root: root.to_path_buf(), _lock: file })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }
}

/// The refusal of a second process, naming the holder from what it wrote into the lock file.
fn in_use(root: &Path, holder: &str) -> String {
    let field = |k: &str| holder.lines().find_map(|l| l.strip_prefix(k)).map(str::trim);
    let who = match (field("pid:"), field("since:"), field("command:")) {
        (Some(pid), since, command) => format!(
            "ecsd pid {pid}{}{}",
            since.map(|s| format!(", running since {s}")).unwrap_or_default(),
            command.map(|c| format!(", command `{c}`")).unwrap_or_default()
        ),
        // Locked but not written yet: the holder is between the two.
        _ => "another ecsd that is just starting".to_string(),
    };
    format!(
        "data directory {} is in use by {who}. One data directory serves one process: stop that \
         process first (or, to run a second service, give it a data directory of its own)",
        root.display()
    )
}

/// Whether the data directory holds what a project owns, and so needs the account it was
/// made with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum History {
    /// No server or key pair (a new directory, or one only images were imported into): an
    /// account may be generated.
    New,
    /// Servers or key pairs are there: a different account would not see them.
    Used,
}

/// The traces of use present in `root` (see [`TRACES`]).
pub fn traces(root: &Path) -> Vec<&'static str> {
    TRACES.iter().copied().filter(|t| root.join(t).exists()).collect()
}

/// The id in `ID_FILE`, if there is one.
pub fn read_id(root: &Path) -> Result<Option<String>, String> {
    let path = root.join(ID_FILE);
    match std::fs::read_to_string(&path) {
        Ok(s) if !s.trim().is_empty() => Ok(Some(s.trim().to_string())),
        Ok(_) => Err(format!("{} is empty", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("cannot read {}: {e}", path.display())),
    }
}

fn write_id(root: &Path, id: &str) -> Result<(), String> {
    let path = root.join(ID_FILE);
    let tmp = path.with_extension("id.tmp");
    std::fs::write(&tmp, format!("{id}\n"))
        .and_then(|_| std::fs::rename(&tmp, &path))
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// What to do about a database that is not there or not this directory's.
const RESTORE: &str = "Restore this directory's ecsd.db (with its ecsd.db-wal, if the backup has one) from a \
                       backup; to start afresh instead, move the whole directory away and start on an empty one";

/// Opens the directory's database, making sure it is this directory's: on a new directory it
/// is created and both it and `ID_FILE` get a new id; on a used one it must be there, sound
/// (the cheap checks of [`SqliteStore::open`]) and carry the id `ID_FILE` holds. A used
/// directory is never initialised again.
///
/// Callers that run as the service hold the directory's lock ([`DataDir::lock`]).
pub async fn open_store(root: &Path) -> Result<(SqliteStore, History), String> {
    let db = root.join(DB_FILE);
    let marker = read_id(root)?;
    let size = match std::fs::metadata(&db) {
        Ok(m) => Some(m.len()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(format!("cannot read {}: {e}", db.display())),
    };
    let traces = traces(root);
    let empty = size.is_none_or(|n| n == 0);
    if empty && !traces.is_empty() {
        let what = if size.is_none() { "is missing" } else { "is empty (0 bytes)" };
        return Err(format!(
            "{} {what}, but the data directory has been used (it holds {}): starting would begin \
             with no servers while the driver still holds their disks. {RESTORE}",
            db.display(),
            traces.join(", ")
        ));
    }
    let store = SqliteStore::open(&db).map_err(|e| match e {
        StoreError::Damaged(_) => {
            format!("{e}. `ecsd check --data-dir {}` reports every damaged page and record. {RESTORE}", root.display())
        }
        e => format!("cannot open the database: {e}"),
    })?;
    let id = store.data_dir_id().map_err(|e| format!("{}: cannot read its data directory id: {e}", db.display()))?;
    match (id, marker) {
        (Some(db_id), Some(dir_id)) if db_id == dir_id => {}
        (Some(db_id), Some(dir_id)) => {
            return Err(format!(
                "{} belongs to data directory {db_id}, but this directory is {dir_id} ({ID_FILE}): it was copied \
                 here from another data directory. {RESTORE}",
                db.display()
            ))
        }
        // The database is the authority; the file is only a trace of use, lost or never written
        // (a crash right after the database got its id). Put it back.
        (Some(db_id), None) => write_id(root, &db_id)?,
        (None, Some(dir_id)) => {
            return Err(format!(
                "{} carries no data directory id, but this directory is {dir_id} ({ID_FILE}): it is not this \
                 directory's database. {RESTORE}. If it is the right one (restored from before ids were \
                 recorded), delete {ID_FILE} and start again to adopt it",
                db.display()
            ))
        }
        // A new directory, or one from before ids: give both the same new id, the database first
        // (a crash between the two leaves the case above, which repairs itself).
        (None, None) => {
            let id = ecs_model::new_uuid();
            store.set_data_dir_id(&id).await.map_err(|e| format!("{}: {e}", db.display()))?;
            write_id(root, &id)?;
            if !empty {
                tracing::info!(data_dir = %root.display(), id = %id, "the data directory now has an id");
            }
        }
    }
    // Not "the database existed": `ecsd image build-demo` makes one before the first `serve`,
    // and that directory has no servers for a new account to hide.
    let history = match store.has_project_resources() {
        Ok(true) => History::Used,
        Ok(false) => History::New,
        Err(e) => return Err(format!("{}: {e}", db.display())),
    };
    Ok((store, history))
}

/// Opens the PostgreSQL database `url` in place of the directory's `ecsd.db` (the directory
/// still holds the lock, the driver's state and the account). The database carries no data
/// directory id: several nodes, each with a directory of its own, are to share it. The pool
/// keeps at most `pool` connections. A transaction of this node's left idle for a `lease` (the
/// node stalled in it) is ended by the server, so that its locks do not keep the other nodes
/// from adopting its operations.
pub async fn open_pg_store(url: &str, pool: usize, lease: std::time::Duration) -> Result<(PgStore, History), String> {
    let store =
        PgStore::open_for_node(url, pool, Some(lease)).await.map_err(|e| format!("cannot open the database: {e}"))?;
    let history = match store.has_project_resources().await {
        Ok(true) => History::Used,
        Ok(false) => History::New,
        Err(e) => return Err(format!("{}: {e}", store.describe())),
    };
    Ok((store, history))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_names_the_holder_and_the_lock_dies_with_its_holder() {
        let dir = tempfile::tempdir().unwrap();
        let first = DataDir::lock(dir.path()).unwrap();
        let refused = DataDir::lock(dir.path()).unwrap_err();
        assert!(refused.contains(&format!("pid {}", std::process::id())), "{refused}");
        assert!(refused.contains(&dir.path().display().to_string()), "{refused}");
        drop(first);
        DataDir::lock(dir.path()).expect("free again once the holder is gone");
    }

    #[tokio::test]
    async fn a_new_directory_gets_one_id_in_the_database_and_beside_it() {
        let dir = tempfile::tempdir().unwrap();
        let (store, history) = open_store(dir.path()).await.unwrap();
        assert_eq!(history, History::New);
        let id = store.data_dir_id().unwrap().expect("an id");
        assert_eq!(read_id(dir.path()).unwrap(), Some(id.clone()));
        drop(store);
        let (store, history) = open_store(dir.path()).await.unwrap();
        assert_eq!(history, History::New, "nothing a project owns in it yet");
        assert_eq!(store.data_dir_id().unwrap(), Some(id));
    }

    #[tokio::test]
    async fn a_used_directory_without_its_database_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        drop(open_store(dir.path()).await.unwrap());
        std::fs::remove_file(dir.path().join(DB_FILE)).unwrap();
        let e = open_store(dir.path()).await.err().expect("refused");
        assert!(e.contains("is missing") && e.contains(ID_FILE) && e.contains("Restore"), "{e}");
        assert!(!dir.path().join(DB_FILE).exists(), "nothing created in its place");
    }

    #[tokio::test]
    async fn another_directorys_database_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        drop(open_store(dir.path()).await.unwrap());
        // As if the database had been copied in from elsewhere: the ids no longer agree.
        write_id(dir.path(), "another-directory").unwrap();
        let e = open_store(dir.path()).await.err().expect("refused");
        assert!(e.contains("belongs to data directory") && e.contains("another-directory"), "{e}");
    }

    #[tokio::test]
    async fn a_database_from_before_ids_is_adopted_and_a_lost_id_file_put_back() {
        let dir = tempfile::tempdir().unwrap();
        // As an older ecsd left it: a database without an id, and an account file.
        drop(SqliteStore::open(dir.path().join(DB_FILE)).unwrap());
        std::fs::write(dir.path().join("account.json"), "{}").unwrap();
        let (store, _) = open_store(dir.path()).await.unwrap();
        let id = store.data_dir_id().unwrap().unwrap();
        drop(store);
        std::fs::remove_file(dir.path().join(ID_FILE)).unwrap();
        drop(open_store(dir.path()).await.unwrap());
        assert_eq!(read_id(dir.path()).unwrap(), Some(id));
    }
}
