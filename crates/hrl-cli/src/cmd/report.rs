//! `hrl report`: aggregate statistics, tables and figures over every run folder below some
//! folders.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use hrl_exp::report::aggregates::Metric;
use hrl_exp::report::{self, ReportOptions};
use hrl_exp::stats::Bootstrap;

/// Arguments of `hrl report`.
#[derive(Args)]
pub struct ReportArgs {
    /// Folders searched (recursively) for run folders, i.e. folders with a config.toml.
    #[arg(required = true, value_name = "DIR")]
    dirs: Vec<PathBuf>,
    /// Output folder for report.md, aggregates.csv, scores.csv, improvement.csv,
    /// baselines.json and figures/.
    #[arg(long)]
    out: PathBuf,
    /// Final score: mean return of this last fraction of the training episodes, in (0, 1].
    #[arg(long, default_value_t = ReportOptions::default().final_fraction)]
    final_fraction: f64,
    /// Bootstrap resamples of the confidence intervals.
    #[arg(long, default_value_t = Bootstrap::default().reps)]
    resamples: usize,
    /// Seed of the bootstrap.
    #[arg(long, default_value_t = Bootstrap::default().seed)]
    seed: u64,
    /// A baselines.json to reuse (random scores, and MinAtar reference scores); missing random
    /// scores are measured.
    #[arg(long)]
    baselines: Option<PathBuf>,
    /// Games the random policy plays where a random score is measured.
    #[arg(long, default_value_t = ReportOptions::default().baseline_episodes)]
    baseline_episodes: usize,
    /// Seed of the random policy's games.
    #[arg(long, default_value_t = ReportOptions::default().baseline_seed)]
    baseline_seed: u32,
}

/// Runs `hrl report`.
pub fn run(args: ReportArgs) -> anyhow::Result<()> {
    let options = ReportOptions {
        final_fraction: args.final_fraction,
        bootstrap: Bootstrap {
            reps: args.resamples,
            seed: args.seed,
            ..Bootstrap::default()
        },
        baselines: args.baselines,
        baseline_episodes: args.baseline_episodes,
        baseline_seed: args.baseline_seed,
        ..ReportOptions::default()
    };
    let built = report::build(&args.dirs, options)?;
    let written = report::write(&built, &args.out)
        .with_context(|| format!("writing the report into {}", args.out.display()))?;
    println!(
        "{} complete runs, {} incomplete (listed in report.md, left out of the aggregates)",
        built.complete().count(),
        built.incomplete().count()
    );
    if !built.measured_baselines.is_empty() {
        println!(
            "measured the random policy on {}",
            built.measured_baselines.join(", ")
        );
    }
    for a in &built.aggregates.aggregates {
        if a.metric == Metric::Iqm {
            println!(
                "{} {} {} {} ({} games x {} seeds): IQM {:.3} [{:.3}, {:.3}]",
                a.key.suite,
                a.key.kind.name(),
                a.key.algo,
                a.key.repr,
                a.games,
                a.runs,
                a.interval.point,
                a.interval.lower,
                a.interval.upper
            );
        }
    }
    println!(
        "wrote {} files; start with {}",
        written.len(),
        args.out.join("report.md").display()
    );
    Ok(())
}
