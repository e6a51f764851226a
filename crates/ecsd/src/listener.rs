//! Accepting connections: plain HTTP and HTTPS (rustls), with the limits that keep slow or
//! half-open clients from exhausting the service, and the graceful stop.
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
    /// On shutdown, how long requests in flight get to finish before their connections are
    /// closed anyway.
    pub shutdown_grace: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_connections: 1024,
            header_read_timeout: Duration::from_secs(10),
            tls_handshake_timeout: Duration::from_secs(10),
            max_header_bytes: 64 * 1024,
            shutdown_grace: Duration::from_secs(10),
        }
    }
}

/// Serves `router` on `listener` until `shutdown` turns true, then stops accepting and waits
/// for the open connections to finish, at most the shutdown grace.
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
            () = stopped(&mut shutdown) => break,
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            tracing::warn!(%peer, max = limits.max_connections, "connection limit reached; closing");
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let (router, limits, acceptor, shutdown) = (router.clone(), limits.clone(), acceptor.clone(), shutdown.clone());
        tokio::spawn(async move {
            let _slot = slot;
            match acceptor {
                None => serve_connection(stream, peer, router, &limits, shutdown, false).await,
                Some(acc) => {
                    let mut stop = shutdown.clone();
                    let handshake = tokio::time::timeout(limits.tls_handshake_timeout, acc.accept(stream));
                    let tls = tokio::select! {
                        r = handshake => match r {
                            Ok(Ok(tls)) => tls,
                            Ok(Err(e)) => return tracing::debug!(%peer, error = %e, "TLS handshake failed"),
                            Err(_) => return tracing::debug!(%peer, "TLS handshake timed out"),
                        },
                        // No request can be in flight yet: nothing to wait for.
                        () = stopped(&mut stop) => return,
                    };
                    serve_connection(tls, peer, router, &limits, shutdown, true).await
                }
            }
        });
    }
    // New connections are refused from here on (the listening socket is closed); the open
    // ones were told to finish (see `serve_connection`). Each holds a slot until it ends, so
    // all slots free again means all connections are done.
    drop(listener);
    let open = limits.max_connections - slots.available_permits();
    if open == 0 {
        return;
    }
    tracing::info!(open, grace_secs = limits.shutdown_grace.as_secs_f64(), "waiting for open connections to finish");
    let all = u32::try_from(limits.max_connections).unwrap_or(u32::MAX);
    if tokio::time::timeout(limits.shutdown_grace, slots.acquire_many(all)).await.is_err() {
        let open = limits.max_connections - slots.available_permits();
        tracing::warn!(open, "connections still open after the shutdown grace; closing them");
    }
}

/// Whether a request came over TLS (a request extension): a URL the service hands back to the
/// client, such as a remote console's, uses the same kind of connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Secure(pub bool);

/// Serves one connection (HTTP/1 or HTTP/2) until it ends, goes quiet (see [`watchdog`]), or
/// finishes its requests in flight once `shutdown` turns true.
async fn serve_connection<I>(
    io: I,
    peer: SocketAddr,
    router: Router,
    limits: &Limits,
    mut shutdown: watch::Receiver<bool>,
    secure: bool,
) where
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
        hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
            req.extensions_mut().insert(Secure(secure));
            // The peer, as axum's extractor reads it (the audit trail's source address).
            req.extensions_mut().insert(axum::extract::ConnectInfo(peer));
            // Counted from the moment hyper hands the request over: its head is complete.
            let handling = activity.handling();
            let router = router.clone();
            async move {
                let _handling = handling;
                router.oneshot(req).await
            }
        })
    };
    // With upgrades: a remote console turns its request into a WebSocket (the connection future
    // ends when hyper hands the socket over, and the console carries on without the watchdog).
    let conn = b.serve_connection_with_upgrades(TokioIo::new(Watched::new(io, activity.clone())), svc);
    tokio::pin!(conn);
    let quiet = activity.quiet_for(limits.header_read_timeout);
    tokio::pin!(quiet);
    let mut draining = false;
    loop {
        tokio::select! {
            r = conn.as_mut() => {
                if let Err(e) = r {
                    tracing::debug!(%peer, error = %e, "connection ended with an error");
                }
                return;
            }
            // Dropping the connection closes the socket, whatever hyper was waiting for.
            () = quiet.as_mut() => {
                tracing::debug!(%peer, timeout_secs = limits.header_read_timeout.as_secs_f64(), "closing a quiet connection");
                return;
            }
            // HTTP/1: finish the request in flight, then close; HTTP/2: GOAWAY, then close once
            // the open streams are done; still sniffing the protocol: close now.
            () = stopped(&mut shutdown), if !draining => {
                draining = true;
                conn.as_mut().graceful_shutdown();
            }
        }
    }
}

/// Resolves once the stop signal is sent (or its sender is gone: the service is going away).
async fn stopped(shutdown: &mut watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|&stop| stop).await;
}
