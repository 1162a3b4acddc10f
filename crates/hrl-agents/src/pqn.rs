//! PQN: parallelised Q-learning (Gallici et al. 2024), as purejaxql's `pqn_minatar.py` and
//! `pqn_atari.py` run it.
//!
//! No replay buffer and no target network: every update collects `num_steps` steps in each of
//! `num_envs` environments with ε-greedy actions, computes Q(λ) returns from the Q-values seen
//! during the rollout, then trains on the rollout for `num_epochs` epochs of `num_minibatches`
//! shuffled minibatches with loss `0.5 * mean((Q(s, a) - G)^2)`, gradients clipped to a global
//! norm and RAdam. The network has a LayerNorm before every hidden activation.

use burn::module::Module;
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::tensor::Device;
use hrl_env::FinishedEpisode;
use hrl_nn::network::{NetworkConfig, QNetwork};
use hrl_nn::torso::NetError;

use crate::AgentError;
use crate::agent::Report;
use crate::algo::Algo;
use crate::checks;
use crate::column::Column;
use crate::on_policy::{OnPolicy, OnPolicyAlgorithm, RolloutShape, UpdateStats};
use crate::optim::RAdamConfig;
use crate::policy::Policy;
use crate::returns;
use crate::schedule;
use crate::tensor::{host_floats, host_ints, int_rows_tensor, rows_tensor};

/// PQN's hyperparameters; the defaults are purejaxql's `pqn_minatar.yaml`.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PqnConfig {
    /// Agent steps over all environments (purejaxql `TOTAL_TIMESTEPS`).
    pub total_timesteps: u64,
    /// Agent steps over which ε and the learning rate decay, independent of the run's length
    /// (`TOTAL_TIMESTEPS_DECAY`); absent: the run's `total_timesteps`. The presets set the
    /// reference's value (1e7 on MinAtar), so a shorter run follows the reference's schedules.
    pub total_timesteps_decay: Option<u64>,
    /// Parallel environments (`NUM_ENVS`).
    pub num_envs: usize,
    /// Steps per environment per update (`NUM_STEPS`).
    pub num_steps: usize,
    /// Passes over each rollout (`NUM_EPOCHS`).
    pub num_epochs: usize,
    /// Minibatches per pass (`NUM_MINIBATCHES`).
    pub num_minibatches: usize,
    /// Initial exploration rate (`EPS_START`).
    pub eps_start: f64,
    /// Final exploration rate (`EPS_FINISH`).
    pub eps_finish: f64,
    /// Fraction of the decay updates over which ε falls linearly (`EPS_DECAY`).
    pub eps_decay: f64,
    /// RAdam learning rate (`LR`).
    pub learning_rate: f64,
    /// Decay the learning rate linearly to 0 over the decay horizon (`LR_LINEAR_DECAY`).
    pub lr_linear_decay: bool,
    /// Global gradient-norm limit (`MAX_GRAD_NORM`).
    pub max_grad_norm: f64,
    /// Discount γ (`GAMMA`).
    pub gamma: f64,
    /// λ of the Q(λ) returns (`LAMBDA`).
    pub lambda: f64,
    /// RAdam's moment settings.
    pub radam: RAdamConfig,
}

impl Default for PqnConfig {
    fn default() -> Self {
        PqnConfig {
            total_timesteps: 10_000_000,
            total_timesteps_decay: None,
            num_envs: 128,
            num_steps: 32,
            num_epochs: 2,
            num_minibatches: 32,
            eps_start: 1.0,
            eps_finish: 0.05,
            eps_decay: 0.1,
            learning_rate: 5e-4,
            lr_linear_decay: true,
            max_grad_norm: 10.0,
            gamma: 0.99,
            lambda: 0.65,
            radam: RAdamConfig::default(),
        }
    }
}

impl PqnConfig {
    /// Environments, steps per rollout, minibatches and budget.
    pub fn shape(&self) -> RolloutShape {
        RolloutShape {
            num_envs: self.num_envs,
            num_steps: self.num_steps,
            num_minibatches: self.num_minibatches,
            total_timesteps: self.total_timesteps,
        }
    }

    /// Updates over which ε and the learning rate decay: `total_timesteps_decay` (or the
    /// run's `total_timesteps`) in whole updates, as purejaxql's `NUM_UPDATES_DECAY`.
    pub fn decay_updates(&self) -> u64 {
        let shape = self.shape();
        shape.updates_in(self.total_timesteps_decay.unwrap_or(shape.total_timesteps))
    }

    /// ε of the rollout of update `update` (from 0): linear from `eps_start` to `eps_finish`
    /// over the first `eps_decay` of the [decay updates](Self::decay_updates), then constant.
    pub fn epsilon_at(&self, update: u64) -> f64 {
        schedule::linear(
            self.eps_start,
            self.eps_finish,
            self.eps_decay * self.decay_updates() as f64,
            update as f64,
        )
    }

    /// Learning rate of update `update` (from 0): with `lr_linear_decay`, linear from
    /// `learning_rate` to 0 over the [decay updates](Self::decay_updates), then 0; set once per
    /// update (optax lowers it every gradient step, at most `1 / decay_updates` of it earlier).
    pub fn learning_rate_at(&self, update: u64) -> f64 {
        if self.lr_linear_decay {
            let fraction = update as f64 / self.decay_updates() as f64;
            self.learning_rate * (1.0 - fraction).max(0.0)
        } else {
            self.learning_rate
        }
    }

    /// Checks the values that would make the run impossible; errors name the key.
    pub fn validate(&self) -> Result<(), AgentError> {
        self.shape().validate()?;
        checks::positive_counts([("num_epochs", self.num_epochs as u64)])?;
        if self.decay_updates() == 0 {
            return Err(AgentError::config(
                "total_timesteps_decay",
                format!(
                    "must be at least num_envs * num_steps = {}",
                    self.shape().batch_size()
                ),
            ));
        }
        checks::unit_interval([
            ("gamma", self.gamma),
            ("lambda", self.lambda),
            ("eps_start", self.eps_start),
            ("eps_finish", self.eps_finish),
        ])?;
        checks::positive_finite([
            ("learning_rate", self.learning_rate),
            ("max_grad_norm", self.max_grad_norm),
        ])
    }
}

/// What one update did.
#[derive(Clone, Debug, PartialEq)]
pub struct PqnUpdate {
    /// The mean loss, gradient norm, learning rate and finished episodes.
    pub stats: UpdateStats,
    /// ε used in the rollout.
    pub epsilon: f64,
}

/// PQN's part of its agent: the hyperparameters and the Q(λ) targets of a rollout.
pub struct PqnLearner {
    config: PqnConfig,
    /// `[T, N]` Q(λ) targets.
    targets: Vec<f32>,
}

/// The PQN agent: [`PqnLearner`] over the environments, Q-network, optimiser and rollout
/// buffer every on-policy agent has ([`OnPolicy`]).
pub type Pqn = OnPolicy<PqnLearner>;

impl OnPolicyAlgorithm for PqnLearner {
    type Config = PqnConfig;
    type Model = QNetwork;
    const ALGO: Algo = Algo::Pqn;
    const COLUMNS: &'static [Column] = &[];
    const RNG_SALT: u64 = 0x5051_4e5f_5247;

    fn from_config(config: PqnConfig) -> Result<PqnLearner, AgentError> {
        config.validate()?;
        Ok(PqnLearner {
            targets: vec![0.0; config.shape().batch_size()],
            config,
        })
    }

    fn config(&self) -> &PqnConfig {
        &self.config
    }

    fn init_model(network: &NetworkConfig, device: &Device) -> Result<QNetwork, NetError> {
        network.init_q(device)
    }

    fn optimizer(&self) -> ModuleOptimizer {
        self.config.radam.init()
    }

    fn shape(&self) -> RolloutShape {
        self.config.shape()
    }

    fn advance(agent: &mut Pqn) -> Result<Report, AgentError> {
        let update = agent.update()?;
        Ok(update.stats.report(Some(update.epsilon), Vec::new()))
    }

    fn policy(model: &QNetwork) -> Policy {
        Policy::Greedy(model.valid())
    }
}

impl Pqn {
    /// ε at the current update ([`PqnConfig::epsilon_at`]).
    pub fn epsilon(&self) -> f64 {
        self.algo.config.epsilon_at(self.updates_done)
    }

    /// Learning rate at the current update ([`PqnConfig::learning_rate_at`]).
    pub fn learning_rate(&self) -> f64 {
        self.algo.config.learning_rate_at(self.updates_done)
    }

    /// One rollout and the training on it.
    pub fn update(&mut self) -> Result<PqnUpdate, AgentError> {
        let epsilon = self.epsilon();
        let learning_rate = self.learning_rate();
        let episodes = self.collect_rollout(epsilon)?;
        self.compute_targets();
        let (loss, grad_norm) = self.train_on_rollout(learning_rate)?;
        self.updates_done += 1;
        Ok(PqnUpdate {
            stats: UpdateStats {
                loss,
                grad_norm,
                learning_rate,
                episodes,
            },
            epsilon,
        })
    }

    /// Steps every environment `num_steps` times with ε-greedy actions of the current network.
    fn collect_rollout(&mut self, epsilon: f64) -> Result<Vec<FinishedEpisode>, AgentError> {
        let n = self.algo.config.num_envs;
        let num_actions = self.network.num_actions;
        let policy = self.model.valid();
        let device = &self.devices.plain;
        let max_q_of = |obs: &[f32], rows: usize| {
            host_floats(
                policy
                    .forward(rows_tensor(obs, rows, self.obs_len, device))
                    .max_dim(1),
            )
        };
        let mut episodes = Vec::new();
        for t in 0..self.algo.config.num_steps {
            let obs = self.rollout.store_observations(t, &self.envs);
            let q = policy.forward(rows_tensor(obs, n, self.obs_len, device));
            let greedy = host_ints(q.clone().argmax(1));
            let max_q = host_floats(q.max_dim(1));
            for (env, index) in self.rollout.rows(t).enumerate() {
                self.rollout.values[index] = max_q[env];
                self.rollout.actions[index] = if self.rng.uniform() < epsilon {
                    self.rng.below(num_actions)
                } else {
                    greedy[env] as usize
                };
            }
            self.envs
                .step(&self.rollout.actions[self.rollout.rows(t)])?;
            self.rollout.store_step(t, &self.envs);
            episodes.extend_from_slice(self.envs.finished_episodes());
        }
        // Values after the last step: max_a Q of the current observations.
        let last_max_q = max_q_of(self.envs.observations(), n);
        self.rollout.finish(&last_max_q, max_q_of);
        Ok(episodes)
    }

    fn compute_targets(&mut self) {
        returns::q_lambda(
            self.rollout.returns_input(),
            self.algo.config.gamma as f32,
            self.algo.config.lambda as f32,
            &mut self.algo.targets,
        );
    }

    /// `num_epochs` passes of shuffled minibatches; returns the mean loss and gradient norm.
    fn train_on_rollout(&mut self, learning_rate: f64) -> Result<(f64, f64), AgentError> {
        let batch = self.algo.config.shape().batch_size();
        let minibatch = batch / self.algo.config.num_minibatches;
        let mut order: Vec<usize> = (0..batch).collect();
        let (mut loss_sum, mut norm_sum, mut count) = (0.0, 0.0, 0usize);
        for _ in 0..self.algo.config.num_epochs {
            self.rng.shuffle(&mut order);
            for chunk in order.chunks(minibatch) {
                let obs = self.rollout.gather_observations(chunk);
                let actions: Vec<i64> = chunk
                    .iter()
                    .map(|&i| self.rollout.actions[i] as i64)
                    .collect();
                let targets: Vec<f32> = chunk.iter().map(|&i| self.algo.targets[i]).collect();
                let rows = chunk.len();
                let device = &self.devices.train;
                let obs = rows_tensor(obs, rows, self.obs_len, device);
                let actions = int_rows_tensor(actions, rows, 1, device);
                let targets = rows_tensor(targets, rows, 1, device);
                let chosen = self.model.forward(obs).gather(1, actions);
                let loss = (chosen - targets).square().mean().mul_scalar(0.5);
                let loss_value = f64::from(loss.clone().into_scalar::<f32>());
                if !loss_value.is_finite() {
                    return Err(AgentError::NonFinite {
                        what: "PQN loss",
                        step: self.steps_done(),
                    });
                }
                let grads = GradientsParams::from_grads(loss.backward(), &self.model);
                let max_grad_norm = self.algo.config.max_grad_norm;
                let norm = self.optimizer_step(learning_rate, grads, max_grad_norm, chunk);
                loss_sum += loss_value;
                norm_sum += norm;
                count += 1;
            }
        }
        Ok((loss_sum / count as f64, norm_sum / count as f64))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The MinAtar preset's schedules at 1M agent steps: 128 x 32 = 4,096 steps per update, so
    /// 244 updates; a decay horizon of 1e7 steps is 2,441 updates, ε's 10% of it 244.1.
    fn one_million(total_timesteps_decay: Option<u64>) -> PqnConfig {
        PqnConfig {
            total_timesteps: 1_000_000,
            total_timesteps_decay,
            ..PqnConfig::default()
        }
    }

    #[test]
    fn a_decay_horizon_apart_from_the_budget_sets_both_schedules() {
        let c = one_million(Some(10_000_000));
        assert_eq!(c.shape().num_updates(), 244);
        assert_eq!(c.decay_updates(), 2441);
        assert_eq!(c.epsilon_at(0), 1.0);
        assert!((c.epsilon_at(122) - (1.0 - 0.95 * 122.0 / 244.1)).abs() < 1e-15);
        assert!((c.epsilon_at(243) - (1.0 - 0.95 * 243.0 / 244.1)).abs() < 1e-15);
        assert_eq!(c.epsilon_at(245), 0.05);
        assert_eq!(c.learning_rate_at(0), 5e-4);
        assert!((c.learning_rate_at(122) - 5e-4 * (1.0 - 122.0 / 2441.0)).abs() < 1e-18);
        assert!((c.learning_rate_at(243) - 5e-4 * 2198.0 / 2441.0).abs() < 1e-18);
        assert_eq!(c.learning_rate_at(2441), 0.0);
        assert_eq!(c.learning_rate_at(5000), 0.0);
    }

    #[test]
    fn without_a_horizon_both_schedules_span_the_run() {
        let c = one_million(None);
        assert_eq!(c.decay_updates(), 244);
        assert_eq!(c.epsilon_at(25), 0.05);
        assert!((c.epsilon_at(12) - (1.0 - 0.95 * 12.0 / 24.4)).abs() < 1e-15);
        assert_eq!(c.learning_rate_at(122), 2.5e-4);
        let constant = PqnConfig {
            lr_linear_decay: false,
            ..c
        };
        assert_eq!(constant.learning_rate_at(200), 5e-4);
    }

    #[test]
    fn a_horizon_shorter_than_one_update_is_an_error_naming_it() {
        let c = one_million(Some(4095));
        match c.validate() {
            Err(AgentError::Config { key, .. }) => assert_eq!(key, "total_timesteps_decay"),
            other => panic!("expected a config error, got {other:?}"),
        }
    }
}
