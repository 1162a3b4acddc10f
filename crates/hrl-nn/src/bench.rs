//! Microbenchmarks of the networks: forward passes and training steps (forward, `Q(s, a)`, MSE,
//! backward, Adam) at a given batch size, and a large square matrix product for the machine's
//! GEMM rate. `hrl bench net` prints these as JSON; `bench/net_torch.py` times the same shapes
//! in PyTorch.
//!
//! Times are medians over `repeats` rounds, each of as many calls as fit in `round_ms` (at least
//! one), after `warmup` untimed calls.
//! Floating-point operation counts are analytic (multiply and add count two): a forward pass is
//! the sum of `2 * fan_in * outputs` over the convolutions and dense layers, a training step is
//! three forward passes (forward, input gradients, weight gradients) less the first layer's input
//! gradient, which nobody needs.

use std::time::Instant;

use burn::module::Module;
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::tensor::{Device, Distribution, Int, Tensor, TensorData};

use crate::fused::FusedQ;
use crate::network::{Head, NetworkConfig};
use crate::repr::{Activation, Branches, ReprSpec, Width};
use crate::torso::{NetError, TorsoConfig, TorsoKind, TorsoPlan};

/// What one benchmark call measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum NetMode {
    /// An inference forward pass (no autodiff), the values read back to the host.
    Forward,
    /// Forward, `0.5 * mean((Q(s, a) - y)^2)`, backward and an Adam step, the loss read back,
    /// as DQN trains: with the fused step ([`crate::fused`]) where it takes the network (on the
    /// CPU), else with burn's autodiff.
    Train,
    /// The same step with burn's autodiff always, to compare.
    TrainAutodiff,
}

impl NetMode {
    /// Every mode, in the order the command line lists them.
    pub const ALL: [NetMode; 3] = [NetMode::Forward, NetMode::Train, NetMode::TrainAutodiff];

    /// The name used on the command line and in JSON output.
    pub fn name(self) -> &'static str {
        match self {
            NetMode::Forward => "forward",
            NetMode::Train => "train",
            NetMode::TrainAutodiff => "train-autodiff",
        }
    }
}

impl std::str::FromStr for NetMode {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        NetMode::ALL
            .into_iter()
            .find(|m| m.name() == s)
            .ok_or_else(|| {
                let valid: Vec<_> = NetMode::ALL.iter().map(|m| m.name()).collect();
                format!("unknown mode `{s}`; valid: {}", valid.join(", "))
            })
    }
}

/// How to time a network.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NetBenchConfig {
    /// `nature` (`[4, 84, 84]`) or `minatar` (`[4, 10, 10]`), ReLU representation, 6 actions.
    pub torso: TorsoKind,
    /// What to time.
    pub mode: NetMode,
    /// Observations per call.
    pub batch: usize,
    /// Untimed calls first.
    pub warmup: usize,
    /// Timed rounds; the median round is reported.
    pub repeats: usize,
    /// A round repeats the call until this many milliseconds have passed (at least one call).
    pub round_ms: f64,
}

/// One timed case.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct NetBenchResult {
    /// The torso's name.
    pub network: &'static str,
    /// What was timed.
    pub mode: NetMode,
    /// Observations per call.
    pub batch: usize,
    /// Median milliseconds per call.
    pub median_ms: f64,
    /// Fastest round's milliseconds per call.
    pub min_ms: f64,
    /// Floating-point operations per call (see the module documentation).
    pub flops: f64,
    /// `flops` over the median time, in GFLOP/s.
    pub gflops: f64,
}

/// A square single-precision matrix product.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct MatmulResult {
    /// Side of the matrices.
    pub size: usize,
    /// Median milliseconds per product.
    pub median_ms: f64,
    /// `2 * size^3` over the median time, in GFLOP/s.
    pub gflops: f64,
}

/// Errors of a benchmark.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BenchError {
    /// The network could not be built.
    #[error(transparent)]
    Net(#[from] NetError),
    /// A count that must be positive is zero.
    #[error("{what} must be positive")]
    Zero {
        /// Which count.
        what: &'static str,
    },
}

pub(crate) const NUM_ACTIONS: usize = 6;

/// The benchmarked network of `torso`: its default observation shape, a ReLU representation of
/// default width and a Q head of 6 actions, PyTorch initialisation.
pub fn network_config(torso: TorsoKind) -> NetworkConfig {
    let repr = ReprSpec {
        branches: Branches::Single(Activation::Relu),
        layer_norm: false,
        width: Width::Default,
    };
    NetworkConfig {
        torso: TorsoConfig::new(torso, repr),
        head: Head::default(),
        num_actions: NUM_ACTIONS,
    }
}

/// Forward-pass floating-point operations of one observation through `plan` and a head of
/// `outputs` units.
pub fn forward_flops(plan: &TorsoPlan, outputs: usize) -> f64 {
    layer_flops(plan, outputs).iter().sum()
}

/// Per-layer forward operations of one observation, input to output.
fn layer_flops(plan: &TorsoPlan, outputs: usize) -> Vec<f64> {
    let mut flops = Vec::new();
    let (mut height, mut width) = match plan.obs_shape.as_slice() {
        [_, h, w] => (*h, *w),
        _ => (1, 1),
    };
    for conv in &plan.convs {
        height = conv.output_side(height).unwrap_or(0);
        width = conv.output_side(width).unwrap_or(0);
        let fan_in = conv.c_in * conv.kernel * conv.kernel;
        flops.push(2.0 * (fan_in * conv.c_out * height * width) as f64);
    }
    for dense in plan.hidden.iter().chain(std::iter::once(&plan.repr)) {
        flops.push(2.0 * (dense.d_input * dense.d_output) as f64);
    }
    flops.push(2.0 * (plan.repr.output_features() * outputs) as f64);
    flops
}

/// Training-step operations of one observation: three forward passes less the first layer's
/// input gradient.
pub fn train_flops(plan: &TorsoPlan, outputs: usize) -> f64 {
    let layers = layer_flops(plan, outputs);
    3.0 * layers.iter().sum::<f64>() - layers.first().copied().unwrap_or(0.0)
}

/// Times `config` on `device` (the plain device; training runs on its autodiff form), training
/// steps with `optimizer` (the command line gives it hrl-agents' Adam, as the agents use it).
pub fn bench_network(
    config: &NetBenchConfig,
    device: &Device,
    mut optimizer: ModuleOptimizer,
) -> Result<NetBenchResult, BenchError> {
    for (what, value) in [
        ("the batch size", config.batch),
        ("repeats", config.repeats),
    ] {
        if value == 0 {
            return Err(BenchError::Zero { what });
        }
    }
    let network = network_config(config.torso);
    let plan = network.torso_plan()?;
    let obs_len: usize = plan.obs_shape.iter().product();
    let batch = config.batch;
    let per_obs = match config.mode {
        NetMode::Forward => forward_flops(&plan, NUM_ACTIONS),
        NetMode::Train | NetMode::TrainAutodiff => train_flops(&plan, NUM_ACTIONS),
    };
    let autodiff = device.clone().autodiff();
    autodiff.seed(0);
    let model = network.init_q(&autodiff)?;
    let rounds = Rounds::of(config);
    let fused = (config.mode == NetMode::Train)
        .then(|| FusedQ::new(&model))
        .flatten();
    let (median_ms, min_ms) = match (config.mode, fused) {
        (NetMode::Forward, _) => {
            let model = model.valid();
            let obs = observations(config.torso, batch, obs_len, device);
            rounds.time((), |()| {
                std::hint::black_box(model.forward(obs.clone()).into_data());
            })
        }
        (_, Some(mut fused)) => {
            let obs: Vec<f32> = observations(config.torso, batch, obs_len, device)
                .into_data()
                .iter::<f32>()
                .collect();
            let actions: Vec<usize> = (0..batch).map(|i| i % NUM_ACTIONS).collect();
            let targets: Vec<f32> =
                Tensor::<1>::random([batch], Distribution::Normal(0.0, 1.0), device)
                    .into_data()
                    .iter::<f32>()
                    .collect();
            let mut grad_q = vec![0.0f32; batch];
            rounds.time(model, |model| {
                let q = fused.forward(&model, &obs, &actions);
                let mut loss = 0.0;
                for ((grad, &q), &y) in grad_q.iter_mut().zip(q).zip(&targets) {
                    loss += 0.5 * (q - y) * (q - y);
                    *grad = (q - y) / batch as f32;
                }
                std::hint::black_box(loss / batch as f32);
                let grads = fused.backward(&grad_q, device);
                optimizer.step(1e-4, model, grads)
            })
        }
        (NetMode::Train | NetMode::TrainAutodiff, None) => {
            let obs = observations(config.torso, batch, obs_len, &autodiff);
            let actions: Vec<i64> = (0..batch).map(|i| (i % NUM_ACTIONS) as i64).collect();
            let actions =
                Tensor::<2, Int>::from_data(TensorData::new(actions, [batch, 1]), &autodiff);
            let targets =
                Tensor::<2>::random([batch, 1], Distribution::Normal(0.0, 1.0), &autodiff);
            rounds.time(model, |model| {
                let chosen = model.forward(obs.clone()).gather(1, actions.clone());
                let loss = (chosen - targets.clone()).square().mean().mul_scalar(0.5);
                std::hint::black_box(loss.clone().into_scalar::<f32>());
                let grads = GradientsParams::from_grads(loss.backward(), &model);
                optimizer.step(1e-4, model, grads)
            })
        }
    };
    let flops = per_obs * batch as f64;
    Ok(NetBenchResult {
        network: config.torso.name(),
        mode: config.mode,
        batch,
        median_ms,
        min_ms,
        flops,
        gflops: flops / (median_ms * 1e6),
    })
}

/// Times a `size x size` by `size x size` single-precision product on `device`.
pub fn bench_matmul(
    size: usize,
    warmup: usize,
    repeats: usize,
    device: &Device,
) -> Result<MatmulResult, BenchError> {
    if size == 0 || repeats == 0 {
        return Err(BenchError::Zero {
            what: "the matrix size and repeats",
        });
    }
    let a = Tensor::<2>::random([size, size], Distribution::Uniform(-1.0, 1.0), device);
    let b = Tensor::<2>::random([size, size], Distribution::Uniform(-1.0, 1.0), device);
    let rounds = Rounds {
        warmup,
        repeats,
        round_ms: 0.0,
    };
    let (median_ms, _) = rounds.time((), |()| {
        std::hint::black_box(a.clone().matmul(b.clone()).into_data());
    });
    Ok(MatmulResult {
        size,
        median_ms,
        gflops: 2.0 * (size as f64).powi(3) / (median_ms * 1e6),
    })
}

/// Random observations: MinAtar-like 0/1 grids, or Atari-like pixel values in `[0, 255]`.
pub(crate) fn observations(
    torso: TorsoKind,
    batch: usize,
    obs_len: usize,
    device: &Device,
) -> Tensor<2> {
    match torso {
        TorsoKind::Nature => {
            Tensor::random([batch, obs_len], Distribution::Uniform(0.0, 255.0), device).floor()
        }
        TorsoKind::Minatar | TorsoKind::Mlp => {
            Tensor::random([batch, obs_len], Distribution::Bernoulli(0.5), device)
        }
    }
}

/// How many calls to time: `warmup` untimed, then `repeats` rounds of at least `round_ms`.
struct Rounds {
    warmup: usize,
    repeats: usize,
    round_ms: f64,
}

impl Rounds {
    fn of(config: &NetBenchConfig) -> Rounds {
        Rounds {
            warmup: config.warmup,
            repeats: config.repeats,
            round_ms: config.round_ms,
        }
    }

    /// Runs `call`, threading `state` through the calls (a training step consumes its model and
    /// returns the updated one); returns the median and the fastest round's milliseconds per
    /// call.
    fn time<S>(&self, mut state: S, mut call: impl FnMut(S) -> S) -> (f64, f64) {
        for _ in 0..self.warmup {
            state = call(state);
        }
        let mut rounds = Vec::with_capacity(self.repeats);
        for _ in 0..self.repeats {
            let start = Instant::now();
            let mut calls = 0;
            let elapsed_ms = loop {
                state = call(state);
                calls += 1;
                let elapsed_ms = start.elapsed().as_secs_f64() * 1e3;
                if elapsed_ms >= self.round_ms {
                    break elapsed_ms;
                }
            };
            rounds.push(elapsed_ms / f64::from(calls));
        }
        rounds.sort_by(f64::total_cmp);
        (median(&rounds), rounds[0])
    }
}

/// Median of sorted, non-empty values.
fn median(sorted: &[f64]) -> f64 {
    let mid = sorted.len() / 2;
    if sorted.len() % 2 == 1 {
        sorted[mid]
    } else {
        (sorted[mid - 1] + sorted[mid]) / 2.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn adam() -> ModuleOptimizer {
        burn::optim::AdamConfig::new().init()
    }

    #[test]
    fn modes_round_trip_through_their_names_and_json() {
        for mode in NetMode::ALL {
            assert_eq!(mode.name().parse::<NetMode>(), Ok(mode));
            assert_eq!(
                serde_json::to_string(&mode).unwrap(),
                format!("\"{}\"", mode.name())
            );
        }
        let err = "backward".parse::<NetMode>().unwrap_err();
        assert!(err.contains("`backward`"), "{err}");
        assert!(err.contains("forward, train, train-autodiff"), "{err}");
    }

    #[test]
    fn flop_counts_follow_the_layer_shapes() {
        let plan = network_config(TorsoKind::Minatar).torso_plan().unwrap();
        // conv 4->16 k3 on 10x10 -> 8x8, dense 1024 -> 128, head 128 -> 6.
        let conv = 2.0 * (4 * 9 * 16 * 64) as f64;
        let dense = 2.0 * (1024 * 128) as f64;
        let head = 2.0 * (128 * 6) as f64;
        assert_eq!(forward_flops(&plan, 6), conv + dense + head);
        assert_eq!(train_flops(&plan, 6), 3.0 * (conv + dense + head) - conv);
        // Nature conv1: 4 x 8 x 8 inputs per output, 32 channels of 20 x 20.
        let nature = network_config(TorsoKind::Nature).torso_plan().unwrap();
        assert_eq!(layer_flops(&nature, 6)[0], 2.0 * (4 * 64 * 32 * 400) as f64);
    }

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(&[1.0, 2.0, 9.0]), 2.0);
        assert_eq!(median(&[1.0, 2.0, 3.0, 9.0]), 2.5);
    }

    #[test]
    fn a_tiny_benchmark_runs_and_rejects_zero_counts() {
        let device = Device::flex();
        let config = NetBenchConfig {
            torso: TorsoKind::Minatar,
            mode: NetMode::Train,
            batch: 2,
            warmup: 1,
            repeats: 1,
            round_ms: 0.0,
        };
        let result = bench_network(&config, &device, adam()).unwrap();
        assert!(result.median_ms > 0.0 && result.gflops > 0.0);
        let zero = NetBenchConfig { batch: 0, ..config };
        assert_eq!(
            bench_network(&zero, &device, adam()),
            Err(BenchError::Zero {
                what: "the batch size"
            })
        );
    }
}
