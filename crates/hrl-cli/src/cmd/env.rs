//! `hrl env ...`: inspect and trace environments.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Subcommand};
use hrl_env::Game;
use hrl_env::trace::{read_actions, write_trace};

/// Arguments of `hrl env`.
#[derive(Args)]
pub struct EnvArgs {
    #[command(subcommand)]
    command: EnvCommand,
}

#[derive(Subcommand)]
enum EnvCommand {
    /// Step an environment through a file of actions and print one line per step.
    ///
    /// Each line is `REWARD TERMINAL STATE`, where STATE is the hex of numpy's
    /// `packbits` of the `[10, 10, C]` boolean state: exactly what minatar 1.0.15 prints for
    /// `Environment(GAME, sticky_action_prob=P, difficulty_ramping=True)` seeded with `S`,
    /// reset after every terminal step.
    Trace(TraceArgs),
    /// List the environment ids.
    List,
}

#[derive(Args)]
struct TraceArgs {
    /// Environment id: minatar/breakout, minatar/asterix, minatar/freeway, minatar/seaquest or
    /// minatar/space_invaders.
    #[arg(long)]
    env: String,
    /// Seed of the shared random stream, as numpy's `RandomState(S)` (0 to 2^32 - 1).
    #[arg(long)]
    seed: u32,
    /// Actions file: one integer action in 0..=5 (n, l, u, r, d, f) per line.
    #[arg(long)]
    actions: PathBuf,
    /// Probability that a step repeats the previous action [default: 0.1].
    #[arg(long)]
    sticky: Option<f64>,
}

/// Runs `hrl env`.
pub fn run(args: EnvArgs) -> anyhow::Result<()> {
    match args.command {
        EnvCommand::Trace(args) => trace(args),
        EnvCommand::List => {
            for id in hrl_env::env_ids() {
                println!("{id}");
            }
            Ok(())
        }
    }
}

fn trace(args: TraceArgs) -> anyhow::Result<()> {
    let game = args
        .env
        .strip_prefix("minatar/")
        .and_then(Game::from_name)
        .with_context(|| {
            let valid: Vec<String> = Game::ALL
                .iter()
                .map(|game| format!("minatar/{}", game.name()))
                .collect();
            format!(
                "hrl env trace supports MinAtar only: unknown id `{}`; valid ids: {}",
                args.env,
                valid.join(", ")
            )
        })?;
    let actions = read_actions(&args.actions)?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    write_trace(
        game,
        args.seed,
        args.sticky.unwrap_or(0.1),
        &actions,
        &mut out,
    )?;
    out.flush().context("writing the trace")?;
    Ok(())
}
