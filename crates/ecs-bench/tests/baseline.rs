//! `ecs-baseline` as `ecs-bench` starts it: the read baseline answers every GET with its file's
//! bytes, the write baseline answers a POST only once its row is in the database.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};

struct Baseline {
    child: Child,
    addr: SocketAddr,
}

impl Baseline {
    fn start(args: &[&std::ffi::OsStr]) -> Baseline {
        let mut child = Command::new(env!("CARGO_BIN_EXE_ecs-baseline"))
            .args(args)
            .stdout(Stdio::piped())
            .spawn()
            .expect("ecs-baseline starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let addr = line.trim().strip_prefix("listening: ").expect("address line").parse().unwrap();
        Baseline { child, addr }
    }

    /// One request on its own connection; the status and the body.
    fn call(&self, method: &str, path: &str, body: &str) -> (u16, String) {
        let mut s = TcpStream::connect(self.addr).unwrap();
        write!(
            s,
            "{method} {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut text = String::new();
        s.read_to_string(&mut text).unwrap();
        let status = text[9..12].parse().unwrap();
        let body = text.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
        (status, body)
    }
}

impl Drop for Baseline {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn the_read_baseline_answers_every_get_with_the_same_body() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("job.json");
    std::fs::write(&file, r#"{"status":"SUCCESS","job_id":"j"}"#).unwrap();
    let b = Baseline::start(&["--kind".as_ref(), "read".as_ref(), "--body".as_ref(), file.as_os_str()]);
    for path in ["/v1/p/jobs/a", "/v1/p/cloudservers/b"] {
        assert_eq!(b.call("GET", path, ""), (200, r#"{"status":"SUCCESS","job_id":"j"}"#.to_string()));
    }
}

#[test]
fn the_write_baseline_answers_once_the_row_is_committed() {
    let dir = tempfile::tempdir().unwrap();
    let b = Baseline::start(&["--kind".as_ref(), "write".as_ref(), "--dir".as_ref(), dir.path().as_os_str()]);
    let mut ids = Vec::new();
    for i in 0..3 {
        let (status, body) = b.call("POST", "/v1/p/cloudservers/s/reinstallos", &format!("{{\"n\":{i}}}"));
        assert_eq!(status, 200, "{body}");
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        ids.push(v["job_id"].as_str().unwrap().to_string());
    }
    ids.dedup();
    assert_eq!(ids.len(), 3);
    assert!(ids.iter().all(|id| id.len() == 36));
    // A second connection to the database sees every answered row (WAL: readers see commits).
    let db = rusqlite::Connection::open(dir.path().join("baseline.db")).unwrap();
    let rows: Vec<(String, Vec<u8>)> = db
        .prepare("SELECT id, body FROM requests ORDER BY id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(rows.iter().map(|r| r.0.clone()).collect::<Vec<_>>(), ids);
    assert_eq!(rows[2].1, br#"{"n":2}"#);
    let mode: String = db.query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
    assert_eq!(mode, "wal");
}

#[test]
fn a_baseline_refuses_to_listen_beyond_loopback() {
    let out = Command::new(env!("CARGO_BIN_EXE_ecs-baseline"))
        .args(["--kind", "read", "--body", "/dev/null", "--listen", "0.0.0.0:0"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a loopback address"));
}
