//! PPO (Schulman et al. 2017) as cleanrl's `ppo_atari.py` runs it.
//!
//! Every update collects `num_steps` steps in each of `num_envs` environments from the
//! categorical policy, computes GAE advantages, then runs `update_epochs` passes of
//! `num_minibatches` shuffled minibatches of the clipped surrogate objective, the clipped value
//! loss and an entropy bonus, with gradients clipped to a global norm and Adam whose learning rate
//! is annealed linearly to 0. The actor and critic heads share the torso.

use burn::module::Module;
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::tensor::activation::log_softmax;
use burn::tensor::{Device, Tensor};
use hrl_env::FinishedEpisode;
use hrl_nn::network::{ActorCritic, NetworkConfig};
use hrl_nn::torso::NetError;

use crate::AgentError;
use crate::agent::Report;
use crate::algo::Algo;
use crate::checks;
use crate::column::Column;
use crate::on_policy::{OnPolicy, OnPolicyAlgorithm, RolloutShape, UpdateStats};
use crate::optim::AdamConfig;
use crate::policy::{Policy, sample_categorical};
use crate::returns;
use crate::tensor::{host_floats, int_rows_tensor, rows_tensor};

/// PPO's hyperparameters; the defaults are cleanrl's `ppo_atari.py`.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PpoConfig {
    /// Agent steps over all environments (`total_timesteps`).
    pub total_timesteps: u64,
    /// Parallel environments (`num_envs`).
    pub num_envs: usize,
    /// Steps per environment per update (`num_steps`).
    pub num_steps: usize,
    /// Adam learning rate (`learning_rate`).
    pub learning_rate: f64,
    /// Anneal the learning rate linearly to 0 (`anneal_lr`).
    pub anneal_lr: bool,
    /// Adam's ε (cleanrl: 1e-5).
    pub adam_epsilon: f64,
    /// Discount γ (`gamma`).
    pub gamma: f64,
    /// GAE λ (`gae_lambda`).
    pub gae_lambda: f64,
    /// Minibatches per pass (`num_minibatches`).
    pub num_minibatches: usize,
    /// Passes over each rollout (`update_epochs`).
    pub update_epochs: usize,
    /// Normalise advantages per minibatch (`norm_adv`).
    pub norm_adv: bool,
    /// Surrogate clipping coefficient (`clip_coef`).
    pub clip_coef: f64,
    /// Clip the value loss with the same coefficient (`clip_vloss`).
    pub clip_vloss: bool,
    /// Entropy bonus weight (`ent_coef`).
    pub ent_coef: f64,
    /// Value loss weight (`vf_coef`).
    pub vf_coef: f64,
    /// Global gradient-norm limit (`max_grad_norm`).
    pub max_grad_norm: f64,
}

impl Default for PpoConfig {
    fn default() -> Self {
        PpoConfig {
            total_timesteps: 10_000_000,
            num_envs: 8,
            num_steps: 128,
            learning_rate: 2.5e-4,
            anneal_lr: true,
            adam_epsilon: 1e-5,
            gamma: 0.99,
            gae_lambda: 0.95,
            num_minibatches: 4,
            update_epochs: 4,
            norm_adv: true,
            clip_coef: 0.1,
            clip_vloss: true,
            ent_coef: 0.01,
            vf_coef: 0.5,
            max_grad_norm: 0.5,
        }
    }
}

impl PpoConfig {
    /// Environments, steps per rollout, minibatches and budget.
    pub fn shape(&self) -> RolloutShape {
        RolloutShape {
            num_envs: self.num_envs,
            num_steps: self.num_steps,
            num_minibatches: self.num_minibatches,
            total_timesteps: self.total_timesteps,
        }
    }

    /// Checks the values that would make the run impossible; errors name the key.
    pub fn validate(&self) -> Result<(), AgentError> {
        self.shape().validate()?;
        checks::positive_counts([("update_epochs", self.update_epochs as u64)])?;
        checks::positive_finite([
            ("learning_rate", self.learning_rate),
            ("adam_epsilon", self.adam_epsilon),
            ("max_grad_norm", self.max_grad_norm),
            ("clip_coef", self.clip_coef),
        ])?;
        checks::unit_interval([("gamma", self.gamma), ("gae_lambda", self.gae_lambda)])
    }
}

/// What one update did.
#[derive(Clone, Debug, PartialEq)]
pub struct PpoUpdate {
    /// The mean total loss, gradient norm, learning rate and finished episodes.
    pub stats: UpdateStats,
    /// Mean clipped-surrogate loss.
    pub policy_loss: f64,
    /// Mean value loss.
    pub value_loss: f64,
    /// Mean policy entropy.
    pub entropy: f64,
}

/// `metrics.csv`: the mean clipped-surrogate loss of an update.
pub const POLICY_LOSS: Column = Column::new(
    "policy_loss",
    "loss",
    "mean clipped-surrogate policy loss over the update's minibatches",
);
/// `metrics.csv`: the mean value loss of an update.
pub const VALUE_LOSS: Column = Column::new(
    "value_loss",
    "loss",
    "mean value loss over the update's minibatches",
);
/// `metrics.csv`: the mean policy entropy of an update.
pub const ENTROPY: Column = Column::new(
    "entropy",
    "nats",
    "mean entropy of the policy over the update's minibatches",
);

/// PPO's part of its agent: the hyperparameters and the per-step log-probabilities and
/// advantages of a rollout.
pub struct PpoLearner {
    config: PpoConfig,
    /// `[T, N]` log-probabilities of the actions taken.
    log_probs: Vec<f32>,
    /// `[T, N]` GAE advantages.
    advantages: Vec<f32>,
}

/// The PPO agent: [`PpoLearner`] over the environments, actor-critic network, optimiser and
/// rollout buffer every on-policy agent has ([`OnPolicy`]).
pub type Ppo = OnPolicy<PpoLearner>;

impl OnPolicyAlgorithm for PpoLearner {
    type Config = PpoConfig;
    type Model = ActorCritic;
    const ALGO: Algo = Algo::Ppo;
    const COLUMNS: &'static [Column] = &[POLICY_LOSS, VALUE_LOSS, ENTROPY];
    const RNG_SALT: u64 = 0x5050_4f5f_5247;

    fn from_config(config: PpoConfig) -> Result<PpoLearner, AgentError> {
        config.validate()?;
        let batch = config.shape().batch_size();
        Ok(PpoLearner {
            config,
            log_probs: vec![0.0; batch],
            advantages: vec![0.0; batch],
        })
    }

    fn config(&self) -> &PpoConfig {
        &self.config
    }

    fn init_model(network: &NetworkConfig, device: &Device) -> Result<ActorCritic, NetError> {
        network.init_actor_critic(device)
    }

    fn optimizer(&self) -> ModuleOptimizer {
        AdamConfig {
            epsilon: self.config.adam_epsilon as f32,
            ..AdamConfig::default()
        }
        .init()
    }

    fn shape(&self) -> RolloutShape {
        self.config.shape()
    }

    fn advance(agent: &mut Ppo) -> Result<Report, AgentError> {
        let update = agent.update()?;
        let extra = vec![
            (POLICY_LOSS, update.policy_loss),
            (VALUE_LOSS, update.value_loss),
            (ENTROPY, update.entropy),
        ];
        Ok(update.stats.report(None, extra))
    }

    fn policy(model: &ActorCritic) -> Policy {
        Policy::Categorical(model.valid())
    }
}

impl Ppo {
    /// Learning rate of the current update.
    pub fn learning_rate(&self) -> f64 {
        let c = &self.algo.config;
        if c.anneal_lr {
            c.learning_rate * (1.0 - self.updates_done as f64 / c.shape().num_updates() as f64)
        } else {
            c.learning_rate
        }
    }

    /// One rollout and the training on it.
    pub fn update(&mut self) -> Result<PpoUpdate, AgentError> {
        let learning_rate = self.learning_rate();
        let episodes = self.collect_rollout()?;
        returns::gae(
            self.rollout.returns_input(),
            &self.rollout.values,
            self.algo.config.gamma as f32,
            self.algo.config.gae_lambda as f32,
            &mut self.algo.advantages,
        );
        let mut update = self.train_on_rollout(learning_rate)?;
        update.stats.episodes = episodes;
        self.updates_done += 1;
        Ok(update)
    }

    fn collect_rollout(&mut self) -> Result<Vec<FinishedEpisode>, AgentError> {
        let n = self.algo.config.num_envs;
        let num_actions = self.network.num_actions;
        let policy = self.model.valid();
        let device = &self.devices.plain;
        let value_of = |obs: &[f32], rows: usize| {
            host_floats(
                policy
                    .forward(rows_tensor(obs, rows, self.obs_len, device))
                    .1,
            )
        };
        let mut episodes = Vec::new();
        for t in 0..self.algo.config.num_steps {
            let obs = self.rollout.store_observations(t, &self.envs);
            let (logits, value) = policy.forward(rows_tensor(obs, n, self.obs_len, device));
            let log_probs = host_floats(log_softmax(logits, 1));
            let value = host_floats(value);
            for (env, index) in self.rollout.rows(t).enumerate() {
                let row = &log_probs[env * num_actions..(env + 1) * num_actions];
                let action = sample_categorical(row, self.rng.uniform());
                self.rollout.actions[index] = action;
                self.algo.log_probs[index] = row[action];
                self.rollout.values[index] = value[env];
            }
            self.envs
                .step(&self.rollout.actions[self.rollout.rows(t)])?;
            self.rollout.store_step(t, &self.envs);
            episodes.extend_from_slice(self.envs.finished_episodes());
        }
        let last_values = value_of(self.envs.observations(), n);
        self.rollout.finish(&last_values, value_of);
        Ok(episodes)
    }

    fn train_on_rollout(&mut self, learning_rate: f64) -> Result<PpoUpdate, AgentError> {
        let c = self.algo.config.clone();
        let batch = c.shape().batch_size();
        let minibatch = batch / c.num_minibatches;
        let mut order: Vec<usize> = (0..batch).collect();
        let mut means = MinibatchMeans::default();
        for _ in 0..c.update_epochs {
            self.rng.shuffle(&mut order);
            for chunk in order.chunks(minibatch) {
                let rows = chunk.len();
                let obs = self.rollout.gather_observations(chunk);
                let gather =
                    |source: &[f32]| -> Vec<f32> { chunk.iter().map(|&i| source[i]).collect() };
                let mut advantages = gather(&self.algo.advantages);
                let old_values = gather(&self.rollout.values);
                let returns: Vec<f32> = chunk
                    .iter()
                    .map(|&i| self.algo.advantages[i] + self.rollout.values[i])
                    .collect();
                if c.norm_adv {
                    normalise(&mut advantages);
                }
                let device = &self.devices.train;
                let column = |values: Vec<f32>| rows_tensor(values, rows, 1, device);
                let actions: Vec<i64> = chunk
                    .iter()
                    .map(|&i| self.rollout.actions[i] as i64)
                    .collect();
                let actions = int_rows_tensor(actions, rows, 1, device);
                let obs = rows_tensor(obs, rows, self.obs_len, device);
                let (logits, new_values) = self.model.forward(obs);
                let log_probs = log_softmax(logits, 1);
                let entropy = (log_probs.clone().exp() * log_probs.clone())
                    .sum_dim(1)
                    .neg()
                    .mean();
                let new_log_prob = log_probs.gather(1, actions);
                let ratio = (new_log_prob - column(gather(&self.algo.log_probs))).exp();
                let advantages = column(advantages);
                let clipped_ratio = ratio.clone().clamp(1.0 - c.clip_coef, 1.0 + c.clip_coef);
                let policy_loss = (advantages.clone().neg() * ratio)
                    .max_pair(advantages.neg() * clipped_ratio)
                    .mean();
                let returns = column(returns);
                let unclipped = (new_values.clone() - returns.clone()).square();
                let value_loss = if c.clip_vloss {
                    let old_values = column(old_values);
                    let clipped = old_values.clone()
                        + (new_values - old_values).clamp(-c.clip_coef, c.clip_coef);
                    unclipped.max_pair((clipped - returns).square()).mean()
                } else {
                    unclipped.mean()
                }
                .mul_scalar(0.5);
                let loss = policy_loss.clone() - entropy.clone().mul_scalar(c.ent_coef)
                    + value_loss.clone().mul_scalar(c.vf_coef);
                let scalar = |t: Tensor<1>| f64::from(t.into_scalar::<f32>());
                let loss_value = scalar(loss.clone());
                if !loss_value.is_finite() {
                    return Err(AgentError::NonFinite {
                        what: "PPO loss",
                        step: self.steps_done(),
                    });
                }
                let grads = GradientsParams::from_grads(loss.backward(), &self.model);
                let norm = self.optimizer_step(learning_rate, grads, c.max_grad_norm, chunk);
                means.add(MinibatchMeans {
                    loss: loss_value,
                    policy_loss: scalar(policy_loss),
                    value_loss: scalar(value_loss),
                    entropy: scalar(entropy),
                    grad_norm: norm,
                    count: 1,
                });
            }
        }
        let n = means.count as f64;
        Ok(PpoUpdate {
            stats: UpdateStats {
                loss: means.loss / n,
                grad_norm: means.grad_norm / n,
                learning_rate,
                episodes: Vec::new(),
            },
            policy_loss: means.policy_loss / n,
            value_loss: means.value_loss / n,
            entropy: means.entropy / n,
        })
    }
}

/// Sums of the minibatch statistics of an update, and how many minibatches they add up.
#[derive(Default)]
struct MinibatchMeans {
    loss: f64,
    policy_loss: f64,
    value_loss: f64,
    entropy: f64,
    grad_norm: f64,
    count: usize,
}

impl MinibatchMeans {
    fn add(&mut self, other: MinibatchMeans) {
        self.loss += other.loss;
        self.policy_loss += other.policy_loss;
        self.value_loss += other.value_loss;
        self.entropy += other.entropy;
        self.grad_norm += other.grad_norm;
        self.count += other.count;
    }
}

/// Subtracts the mean and divides by the (unbiased) standard deviation plus 1e-8, as cleanrl.
fn normalise(values: &mut [f32]) {
    let n = values.len() as f64;
    let mean = values.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
    let var = values
        .iter()
        .map(|&v| (f64::from(v) - mean).powi(2))
        .sum::<f64>()
        / (n - 1.0).max(1.0);
    let std = var.sqrt() + 1e-8;
    for v in values.iter_mut() {
        *v = ((f64::from(*v) - mean) / std) as f32;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalise_uses_the_unbiased_standard_deviation() {
        let mut values = [1.0f32, 2.0, 3.0, 4.0];
        normalise(&mut values);
        // mean 2.5, unbiased std sqrt(5/3).
        let std = (5.0f64 / 3.0).sqrt();
        for (v, x) in values.iter().zip([1.0, 2.0, 3.0, 4.0]) {
            assert!((f64::from(*v) - (x - 2.5) / std).abs() < 1e-6);
        }
    }
}
