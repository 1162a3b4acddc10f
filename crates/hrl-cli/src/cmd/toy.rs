//! `hrl toy`: shallow networks fitting a 1-D target, the paper's expressivity illustration.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use hrl_exp::toy::{self, ToyConfig};
use hrl_nn::device::DeviceSpec;
use hrl_nn::repr::ReprSpec;

/// Arguments of `hrl toy`.
#[derive(Args)]
pub struct ToyArgs {
    /// Output folder for toy.csv, toy.png and toy.svg.
    #[arg(long, default_value = "runs/toy")]
    out: PathBuf,
    /// Representations to compare, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "relu,tanh,hr-tanh")]
    reprs: Vec<ReprSpec>,
    /// Hidden units per branch.
    #[arg(long, default_value_t = ToyConfig::default().width)]
    width: usize,
    /// The target is sin(frequency * x) on [-pi, pi].
    #[arg(long, default_value_t = ToyConfig::default().frequency)]
    frequency: f64,
    /// Full-batch Adam steps.
    #[arg(long, default_value_t = ToyConfig::default().steps)]
    steps: usize,
    /// Adam learning rate.
    #[arg(long, default_value_t = ToyConfig::default().learning_rate)]
    learning_rate: f64,
    /// Training points.
    #[arg(long, default_value_t = ToyConfig::default().samples)]
    samples: usize,
    /// Initialisation seed.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Compute device: cpu, cuda or cuda:N.
    #[arg(long, default_value = "cpu")]
    device: DeviceSpec,
}

/// Runs `hrl toy`.
pub fn run(args: ToyArgs) -> anyhow::Result<()> {
    let config = ToyConfig {
        reprs: args.reprs,
        width: args.width,
        frequency: args.frequency,
        samples: args.samples,
        steps: args.steps,
        learning_rate: args.learning_rate,
        seed: args.seed,
    };
    let device = args.device.device()?;
    let result = toy::run(&config, &device)?;
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating output folder {}", args.out.display()))?;
    let csv = args.out.join("toy.csv");
    toy::write_csv(&result, &csv)?;
    for ext in ["png", "svg"] {
        toy::write_plot(&result, &args.out.join(format!("toy.{ext}")))?;
    }
    println!(
        "fit of sin({} x) on [-pi, pi], {} units per branch, {} Adam steps:",
        config.frequency, config.width, config.steps
    );
    println!("{:<16} {:>8} {:>12}", "repr", "params", "final MSE");
    for fit in &result.fits {
        println!(
            "{:<16} {:>8} {:>12.6}",
            fit.repr.to_string(),
            fit.params,
            fit.final_mse
        );
    }
    println!(
        "wrote {}, {} and {}",
        csv.display(),
        args.out.join("toy.png").display(),
        args.out.join("toy.svg").display()
    );
    Ok(())
}
