//! The HTTP listener: hyper connections with a header-read timeout, a cap on open
//! connections, and a graceful shutdown with a bound.
//!
//! Why not `axum::serve`: it sets no timer on hyper's connections, so a client that sends
//! half a request header (slowloris) or keeps an idle keep-alive connection open holds a
//! connection — and its memory — forever, and a graceful shutdown waits for them without
//! end. Here every connection gets hyper's `header_read_timeout`, which since hyper 1.6
//! also runs while a keep-alive connection waits for its next request (so it is the idle
//! timeout too); at most `max_connections` are open at once (more are accepted and closed
//! at once, counted in `probity_http_connections_refused_total`); and a shutdown waits at
//! most `shutdown_timeout` for open connections before closing them.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

/// How connections are limited.
#[derive(Clone, Copy, Debug)]
pub struct ConnectionLimits {
    /// Longest a client may take to send a request's header, and longest a keep-alive
    /// connection may sit idle between requests.
    pub header_read_timeout: Duration,
    /// Most connections open at once.
    pub max_connections: usize,
    /// Longest a shutdown waits for open connections.
    pub shutdown_timeout: Duration,
}

/// Serve `app` on `listener` until `shutdown` completes; then stop accepting, let open
/// connections finish their requests for at most `limits.shutdown_timeout`, and return.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()>,
) {
    let open = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let graceful = GracefulShutdown::new();
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .keep_alive(true);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, _peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    // Out of file descriptors, usually: wait a little rather than spin.
                    tracing::warn!(error = %err, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = shutdown.as_mut() => break,
        };
        let Ok(permit) = open.clone().try_acquire_owned() else {
            metrics::counter!("probity_http_connections_refused_total").increment(1);
            drop(stream);
            continue;
        };
        let service = TowerToHyperService::new(app.clone());
        let connection = graceful.watch(builder.serve_connection(TokioIo::new(stream), service));
        metrics::gauge!("probity_http_connections_open").increment(1.0);
        tokio::spawn(async move {
            // Errors here are the client's (reset, timed out, malformed): nothing to do.
            let _ = connection.await;
            metrics::gauge!("probity_http_connections_open").decrement(1.0);
            drop(permit);
        });
    }
    drop(listener);
    if tokio::time::timeout(limits.shutdown_timeout, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            seconds = limits.shutdown_timeout.as_secs_f64(),
            "open connections did not finish within the shutdown bound; closing them"
        );
    }
}
