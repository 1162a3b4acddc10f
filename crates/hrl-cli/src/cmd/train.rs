//! `hrl train`: train an agent into a run folder, or resume one.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use clap::Args;
use hrl_agents::algo::Algo;
use hrl_exp::train::config::{MAX_THREADS, Overrides, TrainConfig};
use hrl_exp::train::{self, Outcome, Summary, TrainError};
use hrl_nn::repr::ReprSpec;
use hrl_report::run_dir::RunDirError;

/// Arguments of `hrl train`.
#[derive(Args)]
pub struct TrainArgs {
    /// Algorithm: dqn, ppo or pqn (pqn if neither this nor --preset says).
    #[arg(long)]
    algo: Option<Algo>,
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
    #[arg(long, allow_negative_numbers = true, value_parser = positive_steps)]
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
    /// Threads: environment workers (the config's num_threads) and the compute pool.
    #[arg(long)]
    threads: Option<usize>,
    /// Start from a config file (e.g. an earlier run's config.toml) instead of a preset.
    #[arg(long, conflicts_with = "preset")]
    config: Option<PathBuf>,
    /// Run folder (default: runs/RUN_NAME, e.g. runs/pqn.minatar-breakout.hr-tanh.s0).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Continue the run in this folder from its last checkpoint (its config.toml is used).
    #[arg(long, value_name = "DIR", conflicts_with_all = [
        "algo", "env", "repr", "seed", "steps", "preset", "set", "device", "config", "out"
    ])]
    resume: Option<PathBuf>,
    /// With --resume: allow the one change to config.toml that continues a run, a larger
    /// total_timesteps of its algorithm (train this run longer).
    #[arg(long, requires = "resume")]
    extend: bool,
}

/// Signals closer together than this are one interrupt.
const SAME_INTERRUPT: Duration = Duration::from_secs(1);

/// `--steps`: a positive whole number of agent steps.
fn positive_steps(text: &str) -> Result<u64, String> {
    match text.parse::<u64>() {
        Ok(steps) if steps > 0 => Ok(steps),
        _ => Err(format!(
            "must be a positive integer (agent steps over all environments), got `{text}`"
        )),
    }
}

/// Runs `hrl train`.
pub fn run(args: TrainArgs) -> anyhow::Result<()> {
    if let Some(threads) = args.threads {
        anyhow::ensure!(
            (1..=MAX_THREADS).contains(&threads),
            "--threads must be between 1 and {MAX_THREADS}, got {threads}"
        );
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build_global()
            .map_err(|e| anyhow::anyhow!("setting up {threads} compute threads: {e}"))?;
    }
    let stop = Arc::new(AtomicBool::new(false));
    let handler_flag = Arc::clone(&stop);
    let mut first_interrupt: Option<Instant> = None;
    ctrlc::set_handler(move || match first_interrupt {
        None => {
            first_interrupt = Some(Instant::now());
            handler_flag.store(true, Ordering::SeqCst);
            eprintln!("interrupted: finishing the current update and writing a checkpoint");
        }
        // One stop often arrives as two signals at once: `timeout` or Slurm signalling the
        // whole process group, and a sweep's parent-death signal right after.
        Some(first) if first.elapsed() < SAME_INTERRUPT => {}
        Some(_) => {
            eprintln!("second interrupt: exiting without a checkpoint");
            std::process::exit(130);
        }
    })
    .map_err(|e| anyhow::anyhow!("installing the Ctrl-C handler: {e}"))?;

    let (outcome, out) = match args.resume {
        Some(dir) => {
            tracing::info!("resuming {}", dir.display());
            match train::resume(&dir, args.threads, args.extend, &stop) {
                Err(TrainError::RunDir(RunDirError::AlreadyComplete { .. })) => {
                    println!("{} is already complete; nothing to do", dir.display());
                    return Ok(());
                }
                outcome => (outcome?, dir),
            }
        }
        None => {
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
                config.algo(),
                config.env,
                config.repr,
                config.seed,
                out.display()
            );
            (train::train(&config, &out, &stop)?, out)
        }
    };
    match outcome {
        Outcome::Complete(summary) => print_summary(&summary, &out),
        Outcome::Interrupted { step, checkpoint } => {
            println!(
                "stopped at step {step}; checkpoint {}\nresume with: hrl train --resume {}",
                checkpoint.display(),
                out.display()
            );
            std::process::exit(130);
        }
    }
    Ok(())
}

fn print_summary(summary: &Summary, out: &Path) {
    let score = |value: Option<f64>| value.map_or("n/a".to_string(), |r| format!("{r:.2}"));
    println!(
        "{} steps in {:.0} s ({:.0} steps/s), {} episodes, final return {}, evaluation {}",
        summary.steps,
        summary.wall_seconds,
        summary.sps,
        summary.episodes,
        score(summary.final_return),
        score(summary.eval_return)
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
}
