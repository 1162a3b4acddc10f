//! `hrl`: the hadamard-rl command line. Parsing and dispatch only: each subcommand's module in
//! `cmd/` turns its arguments into calls of the libraries (`hrl train` and `hrl sweep` into
//! `hrl-exp`, `hrl report` into `hrl-report`'s shared command line, `hrl bench` into the
//! benchmarks of `hrl-env` and `hrl-nn`).

mod cmd;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// mimalloc instead of glibc's allocator: burn's CPU backend allocates and frees tensor buffers
/// of hundreds of kilobytes on every training step, which glibc serves with fresh `mmap`s (page
/// faults and zeroing on every call: a fifth of a MinAtar training step's time); mimalloc reuses
/// them.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// hadamard-rl: deep RL research on representation health and Hadamard representations.
#[derive(Parser)]
#[command(name = "hrl", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Describe a network: layers and parameter counts.
    Model(cmd::model::ModelArgs),
    /// Representation diagnostics of a feature matrix (dead fraction, srank, erank).
    Diagnose(cmd::diagnose::DiagnoseArgs),
    /// Train an agent (DQN, PPO, PQN) into a run folder, or resume one.
    Train(cmd::train::TrainArgs),
    /// Play episodes with a trained run's network (and record one as a GIF).
    Eval(cmd::eval::EvalArgs),
    /// Shallow networks fitting a 1-D target (the paper's expressivity figure).
    Toy(cmd::toy::ToyArgs),
    /// Environments: traces for parity checks.
    Env(cmd::env::EnvArgs),
    /// Throughput benchmarks.
    Bench(cmd::bench::BenchArgs),
    /// Sweeps: grids of training runs, here or on Slurm.
    Sweep(cmd::sweep::SweepArgs),
    /// Aggregate statistics, tables and figures over run folders.
    Report(hrl_report::cli::ReportArgs),
    /// Reference scores of simple policies (the random policy).
    Baseline(cmd::baseline::BaselineArgs),
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("HRL_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let cli = Cli::parse();
    match cli.command {
        Command::Model(args) => cmd::model::run(args),
        Command::Diagnose(args) => cmd::diagnose::run(args),
        Command::Toy(args) => cmd::toy::run(args),
        Command::Train(args) => cmd::train::run(args),
        Command::Eval(args) => cmd::eval::run(args),
        Command::Env(args) => cmd::env::run(args),
        Command::Bench(args) => cmd::bench::run(args),
        Command::Sweep(args) => cmd::sweep::run(args),
        Command::Report(args) => hrl_report::cli::run(args),
        Command::Baseline(args) => cmd::baseline::run(args),
    }
}
