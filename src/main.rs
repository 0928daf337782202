//! The `recon` binary: parse flags, run, map the outcome to an exit status
//! (0 pass, 1 criterion breached, 2 error).

use std::process::ExitCode;

use clap::Parser;
use recon::Status;
use recon::cli::{self, Cli};

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli::run(cli) {
        Ok(status) => ExitCode::from(status.exit_code()),
        Err(error) => {
            eprintln!("recon: error: {error}");
            ExitCode::from(Status::Error.exit_code())
        }
    }
}
