//! `hrl bench ...`: throughput benchmarks.

use clap::{Args, Subcommand};

/// Arguments of `hrl bench`.
#[derive(Args)]
pub struct BenchArgs {
    #[command(subcommand)]
    command: BenchCommand,
}

#[derive(Subcommand)]
enum BenchCommand {
    /// Environment steps per second.
    Env,
}

/// Runs `hrl bench`.
pub fn run(args: BenchArgs) -> anyhow::Result<()> {
    match args.command {
        BenchCommand::Env => anyhow::bail!("hrl bench env is not available in this build yet"),
    }
}
