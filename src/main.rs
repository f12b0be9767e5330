//! The `nnlab` binary: parse the arguments, run the command, turn errors into exit codes.

use clap::Parser;

fn main() {
    let cli = nnlab::cli::Cli::parse();
    if let Some(threads) = cli.threads {
        nnlab::threads::set(threads.into());
    }
    // Before any work, so that a Ctrl-C at any later moment stops the command as it should.
    if let Err(e) = nnlab::interrupt::install(cli.command.on_signal()) {
        eprintln!("warning: Ctrl-C will not stop training safely: {e}");
    }
    if let Err(error) = nnlab::commands::run(cli.command) {
        match error {
            // Not a failure: the run was saved as asked.
            nnlab::Error::Interrupted { .. } => eprintln!("{error}"),
            _ => eprintln!("error: {error}"),
        }
        std::process::exit(error.exit_code());
    }
}
