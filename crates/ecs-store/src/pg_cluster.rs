//! A throwaway PostgreSQL cluster for tests: Debian's `initdb` and `pg_ctl` into a temporary
//! directory, on a free loopback port, with its socket in that directory; one database per
//! test.
//!
//! One cluster serves a whole test binary ([`Cluster::shared`]): starting one takes about a
//! second, a database in it a few milliseconds. Where PostgreSQL is not installed,
//! [`Cluster::shared`] prints why and returns `None`, and the caller skips its PostgreSQL half;
//! with `ECSD_REQUIRE_POSTGRES=1` (as in CI) it panics instead.
//!
//! [`Cluster::start_with`] with [`Tuning::Durable`] makes one that keeps PostgreSQL's durability
//! settings (fsync and synchronous commit on), for measurements that must not gain from their
//! absence (ecs-bench compares ecsd with pgbench on such a cluster).
//!
//! `initdb` refuses to run as root, so as root the cluster belongs to the `postgres` user (its
//! directory is given to that user, and the programs run under `runuser`).

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

/// Set to `1` to make a missing PostgreSQL a failure rather than a skip.
pub const REQUIRE_ENV: &str = "ECSD_REQUIRE_POSTGRES";
/// Overrides where the PostgreSQL programs are looked for (a `bin` directory).
pub const BIN_ENV: &str = "ECSD_POSTGRES_BIN";

/// The superuser the cluster is made with; tests connect as it, without a password (trust
/// authentication on loopback and the socket only).
const SUPERUSER: &str = "postgres";

/// A running cluster. Dropping it stops the server and removes its directory; the one of
/// [`Cluster::shared`] lives as long as the process, and a watchdog process stops it when the
/// test process ends, however it ends (a static is never dropped, and a killed process runs
/// no code).
pub struct Cluster {
    bin: PathBuf,
    dir: PathBuf,
    port: u16,
    pid: u32,
    /// Run the programs as this user (`runuser -u`), when we are root.
    run_as: Option<String>,
    tuning: Tuning,
    databases: AtomicU32,
}

/// How the server is configured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tuning {
    /// For tests: no fsync, no synchronous commit, no full-page writes. Fast, and a crash of
    /// the machine loses the cluster, which nobody keeps anyway.
    Throwaway,
    /// PostgreSQL's durable defaults (`fsync`, `synchronous_commit`, `full_page_writes` on),
    /// with more shared buffers (256 MB) than the 128 MB default so that a benchmark's working
    /// set stays in PostgreSQL's own cache, and checkpoints spaced out (`max_wal_size` 4 GB) so
    /// that a short run does not measure one.
    Durable,
}

impl Tuning {
    /// The `-c` settings of `postgres` for this tuning.
    pub fn settings(self) -> &'static str {
        match self {
            Tuning::Throwaway => "-c fsync=off -c synchronous_commit=off -c full_page_writes=off",
            Tuning::Durable => {
                "-c fsync=on -c synchronous_commit=on -c full_page_writes=on -c shared_buffers=256MB \
                 -c max_wal_size=4GB"
            }
        }
    }
}

/// Why no cluster could be had.
#[derive(Debug)]
pub enum Unavailable {
    /// PostgreSQL's programs are not installed: a skip, unless required.
    NotInstalled(String),
    /// They are, and starting a cluster failed: always a failure.
    Failed(String),
}

impl Cluster {
    /// The test binary's cluster, started on first use. `None` (after printing a notice) when
    /// PostgreSQL is not installed and `ECSD_REQUIRE_POSTGRES` is not `1`.
    ///
    /// # Panics
    /// When PostgreSQL is required but missing, or is installed and does not start.
    pub fn shared() -> Option<&'static Cluster> {
        static SHARED: OnceLock<Result<Cluster, Unavailable>> = OnceLock::new();
        let required = std::env::var(REQUIRE_ENV).as_deref() == Ok("1");
        let got = SHARED.get_or_init(|| {
            let started = Cluster::start();
            match &started {
                Ok(c) => c.watch_parent(),
                Err(Unavailable::NotInstalled(why)) if !required => {
                    eprintln!("NOTICE: PostgreSQL tests skipped: {why} (set {REQUIRE_ENV}=1 to make this a failure)")
                }
                Err(_) => {}
            }
            started
        });
        match got {
            Ok(c) => Some(c),
            Err(Unavailable::NotInstalled(_)) if !required => None,
            Err(Unavailable::NotInstalled(why)) => panic!("{REQUIRE_ENV}=1, but {why}"),
            Err(Unavailable::Failed(why)) => panic!("the PostgreSQL cluster for the tests did not start: {why}"),
        }
    }

    /// Makes and starts a cluster of its own (stopped when dropped), tuned for tests.
    pub fn start() -> Result<Cluster, Unavailable> {
        Cluster::start_with(Tuning::Throwaway)
    }

    /// Makes and starts a cluster of its own with the given tuning (stopped when dropped).
    pub fn start_with(tuning: Tuning) -> Result<Cluster, Unavailable> {
        let bin = find_bin().ok_or_else(|| {
            Unavailable::NotInstalled(format!(
                "PostgreSQL is not installed (no initdb and pg_ctl in /usr/lib/postgresql/*/bin, nor in {BIN_ENV})"
            ))
        })?;
        let failed = Unavailable::Failed;
        let run_as = if running_as_root() { Some(SUPERUSER.to_string()) } else { None };
        let dir = tempfile::Builder::new()
            .prefix("ecsd-pg-")
            .tempdir()
            .map_err(|e| failed(format!("cannot make a temporary directory: {e}")))?
            .keep();
        if let Some(user) = &run_as {
            let (uid, gid) = user_ids(user).ok_or_else(|| failed(format!("no user {user} to run PostgreSQL as")))?;
            std::os::unix::fs::chown(&dir, Some(uid), Some(gid))
                .map_err(|e| failed(format!("cannot give {} to {user}: {e}", dir.display())))?;
        }
        let mut cluster = Cluster { bin, dir, port: 0, pid: 0, run_as, tuning, databases: AtomicU32::new(0) };
        let data = cluster.dir.join("data");
        cluster
            .run(
                "initdb",
                &[
                    "-D".as_ref(),
                    data.as_os_str(),
                    "-U".as_ref(),
                    SUPERUSER.as_ref(),
                    "--auth=trust".as_ref(),
                    "--no-sync".as_ref(),
                    "--encoding=UTF8".as_ref(),
                    "--no-instructions".as_ref(),
                ],
            )
            .map_err(failed)?;
        // A free port can be taken by someone else between our look and the server's bind:
        // try a few.
        let mut last = String::new();
        for _ in 0..3 {
            let port = free_port().map_err(|e| failed(format!("no free port: {e}")))?;
            match cluster.start_on(port) {
                Ok(pid) => {
                    cluster.port = port;
                    cluster.pid = pid;
                    return Ok(cluster);
                }
                Err(e) => last = e,
            }
        }
        Err(failed(last))
    }

    /// Starts the server on `port` and waits until it accepts connections; its PID.
    fn start_on(&self, port: u16) -> Result<u32, String> {
        let data = self.dir.join("data");
        let log = self.dir.join("postgres.log");
        let options = format!(
            "-c listen_addresses=127.0.0.1 -p {port} -k {} {} -c max_connections=300",
            self.dir.display(),
            self.tuning.settings()
        );
        self.run(
            "pg_ctl",
            &[
                "start".as_ref(),
                "-w".as_ref(),
                "-t".as_ref(),
                "60".as_ref(),
                "-D".as_ref(),
                data.as_os_str(),
                "-l".as_ref(),
                log.as_os_str(),
                "-o".as_ref(),
                options.as_ref(),
            ],
        )
        .map_err(|e| format!("{e}\n{}", std::fs::read_to_string(&log).unwrap_or_default()))?;
        let pidfile = std::fs::read_to_string(data.join("postmaster.pid"))
            .map_err(|e| format!("the server started but left no postmaster.pid: {e}"))?;
        pidfile
            .lines()
            .next()
            .and_then(|l| l.trim().parse().ok())
            .ok_or_else(|| format!("postmaster.pid does not start with a PID: {pidfile:?}"))
    }

    /// Runs one of PostgreSQL's programs (as the cluster's user); its stderr when it fails.
    fn run(&self, program: &str, args: &[&std::ffi::OsStr]) -> Result<(), String> {
        let path = self.bin.join(program);
        let mut cmd = match &self.run_as {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.args(["-u", user, "--"]).arg(&path);
                c
            }
            None => Command::new(&path),
        };
        // The server's working directory must be readable by its user.
        let out = cmd
            .args(args)
            .current_dir(&self.dir)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("cannot run {}: {e}", path.display()))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(format!(
                "{program} failed ({}): {}{}",
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ))
        }
    }

    /// The loopback port the server listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The server's PID.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// The URL of database `db` in this cluster.
    pub fn url(&self, db: &str) -> String {
        format!("postgres://{SUPERUSER}@127.0.0.1:{}/{db}", self.port)
    }

    /// The URL of database `db` over the cluster's Unix socket (in its directory) rather than
    /// loopback TCP: how a client on the database's own host usually connects.
    pub fn socket_url(&self, db: &str) -> String {
        let dir: String = self
            .dir
            .to_string_lossy()
            .chars()
            .map(|c| if c == '/' { "%2F".to_string() } else { c.to_string() })
            .collect();
        format!("postgres://{SUPERUSER}@{dir}:{}/{db}", self.port)
    }

    /// The directory holding the cluster's Unix socket (`-h` for PostgreSQL's programs).
    pub fn socket_dir(&self) -> &Path {
        &self.dir
    }

    /// The directory of PostgreSQL's programs this cluster runs (`pgbench` is there too).
    pub fn bin_dir(&self) -> &Path {
        &self.bin
    }

    /// The superuser to connect as (trusted on loopback, no password).
    pub fn superuser(&self) -> &'static str {
        SUPERUSER
    }

    /// How the server is configured.
    pub fn tuning(&self) -> Tuning {
        self.tuning
    }

    /// Creates a new, empty database and returns its URL. Names are `test_1`, `test_2`, ...
    ///
    /// # Panics
    /// When `createdb` fails (a test cannot go on without its database).
    pub fn fresh_database(&self) -> String {
        let n = self.databases.fetch_add(1, Ordering::Relaxed) + 1;
        let name = format!("test_{n}");
        self.create_database(&name).unwrap_or_else(|e| panic!("creating database {name}: {e}"))
    }

    /// Creates the empty database `name` and returns its URL; `createdb`'s error otherwise.
    pub fn create_database(&self, name: &str) -> Result<String, String> {
        self.run(
            "createdb",
            &[
                "-h".as_ref(),
                "127.0.0.1".as_ref(),
                "-p".as_ref(),
                self.port.to_string().as_ref(),
                "-U".as_ref(),
                SUPERUSER.as_ref(),
                name.as_ref(),
            ],
        )?;
        Ok(self.url(name))
    }

    /// Runs `sql` in database `db` with `psql` (for tests that need to write behind the store's
    /// back); what it printed.
    pub fn psql(&self, db: &str, sql: &str) -> Result<String, String> {
        let mut cmd = match &self.run_as {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.args(["-u", user, "--"]).arg(self.bin.join("psql"));
                c
            }
            None => Command::new(self.bin.join("psql")),
        };
        let out = cmd
            .args(["-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-U", SUPERUSER, "-p"])
            .arg(self.port.to_string())
            .args(["-d", db, "-c", sql])
            .current_dir(&self.dir)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("cannot run psql: {e}"))?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).into_owned())
        }
    }

    /// Starts a watchdog that, once this process has ended, stops the server (by its PID) and
    /// removes the cluster's directory. It holds no file of ours open and polls twice a second.
    fn watch_parent(&self) {
        let script = format!(
            "while kill -0 {me} 2>/dev/null; do sleep 0.5; done; \
             kill -INT {pg} 2>/dev/null; \
             i=0; while kill -0 {pg} 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done; \
             kill -KILL {pg} 2>/dev/null; rm -rf '{dir}'",
            me = std::process::id(),
            pg = self.pid,
            dir = self.dir.display()
        );
        let spawned = Command::new("sh")
            .args(["-c", &script])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        if let Err(e) = spawned {
            eprintln!("NOTICE: no watchdog for the PostgreSQL cluster (pid {}): {e}", self.pid);
        }
    }

    /// Stops the server: SIGINT (PostgreSQL's fast shutdown) to its PID, then waits for it to
    /// exit, SIGKILL after ten seconds.
    fn stop(&self) {
        if self.pid == 0 {
            return;
        }
        let pid = self.pid.to_string();
        let _ = Command::new("kill").args(["-INT", &pid]).stderr(Stdio::null()).status();
        for _ in 0..100 {
            if !Path::new(&format!("/proc/{pid}")).exists() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = Command::new("kill").args(["-KILL", &pid]).stderr(Stdio::null()).status();
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The `bin` directory of the newest PostgreSQL installed the Debian way, or the one
/// `ECSD_POSTGRES_BIN` names.
fn find_bin() -> Option<PathBuf> {
    let has_tools = |d: &Path| d.join("initdb").is_file() && d.join("pg_ctl").is_file();
    if let Some(d) = std::env::var_os(BIN_ENV).map(PathBuf::from) {
        return has_tools(&d).then_some(d);
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let v: u32 = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            has_tools(&bin).then_some((v, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}

fn running_as_root() -> bool {
    // The owner of /proc/self is the process's effective user.
    std::fs::metadata("/proc/self").map(|m| m.uid() == 0).unwrap_or(false)
}

/// `(uid, gid)` of `user`, from /etc/passwd.
fn user_ids(user: &str) -> Option<(u32, u32)> {
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|l| {
        let f: Vec<&str> = l.split(':').collect();
        (f.first() == Some(&user) && f.len() > 3).then(|| Some((f[2].parse().ok()?, f[3].parse().ok()?)))?
    })
}

fn free_port() -> std::io::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}
