//! A connection's watchdog: it ends a connection that has gone quiet, that is, one with no
//! request being handled and nothing written to the client for the header timeout.
//!
//! hyper's own `header_read_timeout` only starts once a request's first byte has arrived, and
//! neither the HTTP/1-or-2 sniffing of hyper-util's auto builder nor an HTTP/2 connection
//! without streams has a timeout at all: a client that connects and sends nothing held its
//! connection slot for as long as it liked. One watchdog per connection covers every case with
//! a single rule:
//!
//! - a connection with a handler running (which includes reading a request body, bounded by
//!   the body timeout of the authentication layer) is never cut;
//! - otherwise, it is cut once neither a handler finished nor a byte was written for the
//!   timeout. Reads do not count: a client trickling a request head (slowloris) gets no more
//!   time than a silent one, counted from the accept, the TLS handshake or the end of the
//!   previous response. Writes do count, so a long response the client reads is not cut, and
//!   a client that stops reading (the writes stall) is.
//!
//! The hot path only touches two atomics and reads the clock when a handler ends or a write
//! completes; the watchdog's one timer is re-armed in place, never allocated per request.

use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Instant;

/// What one connection is doing, shared by its requests, its socket and its watchdog.
#[derive(Debug)]
pub struct Activity {
    /// When the watch began (the accept, or the end of the TLS handshake).
    start: Instant,
    /// Requests whose handler is running.
    handling: AtomicUsize,
    /// Nanoseconds from `start` to the last sign of life: a handler finishing, bytes written.
    last: AtomicU64,
}

impl Activity {
    /// A connection that starts being watched now.
    pub fn new() -> Arc<Activity> {
        Arc::new(Activity { start: Instant::now(), handling: AtomicUsize::new(0), last: AtomicU64::new(0) })
    }

    fn touch(&self) {
        // u64 nanoseconds last 584 years: no connection lives that long.
        self.last.store(self.start.elapsed().as_nanos() as u64, Ordering::Relaxed);
    }

    /// Counts a request as being handled until the returned guard is dropped (the handler
    /// returned its response, or was dropped because the client went away).
    pub fn handling(self: &Arc<Self>) -> Handling {
        self.handling.fetch_add(1, Ordering::Relaxed);
        Handling(self.clone())
    }

    /// Resolves once the connection has been quiet for `timeout`.
    pub async fn quiet_for(&self, timeout: Duration) {
        let sleep = tokio::time::sleep_until(self.start + timeout);
        tokio::pin!(sleep);
        loop {
            sleep.as_mut().await;
            let now = Instant::now();
            // Acquire pairs with the Release in `Handling::drop`: once the count reads zero,
            // the `last` written just before the decrement is seen too.
            let next = if self.handling.load(Ordering::Acquire) > 0 {
                now + timeout
            } else {
                let last = self.start + Duration::from_nanos(self.last.load(Ordering::Relaxed));
                if now.saturating_duration_since(last) >= timeout {
                    return;
                }
                last + timeout
            };
            sleep.as_mut().reset(next);
        }
    }
}

/// A request being handled (see [`Activity::handling`]).
pub struct Handling(Arc<Activity>);

impl Drop for Handling {
    fn drop(&mut self) {
        // The quiet time of a connection starts when its last handler ends.
        self.0.touch();
        self.0.handling.fetch_sub(1, Ordering::Release);
    }
}

/// A connection's byte stream, reporting each completed write to its [`Activity`].
pub struct Watched<I> {
    io: I,
    activity: Arc<Activity>,
}

impl<I> Watched<I> {
    pub fn new(io: I, activity: Arc<Activity>) -> Self {
        Watched { io, activity }
    }

    fn wrote(&self, r: Poll<std::io::Result<usize>>) -> Poll<std::io::Result<usize>> {
        if let Poll::Ready(Ok(n)) = r {
            if n > 0 {
                self.activity.touch();
            }
        }
        r
    }
}

impl<I: AsyncRead + Unpin> AsyncRead for Watched<I> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl<I: AsyncWrite + Unpin> AsyncWrite for Watched<I> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        let r = Pin::new(&mut self.io).poll_write(cx, buf);
        self.wrote(r)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let r = Pin::new(&mut self.io).poll_write_vectored(cx, bufs);
        self.wrote(r)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: Duration = Duration::from_millis(200);

    #[tokio::test]
    async fn quiet_time_counts_from_the_start_and_from_the_last_handler_or_write() {
        let a = Activity::new();
        let t0 = Instant::now();
        a.quiet_for(T).await;
        assert!(t0.elapsed() >= T, "nothing happened: the timeout from the start");

        let a = Activity::new();
        let guard = a.handling();
        let watch = tokio::spawn({
            let a = a.clone();
            async move { a.quiet_for(T).await }
        });
        // A handler running for three timeouts is not cut; the quiet time starts when it ends.
        tokio::time::sleep(3 * T).await;
        assert!(!watch.is_finished(), "cut while a handler runs");
        drop(guard);
        let ended = Instant::now();
        tokio::time::sleep(T / 2).await;
        a.touch(); // a write
        let wrote = Instant::now();
        watch.await.unwrap();
        assert!(ended.elapsed() >= T + T / 2 && wrote.elapsed() >= T, "counted from the last write");
    }
}
