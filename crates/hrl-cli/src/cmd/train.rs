//! `hrl train`: train an agent into a run folder.

use std::path::PathBuf;

use clap::Args;
use hrl_exp::train;
use hrl_exp::train_config::{Overrides, TrainConfig};
use hrl_nn::repr::ReprSpec;

/// Arguments of `hrl train`.
#[derive(Args)]
pub struct TrainArgs {
    /// Algorithm: pqn.
    #[arg(long)]
    algo: Option<String>,
    /// Environment id (see `hrl env list`).
    #[arg(long)]
    env: Option<String>,
    /// Representation spec of the final hidden layer (e.g. relu, tanh, hr-tanh, tanh@matched).
    #[arg(long)]
    repr: Option<ReprSpec>,
    /// Run seed.
    #[arg(long)]
    seed: Option<u64>,
    /// Agent steps over all environments (the algorithm's total_timesteps).
    #[arg(long)]
    steps: Option<u64>,
    /// Preset to start from (default: ALGO-FAMILY, e.g. pqn-minatar).
    #[arg(long)]
    preset: Option<String>,
    /// Override any config value, e.g. --set pqn.learning_rate=1e-4 (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
    /// Compute device: cpu, cuda or cuda:N.
    #[arg(long)]
    device: Option<String>,
    /// Worker threads stepping the environments (the config's num_threads).
    #[arg(long)]
    threads: Option<usize>,
    /// Start from a config file (e.g. an earlier run's config.toml) instead of a preset.
    #[arg(long, conflicts_with = "preset")]
    config: Option<PathBuf>,
    /// Run folder (default: runs/RUN_NAME, e.g. runs/pqn.minatar-breakout.hr-tanh.s0).
    #[arg(long)]
    out: Option<PathBuf>,
}

/// Runs `hrl train`.
pub fn run(args: TrainArgs) -> anyhow::Result<()> {
    let mut set = args.set;
    if let Some(threads) = args.threads {
        set.push(format!("num_threads={threads}"));
    }
    let overrides = Overrides {
        algo: args.algo,
        env: args.env,
        repr: args.repr,
        seed: args.seed,
        steps: args.steps,
        device: args.device,
        preset: args.preset,
        set,
    };
    let config = match &args.config {
        Some(path) => TrainConfig::load(path, &overrides)?,
        None => TrainConfig::resolve(&overrides)?,
    };
    let out = args
        .out
        .unwrap_or_else(|| PathBuf::from("runs").join(config.run_name()));
    tracing::info!(
        "training {} on {} with {} (seed {}) into {}",
        config.algo,
        config.env,
        config.repr,
        config.seed,
        out.display()
    );
    let summary = train::train(&config, &out)?;
    let final_return = summary
        .final_return
        .map_or("n/a".to_string(), |r| format!("{r:.2}"));
    println!(
        "{} steps in {:.0} s ({:.0} steps/s), {} episodes, final return {final_return}",
        summary.steps, summary.wall_seconds, summary.sps, summary.episodes
    );
    if let Some(diag) = &summary.final_diagnostics {
        let dead = diag
            .output
            .dead_fraction
            .map_or("n/a".to_string(), |d| format!("{d:.3}"));
        println!(
            "final representation: dead fraction {dead}, srank {}, erank {:.1}",
            diag.output.srank, diag.output.erank
        );
    }
    let out = out.display();
    println!("metrics: {out}/metrics.csv (TensorBoard: tensorboard --logdir {out})");
    println!("plot:    {out}/curves.png");
    Ok(())
}
