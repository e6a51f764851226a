//! The PostgreSQL server of a `--store postgres` run: a throwaway cluster with PostgreSQL's
//! durable settings (`ecs_store::pg_cluster`, [`Tuning::Durable`]), one database for ecsd and
//! one for pgbench, stopped (by its PID) when dropped.

use anyhow::{anyhow, Result};
use ecs_store::pg_cluster::{Cluster, Tuning, Unavailable};

/// ecsd's database in the cluster.
pub const ECSD_DATABASE: &str = "ecsd";

pub struct PgServer {
    pub cluster: Cluster,
    /// `--store` for ecsd.
    pub ecsd_url: String,
    /// ecsd and pgbench connect over the Unix socket (`--pg-socket`), not loopback TCP.
    pub socket: bool,
}

/// Why there is no server to measure on.
pub enum NoServer {
    /// PostgreSQL is not installed (the smoke run skips its PostgreSQL half).
    NotInstalled(String),
    Failed(anyhow::Error),
}

impl PgServer {
    /// Makes and starts the cluster and its two databases (blocking: `initdb` takes seconds).
    pub fn start(socket: bool) -> Result<PgServer, NoServer> {
        let cluster = Cluster::start_with(Tuning::Durable).map_err(|e| match e {
            Unavailable::NotInstalled(why) => NoServer::NotInstalled(why),
            Unavailable::Failed(why) => NoServer::Failed(anyhow!("the PostgreSQL cluster did not start: {why}")),
        })?;
        let made =
            |name: &str| cluster.create_database(name).map_err(|e| NoServer::Failed(anyhow!("createdb {name}: {e}")));
        let tcp_url = made(ECSD_DATABASE)?;
        made(crate::pgbench::DATABASE)?;
        let ecsd_url = if socket { cluster.socket_url(ECSD_DATABASE) } else { tcp_url };
        Ok(PgServer { cluster, ecsd_url, socket })
    }

    /// Where pgbench connects.
    pub fn pgbench_server(&self) -> crate::pgbench::Server {
        crate::pgbench::Server {
            bin_dir: self.cluster.bin_dir().to_path_buf(),
            port: self.cluster.port(),
            user: self.cluster.superuser(),
            host: match self.socket {
                true => self.cluster.socket_dir().to_string_lossy().into_owned(),
                false => "127.0.0.1".to_string(),
            },
        }
    }

    /// How to read the counts of `database`.
    pub fn stats(&self, database: &str) -> crate::pg_stats::PgStats {
        crate::pg_stats::PgStats {
            psql: self.cluster.bin_dir().join("psql"),
            port: self.cluster.port(),
            user: self.cluster.superuser(),
            database: database.to_string(),
        }
    }

    /// One line for the output: where, which PID, how it is tuned.
    pub fn describe(&self) -> String {
        format!(
            "PostgreSQL (pid {}) on 127.0.0.1:{}{} from {}, settings: {}",
            self.cluster.pid(),
            self.cluster.port(),
            if self.socket { ", ecsd and pgbench over its Unix socket" } else { "" },
            self.cluster.bin_dir().display(),
            self.cluster.tuning().settings()
        )
    }
}
