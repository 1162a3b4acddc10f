//! DQN (Mnih et al. 2015) as cleanrl's `dqn_atari.py` runs it.
//!
//! Every agent step: ε-greedy actions of the online network, with ε falling linearly from
//! `start_e` to `end_e` over the first `exploration_fraction * total_timesteps` steps; one step
//! of every environment; the transitions into the replay buffer, where a finished episode's
//! next observation is its final one (a truncated step is not terminal and bootstraps from it).
//! After `learning_starts` steps, every `train_frequency` steps one gradient step on a uniform
//! minibatch of the MSE (or Huber) loss between `Q(s, a)` and
//! `r + γ (1 - terminated) max_a' Q_target(s', a')`, and every `target_network_frequency` steps
//! the target network becomes the online one (τ = 1) or moves towards it by τ.
//!
//! Time is counted in agent steps over all environments (on Atari one agent step is
//! `frame_skip` emulator frames). With `num_envs` = N every vector step takes N agent steps,
//! numbered `g, g + 1, ..., g + N - 1`; each of them that satisfies cleanrl's conditions
//! (`g > learning_starts` and `g % train_frequency == 0`, likewise for the target update) does
//! its gradient step or target update, so N = 1 is cleanrl's loop exactly and larger N keep the
//! same number of gradient steps per agent step.

use std::borrow::Cow;
use std::path::Path;

use burn::module::Module;
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::tensor::{Device, Tensor};
use hrl_env::{EnvSpec, FinishedEpisode, VecEnv};
use hrl_nn::diag::DiagConfig;
use hrl_nn::fused::FusedQ;
use hrl_nn::health::{LayerHealth, NetworkHealth};
use hrl_nn::network::{NetworkConfig, QNetwork};

use crate::AgentError;
use crate::agent::{self, Agent, Devices, Report};
use crate::algo::Algo;
use crate::checkpoint::{self, REPLAY_FILE, TARGET_FILE};
use crate::checks;
use crate::column::Column;
use crate::optim::{AdamConfig, TorchRmsPropConfig, clip_global_norm};
use crate::plasticity::{Applied, Interventions, Plasticity};
use crate::policy::Policy;
use crate::replay::{Batch, Experience, ReplayBuffer};
use crate::rng::Rng;
use crate::schedule;
use crate::target::soft_update;
use crate::tensor::{host_floats, host_ints, int_rows_tensor, rows_tensor};

/// The TD loss.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DqnLoss {
    /// Mean squared error (cleanrl's `F.mse_loss`).
    #[default]
    Mse,
    /// Mean Huber loss with δ = 1 (PyTorch's `F.smooth_l1_loss`): `x² / 2` for `|x| < 1`,
    /// `|x| - 1/2` beyond.
    Huber,
}

impl DqnLoss {
    /// The mean loss of the TD errors `diff` (`[batch, 1]`), as a one-element tensor.
    fn apply(self, diff: Tensor<2>) -> Tensor<1> {
        match self {
            DqnLoss::Mse => diff.square().mean(),
            DqnLoss::Huber => {
                let abs = diff.abs();
                let quadratic = abs.clone().clamp_max(1.0);
                let linear = abs - quadratic.clone();
                (quadratic.square().mul_scalar(0.5) + linear).mean()
            }
        }
    }

    /// The mean loss of the TD errors `diffs`, computed on the host, with its derivative with
    /// respect to each error written into `grads` (what [`apply`](Self::apply) differentiates).
    fn value_and_grad(self, diffs: &[f32], grads: &mut [f32]) -> f32 {
        let count = diffs.len() as f32;
        let mut total = 0.0;
        for (grad, &diff) in grads.iter_mut().zip(diffs) {
            let (loss, slope) = match self {
                DqnLoss::Mse => (diff * diff, 2.0 * diff),
                DqnLoss::Huber if diff.abs() < 1.0 => (0.5 * diff * diff, diff),
                DqnLoss::Huber => (diff.abs() - 0.5, diff.signum()),
            };
            total += loss;
            *grad = slope / count;
        }
        total / count
    }
}

/// The optimiser.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DqnOptimizer {
    /// Adam with β = (0.9, 0.999) and ε = `adam_epsilon` (cleanrl).
    #[default]
    Adam,
    /// PyTorch's RMSprop with the `rmsprop_*` settings (the MinAtar paper).
    Rmsprop,
}

/// DQN's hyperparameters; the defaults are cleanrl's `dqn_atari.py`. Steps are agent steps over
/// all environments.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DqnConfig {
    /// Agent steps of the run (`total_timesteps`, 10M).
    pub total_timesteps: u64,
    /// Parallel environments (`num_envs`, 1).
    pub num_envs: usize,
    /// Replay capacity in transitions, split evenly over the environments (`buffer_size`, 1M).
    pub buffer_size: usize,
    /// Learning rate, constant (`learning_rate`, 1e-4).
    pub learning_rate: f64,
    /// Discount γ (`gamma`, 0.99).
    pub gamma: f64,
    /// Target update rate τ: 1 copies the online network (`tau`, 1.0).
    pub tau: f64,
    /// Agent steps between target updates (`target_network_frequency`, 1000).
    pub target_network_frequency: u64,
    /// Transitions per gradient step (`batch_size`, 32).
    pub batch_size: usize,
    /// Initial exploration rate (`start_e`, 1.0).
    pub start_e: f64,
    /// Final exploration rate (`end_e`, 0.01).
    pub end_e: f64,
    /// Fraction of `total_timesteps` over which ε falls linearly (`exploration_fraction`, 0.1).
    pub exploration_fraction: f64,
    /// Agent steps before learning starts (`learning_starts`, 80,000).
    pub learning_starts: u64,
    /// Agent steps per gradient step (`train_frequency`, 4).
    pub train_frequency: u64,
    /// The TD loss (`mse`).
    pub loss: DqnLoss,
    /// The optimiser (`adam`).
    pub optimizer: DqnOptimizer,
    /// Adam's ε (PyTorch's default 1e-8, which cleanrl keeps; burn's own default is 1e-5).
    pub adam_epsilon: f64,
    /// RMSprop's decay α of the squared-gradient average (PyTorch default 0.99).
    pub rmsprop_alpha: f64,
    /// RMSprop's ε, added outside the square root (PyTorch default 1e-8).
    pub rmsprop_epsilon: f64,
    /// Centred RMSprop (PyTorch default false).
    pub rmsprop_centered: bool,
    /// RMSprop's momentum; 0 is none (PyTorch default 0).
    pub rmsprop_momentum: f64,
    /// Clip gradients to this global L2 norm; none by default (cleanrl does not clip).
    pub max_grad_norm: Option<f64>,
    /// Agent steps per [`Agent::advance`] (rounded up to whole vector steps; 1000).
    pub steps_per_report: u64,
    /// Write the replay buffer into checkpoints (true; a 1M-transition Atari buffer is ~7 GB).
    pub checkpoint_replay: bool,
    /// Take gradient steps, TD targets and greedy actions with the fused passes of
    /// `hrl_nn::fused` where they take the network on the CPU (true): the same values and
    /// gradients as burn's forward pass and autodiff up to the order of float sums, in less time
    /// for small networks (`hrl bench net --mode train,train-autodiff`). False always uses burn's
    /// forward pass and autodiff, as runs before the fused step did (a seed's floats differ
    /// between the two from the first gradient step on).
    pub fused_step: bool,
}

impl Default for DqnConfig {
    fn default() -> Self {
        DqnConfig {
            total_timesteps: 10_000_000,
            num_envs: 1,
            buffer_size: 1_000_000,
            learning_rate: 1e-4,
            gamma: 0.99,
            tau: 1.0,
            target_network_frequency: 1000,
            batch_size: 32,
            start_e: 1.0,
            end_e: 0.01,
            exploration_fraction: 0.1,
            learning_starts: 80_000,
            train_frequency: 4,
            loss: DqnLoss::Mse,
            optimizer: DqnOptimizer::Adam,
            adam_epsilon: 1e-8,
            rmsprop_alpha: 0.99,
            rmsprop_epsilon: 1e-8,
            rmsprop_centered: false,
            rmsprop_momentum: 0.0,
            max_grad_norm: None,
            steps_per_report: 1000,
            checkpoint_replay: true,
            fused_step: true,
        }
    }
}

impl DqnConfig {
    /// Agent steps the run takes: whole vector steps of `num_envs`.
    pub fn total_steps(&self) -> u64 {
        self.total_timesteps / self.num_envs.max(1) as u64 * self.num_envs as u64
    }

    /// Checks the values that would make the run impossible; errors name the key.
    pub fn validate(&self) -> Result<(), AgentError> {
        checks::positive_counts([
            ("num_envs", self.num_envs as u64),
            ("buffer_size", self.buffer_size as u64),
            ("batch_size", self.batch_size as u64),
            ("target_network_frequency", self.target_network_frequency),
            ("train_frequency", self.train_frequency),
            ("steps_per_report", self.steps_per_report),
        ])?;
        if self.buffer_size < self.num_envs {
            return Err(AgentError::config(
                "buffer_size",
                format!("must be at least num_envs = {}", self.num_envs),
            ));
        }
        if self.batch_size > self.buffer_size {
            return Err(AgentError::config(
                "batch_size",
                format!("must not exceed buffer_size = {}", self.buffer_size),
            ));
        }
        if self.learning_starts < self.batch_size as u64 {
            return Err(AgentError::config(
                "learning_starts",
                format!(
                    "must be at least batch_size = {}, so the first batch has distinct data",
                    self.batch_size
                ),
            ));
        }
        if self.total_steps() <= self.learning_starts {
            return Err(AgentError::config(
                "total_timesteps",
                format!(
                    "must exceed learning_starts = {} (in whole steps of num_envs = {})",
                    self.learning_starts, self.num_envs
                ),
            ));
        }
        checks::unit_interval([
            ("gamma", self.gamma),
            ("start_e", self.start_e),
            ("end_e", self.end_e),
            ("exploration_fraction", self.exploration_fraction),
        ])?;
        if !(self.tau > 0.0 && self.tau <= 1.0) {
            return Err(AgentError::config("tau", "must be in (0, 1]"));
        }
        for (key, value) in [
            ("rmsprop_alpha", self.rmsprop_alpha),
            ("rmsprop_momentum", self.rmsprop_momentum),
        ] {
            if !(0.0..1.0).contains(&value) {
                return Err(AgentError::config(key, "must be in [0, 1)"));
            }
        }
        checks::positive_finite([
            ("learning_rate", self.learning_rate),
            ("adam_epsilon", self.adam_epsilon),
            ("rmsprop_epsilon", self.rmsprop_epsilon),
            ("max_grad_norm", self.max_grad_norm.unwrap_or(1.0)),
        ])
    }

    /// The configured optimiser.
    fn optimizer(&self) -> ModuleOptimizer {
        match self.optimizer {
            DqnOptimizer::Adam => AdamConfig {
                epsilon: self.adam_epsilon as f32,
                ..AdamConfig::default()
            }
            .init(),
            DqnOptimizer::Rmsprop => TorchRmsPropConfig {
                alpha: self.rmsprop_alpha,
                epsilon: self.rmsprop_epsilon,
                centered: self.rmsprop_centered,
                momentum: self.rmsprop_momentum,
            }
            .init(),
        }
    }
}

/// What one gradient step did.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GradientStep {
    /// The minibatch loss.
    pub loss: f64,
    /// Mean `Q(s, a)` over the minibatch (cleanrl's `q_values`).
    pub q_mean: f64,
    /// Global gradient norm before clipping, when `max_grad_norm` is set.
    pub grad_norm: Option<f64>,
}

/// Sums over the gradient steps of one [`Agent::advance`].
#[derive(Default)]
struct Chunk {
    loss: f64,
    q_mean: f64,
    grad_norm: f64,
    gradient_steps: usize,
    epsilon: f64,
    episodes: Vec<FinishedEpisode>,
}

impl Chunk {
    fn add(&mut self, step: GradientStep) {
        self.loss += step.loss;
        self.q_mean += step.q_mean;
        self.grad_norm += step.grad_norm.unwrap_or(0.0);
        self.gradient_steps += 1;
    }

    /// The mean of a sum over the gradient steps, if there were any.
    fn mean(&self, sum: f64) -> Option<f64> {
        (self.gradient_steps > 0).then(|| sum / self.gradient_steps as f64)
    }
}

/// `metrics.csv`: gradient steps taken so far.
pub const GRADIENT_STEPS: Column = Column::new(
    "gradient_steps",
    "gradient steps",
    "gradient steps taken so far",
);
/// `metrics.csv`: transitions held by the replay buffer.
pub const REPLAY_SIZE: Column = Column::new(
    "replay_size",
    "transitions",
    "transitions in the replay buffer",
);
/// `metrics.csv`: the mean Q-value of the taken actions over the report's gradient steps.
pub const Q_VALUES: Column = Column::new(
    "q_values",
    "return",
    "mean Q-value of the sampled actions over the report's gradient steps",
);

/// The DQN agent: its environments, online and target networks, optimiser and replay buffer.
pub struct Dqn {
    config: DqnConfig,
    network: NetworkConfig,
    envs: VecEnv<f32>,
    /// The online network, on the autodiff device.
    model: QNetwork,
    /// `model.valid()`, refreshed after every gradient step, to act with.
    policy: QNetwork,
    /// The target network, on the plain device.
    target: QNetwork,
    optimizer: ModuleOptimizer,
    /// Training runs on `devices.train`, acting and the TD targets on `devices.plain`.
    devices: Devices,
    rng: Rng,
    probe_seed: u64,
    replay: ReplayBuffer,
    batch: Batch,
    obs_len: usize,
    /// `[num_envs, obs_len]` observations the current actions were chosen on.
    obs: Vec<f32>,
    /// `[num_envs]` actions of the current step.
    actions: Vec<usize>,
    /// `[num_envs]` whether the current action was drawn at random.
    explore: Vec<bool>,
    steps_done: u64,
    gradient_steps: u64,
    /// Agent step from which learning may resume after a load without the replay buffer.
    refilled_at: u64,
    /// The interventions, after every gradient step.
    plasticity: Plasticity<QNetwork>,
    /// Interventions applied since the last report.
    applied: Vec<(u64, Applied)>,
    /// `policy` before the last gradient step of the current advance, for the churn.
    policy_before_step: Option<QNetwork>,
    /// The fused gradient step, where the config asks for it and it takes the network.
    fused: Option<FusedStep>,
}

/// [`FusedQ`] and the host buffers of DQN's loss around it: the gradient step, the TD targets
/// and the greedy actions.
struct FusedStep {
    /// The gradient step and the TD targets (`batch_size` observations each).
    network: FusedQ,
    /// The greedy actions (`num_envs` observations): buffers of their own, so that neither
    /// pass resizes the other's every agent step.
    acting: FusedQ,
    /// `[num_envs]` the greedy action in each environment.
    greedy: Vec<usize>,
    /// `[batch]` `r + γ (1 - terminated) max_a' Q_target(s', a')`.
    td_target: Vec<f32>,
    /// `[batch]` the sampled actions.
    actions: Vec<usize>,
    /// `[batch]` `Q(s, a) - y`.
    diffs: Vec<f32>,
    /// `[batch]` the loss's derivative with respect to each `Q(s, a)`.
    grad_q: Vec<f32>,
}

impl FusedStep {
    /// The greedy action of `policy` in each of the `rows` observations `obs`, the first of
    /// equal Q-values (as burn's `argmax` takes).
    fn greedy(&mut self, policy: &QNetwork, obs: &[f32], rows: usize) -> &[usize] {
        let q = self.acting.q_values(policy, obs, rows);
        self.greedy.clear();
        self.greedy.extend((0..rows).map(|row| {
            action_values(q, rows, row)
                .enumerate()
                .fold((0, f32::NEG_INFINITY), |best, (action, value)| {
                    if value > best.1 {
                        (action, value)
                    } else {
                        best
                    }
                })
                .0
        }));
        &self.greedy
    }

    /// `r + γ (1 - terminated) max_a' Q_target(s', a')` of `batch`, into `self.td_target`.
    fn td_targets(&mut self, target: &QNetwork, batch: &Batch, gamma: f32) {
        let rows = batch.len();
        let next_q = self
            .network
            .q_values(target, &batch.next_observations, rows);
        self.td_target.clear();
        self.td_target.extend((0..rows).map(|row| {
            let max_q = action_values(next_q, rows, row).fold(f32::NEG_INFINITY, f32::max);
            batch.rewards[row] + max_q * (1.0 - batch.terminated[row]) * gamma
        }));
    }

    /// `(loss, mean Q(s, a), gradients)` of `model` on `batch` with the TD targets of the last
    /// [`td_targets`](Self::td_targets).
    fn gradients(
        &mut self,
        model: &QNetwork,
        batch: &Batch,
        loss: DqnLoss,
        device: &Device,
    ) -> (f32, f32, GradientsParams) {
        self.actions.clear();
        self.actions
            .extend(batch.actions.iter().map(|&action| action as usize));
        let q = self
            .network
            .forward(model, &batch.observations, &self.actions);
        let q_mean = q.iter().sum::<f32>() / q.len() as f32;
        self.diffs.clear();
        self.diffs
            .extend(q.iter().zip(&self.td_target).map(|(&q, &y)| q - y));
        self.grad_q.resize(self.diffs.len(), 0.0);
        let loss_value = loss.value_and_grad(&self.diffs, &mut self.grad_q);
        let grads = self.network.backward(&self.grad_q, device);
        (loss_value, q_mean, grads)
    }
}

/// Observation `row`'s Q-values, action by action, in `q_values` of `rows` observations as
/// [`FusedQ::q_values`] lays them out (action-major).
fn action_values(q_values: &[f32], rows: usize, row: usize) -> impl Iterator<Item = f32> + '_ {
    q_values.iter().skip(row).step_by(rows).copied()
}

/// What a DQN checkpoint stores besides the networks, optimiser and replay buffer.
#[derive(serde::Serialize, serde::Deserialize)]
struct DqnState {
    steps_done: u64,
    gradient_steps: u64,
    rng: Rng,
}

impl Dqn {
    /// Builds the agent on `envs` (`config.num_envs` copies, seeded by the caller), with the
    /// Q-network of `network` (fitted to them: [`fit_network`](crate::agent::fit_network)) and
    /// a replay buffer storing observations in the environment's native element type. `device`
    /// is the plain device; training runs on its autodiff form, seeded with `seed`.
    pub fn new(
        config: DqnConfig,
        network: NetworkConfig,
        envs: VecEnv<f32>,
        device: &Device,
        seed: u64,
    ) -> Result<Dqn, AgentError> {
        config.validate()?;
        let devices = agent::setup(&envs, config.num_envs, &network, device, seed)?;
        let model = network.init_q(&devices.train)?;
        let spec = envs.spec();
        let obs_len = spec.observation_len();
        let replay = ReplayBuffer::for_env(spec, config.buffer_size, config.num_envs)?;
        let n = config.num_envs;
        let plasticity = Plasticity::new(Interventions::default(), &network, &model, seed)?;
        let fused = config
            .fused_step
            .then(|| Some((FusedQ::new(&model)?, FusedQ::new(&model)?)))
            .flatten()
            .map(|(network, acting)| FusedStep {
                network,
                acting,
                greedy: Vec::new(),
                td_target: Vec::new(),
                actions: Vec::new(),
                diffs: Vec::new(),
                grad_q: Vec::new(),
            });
        Ok(Dqn {
            fused,
            optimizer: config.optimizer(),
            plasticity,
            policy_before_step: None,
            policy: model.valid(),
            target: model.valid(),
            model,
            network,
            envs,
            devices,
            rng: Rng::new(seed ^ 0x4451_4e5f_5247),
            probe_seed: seed ^ 0x0050_524f_4245,
            replay,
            batch: Batch::new(config.batch_size, obs_len),
            obs_len,
            obs: vec![0.0; n * obs_len],
            actions: vec![0; n],
            explore: vec![false; n],
            steps_done: 0,
            gradient_steps: 0,
            refilled_at: 0,
            applied: Vec::new(),
            config,
        })
    }

    /// The agent with `interventions` on (before any training: L2-init anchors to the
    /// current network); `seed` is the run's.
    pub fn with_interventions(
        mut self,
        interventions: Interventions,
        seed: u64,
    ) -> Result<Dqn, AgentError> {
        self.plasticity = Plasticity::new(interventions, &self.network, &self.model, seed)?;
        Ok(self)
    }

    /// The hyperparameters.
    pub fn config(&self) -> &DqnConfig {
        &self.config
    }

    /// Whether gradient steps are taken by the fused step (see [`DqnConfig::fused_step`]).
    pub fn fused_step(&self) -> bool {
        self.fused.is_some()
    }

    /// The online network.
    pub fn model(&self) -> &QNetwork {
        &self.model
    }

    /// The target network.
    pub fn target(&self) -> &QNetwork {
        &self.target
    }

    /// The replay buffer.
    pub fn replay(&self) -> &ReplayBuffer {
        &self.replay
    }

    /// Agent steps taken so far, over all environments.
    pub fn steps_done(&self) -> u64 {
        self.steps_done
    }

    /// Gradient steps taken so far.
    pub fn gradient_steps(&self) -> u64 {
        self.gradient_steps
    }

    /// ε at the current agent step (cleanrl's `linear_schedule`).
    pub fn epsilon(&self) -> f64 {
        let c = &self.config;
        let duration = c.exploration_fraction * c.total_timesteps as f64;
        schedule::linear(c.start_e, c.end_e, duration, self.steps_done as f64)
    }

    /// One agent step of every environment, then the gradient steps and target updates that
    /// fall due.
    fn step(&mut self, chunk: &mut Chunk) -> Result<(), AgentError> {
        let epsilon = self.epsilon();
        chunk.epsilon = epsilon;
        self.obs.copy_from_slice(self.envs.observations());
        self.act(epsilon);
        self.envs.step(&self.actions)?;
        self.store_transitions()?;
        chunk
            .episodes
            .extend_from_slice(self.envs.finished_episodes());
        let first = self.steps_done;
        self.steps_done += self.config.num_envs as u64;
        for global_step in first..self.steps_done {
            if global_step <= self.config.learning_starts || global_step < self.refilled_at {
                continue;
            }
            if global_step.is_multiple_of(self.config.train_frequency) {
                chunk.add(self.gradient_step()?);
            }
            if global_step.is_multiple_of(self.config.target_network_frequency) {
                self.update_target();
            }
        }
        Ok(())
    }

    /// ε-greedy actions on `self.obs`; the network runs only if some environment acts greedily.
    fn act(&mut self, epsilon: f64) {
        let num_actions = self.network.num_actions;
        for (action, explore) in self.actions.iter_mut().zip(self.explore.iter_mut()) {
            *explore = self.rng.uniform() < epsilon;
            if *explore {
                *action = self.rng.below(num_actions);
            }
        }
        if self.explore.iter().all(|&explore| explore) {
            return;
        }
        let rows = self.config.num_envs;
        let greedy = match &mut self.fused {
            Some(fused) => Cow::Borrowed(fused.greedy(&self.policy, &self.obs, rows)),
            None => {
                let obs = rows_tensor(&self.obs[..], rows, self.obs_len, &self.devices.plain);
                let greedy = host_ints(self.policy.forward(obs).argmax(1));
                Cow::Owned(greedy.into_iter().map(|best| best as usize).collect())
            }
        };
        for ((action, &explore), &best) in self.actions.iter_mut().zip(&self.explore).zip(&*greedy)
        {
            if !explore {
                *action = best;
            }
        }
    }

    /// Pushes every environment's transition of the step just taken.
    fn store_transitions(&mut self) -> Result<(), AgentError> {
        let len = self.obs_len;
        for env in 0..self.config.num_envs {
            let experience = Experience {
                obs: &self.obs[env * len..(env + 1) * len],
                action: self.actions[env],
                reward: self.envs.rewards()[env],
                terminated: self.envs.terminated()[env],
                truncated: self.envs.truncated()[env],
                next_obs: self.envs.next_observation(env),
            };
            self.replay.push(env, &experience)?;
        }
        Ok(())
    }

    /// One gradient step on a minibatch drawn uniformly from the replay buffer.
    pub fn gradient_step(&mut self) -> Result<GradientStep, AgentError> {
        if !self.replay.sample(&mut self.rng, &mut self.batch) {
            return Err(AgentError::Replay {
                message: "no transition to learn from yet".into(),
            });
        }
        let (loss_value, q_mean, mut grads) = match &mut self.fused {
            Some(fused) => {
                fused.td_targets(&self.target, &self.batch, self.config.gamma as f32);
                fused.gradients(
                    &self.model,
                    &self.batch,
                    self.config.loss,
                    &self.devices.plain,
                )
            }
            None => self.autodiff_gradients(self.td_target()),
        };
        let (loss_value, q_mean) = (f64::from(loss_value), f64::from(q_mean));
        if !loss_value.is_finite() {
            return Err(AgentError::NonFinite {
                what: "DQN loss",
                step: self.steps_done,
            });
        }
        self.plasticity.before_step(&self.model, &mut grads);
        let grad_norm = self
            .config
            .max_grad_norm
            .map(|max_norm| clip_global_norm(&self.model, &mut grads, max_norm));
        let model = self.model.clone();
        let model = self.optimizer.step(self.config.learning_rate, model, grads);
        self.gradient_steps += 1;
        self.model = self.intervene(model)?;
        let before = std::mem::replace(&mut self.policy, self.model.valid());
        self.policy_before_step = Some(before);
        Ok(GradientStep {
            loss: loss_value,
            q_mean,
            grad_norm,
        })
    }

    /// `(loss, mean Q(s, a), gradients)` on the sampled batch through burn's autodiff.
    fn autodiff_gradients(&self, td_target: Tensor<2>) -> (f32, f32, GradientsParams) {
        let (rows, len) = (self.batch.len(), self.obs_len);
        let obs = rows_tensor(&self.batch.observations[..], rows, len, &self.devices.train);
        let actions = int_rows_tensor(self.batch.actions.clone(), rows, 1, &self.devices.train);
        let q = self.model.forward(obs).gather(1, actions);
        let loss = self.config.loss.apply(q.clone() - td_target.autodiff());
        let reported = Tensor::cat(vec![loss.clone().inner(), q.inner().mean()], 0);
        let reported = host_floats(reported.reshape([1, 2]));
        let grads = GradientsParams::from_grads(loss.backward(), &self.model);
        (reported[0], reported[1], grads)
    }

    /// The interventions due after the gradient step just taken.
    fn intervene(&mut self, model: QNetwork) -> Result<QNetwork, AgentError> {
        let update = self.gradient_steps;
        let states = self.plasticity.redo_batch(update).map(|batch| {
            let (states, rows) = self.probe_states(batch);
            (states.into_owned(), rows)
        });
        let (model, applied) = self.plasticity.after_update(
            update,
            model,
            &mut self.optimizer,
            states,
            &self.devices.plain,
        )?;
        self.applied.extend(applied);
        Ok(model)
    }

    /// `r + γ (1 - terminated) max_a' Q_target(s', a')` of the sampled batch, `[batch, 1]` on the
    /// plain device (no gradient flows into it).
    fn td_target(&self) -> Tensor<2> {
        let (rows, device) = (self.batch.len(), &self.devices.plain);
        let next_obs = rows_tensor(
            &self.batch.next_observations[..],
            rows,
            self.obs_len,
            device,
        );
        let next_q = self.target.forward(next_obs).max_dim(1);
        let rewards = rows_tensor(&self.batch.rewards[..], rows, 1, device);
        let not_terminal = rows_tensor(&self.batch.terminated[..], rows, 1, device)
            .neg()
            .add_scalar(1.0);
        rewards + (next_q * not_terminal).mul_scalar(self.config.gamma)
    }

    /// Copies the online network into the target (τ = 1) or moves the target towards it by τ.
    fn update_target(&mut self) {
        self.target = if self.config.tau >= 1.0 {
            self.model.valid()
        } else {
            soft_update(self.target.clone(), &self.model, self.config.tau)
        };
    }
}

impl Agent for Dqn {
    fn algo(&self) -> Algo {
        Algo::Dqn
    }

    fn network(&self) -> &NetworkConfig {
        &self.network
    }

    fn total_steps(&self) -> u64 {
        self.config.total_steps()
    }

    fn steps_done(&self) -> u64 {
        self.steps_done
    }

    /// Takes `steps_per_report` agent steps (fewer at the end of the run); the loss, gradient
    /// norm and `q_values` are means over the gradient steps taken, ε is the last step's.
    fn advance(&mut self) -> Result<Report, AgentError> {
        let end = (self.steps_done + self.config.steps_per_report).min(self.total_steps());
        let mut chunk = Chunk {
            epsilon: self.epsilon(),
            ..Chunk::default()
        };
        self.policy_before_step = None;
        while self.steps_done < end {
            self.step(&mut chunk)?;
        }
        let mut extra = vec![
            (GRADIENT_STEPS, self.gradient_steps as f64),
            (REPLAY_SIZE, self.replay.len() as f64),
        ];
        if let Some(q_mean) = chunk.mean(chunk.q_mean) {
            extra.push((Q_VALUES, q_mean));
        }
        Ok(Report {
            loss: chunk.mean(chunk.loss),
            grad_norm: self
                .config
                .max_grad_norm
                .and_then(|_| chunk.mean(chunk.grad_norm)),
            epsilon: Some(chunk.epsilon),
            learning_rate: self.config.learning_rate,
            episodes: chunk.episodes,
            extra,
            interventions: std::mem::take(&mut self.applied),
        })
    }

    fn columns(&self) -> &'static [Column] {
        &[GRADIENT_STEPS, REPLAY_SIZE, Q_VALUES]
    }

    fn env_spec(&self) -> &EnvSpec {
        self.envs.spec()
    }

    /// Up to `probe_size` distinct replay states, spread over the buffer and drawn with a fixed
    /// seed (the environments' current observations while the buffer is empty).
    fn probe_states(&self, probe_size: usize) -> (Cow<'_, [f32]>, usize) {
        let ids = self
            .replay
            .stratified_ids(&mut Rng::new(self.probe_seed), probe_size);
        if ids.is_empty() {
            return (
                Cow::Borrowed(self.envs.observations()),
                self.config.num_envs,
            );
        }
        let mut obs = vec![0.0; ids.len() * self.obs_len];
        let mut next_obs = vec![0.0; self.obs_len];
        for (row, &id) in obs.chunks_exact_mut(self.obs_len).zip(&ids) {
            self.replay.get(id, row, &mut next_obs);
        }
        (Cow::Owned(obs), ids.len())
    }

    fn layer_health(
        &self,
        probe_size: usize,
        config: &DiagConfig,
    ) -> Result<NetworkHealth, AgentError> {
        let (states, rows) = self.probe_states(probe_size);
        self.plasticity
            .layer_health(&self.policy, (&states, rows), &self.devices.plain, config)
    }

    fn churn(&self, probe_size: usize) -> Result<Vec<LayerHealth>, AgentError> {
        let Some(before) = &self.policy_before_step else {
            return Ok(Vec::new());
        };
        let (states, rows) = self.probe_states(probe_size);
        let states = rows_tensor(&states[..], rows, self.obs_len, &self.devices.plain);
        Ok(hrl_nn::health::churn(before, &self.policy, states)?)
    }

    fn policy(&self) -> Policy {
        Policy::Greedy(self.model.valid())
    }

    /// Writes the online and target networks, the optimiser, the environments' state, the
    /// counters and random stream, and with `checkpoint_replay` the replay buffer
    /// ([`REPLAY_FILE`]).
    fn save(&self, dir: &Path) -> Result<(), AgentError> {
        checkpoint::save_module(&self.target, &dir.join(TARGET_FILE))?;
        if self.config.checkpoint_replay {
            self.replay.save(&dir.join(REPLAY_FILE))?;
        }
        let state = DqnState {
            steps_done: self.steps_done,
            gradient_steps: self.gradient_steps,
            rng: self.rng.clone(),
        };
        self.plasticity.save(dir)?;
        checkpoint::save_agent(dir, &self.model, &self.optimizer, &self.envs, &state)
    }

    /// Restores what [`save`](Agent::save) wrote. Without `checkpoint_replay` the buffer starts
    /// empty and learning pauses for `learning_starts` agent steps while it refills.
    fn load(&mut self, dir: &Path) -> Result<(), AgentError> {
        let (model, optimizer, state): (_, _, DqnState) = checkpoint::load_agent(
            dir,
            self.model.clone(),
            self.optimizer.clone(),
            &mut self.envs,
        )?;
        self.model = model;
        self.optimizer = optimizer;
        self.plasticity
            .load(dir, &self.model, &self.devices.plain)?;
        self.target = checkpoint::load_module(self.target.clone(), &dir.join(TARGET_FILE))?;
        self.steps_done = state.steps_done;
        self.gradient_steps = state.gradient_steps;
        self.rng = state.rng;
        self.policy = self.model.valid();
        if self.config.checkpoint_replay {
            let path = dir.join(REPLAY_FILE);
            if !path.is_file() {
                return Err(AgentError::Checkpoint {
                    path,
                    message: "file not found; was the checkpoint written with \
                              checkpoint_replay = false?"
                        .into(),
                });
            }
            self.replay.load(&path)?;
            self.refilled_at = 0;
        } else {
            self.replay.clear();
            self.refilled_at = self.steps_done + self.config.learning_starts;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loss_and_grad(loss: DqnLoss, diffs: [f32; 4]) -> (f32, Vec<f32>) {
        let device = Device::flex().autodiff();
        let diff = rows_tensor(&diffs[..], 4, 1, &device).require_grad();
        let value = loss.apply(diff.clone());
        let grads = value.backward();
        let grad = diff.grad(&grads).unwrap();
        (
            value.into_scalar::<f32>(),
            grad.into_data().iter::<f32>().collect(),
        )
    }

    #[test]
    fn the_host_loss_and_its_gradient_are_those_autodiff_computes() {
        let diffs = [0.5, -0.2, 3.0, -2.0, 0.99, -1.5, 0.0, 1e-3];
        for loss in [DqnLoss::Mse, DqnLoss::Huber] {
            let device = Device::flex().autodiff();
            let diff = rows_tensor(&diffs[..], diffs.len(), 1, &device).require_grad();
            let value = loss.apply(diff.clone());
            let autodiff_grad: Vec<f32> = diff
                .grad(&value.backward())
                .unwrap()
                .into_data()
                .iter::<f32>()
                .collect();
            let mut grad = [0.0; 8];
            let host = loss.value_and_grad(&diffs, &mut grad);
            let autodiff = value.into_scalar::<f32>();
            assert!((host - autodiff).abs() <= 1e-6 * autodiff, "{loss:?}");
            for (h, a) in grad.iter().zip(&autodiff_grad) {
                assert!(
                    (h - a).abs() <= 1e-7,
                    "{loss:?}: {grad:?} vs {autodiff_grad:?}"
                );
            }
        }
    }

    #[test]
    fn huber_is_smooth_l1_with_delta_one_and_mse_is_the_mean_square() {
        let diffs = [0.5, -0.2, 3.0, -2.0];
        let (huber, grad) = loss_and_grad(DqnLoss::Huber, diffs);
        // 0.5 * 0.25, 0.5 * 0.04, 3 - 0.5, 2 - 0.5, averaged.
        let expected = (0.125 + 0.02 + 2.5 + 1.5) / 4.0;
        assert!((huber - expected).abs() < 1e-6, "{huber} vs {expected}");
        let expected_grad = [0.5 / 4.0, -0.2 / 4.0, 1.0 / 4.0, -1.0 / 4.0];
        for (g, e) in grad.iter().zip(expected_grad) {
            assert!((g - e).abs() < 1e-6, "{grad:?}");
        }
        let (mse, grad) = loss_and_grad(DqnLoss::Mse, diffs);
        assert!((mse - (0.25 + 0.04 + 9.0 + 4.0) / 4.0).abs() < 1e-6);
        for (g, d) in grad.iter().zip(diffs) {
            assert!((g - 2.0 * d / 4.0).abs() < 1e-6, "{grad:?}");
        }
    }
}
