//! `hrl bench ...`: throughput benchmarks.

use anyhow::Context;
use clap::{Args, Subcommand};
use hrl_agents::optim::AdamConfig;
use hrl_env::bench::{EnvBenchConfig, bench_env};
use hrl_exp::train::config::MAX_THREADS;
use hrl_nn::bench::{NetBenchConfig, NetMode, bench_matmul, bench_network};
use hrl_nn::device::DeviceSpec;
use hrl_nn::device_check::compare_with_cpu;
use hrl_nn::torso::TorsoKind;

/// Arguments of `hrl bench`.
#[derive(Args)]
pub struct BenchArgs {
    #[command(subcommand)]
    command: BenchCommand,
}

#[derive(Subcommand)]
enum BenchCommand {
    /// Environment steps per second, with uniformly random actions.
    Env(EnvBenchArgs),
    /// Milliseconds per forward pass and per training step (forward, backward, Adam) of the
    /// MinAtar and Nature networks, and the GEMM rate of a large square product.
    Net(NetBenchArgs),
    /// Whether a device computes what the CPU computes: Q-values and loss gradients of the
    /// MinAtar and Nature networks on the device against the CPU backend, from the same weights.
    Device(DeviceCheckArgs),
}

#[derive(Args)]
struct DeviceCheckArgs {
    /// The device to check: cpu, cuda or cuda:N (cuda needs a build with `--features cuda`).
    #[arg(long)]
    device: DeviceSpec,
    /// Observations per batch.
    #[arg(long, default_value_t = 32)]
    batch: usize,
    /// The largest difference allowed, relative to the largest CPU value of the same quantity;
    /// a larger one is an error (exit status 1).
    #[arg(long, default_value_t = 1e-3)]
    tolerance: f64,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct NetBenchArgs {
    /// Networks to time (ReLU representation, 6 actions, default observation shapes).
    #[arg(long, value_delimiter = ',', default_value = "minatar,nature")]
    network: Vec<TorsoKind>,
    /// What to time: `forward` (inference), `train` (a training step as DQN takes it: the fused
    /// step on the CPU where it takes the network) and `train-autodiff` (burn's autodiff step).
    #[arg(long, value_delimiter = ',', default_value = "forward,train")]
    mode: Vec<NetMode>,
    /// Batch sizes.
    #[arg(long, value_delimiter = ',', default_value = "32,256")]
    batch: Vec<usize>,
    /// Untimed calls before each case.
    #[arg(long, default_value_t = 3)]
    warmup: usize,
    /// Timed rounds per case; the median is reported.
    #[arg(long, default_value_t = 7)]
    repeats: usize,
    /// Milliseconds each round lasts at least (calls are repeated until then).
    #[arg(long, default_value_t = 200.0)]
    round_ms: f64,
    /// Side of the square matrix product timed for the GEMM rate; 0 skips it.
    #[arg(long, default_value_t = 2048)]
    matmul: usize,
    /// Compute threads [default: available cores].
    #[arg(long)]
    threads: Option<usize>,
    /// Device to time on: cpu, cuda or cuda:N (cuda needs a build with `--features cuda`).
    #[arg(long, default_value = "cpu")]
    device: DeviceSpec,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct EnvBenchArgs {
    /// Environment id (see `hrl env list`).
    #[arg(long)]
    env: String,
    /// Copies stepped together; 1 benchmarks a single environment without the vector wrapper.
    #[arg(long, default_value_t = 1)]
    num_envs: usize,
    /// Environment steps to take in total, over all copies.
    #[arg(long, default_value_t = 1_000_000)]
    steps: u64,
    /// Worker threads for the copies [default: available cores, at most num_envs].
    #[arg(long)]
    threads: Option<usize>,
    /// Run seed.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Print one JSON object instead of a sentence.
    #[arg(long)]
    json: bool,
}

/// Runs `hrl bench`.
pub fn run(args: BenchArgs) -> anyhow::Result<()> {
    match args.command {
        BenchCommand::Env(args) => run_env_bench(args),
        BenchCommand::Net(args) => bench_net(args),
        BenchCommand::Device(args) => check_device(args),
    }
}

fn check_device(args: DeviceCheckArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.tolerance.is_finite() && args.tolerance >= 0.0,
        "--tolerance must be a non-negative number"
    );
    let device = args.device.device()?;
    let mut results = Vec::new();
    for torso in [TorsoKind::Minatar, TorsoKind::Nature] {
        let agreement = compare_with_cpu(torso, args.batch, &device)
            .with_context(|| format!("running the {} network", torso.name()))?;
        if !args.json {
            println!(
                "{:<8} batch {:>4} on {}: Q max |diff| {:.3e} (max |Q| {:.3e}), gradient max |diff| \
                 {:.3e} (max |g| {:.3e}), relative {:.3e}",
                agreement.network,
                agreement.batch,
                args.device,
                agreement.q_max_abs_diff,
                agreement.q_max_abs,
                agreement.grad_max_abs_diff,
                agreement.grad_max_abs,
                agreement.max_relative_diff()
            );
        }
        results.push(agreement);
    }
    if args.json {
        let report = serde_json::json!({
            "device": args.device.to_string(),
            "tolerance": args.tolerance,
            "results": results,
        });
        println!("{report}");
    }
    let worst = results
        .iter()
        .map(|r| r.max_relative_diff())
        .fold(0.0, f64::max);
    anyhow::ensure!(
        worst <= args.tolerance,
        "{} differs from the CPU by {worst:.3e} (relative), more than --tolerance {}",
        args.device,
        args.tolerance
    );
    Ok(())
}

fn bench_net(args: NetBenchArgs) -> anyhow::Result<()> {
    let threads = args.threads.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    });
    anyhow::ensure!(
        (1..=MAX_THREADS).contains(&threads),
        "--threads must be between 1 and {MAX_THREADS}, got {threads}"
    );
    anyhow::ensure!(
        args.round_ms.is_finite() && args.round_ms >= 0.0,
        "--round-ms must be a non-negative number"
    );
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build_global()
        .map_err(|e| anyhow::anyhow!("setting up {threads} compute threads: {e}"))?;
    let device = args.device.device()?;
    let mut cases = Vec::new();
    for &torso in &args.network {
        for &mode in &args.mode {
            for &batch in &args.batch {
                let config = NetBenchConfig {
                    torso,
                    mode,
                    batch,
                    warmup: args.warmup,
                    repeats: args.repeats,
                    round_ms: args.round_ms,
                };
                let optimizer = AdamConfig::default().init();
                let result = bench_network(&config, &device, optimizer)
                    .with_context(|| format!("timing the {} network", torso.name()))?;
                if !args.json {
                    println!(
                        "{:<8} {:<14} batch {:>4}: {:>9.3} ms (min {:.3}), {:>6.1} GFLOP/s",
                        result.network,
                        result.mode.name(),
                        result.batch,
                        result.median_ms,
                        result.min_ms,
                        result.gflops
                    );
                }
                cases.push(result);
            }
        }
    }
    let matmul = if args.matmul > 0 {
        let result = bench_matmul(args.matmul, args.warmup, args.repeats, &device)?;
        if !args.json {
            println!(
                "matmul {0}x{0}: {1:.2} ms, {2:.1} GFLOP/s",
                result.size, result.median_ms, result.gflops
            );
        }
        Some(result)
    } else {
        None
    };
    if args.json {
        let report = serde_json::json!({
            "threads": threads,
            "device": args.device.to_string(),
            "cases": cases,
            "matmul": matmul,
        });
        println!("{report}");
    }
    Ok(())
}

fn run_env_bench(args: EnvBenchArgs) -> anyhow::Result<()> {
    anyhow::ensure!(args.num_envs >= 1, "--num-envs must be at least 1");
    anyhow::ensure!(args.steps >= 1, "--steps must be at least 1");
    let num_threads = args.threads.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
            .min(args.num_envs)
    });
    anyhow::ensure!(num_threads >= 1, "--threads must be at least 1");
    let result = bench_env(&EnvBenchConfig {
        env_id: args.env.clone(),
        num_envs: args.num_envs,
        steps: args.steps,
        num_threads,
        seed: args.seed,
    })?;
    let (steps, seconds, threads) = (result.steps, result.seconds, result.threads);
    let steps_per_second = result.steps_per_second();
    if args.json {
        let report = serde_json::json!({
            "env": args.env,
            "num_envs": args.num_envs,
            "threads": threads,
            "steps": steps,
            "seconds": seconds,
            "steps_per_second": steps_per_second,
        });
        println!("{report}");
    } else {
        println!(
            "{}: {steps} steps with {} envs on {threads} threads in {seconds:.3} s: {steps_per_second:.0} steps/s",
            args.env, args.num_envs
        );
    }
    Ok(())
}
