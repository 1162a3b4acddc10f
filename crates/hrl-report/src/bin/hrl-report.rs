//! `hrl-report`: `hrl report` without burn or the agents, for re-plotting sweeps on a machine
//! that only analyses them.
//!
//! ```text
//! cargo run --release -p hrl-report --features cli -- sweeps/minatar-hr --out results/minatar-hr
//! ```

use std::process::ExitCode;

use clap::Parser;
use hrl_report::cli::{ReportArgs, run};

/// Aggregate statistics, tables and figures over run folders.
#[derive(Parser)]
#[command(name = "hrl-report", version)]
struct Cli {
    #[command(flatten)]
    args: ReportArgs,
}

fn main() -> ExitCode {
    match run(Cli::parse().args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
