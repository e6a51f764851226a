//! Command line and configuration file.

use clap::{Args, Parser, Subcommand, ValueEnum};
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// ecsd: a Huawei Cloud ECS-compatible compute service.
#[derive(Debug, Parser)]
#[command(name = "ecsd", version, about)]
pub struct Cli {
    /// How log lines are written to standard error: `text` for people, `json` (one object per
    /// line, with the fields of the request or saga step it is about) for log collectors.
    #[arg(long, global = true, env = "ECSD_LOG_FORMAT", default_value = "text")]
    pub log_format: LogFormat,
    #[command(subcommand)]
    pub command: Command,
}

/// The log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// What to do.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the service.
    Serve(Box<ServeArgs>),
    /// Manage the image catalog (for the QEMU driver).
    #[command(subcommand)]
    Image(ImageCommand),
    /// Verify a data directory offline: database integrity, schema, identity, account file,
    /// the simulated driver's journal, and the driver's disks against the volume rows. Exits 0
    /// when healthy, 1 when damaged, 2 when it could not run (the directory is in use).
    Check(CheckArgs),
}

/// `ecsd check`
#[derive(Debug, Clone, Args)]
pub struct CheckArgs {
    #[arg(long, env = "ECSD_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
}

/// `ecsd image ...`
#[derive(Debug, Subcommand)]
pub enum ImageCommand {
    /// Build a small bootable Linux image without Cloud-Init (kernel, busybox, dropbear SSH) from
    /// Debian packages, and register it.
    BuildDemo(BuildDemoArgs),
    /// Register an existing qcow2 or raw disk image.
    Import(ImportArgs),
}

/// `ecsd image build-demo`
#[derive(Debug, Clone, Args)]
pub struct BuildDemoArgs {
    #[arg(long, env = "ECSD_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
    /// Image name in the catalog.
    #[arg(long, default_value = "ecsd demo (no Cloud-Init)")]
    pub name: String,
    /// Written into the guest's /etc/os-release (VARIANT_ID), to tell images apart.
    #[arg(long, default_value = "one")]
    pub variant: String,
}

/// `ecsd image import FILE`
#[derive(Debug, Clone, Args)]
pub struct ImportArgs {
    /// The qcow2 or raw image file.
    pub file: PathBuf,
    #[arg(long, env = "ECSD_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
    #[arg(long)]
    pub name: String,
    /// `Linux` or `Windows`.
    #[arg(long, default_value = "Linux")]
    pub os_type: String,
    /// Distribution family, e.g. `Debian`, `Ubuntu`.
    #[arg(long, default_value = "Other")]
    pub platform: String,
    /// e.g. `Debian GNU/Linux 12 64bit`.
    #[arg(long)]
    pub os_version: Option<String>,
    /// The image runs Cloud-Init (then keys go through a NoCloud seed, not into the disk).
    #[arg(long, default_value_t = false)]
    pub cloud_init: bool,
    /// Smallest system disk, in GiB (default: the image's virtual size, rounded up).
    #[arg(long)]
    pub min_disk: Option<i64>,
    /// Use the file where it is instead of copying it into the data directory.
    #[arg(long, default_value_t = false)]
    pub in_place: bool,
}

/// The compute driver.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DriverKind {
    /// Simulated servers and disks (state in the data directory).
    Sim,
    /// Real virtual machines: QEMU processes with qcow2 system disks.
    Qemu,
}

/// Where the simulated driver keeps its disks and VMs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SimState {
    /// In a journal in the data directory: the VMs are this host's, as QEMU's would be, and
    /// only this node acts on them.
    Local,
    /// In the database, shared by every node: any node can carry on any operation.
    Shared,
}

/// `ecsd serve` options; every one also reads an `ECSD_*` environment variable.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, env = "ECSD_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Serve Prometheus metrics at `/metrics` on this address (off when not given; port 0
    /// picks a free port, which the banner shows).
    #[arg(long, env = "ECSD_METRICS_LISTEN")]
    pub metrics_listen: Option<SocketAddr>,
    /// Directory for the database, the driver's state and the generated account.
    #[arg(long, env = "ECSD_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
    /// Where records live: `postgres://USER[:PASSWORD]@HOST[:PORT]/DB` for a PostgreSQL
    /// database (created or migrated at start-up); when not given, SQLite in the data directory.
    #[arg(long, env = "ECSD_STORE")]
    pub store: Option<String>,
    /// Connections to PostgreSQL this node keeps at most (with a `postgres://` store).
    #[arg(long, env = "ECSD_STORE_POOL", default_value_t = ecs_store::postgres::DEFAULT_POOL_SIZE)]
    pub store_pool: usize,
    /// Compute driver.
    #[arg(long, env = "ECSD_DRIVER", value_enum, default_value = "sim")]
    pub driver: DriverKind,
    /// Time each simulated driver action takes, in milliseconds (0 for tests; a few thousand
    /// to watch servers go through their states).
    #[arg(long, env = "ECSD_SIM_STEP_MS", default_value_t = 0)]
    pub sim_step_ms: u64,
    /// Where the simulated driver keeps its state: `local` (the data directory) or `shared`
    /// (the database, for several nodes). Default: shared on a PostgreSQL store, local on
    /// SQLite.
    #[arg(long, env = "ECSD_SIM_STATE", value_enum)]
    pub sim_state: Option<SimState>,
    /// Configuration file with extra projects and credentials (TOML).
    #[arg(long, env = "ECSD_CONFIG")]
    pub config: Option<PathBuf>,
    /// Region name reported for projects that do not set one.
    #[arg(long, env = "ECSD_REGION", default_value = "cn-north-4")]
    pub region: String,
    /// Address for HTTPS, or `off`.
    #[arg(long, env = "ECSD_LISTEN_TLS", default_value = "127.0.0.1:8443")]
    pub listen_tls: String,
    /// PEM certificate for HTTPS (with --tls-key); a self-signed one is generated when absent.
    #[arg(long, env = "ECSD_TLS_CERT")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key for HTTPS.
    #[arg(long, env = "ECSD_TLS_KEY")]
    pub tls_key: Option<PathBuf>,
    /// Requests per second allowed per credential (bursts of twice that); 0 turns the limit off.
    #[arg(long, env = "ECSD_RATE_LIMIT", default_value_t = 0)]
    pub rate_limit: u32,
    /// Open connections allowed per listener.
    #[arg(long, env = "ECSD_MAX_CONNECTIONS", default_value_t = 1024)]
    pub max_connections: usize,
    /// Seconds requests in flight get to finish after SIGTERM or SIGINT; then ecsd exits even if
    /// some are still running (sagas need no waiting: they resume on the next start).
    #[arg(long, env = "ECSD_SHUTDOWN_GRACE_SECS", default_value_t = 10)]
    pub shutdown_grace_secs: u64,
    /// Lifetime of IAM tokens, in seconds.
    #[arg(long, env = "ECSD_TOKEN_TTL_SECS", default_value_t = 86400)]
    pub token_ttl_secs: u64,
    /// QEMU accelerator: `tcg`, `kvm`, or `auto` (KVM if a probe proves it works).
    #[arg(long, env = "ECSD_QEMU_ACCEL", default_value = "auto")]
    pub accel: String,
    /// Seconds a graceful stop waits for the guest before QEMU is told to quit.
    #[arg(long, env = "ECSD_QEMU_STOP_TIMEOUT_SECS", default_value_t = 30)]
    pub qemu_stop_timeout_secs: u64,
    /// Most servers a project may have (overrides the configuration file's `[quotas]`).
    #[arg(long, env = "ECSD_QUOTA_INSTANCES")]
    pub quota_instances: Option<i64>,
    /// Most vCPUs a project's servers may have in all.
    #[arg(long, env = "ECSD_QUOTA_CORES")]
    pub quota_cores: Option<i64>,
    /// Most memory, in MB, a project's servers may have in all.
    #[arg(long, env = "ECSD_QUOTA_RAM_MB")]
    pub quota_ram_mb: Option<i64>,
    /// This node's name among the nodes of a shared database, and the host its servers show
    /// (`OS-EXT-SRV-ATTR:host`). Default: the machine's host name.
    #[arg(long, env = "ECSD_NODE_NAME")]
    pub node_name: Option<String>,
    /// vCPUs this node offers to placement. Default: four per core with the QEMU driver,
    /// unlimited with the simulated one.
    #[arg(long, env = "ECSD_HOST_VCPUS")]
    pub host_vcpus: Option<i64>,
    /// Memory, in MiB, this node offers to placement. Default: the machine's with the QEMU
    /// driver, unlimited with the simulated one.
    #[arg(long, env = "ECSD_HOST_MEMORY_MIB")]
    pub host_memory_mib: Option<i64>,
    /// How long this node's lease on a shared database runs: a node silent for that long is
    /// dead to the others, which adopt its operations.
    #[arg(long, env = "ECSD_LEASE_MS", default_value_t = 30_000)]
    pub lease_ms: u64,
    /// How often this node renews its lease (well under the lease: a few renewals may fail
    /// before it runs out).
    #[arg(long, env = "ECSD_HEARTBEAT_MS", default_value_t = 5_000)]
    pub heartbeat_ms: u64,
    /// Days the audit trail keeps a trace (`GET /v3/{project_id}/traces`); the trace service
    /// keeps them a week.
    #[arg(long, env = "ECSD_TRACE_RETENTION_DAYS", default_value_t = 7, value_parser = clap::value_parser!(u64).range(1..=3650))]
    pub trace_retention_days: u64,
}

/// Which store holds the records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreChoice {
    /// `ecsd.db` in the data directory.
    Sqlite,
    /// A PostgreSQL database, by its URL.
    Postgres(String),
}

impl StoreChoice {
    /// Reads `--store`: absent (or `sqlite`) is SQLite in the data directory; a `postgres://`
    /// or `postgresql://` URL is that database.
    pub fn parse(value: Option<&str>) -> Result<StoreChoice, String> {
        match value.map(str::trim) {
            None | Some("") | Some("sqlite") => Ok(StoreChoice::Sqlite),
            Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                Ok(StoreChoice::Postgres(url.to_string()))
            }
            Some(other) => Err(format!(
                "--store (ECSD_STORE) must be a postgres://USER@HOST:PORT/DB URL, or be left out for SQLite \
                 in the data directory; got {:?}",
                other.split('@').next_back().unwrap_or_default()
            )),
        }
    }
}

/// `[quotas]` of the configuration file; a value left out keeps its default.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuotaConfig {
    pub instances: Option<i64>,
    pub cores: Option<i64>,
    pub ram_mb: Option<i64>,
}

impl ServeArgs {
    /// The quotas in force: the command line over the file over the defaults. Negative values
    /// are refused (0 is allowed: no servers at all).
    pub fn quotas(&self, file: &FileConfig) -> Result<ecs_model::quota::Quotas, String> {
        let d = ecs_model::quota::Quotas::default();
        let pick = |name: &str, flag: Option<i64>, file: Option<i64>, default: i64| match flag.or(file) {
            Some(v) if v < 0 => Err(format!("quota {name} must not be negative, got {v}")),
            v => Ok(v.unwrap_or(default)),
        };
        Ok(ecs_model::quota::Quotas {
            instances: pick("instances", self.quota_instances, file.quotas.instances, d.instances)?,
            cores: pick("cores", self.quota_cores, file.quotas.cores, d.cores)?,
            ram_mb: pick("ram_mb", self.quota_ram_mb, file.quotas.ram_mb, d.ram_mb)?,
        })
    }
}

/// The configuration file.
///
/// ```toml
/// [[accounts]]
/// project_id = "0123456789abcdef0123456789abcdef"
/// project_name = "cn-north-4"
/// user_id = "7e25b1da389f4697a79df3a0e5bd494e"
/// ak = "MYAK0000000000000001"
/// sk = "MYSK..."
/// ```
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    #[serde(default)]
    pub accounts: Vec<AccountConfig>,
    /// Faults in force from start-up (see the README's fault-injection section).
    #[serde(default)]
    pub faults: Vec<crate::faults::FaultSpec>,
    /// Every project's quotas (see the README's configuration section).
    #[serde(default)]
    pub quotas: QuotaConfig,
}

/// One credential: an AK/SK pair belonging to a user of a project.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountConfig {
    pub project_id: String,
    pub project_name: Option<String>,
    pub user_id: String,
    pub ak: String,
    pub sk: String,
    /// IAM user name, for `POST /v3/auth/tokens` with the password method.
    #[serde(default)]
    pub user_name: Option<String>,
    /// That user's password (hashed at start-up), or `password_hash` (SHA-512 crypt).
    #[serde(default)]
    pub password: Option<String>,
    #[serde(default)]
    pub password_hash: Option<String>,
    /// The account (domain) name the user logs in with; "ecsd" by default.
    #[serde(default)]
    pub domain_name: Option<String>,
}

impl FileConfig {
    /// Reads and parses a configuration file.
    pub fn load(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let file: FileConfig = toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        file.check_logins().map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(file)
    }

    /// Refuses user names and passwords no login could ever match: `POST /v3/auth/tokens`
    /// turns away longer ones before hashing (see [`crate::accounts::MAX_PASSWORD_CHARS`]).
    fn check_logins(&self) -> Result<(), String> {
        use crate::accounts::{longer_than, MAX_PASSWORD_CHARS, MAX_USER_NAME_CHARS};
        for (i, a) in self.accounts.iter().enumerate() {
            let n = i + 1;
            if a.user_name.as_deref().is_some_and(|u| longer_than(u, MAX_USER_NAME_CHARS)) {
                return Err(format!(
                    "account {n} (ak {}): user_name is longer than {MAX_USER_NAME_CHARS} characters, \
                     the most Huawei IAM allows",
                    a.ak
                ));
            }
            if a.password.as_deref().is_some_and(|p| longer_than(p, MAX_PASSWORD_CHARS)) {
                return Err(format!(
                    "account {n} (ak {}): password is longer than {MAX_PASSWORD_CHARS} characters, \
                     the most Huawei IAM allows; choose a shorter one",
                    a.ak
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::{FileConfig, StoreChoice};

    #[test]
    fn the_store_is_sqlite_unless_a_postgres_url_is_given() {
        assert_eq!(StoreChoice::parse(None), Ok(StoreChoice::Sqlite));
        assert_eq!(StoreChoice::parse(Some("sqlite")), Ok(StoreChoice::Sqlite));
        let url = "postgres://ecsd@127.0.0.1:5432/ecsd";
        assert_eq!(StoreChoice::parse(Some(url)), Ok(StoreChoice::Postgres(url.into())));
        let e = StoreChoice::parse(Some("mysql://u:secret@h/db")).unwrap_err();
        assert!(e.contains("postgres://") && !e.contains("secret"), "{e}");
    }

    fn load(user_name: &str, password: &str) -> Result<FileConfig, String> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ecsd.toml");
        let toml = format!(
            "[[accounts]]\nproject_id = \"fedcba9876543210fedcba9876543210\"\nuser_id = \"u2\"\nak = \"SECONDAK\"\n\
             sk = \"second\"\nuser_name = \"{user_name}\"\npassword = \"{password}\"\n"
        );
        std::fs::write(&path, toml).unwrap();
        FileConfig::load(&path)
    }

    #[test]
    fn passwords_and_user_names_longer_than_iam_allows_are_refused_at_start_up() {
        assert!(load(&"u".repeat(64), &"p".repeat(32)).is_ok(), "64 and 32 characters are the most");
        // Counted in characters, not bytes.
        assert!(load("bob", &"é".repeat(32)).is_ok());
        let e = load("bob", &"p".repeat(33)).unwrap_err();
        assert!(e.contains("password is longer than 32 characters") && e.contains("SECONDAK"), "{e}");
        let e = load(&"u".repeat(65), "pw").unwrap_err();
        assert!(e.contains("user_name is longer than 64 characters"), "{e}");
    }
}
