//! `nnlab serve`: the runs in a directory answer other programs over HTTP ([`api`], after
//! TensorFlow Serving's REST API), each loaded on first use ([`runs`]).

mod answer;
pub mod api;
mod listen;
pub mod metrics;
pub mod request;
pub mod runs;
pub mod stream;
pub mod web;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::get;
use burn::tensor::backend::Backend;

use crate::error::{Error, Result};
use metrics::Metrics;
use runs::Runs;

/// How a server is set up.
pub struct Options {
    pub runs: PathBuf,
    pub host: String,
    pub port: u16,
    /// The largest request body, in bytes.
    pub max_body: usize,
    /// The most rows one request may hold.
    pub max_rows: usize,
    /// How long a request may take, from its headers to its answer.
    pub timeout: Duration,
}

/// What every request shares.
pub struct Server<B: Backend> {
    pub runs: Runs<B>,
    pub metrics: Metrics,
    pub max_rows: usize,
    pub timeout: Duration,
}

/// The routes, for a server on `state`.
pub fn router<B: Backend>(state: Arc<Server<B>>, max_body: usize) -> Router {
    Router::new()
        .route("/", get(web::index::<B>))
        .route("/static/style.css", get(web::style))
        .route("/runs/{name}", get(web::page::<B>).post(web::predict::<B>))
        .route("/runs/{name}/files/{file}", get(web::file::<B>))
        .route("/healthz", get(api::healthz))
        .route("/metrics", get(api::metrics::<B>))
        .route(
            "/v1/models/{target}",
            get(api::status::<B>).post(api::predict::<B>),
        )
        .layer(axum::middleware::from_fn_with_state(
            Arc::clone(&state),
            api::deadline::<B>,
        ))
        .layer(axum::middleware::from_fn_with_state(
            Arc::clone(&state),
            api::log::<B>,
        ))
        .layer(DefaultBodyLimit::max(max_body))
        .with_state(state)
}

/// Serves the runs in `options.runs` on `device` until SIGINT or SIGTERM, then lets the
/// requests in flight finish and returns.
pub fn serve<B: Backend>(options: Options, device: B::Device) -> Result<()> {
    let runs = Runs::<B>::new(&options.runs, device).map_err(|e| Error::io(&options.runs, e))?;
    let state = Arc::new(Server {
        runs,
        metrics: Metrics::default(),
        max_rows: options.max_rows,
        timeout: options.timeout,
    });
    let app = router(state, options.max_body);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Backend(format!("could not start the server's runtime: {e}")))?;
    runtime.block_on(async {
        let address = format!("{}:{}", options.host, options.port);
        let listener = tokio::net::TcpListener::bind(&address)
            .await
            .map_err(|e| Error::Usage(format!("cannot listen on {address}: {e}")))?;
        let bound: SocketAddr = listener
            .local_addr()
            .map_err(|e| Error::Usage(format!("cannot listen on {address}: {e}")))?;
        if listener.local_addr().is_ok_and(|a| !a.ip().is_loopback()) {
            eprintln!(
                "warning: listening on {bound}, reachable from the network; nnlab serve has no \
                 authentication"
            );
        }
        eprintln!(
            "serving the runs in {} on http://{bound}",
            options.runs.display()
        );
        listen::serve(listener, app, options.timeout, stopped()).await;
        Ok::<_, Error>(())
    })?;
    eprintln!("stopped: the requests in flight were answered");
    Ok(())
}

/// Resolves once SIGINT or SIGTERM has asked the process to stop (see `interrupt`).
async fn stopped() {
    while crate::interrupt::requested().is_none() {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
