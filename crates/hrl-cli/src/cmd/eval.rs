//! `hrl eval`: play episodes with a trained run's network.

use std::path::PathBuf;

use clap::Args;
use hrl_exp::evaluate::{EvalOptions, evaluate_run};

/// Arguments of `hrl eval`.
#[derive(Args)]
pub struct EvalArgs {
    /// Run folder (as written by `hrl train`).
    dir: PathBuf,
    /// Checkpoint to load, by agent step (default: the newest).
    #[arg(long)]
    checkpoint: Option<u64>,
    /// Episodes to play, one per environment, in parallel.
    #[arg(long, default_value_t = 10)]
    episodes: usize,
    /// ε of Q policies (default: the run's eval.epsilon); PPO samples its policy.
    #[arg(long)]
    epsilon: Option<f64>,
    /// Seed of the environments and of the policy's random draws.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Write the first episode as an animated GIF (MinAtar and Atari).
    #[arg(long, value_name = "FILE.gif")]
    record: Option<PathBuf>,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
}

/// Runs `hrl eval`.
pub fn run(args: EvalArgs) -> anyhow::Result<()> {
    anyhow::ensure!(args.episodes > 0, "--episodes must be positive");
    if let Some(epsilon) = args.epsilon {
        anyhow::ensure!(
            (0.0..=1.0).contains(&epsilon),
            "--epsilon must be in [0, 1], got {epsilon}"
        );
    }
    let options = EvalOptions {
        checkpoint: args.checkpoint,
        episodes: args.episodes,
        epsilon: args.epsilon,
        seed: args.seed,
        record: args.record.clone(),
    };
    let report = evaluate_run(&args.dir, &options)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    println!(
        "{} episodes from {} (step {}, epsilon {}): mean score {:.2} ± {:.2} (std)",
        report.scores.len(),
        report.checkpoint.display(),
        report.step,
        report.epsilon,
        report.mean,
        report.std
    );
    for (index, (score, length)) in report.scores.iter().zip(&report.lengths).enumerate() {
        println!("  episode {index}: score {score}, {length} steps");
    }
    if let Some(path) = &args.record {
        println!("recording: {}", path.display());
    }
    Ok(())
}
