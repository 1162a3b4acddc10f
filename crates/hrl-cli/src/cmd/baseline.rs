//! `hrl baseline`: reference scores of simple policies.

use clap::{Args, Subcommand};
use hrl_report::random_baseline::random_baseline;

/// Arguments of `hrl baseline`.
#[derive(Args)]
pub struct BaselineArgs {
    #[command(subcommand)]
    command: BaselineCommand,
}

#[derive(Subcommand)]
enum BaselineCommand {
    /// The uniform random policy's mean score over whole games on a seeded environment.
    Random(RandomArgs),
}

/// Arguments of `hrl baseline random`.
#[derive(Args)]
struct RandomArgs {
    /// Environment id (see `hrl env list`).
    #[arg(long)]
    env: String,
    /// Whole games to play.
    #[arg(long, default_value_t = 100)]
    episodes: usize,
    /// Seed of the environment and of the actions.
    #[arg(long, default_value_t = 0)]
    seed: u32,
    /// Print one JSON object (env, episodes, seed, mean, std).
    #[arg(long)]
    json: bool,
}

/// Runs `hrl baseline`.
pub fn run(args: BaselineArgs) -> anyhow::Result<()> {
    match args.command {
        BaselineCommand::Random(args) => {
            let baseline = random_baseline(&args.env, args.episodes, args.seed)?;
            if args.json {
                let mut value = serde_json::to_value(baseline)?;
                value["env"] = serde_json::Value::from(args.env);
                println!("{value}");
            } else {
                println!(
                    "{}: random policy {:.4} ± {:.4} (sample std) over {} games, seed {}",
                    args.env, baseline.mean, baseline.std, baseline.episodes, baseline.seed
                );
            }
            Ok(())
        }
    }
}
