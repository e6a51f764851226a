//! PostgreSQL's own counts, read before and after a phase: the transactions committed in a
//! database (read-only statements outside a transaction count as one each) and the bytes of
//! WAL written by the whole server, to say what one accepted request costs PostgreSQL next to
//! one pgbench transaction.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

/// The counts at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sample {
    pub commits: u64,
    pub wal_bytes: u64,
}

impl Sample {
    /// What happened between `self` and the later `after`.
    pub fn until(self, after: Sample) -> Sample {
        Sample {
            commits: after.commits.saturating_sub(self.commits),
            wal_bytes: after.wal_bytes.saturating_sub(self.wal_bytes),
        }
    }
}

/// How to reach the server with `psql` (loopback, its trusted superuser).
#[derive(Debug, Clone)]
pub struct PgStats {
    pub psql: PathBuf,
    pub port: u16,
    pub user: &'static str,
    pub database: String,
}

impl PgStats {
    /// `xact_commit` of the database and the WAL position, or `None` (with the reason
    /// printed) if `psql` failed. Backends publish their counts about once a second, so the
    /// read waits that long first.
    pub async fn sample(&self) -> Option<Sample> {
        tokio::time::sleep(Duration::from_millis(1100)).await;
        let sql = format!(
            "SELECT xact_commit, (pg_current_wal_lsn() - '0/0')::bigint FROM pg_stat_database WHERE datname = '{}'",
            self.database
        );
        let out = Command::new(&self.psql)
            .args(["-X", "-q", "-t", "-A", "-h", "127.0.0.1", "-U", self.user, "-d", "postgres", "-p"])
            .arg(self.port.to_string())
            .args(["-c", &sql])
            .stdin(Stdio::null())
            .output();
        match out {
            Ok(o) if o.status.success() => parse(&String::from_utf8_lossy(&o.stdout)),
            Ok(o) => {
                eprintln!("psql: {}", String::from_utf8_lossy(&o.stderr).trim());
                None
            }
            Err(e) => {
                eprintln!("cannot run psql: {e}");
                None
            }
        }
    }
}

/// `commits|wal_bytes`, as `psql -t -A` prints the row.
fn parse(text: &str) -> Option<Sample> {
    let (c, w) = text.trim().split_once('|')?;
    Some(Sample { commits: c.parse().ok()?, wal_bytes: w.parse().ok()? })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_row_and_subtracts() {
        let a = parse("120|4096\n").unwrap();
        let b = parse("150|12288").unwrap();
        assert_eq!(a.until(b), Sample { commits: 30, wal_bytes: 8192 });
        assert_eq!(parse("120"), None);
        assert_eq!(parse(""), None);
    }
}
