//! `hrl`: the hadamard-rl command line.

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
    /// Print the version.
    Version,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Version => println!("hrl {}", env!("CARGO_PKG_VERSION")),
    }
    Ok(())
}
