//! `hrl diagnose`: representation diagnostics of a feature matrix read from a CSV file.

use clap::{Args, ValueEnum};
use hrl_exp::features_csv;
use hrl_nn::diag::{self, DeadCriterion, DiagConfig, Features};

/// Arguments of `hrl diagnose`.
#[derive(Args)]
pub struct DiagnoseArgs {
    /// Comma-separated matrix, one row per sample, one column per neuron, no header.
    #[arg(long)]
    features: std::path::PathBuf,
    /// Activation that produced the features (decides the dead-neuron test).
    #[arg(long, value_enum)]
    activation: ActivationArg,
    /// Saturation margin for tanh and sigmoid: |h| >= 1 - eps is saturated.
    #[arg(long, default_value_t = DiagConfig::default().eps)]
    eps: f64,
    /// δ of srank: the least k whose singular values hold 1 - δ of their sum.
    #[arg(long, default_value_t = DiagConfig::default().delta)]
    delta: f64,
    /// τ of the τ-dormant test.
    #[arg(long, default_value_t = DiagConfig::default().tau)]
    tau: f64,
    /// Fraction of rows on which a neuron must be saturated to count as dead.
    #[arg(long, default_value_t = DiagConfig::default().row_fraction)]
    row_fraction: f64,
    /// The feature rank counts singular values above this fraction of the largest.
    #[arg(long, default_value_t = DiagConfig::default().rank_threshold)]
    rank_threshold: f64,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Clone, Copy, ValueEnum)]
enum ActivationArg {
    Relu,
    Gelu,
    Tanh,
    Sigmoid,
    #[value(alias = "identity")]
    Linear,
}

/// Runs `hrl diagnose`.
pub fn run(args: DiagnoseArgs) -> anyhow::Result<()> {
    for (name, value) in [
        ("--eps", args.eps),
        ("--delta", args.delta),
        ("--rank-threshold", args.rank_threshold),
    ] {
        anyhow::ensure!(
            (0.0..1.0).contains(&value),
            "{name} must be in [0, 1), got {value}"
        );
    }
    anyhow::ensure!(
        args.tau >= 0.0,
        "--tau must be non-negative, got {}",
        args.tau
    );
    anyhow::ensure!(
        args.row_fraction > 0.0 && args.row_fraction <= 1.0,
        "--row-fraction must be in (0, 1], got {}",
        args.row_fraction
    );
    let table = features_csv::read(&args.features)?;
    let features = Features::new(&table.values, table.rows, table.cols)?;
    let criterion = match args.activation {
        ActivationArg::Relu | ActivationArg::Gelu => Some(DeadCriterion::Zero),
        ActivationArg::Tanh => Some(DeadCriterion::Tanh { eps: args.eps }),
        ActivationArg::Sigmoid => Some(DeadCriterion::Sigmoid { eps: args.eps }),
        ActivationArg::Linear => None,
    };
    let config = DiagConfig {
        eps: args.eps,
        row_fraction: args.row_fraction,
        tau: args.tau,
        delta: args.delta,
        rank_threshold: args.rank_threshold,
    };
    let report = diag::diagnose(features, criterion, &config)?;
    let active = criterion.map(|c| diag::active_fraction(features, c));
    let (norm, std) = (diag::feature_norm(features), diag::feature_std(features));
    let rank = report.feature_rank;
    if args.json {
        let json = serde_json::json!({
            "rows": table.rows,
            "cols": table.cols,
            "dead_fraction": report.dead_fraction,
            "dormant_fraction": report.dormant_fraction,
            "srank": report.srank,
            "erank": report.erank,
            "active_fraction": active,
            "feature_norm": norm,
            "feature_std": std,
            "feature_rank": rank,
        });
        println!("{json}");
    } else {
        println!("{} rows x {} neurons", table.rows, table.cols);
        match report.dead_fraction {
            Some(dead) => println!("dead fraction     {dead:.4}"),
            None => println!("dead fraction     n/a (linear units do not saturate)"),
        }
        println!(
            "dormant fraction  {:.4} (tau {})",
            report.dormant_fraction, args.tau
        );
        println!("srank             {} (delta {})", report.srank, args.delta);
        println!("erank             {:.4}", report.erank);
        match active {
            Some(active) => println!("active fraction   {active:.4}"),
            None => println!("active fraction   n/a"),
        }
        println!("feature norm      {norm:.4} (mean row L2 norm)");
        println!("feature std       {std:.4} (mean per-neuron std over rows)");
        println!(
            "feature rank      {rank} (singular values above {} of the largest)",
            args.rank_threshold
        );
    }
    Ok(())
}
