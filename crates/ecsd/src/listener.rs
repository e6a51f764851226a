//! Accepting connections: plain HTTP and HTTPS (rustls), with the limits that keep slow or
//! half-open clients from exhausting the service.
//!
//! `axum::serve` offers no connection cap, no header-read timeout and no TLS, so connections
//! are accepted here and handed to hyper with those settings; the router is the same.

mod watchdog;

use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};
use tower::ServiceExt;
use watchdog::{Activity, Watched};

/// Connection-level limits.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Open connections at most (per listener); one more is closed at once.
    pub max_connections: usize,
    /// Time a connection may stay quiet: to send a request's head after the accept (after the
    /// TLS handshake on HTTPS) or after the previous response, with no stream on HTTP/2, or
    /// with a response it does not read. See [`watchdog`].
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
            () = stopped(&mut shutdown) => return,
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
                None => serve_connection(stream, peer, router, &limits).await,
                Some(acc) => match tokio::time::timeout(limits.tls_handshake_timeout, acc.accept(stream)).await {
                    Ok(Ok(tls)) => serve_connection(tls, peer, router, &limits).await,
                    Ok(Err(e)) => tracing::debug!(%peer, error = %e, "TLS handshake failed"),
                    Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
                },
            }
        });
    }
}

/// Serves one connection (HTTP/1 or HTTP/2) until it ends or goes quiet (see [`watchdog`]).
async fn serve_connection<I>(io: I, peer: SocketAddr, router: Router, limits: &Limits)
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let activity = Activity::new();
    let mut b = Builder::new(TokioExecutor::new());
    // hyper's own header timeout is off: it starts only at a request's first byte, and it
    // boxes a new timer for every request; the watchdog bounds the same wait, from earlier on.
    b.http1().header_read_timeout(None).max_buf_size(limits.max_header_bytes.max(8192));
    b.http2().max_header_list_size(limits.max_header_bytes as u32);
    let svc = {
        let activity = activity.clone();
        hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
            // Counted from the moment hyper hands the request over: its head is complete.
            let handling = activity.handling();
            let router = router.clone();
            async move {
                let _handling = handling;
                router.oneshot(req).await
            }
        })
    };
    let conn = b.serve_connection(TokioIo::new(Watched::new(io, activity.clone())), svc);
    tokio::pin!(conn);
    let quiet = activity.quiet_for(limits.header_read_timeout);
    tokio::pin!(quiet);
    tokio::select! {
        r = conn.as_mut() => {
            if let Err(e) = r {
                tracing::debug!(%peer, error = %e, "connection ended with an error");
            }
        }
        // Dropping the connection closes the socket, whatever hyper was waiting for.
        () = quiet.as_mut() => {
            tracing::debug!(%peer, timeout_secs = limits.header_read_timeout.as_secs_f64(), "closing a quiet connection");
        }
    }
}

/// Resolves once the stop signal is sent (or its sender is gone: the service is going away).
async fn stopped(shutdown: &mut watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|&stop| stop).await;
}
