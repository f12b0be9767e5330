//! The accept loop: hyper's HTTP/1 connections for the router, with a bound on how long a
//! client may take to send its headers (axum's own `serve` sets none, so a client that stalls
//! in its headers would hold its connection for ever), and a graceful stop.

use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;

/// How long the requests in flight get to finish after a stop was asked for, beyond the
/// request timeout.
const DRAIN_GRACE: Duration = Duration::from_secs(5);

/// Serves `app` on `listener` until `stop` resolves, then closes idle connections, lets the
/// requests in flight finish (for at most `timeout` and a grace) and returns.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    timeout: Duration,
    stop: impl Future<Output = ()>,
) {
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new()).header_read_timeout(timeout);
    let graceful = GracefulShutdown::new();
    let mut stop = std::pin::pin!(stop);
    loop {
        let (stream, _) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                // Out of file descriptors, say: wait rather than spin.
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
            },
            () = &mut stop => break,
        };
        // Answers are one write each; waiting to coalesce them only adds latency.
        let _ = stream.set_nodelay(true);
        let service = TowerToHyperService::new(app.clone());
        let connection = http.serve_connection(TokioIo::new(stream), service);
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            let _ = connection.await;
        });
    }
    drop(listener);
    let _ = tokio::time::timeout(timeout + DRAIN_GRACE, graceful.shutdown()).await;
}
