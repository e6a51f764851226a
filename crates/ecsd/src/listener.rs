//! Accepting connections: plain HTTP and HTTPS (rustls), with the limits that keep slow or
//! half-open clients from exhausting the service.
//!
//! `axum::serve` offers no connection cap, no header-read timeout and no TLS, so connections
//! are accepted here and handed to hyper with those settings; the router is the same.

use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::service::TowerToHyperService;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};

/// Connection-level limits.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Open connections at most (per listener); one more is closed at once.
    pub max_connections: usize,
    /// Time a client has to send a request's headers (slowloris).
    pub header_read_timeout: Duration,
    /// Time a client has to finish a TLS handshake.
    pub tls_handshake_timeout: Duration,
    /// Largest request head (request line and headers) accepted.
    pub max_header_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_connections: 1024,
            header_read_timeout: Duration::from_secs(10),
            tls_handshake_timeout: Duration::from_secs(10),
            max_header_bytes: 64 * 1024,
        }
    }
}

/// Serves `router` on `listener` until `shutdown` turns true.
pub async fn accept_loop(
    listener: TcpListener,
    tls: Option<Arc<rustls::ServerConfig>>,
    router: Router,
    limits: Limits,
    mut shutdown: watch::Receiver<bool>,
) {
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let acceptor = tls.map(tokio_rustls::TlsAcceptor::from);
    loop {
        let (stream, peer) = tokio::select! {
            r = listener.accept() => match r {
                Ok(s) => s,
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            // The only change ever sent is the stop signal.
            _ = shutdown.changed() => return,
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            tracing::warn!(%peer, max = limits.max_connections, "connection limit reached; closing");
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let (router, limits, acceptor) = (router.clone(), limits.clone(), acceptor.clone());
        tokio::spawn(async move {
            let _slot = slot;
            match acceptor {
                None => serve_connection(TokioIo::new(stream), router, &limits).await,
                Some(acc) => match tokio::time::timeout(limits.tls_handshake_timeout, acc.accept(stream)).await {
                    Ok(Ok(tls)) => serve_connection(TokioIo::new(tls), router, &limits).await,
                    Ok(Err(e)) => tracing::debug!(%peer, error = %e, "TLS handshake failed"),
                    Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
                },
            }
        });
    }
}

async fn serve_connection<I>(io: TokioIo<I>, router: Router, limits: &Limits)
where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let mut b = Builder::new(TokioExecutor::new());
    b.http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_buf_size(limits.max_header_bytes.max(8192));
    b.http2().timer(TokioTimer::new()).max_header_list_size(limits.max_header_bytes as u32);
    let svc = TowerToHyperService::new(router);
    if let Err(e) = b.serve_connection(io, svc).await {
        tracing::debug!(error = %e, "connection ended with an error");
    }
}
