//! The `recon` binary: parse flags, run, map the outcome to an exit status
//! (0 pass, 1 criterion breached, 2 error).

use std::process::ExitCode;

use clap::Parser;
use recon::cli::{self, Cli, Status};

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli::run(cli) {
        Ok(Status::Passed) => ExitCode::SUCCESS,
        Ok(Status::Breached) => ExitCode::from(1),
        Err(error) => {
            eprintln!("recon: error: {error}");
            ExitCode::from(2)
        }
    }
}
