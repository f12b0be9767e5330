//! The `nnlab` binary: parse the arguments, run the command, turn errors into exit codes.

use clap::Parser;

fn main() {
    // First, so that a Ctrl-C at any later moment is a safe stop.
    if let Err(e) = nnlab::interrupt::install() {
        eprintln!("warning: Ctrl-C will not stop training safely: {e}");
    }
    let cli = nnlab::cli::Cli::parse();
    if let Err(error) = nnlab::commands::run(cli.command) {
        match error {
            // Not a failure: the run was saved as asked.
            nnlab::Error::Interrupted { .. } => eprintln!("{error}"),
            _ => eprintln!("error: {error}"),
        }
        std::process::exit(error.exit_code());
    }
}
