//! pgbench on the cluster ecsd ran on: `pgbench -i` once, then the built-in `simple-update`
//! script at the reinstall scenarios' concurrency, for a reference of what one durable
//! single-row transaction per client costs on the same server, machine and settings.

use anyhow::{anyhow, bail, Context, Result};
use std::path::PathBuf;
use std::process::{Command, Stdio};

/// The database pgbench's tables go in (not ecsd's: its tables are measured apart).
pub const DATABASE: &str = "pgbench";

/// One `pgbench -b simple-update` run.
#[derive(Debug, Clone, Copy)]
pub struct Run {
    /// Clients (`-c`) and threads (`-j`).
    pub clients: usize,
    pub threads: usize,
    /// `-T`: whole seconds.
    pub seconds: u64,
}

/// What one run printed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Outcome {
    /// Transactions per second, without the initial connection time.
    pub tps: f64,
    /// Mean latency of a transaction, in milliseconds.
    pub latency_ms: Option<f64>,
    /// Transactions processed.
    pub transactions: Option<u64>,
}

/// The server pgbench runs against: PostgreSQL's programs, its loopback port, the superuser.
#[derive(Debug, Clone)]
pub struct Server {
    pub bin_dir: PathBuf,
    pub port: u16,
    pub user: &'static str,
    /// `-h`: the loopback address, or the directory of the server's Unix socket.
    pub host: String,
}

/// `pgbench` with the connection options of `server` (its host or socket, its superuser).
fn pgbench(server: &Server) -> Command {
    let mut c = Command::new(server.bin_dir.join("pgbench"));
    c.args(["-h", &server.host, "-U", server.user, "-p"]).arg(server.port.to_string());
    c.stdin(Stdio::null());
    c
}

/// Runs `cmd`; its stdout and stderr together (pgbench prints its figures on stdout, its
/// progress on stderr), or why it failed.
fn output(mut cmd: Command, what: &str) -> Result<String> {
    let out = cmd.output().with_context(|| format!("cannot run {what}"))?;
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    if !out.status.success() {
        bail!("{what} failed ({}): {text}", out.status);
    }
    Ok(text)
}

/// `pgbench -i -s scale`: 100,000 accounts per unit of scale, in [`DATABASE`].
pub fn init(server: &Server, scale: u32) -> Result<()> {
    let mut cmd = pgbench(server);
    cmd.args(["-i", "-q", "-s"]).arg(scale.to_string()).arg(DATABASE);
    output(cmd, "pgbench -i").map(|_| ())
}

/// One timed `pgbench -b simple-update` run (bounded by `-T`).
pub fn simple_update(server: &Server, run: Run) -> Result<Outcome> {
    let mut cmd = pgbench(server);
    cmd.args(["-b", "simple-update", "-c"])
        .arg(run.clients.max(1).to_string())
        .arg("-j")
        .arg(run.threads.clamp(1, run.clients.max(1)).to_string())
        .arg("-T")
        .arg(run.seconds.max(1).to_string())
        .arg(DATABASE);
    let text = output(cmd, "pgbench -b simple-update")?;
    let tps =
        parse_tps(&text).ok_or_else(|| anyhow!("no `tps = ... (without initial connection time)` in:\n{text}"))?;
    Ok(Outcome { tps, latency_ms: parse_latency_ms(&text), transactions: parse_transactions(&text) })
}

/// The figure of `tps = 1234.56 (without initial connection time)`.
pub fn parse_tps(text: &str) -> Option<f64> {
    text.lines().find_map(|l| {
        let rest = l.trim().strip_prefix("tps = ")?;
        let (n, why) = rest.split_once(' ')?;
        why.contains("without initial connection time").then(|| n.parse().ok())?
    })
}

/// The figure of `latency average = 1.234 ms`.
pub fn parse_latency_ms(text: &str) -> Option<f64> {
    text.lines().find_map(|l| l.trim().strip_prefix("latency average = ")?.strip_suffix(" ms")?.parse().ok())
}

/// The figure of `number of transactions actually processed: 12345`.
pub fn parse_transactions(text: &str) -> Option<u64> {
    text.lines().find_map(|l| l.trim().strip_prefix("number of transactions actually processed: ")?.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What pgbench 15 prints at the end of a run.
    const OUTPUT: &str = "pgbench (15.18 (Debian 15.18-0+deb12u1))
starting vacuum...end.
transaction type: <builtin: simple update>
scaling factor: 1
query mode: simple
number of clients: 16
number of threads: 2
maximum number of tries: 1
duration: 5 s
number of transactions actually processed: 12345
number of failed transactions: 0 (0.000%)
latency average = 6.481 ms
initial connection time = 20.118 ms
tps = 2468.923456 (without initial connection time)
";

    #[test]
    fn reads_the_tps_without_connection_time() {
        assert_eq!(parse_tps(OUTPUT), Some(2468.923456));
        assert_eq!(parse_latency_ms(OUTPUT), Some(6.481));
        assert_eq!(parse_transactions(OUTPUT), Some(12345));
        assert_eq!(parse_tps("tps = 12.5 (including connections establishing)\n"), None);
        assert_eq!(parse_tps("nothing here"), None);
    }
}
