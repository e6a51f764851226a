//! `ecs-baseline`: the bare HTTP services `ecs-bench` measures ecsd against in the same run, with
//! the same load generator: what the machine gives a handler that does almost nothing.
//!
//! - `read`: every GET is answered `200` with the same JSON body (read from `--body`, the size
//!   of the answer ecsd gives in the scenario it is compared with), from memory.
//! - `write`: every POST commits one row (an id and the request's body) to SQLite in WAL mode
//!   with `synchronous=FULL`, as ecsd's store ships, before it is answered with that id. One
//!   writer thread commits whatever requests are waiting in one transaction (group commit),
//!   so the rate is bounded by the disk's flushes, not by one flush per request.
//!
//! Started by `ecs-bench` as a child process, like ecsd, so that the two compete with the load
//! generator for the same cores in the same way. It prints `listening: ADDR` once it accepts
//! connections, and stops on SIGTERM.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::Router;
use clap::{Parser, ValueEnum};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Kind {
    Read,
    Write,
}

/// A minimal HTTP service to measure ecsd against.
#[derive(Debug, Parser)]
#[command(name = "ecs-baseline", version, about)]
struct Args {
    #[arg(long, value_enum)]
    kind: Kind,
    /// `read`: the file whose bytes answer every GET.
    #[arg(long)]
    body: Option<PathBuf>,
    /// `write`: the directory of the SQLite database (created; must be on the disk measured).
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Loopback only: the load never leaves the machine.
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
}

/// Most requests one transaction of the write baseline takes.
const MAX_GROUP: usize = 4096;

/// A request waiting for its row to be durable: the body to store, and where to send the id.
type Pending = (Bytes, oneshot::Sender<Result<String, String>>);

#[derive(Clone)]
enum Service {
    Read(Bytes),
    Write(mpsc::UnboundedSender<Pending>),
}

async fn handle(State(s): State<Arc<Service>>, body: Bytes) -> Response {
    match &*s {
        Service::Read(b) => ([(header::CONTENT_TYPE, "application/json")], b.clone()).into_response(),
        Service::Write(tx) => {
            let (done, wait) = oneshot::channel();
            if tx.send((body, done)).is_err() {
                return (StatusCode::SERVICE_UNAVAILABLE, "writer stopped").into_response();
            }
            match wait.await {
                Ok(Ok(id)) => {
                    let json = format!("{{\"job_id\":\"{id}\"}}");
                    ([(header::CONTENT_TYPE, "application/json")], json).into_response()
                }
                Ok(Err(e)) => (StatusCode::INTERNAL_SERVER_ERROR, e).into_response(),
                Err(_) => (StatusCode::INTERNAL_SERVER_ERROR, "writer dropped the request").into_response(),
            }
        }
    }
}

/// Opens the database as ecsd's SQLite store does (WAL, `synchronous=FULL`).
fn open(dir: &std::path::Path) -> rusqlite::Result<rusqlite::Connection> {
    let c = rusqlite::Connection::open(dir.join("baseline.db"))?;
    c.pragma_update(None, "journal_mode", "WAL")?;
    c.pragma_update(None, "synchronous", "FULL")?;
    c.execute_batch("CREATE TABLE IF NOT EXISTS requests (id TEXT PRIMARY KEY, body BLOB NOT NULL)")?;
    Ok(c)
}

/// The writer thread: takes every waiting request, commits their rows in one transaction, then
/// answers each of them; until every sender is gone.
fn writer(mut c: rusqlite::Connection, mut rx: mpsc::UnboundedReceiver<Pending>) {
    let mut next: u64 = 0;
    let mut group: Vec<Pending> = Vec::with_capacity(MAX_GROUP);
    while let Some(first) = rx.blocking_recv() {
        group.push(first);
        while group.len() < MAX_GROUP {
            match rx.try_recv() {
                Ok(p) => group.push(p),
                Err(_) => break,
            }
        }
        let first_id = next;
        next += group.len() as u64;
        // Ids shaped like ecsd's job ids (36 characters), so the answer has the same size.
        let id = |n: u64| format!("00000000-0000-4000-8000-{n:012x}");
        let outcome = (|| -> rusqlite::Result<()> {
            let tx = c.transaction()?;
            {
                let mut ins = tx.prepare_cached("INSERT INTO requests (id, body) VALUES (?1, ?2)")?;
                for (i, (body, _)) in group.iter().enumerate() {
                    ins.execute(rusqlite::params![id(first_id + i as u64), &body[..]])?;
                }
            }
            tx.commit()
        })();
        for (i, (_, done)) in group.drain(..).enumerate() {
            let answer = match &outcome {
                Ok(()) => Ok(id(first_id + i as u64)),
                Err(e) => Err(format!("commit failed: {e}")),
            };
            let _ = done.send(answer);
        }
    }
}

async fn serve(args: Args) -> Result<(), String> {
    let service = match args.kind {
        Kind::Read => {
            let path = args.body.ok_or("--kind read needs --body")?;
            let b = std::fs::read(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            Service::Read(Bytes::from(b))
        }
        Kind::Write => {
            let dir = args.dir.ok_or("--kind write needs --dir")?;
            std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
            let c = open(&dir).map_err(|e| format!("cannot open the database in {}: {e}", dir.display()))?;
            let (tx, rx) = mpsc::unbounded_channel();
            std::thread::Builder::new()
                .name("baseline-writer".into())
                .spawn(move || writer(c, rx))
                .map_err(|e| format!("cannot start the writer: {e}"))?;
            Service::Write(tx)
        }
    };
    if !args.listen.ip().is_loopback() {
        return Err(format!("{} is not a loopback address", args.listen));
    }
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", args.listen))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let app = Router::new().fallback(any(handle)).with_state(Arc::new(service));
    println!("listening: {addr}");
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .map_err(|e| format!("cannot watch for SIGTERM: {e}"))?;
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            term.recv().await;
        })
        .await
        .map_err(|e| e.to_string())
}

fn main() -> ExitCode {
    let args = Args::parse();
    let rt = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("ecs-baseline: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(serve(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ecs-baseline: {e}");
            ExitCode::FAILURE
        }
    }
}
