//! `hrl env ...`: inspect and trace environments.

use clap::{Args, Subcommand};

/// Arguments of `hrl env`.
#[derive(Args)]
pub struct EnvArgs {
    #[command(subcommand)]
    command: EnvCommand,
}

#[derive(Subcommand)]
enum EnvCommand {
    /// Step an environment through a file of actions and print one line per step.
    Trace,
}

/// Runs `hrl env`.
pub fn run(args: EnvArgs) -> anyhow::Result<()> {
    match args.command {
        EnvCommand::Trace => anyhow::bail!("hrl env trace is not available in this build yet"),
    }
}
