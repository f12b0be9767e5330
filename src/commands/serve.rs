//! `nnlab serve`: the runs in a directory over HTTP ([`crate::serve`]), on the backend chosen.

use burn::tensor::backend::AutodiffBackend;

use crate::backend::{BackendJob, BackendName, run_on};
use crate::cli::ServeArgs;
use crate::error::Result;
use crate::serve::{Options, serve};

struct ServeJob(Options);

impl BackendJob for ServeJob {
    type Output = ();

    fn run<B: AutodiffBackend>(self, _: BackendName, device: B::Device) -> Result<()> {
        serve::<B::InnerBackend>(self.0, device)
    }
}

pub(super) fn serve_command(args: ServeArgs) -> Result<()> {
    let backend = args.backend.unwrap_or_else(BackendName::default_compiled);
    let options = Options {
        runs: args.runs,
        host: args.host,
        port: args.port,
        max_body: args.max_body as usize,
        max_rows: args.max_rows as usize,
        timeout: std::time::Duration::from_secs(args.timeout),
    };
    run_on(backend, ServeJob(options))
}
