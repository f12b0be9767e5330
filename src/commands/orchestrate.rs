//! `nnlab orchestrate`: burn-collective's global orchestrator, which the nodes of a
//! data-parallel run register with (`train --nodes N --orchestrator HOST:PORT`).

use crate::cli::OrchestrateArgs;
use crate::error::{Error, Result};

pub(super) fn orchestrate_command(args: OrchestrateArgs) -> Result<()> {
    crate::distributed::log_from_env(true);
    // burn-communication only logs an address it cannot take: try it first, so that a port
    // in use is one line and a non-zero exit.
    let address = format!("{}:{}", args.host, args.port);
    drop(
        std::net::TcpListener::bind(&address)
            .map_err(|e| Error::Usage(format!("--port {}: cannot listen there: {e}", args.port)))?,
    );
    eprintln!(
        "orchestrator listening on {address} (without authentication or encryption: keep it \
         inside a private network); Ctrl-C stops it"
    );
    let runtime = tokio::runtime::Runtime::new().map_err(|e| Error::Training(e.to_string()))?;
    runtime.block_on(burn_collective::start_global_orchestrator_on(
        &args.host, args.port,
    ));
    eprintln!("orchestrator stopped");
    Ok(())
}
