//! `hrl`: the hadamard-rl command line.

mod cmd;

use clap::{Parser, Subcommand};

/// hadamard-rl: deep RL research on representation health and Hadamard representations.
#[derive(Parser)]
#[command(name = "hrl", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Environments: traces for parity checks.
    Env(cmd::env::EnvArgs),
    /// Throughput benchmarks.
    Bench(cmd::bench::BenchArgs),
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Env(args) => cmd::env::run(args),
        Command::Bench(args) => cmd::bench::run(args),
    }
}
