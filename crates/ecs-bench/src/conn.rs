//! One keep-alive HTTP/1.1 connection to ecsd (hyper's low-level client: exactly one TCP
//! connection per worker, no pool, nothing between the worker and the socket).

use anyhow::{anyhow, Context, Result};
use bytes::Bytes;
use http::Request;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::net::TcpStream;

/// A connection that reconnects on the next request after a transport failure.
pub struct Conn {
    addr: SocketAddr,
    sender: Option<SendRequest<Full<Bytes>>>,
}

/// A complete answer and how long it took (request written to last body byte read).
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub body: Bytes,
    pub latency: Duration,
}

impl Answer {
    /// `400 Ecs.0100`: the server is busy with another operation (expected under load).
    pub fn is_busy(&self) -> bool {
        self.status == 400 && self.body.windows(8).any(|w| w == b"Ecs.0100")
    }

    pub fn json(&self) -> Result<serde_json::Value> {
        serde_json::from_slice(&self.body).with_context(|| format!("answer is not JSON: {}", self.text()))
    }

    /// The body as text, shortened, for error messages.
    pub fn text(&self) -> String {
        let t = String::from_utf8_lossy(&self.body);
        if t.len() > 300 {
            let mut end = 300;
            while !t.is_char_boundary(end) {
                end -= 1;
            }
            format!("{}...", &t[..end])
        } else {
            t.into_owned()
        }
    }
}

impl Conn {
    /// A connection to `addr`, opened on first use.
    pub fn new(addr: SocketAddr) -> Conn {
        Conn { addr, sender: None }
    }

    async fn connect(&mut self) -> Result<&mut SendRequest<Full<Bytes>>> {
        if self.sender.as_ref().is_none_or(|s| s.is_closed()) {
            let stream = TcpStream::connect(self.addr).await.with_context(|| format!("connect to {}", self.addr))?;
            // Requests are small and answered one at a time: Nagle would only add latency.
            stream.set_nodelay(true)?;
            let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
            // The connection future drives the socket; it ends when the sender is dropped.
            tokio::spawn(async move {
                let _ = conn.await;
            });
            self.sender = Some(sender);
        }
        self.sender.as_mut().ok_or_else(|| anyhow!("no connection"))
    }

    /// Opens the connection now, so that the first measured request does not pay for it.
    pub async fn warm(&mut self) -> Result<()> {
        let r = self.connect().await.map(|_| ());
        if r.is_err() {
            self.sender = None;
        }
        r
    }

    /// Sends one request and reads the whole answer. On a transport error the connection is
    /// dropped (the next call reconnects) and the error returned.
    pub async fn send(&mut self, req: Request<Full<Bytes>>) -> Result<Answer> {
        let r = self.exchange(req).await;
        if r.is_err() {
            self.sender = None;
        }
        r
    }

    async fn exchange(&mut self, req: Request<Full<Bytes>>) -> Result<Answer> {
        let sender = self.connect().await?;
        sender.ready().await?;
        let start = Instant::now();
        let resp = sender.send_request(req).await?;
        let status = resp.status().as_u16();
        let body = resp.into_body().collect().await?.to_bytes();
        Ok(Answer { status, body, latency: start.elapsed() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, body: &str) -> Answer {
        Answer { status, body: Bytes::from(body.to_string()), latency: Duration::ZERO }
    }

    #[test]
    fn busy_is_400_ecs_0100_only() {
        assert!(answer(400, r#"{"error":{"code":"Ecs.0100","message":"busy"}}"#).is_busy());
        assert!(!answer(400, r#"{"error":{"code":"Ecs.0005","message":"bad"}}"#).is_busy());
        assert!(!answer(409, r#"{"error":{"code":"Ecs.0100"}}"#).is_busy());
    }

    #[test]
    fn long_bodies_are_shortened() {
        let a = answer(500, &"é".repeat(400));
        assert!(a.text().ends_with("..."));
        assert!(a.text().len() <= 303);
    }
}
