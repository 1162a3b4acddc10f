//! The command line of a report, shared by `hrl report` and the burn-free `hrl-report` binary
//! (`cargo run --release -p hrl-report --features cli -- DIR... --out OUT`); needs the `cli`
//! feature.

use std::path::PathBuf;

use crate::aggregates::Metric;
use crate::stats::Bootstrap;
use crate::{ReportOptions, build, write};
use anyhow::Context;
use clap::Args;

/// Arguments of a report.
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

/// Builds and writes the report, and prints what it found.
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
    let built = build(&args.dirs, options)?;
    let written = write(&built, &args.out)
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
