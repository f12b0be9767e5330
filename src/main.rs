//! The `nnlab` binary: parse the arguments, run the command, turn errors into exit codes.

use clap::Parser;

fn main() {
    let cli = nnlab::cli::Cli::parse();
    if let Err(error) = nnlab::commands::run(cli.command) {
        eprintln!("error: {error}");
        std::process::exit(error.exit_code());
    }
}
