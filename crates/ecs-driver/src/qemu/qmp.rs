//! A minimal QMP client: the JSON control socket of QEMU and qemu-storage-daemon.
//!
//! QMP is one JSON object per line: a greeting, then `{"execute": ...}` commands answered by
//! `{"return": ...}` or `{"error": ...}`, with asynchronous `{"event": ...}` lines interleaved.
//! Events seen while waiting for an answer are kept, so a later [`Qmp::wait_event`] finds them.

use serde_json::{json, Value};
use std::path::Path;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::net::unix::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::UnixStream;

/// How long one answer may take. Commands we send are quick; a stuck QEMU must not hang a saga.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(10);

/// An open, negotiated QMP connection.
pub struct Qmp {
    lines: Lines<BufReader<OwnedReadHalf>>,
    writer: OwnedWriteHalf,
    events: Vec<Value>,
}

impl Qmp {
    /// Connects, reads the greeting and leaves capabilities negotiation mode. `limit` bounds
    /// the greeting: QMP serves one client at a time, so a busy socket answers late.
    pub async fn connect(path: &Path, limit: Duration) -> Result<Qmp, String> {
        let stream = tokio::time::timeout(limit, UnixStream::connect(path))
            .await
            .map_err(|_| format!("QMP socket {} did not accept a connection", path.display()))?
            .map_err(|e| format!("cannot connect to QMP socket {}: {e}", path.display()))?;
        let (r, w) = stream.into_split();
        let mut qmp = Qmp { lines: BufReader::new(r).lines(), writer: w, events: Vec::new() };
        let greeting = qmp.read(limit).await?;
        if greeting.get("QMP").is_none() {
            return Err(format!("unexpected QMP greeting: {greeting}"));
        }
        qmp.execute("qmp_capabilities", None).await?;
        Ok(qmp)
    }

    async fn read(&mut self, limit: Duration) -> Result<Value, String> {
        let line = tokio::time::timeout(limit, self.lines.next_line())
            .await
            .map_err(|_| "QMP did not answer in time".to_string())?
            .map_err(|e| format!("QMP read failed: {e}"))?
            .ok_or_else(|| "QMP connection closed".to_string())?;
        serde_json::from_str(&line).map_err(|e| format!("QMP sent invalid JSON ({e}): {line}"))
    }

    async fn send(&mut self, cmd: &str, args: Option<Value>) -> Result<(), String> {
        let mut msg = json!({ "execute": cmd });
        if let Some(args) = args {
            msg["arguments"] = args;
        }
        let mut bytes = msg.to_string().into_bytes();
        bytes.push(b'\n');
        self.writer.write_all(&bytes).await.map_err(|e| format!("QMP write failed: {e}"))
    }

    /// Runs a command and returns its `return` value; an `error` answer becomes an error string.
    pub async fn execute(&mut self, cmd: &str, args: Option<Value>) -> Result<Value, String> {
        self.send(cmd, args).await?;
        loop {
            let msg = self.read(ANSWER_TIMEOUT).await.map_err(|e| format!("{cmd}: {e}"))?;
            if msg.get("event").is_some() {
                self.events.push(msg);
            } else if let Some(ret) = msg.get("return") {
                return Ok(ret.clone());
            } else if let Some(err) = msg.get("error") {
                let desc = err.get("desc").and_then(Value::as_str).unwrap_or("unknown error");
                return Err(format!("{cmd}: {desc}"));
            }
        }
    }

    /// Sends `quit`: the process exits, and may close the socket before answering.
    pub async fn quit(&mut self) -> Result<(), String> {
        self.send("quit", None).await?;
        loop {
            match self.read(ANSWER_TIMEOUT).await {
                Ok(msg) if msg.get("return").is_some() => return Ok(()),
                Ok(msg) if msg.get("error").is_some() => return Err(format!("quit: {msg}")),
                Ok(_) => continue,
                Err(e) if e.contains("closed") || e.contains("read failed") => return Ok(()),
                Err(e) => return Err(format!("quit: {e}")),
            }
        }
    }

    /// Waits for an event by name, and by `data.id` when `id` is given (it may already have
    /// arrived during an earlier command).
    pub async fn wait_event(&mut self, name: &str, id: Option<&str>, limit: Duration) -> Result<Value, String> {
        let matches = |e: &Value| e["event"] == name && id.is_none_or(|id| e["data"]["id"] == id);
        if let Some(i) = self.events.iter().position(matches) {
            return Ok(self.events.remove(i));
        }
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let msg = self.read(left).await.map_err(|e| format!("waiting for {name}: {e}"))?;
            if matches(&msg) {
                return Ok(msg);
            }
            if msg.get("event").is_some() {
                self.events.push(msg);
            }
        }
    }
}

impl Qmp {
    /// Waits for an event named `name` for which `want` holds (it may already have arrived).
    pub async fn wait_event_where(
        &mut self,
        name: &str,
        want: impl Fn(&Value) -> bool,
        limit: Duration,
    ) -> Result<Value, String> {
        let matches = |e: &Value| e["event"] == name && want(e);
        if let Some(i) = self.events.iter().position(matches) {
            return Ok(self.events.remove(i));
        }
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let msg = self.read(left).await.map_err(|e| format!("waiting for {name}: {e}"))?;
            if matches(&msg) {
                return Ok(msg);
            }
            if msg.get("event").is_some() {
                self.events.push(msg);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;
    use tokio::net::UnixListener;

    /// A fake QMP server: greeting, capabilities, then an event before the answer.
    #[tokio::test]
    async fn events_arriving_before_an_answer_are_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("qmp.sock");
        let listener = UnixListener::bind(&path).unwrap();
        let server = tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            s.write_all(b"{\"QMP\": {\"version\": {}}}\n").await.unwrap();
            let mut buf = [0u8; 256];
            let n = s.read(&mut buf).await.unwrap();
            assert!(String::from_utf8_lossy(&buf[..n]).contains("qmp_capabilities"));
            s.write_all(b"{\"return\": {}}\n").await.unwrap();
            let n = s.read(&mut buf).await.unwrap();
            assert!(String::from_utf8_lossy(&buf[..n]).contains("block-export-del"));
            s.write_all(b"{\"event\": \"BLOCK_EXPORT_DELETED\", \"data\": {\"id\": \"exp0\"}}\n{\"return\": {}}\n")
                .await
                .unwrap();
            let n = s.read(&mut buf).await.unwrap();
            assert!(String::from_utf8_lossy(&buf[..n]).contains("bogus"));
            s.write_all(b"{\"error\": {\"class\": \"CommandNotFound\", \"desc\": \"no such command\"}}\n")
                .await
                .unwrap();
        });
        let mut qmp = Qmp::connect(&path, Duration::from_secs(2)).await.unwrap();
        qmp.execute("block-export-del", Some(json!({"id": "exp0"}))).await.unwrap();
        let ev = qmp.wait_event("BLOCK_EXPORT_DELETED", Some("exp0"), Duration::from_secs(1)).await.unwrap();
        assert_eq!(ev["data"]["id"], "exp0");
        let err = qmp.execute("bogus", None).await.unwrap_err();
        assert_eq!(err, "bogus: no such command");
        server.await.unwrap();
    }
}
