//! What the on-policy agents (PPO, PQN) share, written once: the environments, network,
//! optimiser, rollout buffer, counters and random stream ([`OnPolicy`]), their construction,
//! checkpoints, probe batch and the [`Agent`] implementation over them. What differs is an
//! [`OnPolicyAlgorithm`]: the hyperparameters, the algorithm's own buffers and its update,
//! written top to bottom in `ppo.rs` and `pqn.rs`.

use std::borrow::Cow;
use std::path::Path;

use burn::module::Module;
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::tensor::Device;
use hrl_env::{EnvSpec, FinishedEpisode, VecEnv};
use hrl_nn::diag::DiagConfig;
use hrl_nn::health::{LayerHealth, NetworkHealth};
use hrl_nn::network::{Network, NetworkConfig};
use hrl_nn::torso::NetError;

use crate::AgentError;
use crate::agent::{self, Agent, Devices, Report};
use crate::algo::Algo;
use crate::checkpoint::{self, OnPolicyState};
use crate::checks;
use crate::column::Column;
use crate::optim::clip_global_norm;
use crate::plasticity::{Applied, Interventions, Plasticity};
use crate::policy::Policy;
use crate::rng::Rng;
use crate::rollout::RolloutBuffer;
use crate::tensor::rows_tensor;

/// How an on-policy run is laid out: every update collects `num_steps` steps in each of
/// `num_envs` environments and trains on them in `num_minibatches` minibatches, until
/// `total_timesteps` agent steps are done.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RolloutShape {
    /// Parallel environments.
    pub num_envs: usize,
    /// Steps per environment per update.
    pub num_steps: usize,
    /// Minibatches each pass over a rollout splits into.
    pub num_minibatches: usize,
    /// Agent steps over all environments in the run.
    pub total_timesteps: u64,
}

impl RolloutShape {
    /// Transitions per update, `num_envs * num_steps`.
    pub fn batch_size(&self) -> usize {
        self.num_envs * self.num_steps
    }

    /// Updates in the run.
    pub fn num_updates(&self) -> u64 {
        self.updates_in(self.total_timesteps)
    }

    /// Whole updates in `agent_steps` agent steps (a schedule's horizon in updates).
    pub fn updates_in(&self, agent_steps: u64) -> u64 {
        agent_steps / self.batch_size() as u64
    }

    /// Every count is positive, the minibatches split a rollout evenly and the budget holds
    /// at least one rollout; errors name the key.
    pub fn validate(&self) -> Result<(), AgentError> {
        checks::positive_counts([
            ("num_envs", self.num_envs as u64),
            ("num_steps", self.num_steps as u64),
            ("num_minibatches", self.num_minibatches as u64),
        ])?;
        let batch = self.batch_size();
        if !batch.is_multiple_of(self.num_minibatches) {
            return Err(AgentError::config(
                "num_minibatches",
                format!("must divide num_envs * num_steps = {batch}"),
            ));
        }
        if self.total_timesteps < batch as u64 {
            return Err(AgentError::config(
                "total_timesteps",
                format!("must be at least num_envs * num_steps = {batch}"),
            ));
        }
        Ok(())
    }
}

/// What every on-policy update reports, whatever the algorithm.
#[derive(Clone, Debug, PartialEq)]
pub struct UpdateStats {
    /// Mean loss over the update's minibatches.
    pub loss: f64,
    /// Mean global gradient norm before clipping.
    pub grad_norm: f64,
    /// Learning rate used.
    pub learning_rate: f64,
    /// Episodes that ended during the rollout.
    pub episodes: Vec<FinishedEpisode>,
}

impl UpdateStats {
    /// The training loop's [`Report`] of the update: these values, ε for ε-greedy agents and
    /// the algorithm's own columns.
    pub fn report(self, epsilon: Option<f64>, extra: Vec<(Column, f64)>) -> Report {
        Report {
            loss: Some(self.loss),
            grad_norm: Some(self.grad_norm),
            epsilon,
            learning_rate: self.learning_rate,
            episodes: self.episodes,
            extra,
            interventions: Vec::new(),
        }
    }
}

/// What one on-policy algorithm adds to [`OnPolicy`]: its hyperparameters, its own buffers and
/// its update.
pub trait OnPolicyAlgorithm: Sized {
    /// Its hyperparameters.
    type Config;
    /// The network it trains.
    type Model: Network;
    /// Which algorithm it is.
    const ALGO: Algo;
    /// Its own `metrics.csv` columns, filled by [`advance`](Self::advance).
    const COLUMNS: &'static [Column];
    /// Mixed into the run seed for the agent's random stream, apart from other algorithms'.
    const RNG_SALT: u64;
    /// The algorithm's part of a new agent, `config` checked (errors name the key).
    fn from_config(config: Self::Config) -> Result<Self, AgentError>;
    /// The hyperparameters.
    fn config(&self) -> &Self::Config;
    /// A freshly initialised network of `network` on `device`.
    fn init_model(network: &NetworkConfig, device: &Device) -> Result<Self::Model, NetError>;
    /// A fresh optimiser.
    fn optimizer(&self) -> ModuleOptimizer;
    /// Environments, steps per rollout, minibatches and budget.
    fn shape(&self) -> RolloutShape;
    /// One update of `agent` (a rollout and the training on it), as the training loop logs it.
    fn advance(agent: &mut OnPolicy<Self>) -> Result<Report, AgentError>;
    /// `model` as an evaluation policy.
    fn policy(model: &Self::Model) -> Policy;
}

/// An on-policy agent: the algorithm `A` and everything it trains with.
pub struct OnPolicy<A: OnPolicyAlgorithm> {
    /// The algorithm's hyperparameters and buffers.
    pub(crate) algo: A,
    pub(crate) network: NetworkConfig,
    pub(crate) envs: VecEnv<f32>,
    /// The network being trained, on `devices.train`.
    pub(crate) model: A::Model,
    pub(crate) optimizer: ModuleOptimizer,
    /// Training runs on `devices.train`, acting and probing on `devices.plain`.
    pub(crate) devices: Devices,
    pub(crate) rng: Rng,
    pub(crate) updates_done: u64,
    /// Elements of one observation.
    pub(crate) obs_len: usize,
    pub(crate) rollout: RolloutBuffer,
    /// The interventions: L2-init at every gradient step, the others after updates.
    pub(crate) plasticity: Plasticity<A::Model>,
    /// The network before the last gradient step, and that step's rollout rows, for the
    /// churn.
    model_before_step: Option<A::Model>,
    last_minibatch: Vec<usize>,
}

impl<A: OnPolicyAlgorithm> OnPolicy<A> {
    /// Builds the agent on `envs` (`num_envs` copies, seeded by the caller) with a fresh
    /// network of `network` (fitted to them: [`fit_network`](crate::agent::fit_network)).
    /// `device` is the plain device; training runs on its autodiff form, seeded with `seed`.
    pub fn new(
        config: A::Config,
        network: NetworkConfig,
        envs: VecEnv<f32>,
        device: &Device,
        seed: u64,
    ) -> Result<OnPolicy<A>, AgentError> {
        let algo = A::from_config(config)?;
        let shape = algo.shape();
        let devices = agent::setup(&envs, shape.num_envs, &network, device, seed)?;
        let model = A::init_model(&network, &devices.train)?;
        let obs_len = envs.spec().observation_len();
        let plasticity = Plasticity::new(Interventions::default(), &network, &model, seed)?;
        Ok(OnPolicy {
            rollout: RolloutBuffer::new(shape.num_envs, shape.num_steps, obs_len),
            plasticity,
            model_before_step: None,
            last_minibatch: Vec::new(),
            optimizer: algo.optimizer(),
            algo,
            network,
            envs,
            model,
            devices,
            rng: Rng::new(seed ^ A::RNG_SALT),
            updates_done: 0,
            obs_len,
        })
    }

    /// The agent with `interventions` on (before any training: L2-init anchors to the
    /// current network); `seed` is the run's.
    pub fn with_interventions(
        mut self,
        interventions: Interventions,
        seed: u64,
    ) -> Result<OnPolicy<A>, AgentError> {
        self.plasticity = Plasticity::new(interventions, &self.network, &self.model, seed)?;
        Ok(self)
    }

    /// One optimiser step on `grads` of the minibatch `rows` (rollout rows; L2-init's pull
    /// added before clipping at `max_grad_norm`), returning the global gradient norm before
    /// clipping.
    pub(crate) fn optimizer_step(
        &mut self,
        learning_rate: f64,
        mut grads: GradientsParams,
        max_grad_norm: f64,
        rows: &[usize],
    ) -> f64 {
        self.plasticity.before_step(&self.model, &mut grads);
        let norm = clip_global_norm(&self.model, &mut grads, max_grad_norm);
        let model = self.model.clone();
        let stepped = self.optimizer.step(learning_rate, model, grads);
        self.model_before_step = Some(std::mem::replace(&mut self.model, stepped));
        self.last_minibatch.clear();
        self.last_minibatch.extend_from_slice(rows);
        norm
    }

    /// The interventions due after the update just done.
    fn intervene(&mut self) -> Result<Option<(u64, Applied)>, AgentError> {
        let update = self.updates_done;
        let states = self.plasticity.redo_batch(update).map(|batch| {
            let (states, rows) = self.rollout.first_states(batch);
            (states.to_vec(), rows)
        });
        let model = self.model.clone();
        let (model, applied) = self.plasticity.after_update(
            update,
            model,
            &mut self.optimizer,
            states,
            &self.devices.plain,
        )?;
        self.model = model;
        Ok(applied)
    }

    /// The hyperparameters.
    pub fn config(&self) -> &A::Config {
        self.algo.config()
    }

    /// Updates done so far.
    pub fn updates_done(&self) -> u64 {
        self.updates_done
    }

    /// Agent steps taken so far, over all environments.
    pub fn steps_done(&self) -> u64 {
        self.updates_done * self.algo.shape().batch_size() as u64
    }

    /// The network being trained.
    pub fn model(&self) -> &A::Model {
        &self.model
    }
}

impl<A: OnPolicyAlgorithm> Agent for OnPolicy<A> {
    fn algo(&self) -> Algo {
        A::ALGO
    }

    fn network(&self) -> &NetworkConfig {
        &self.network
    }

    fn total_steps(&self) -> u64 {
        let shape = self.algo.shape();
        shape.num_updates() * shape.batch_size() as u64
    }

    fn steps_done(&self) -> u64 {
        OnPolicy::steps_done(self)
    }

    fn advance(&mut self) -> Result<Report, AgentError> {
        let mut report = A::advance(self)?;
        report.interventions.extend(self.intervene()?);
        Ok(report)
    }

    fn columns(&self) -> &'static [Column] {
        A::COLUMNS
    }

    fn env_spec(&self) -> &EnvSpec {
        self.envs.spec()
    }

    /// The first `probe_size` states of the last rollout.
    fn probe_states(&self, probe_size: usize) -> (Cow<'_, [f32]>, usize) {
        let (states, rows) = self.rollout.first_states(probe_size);
        (Cow::Borrowed(states), rows)
    }

    fn layer_health(
        &self,
        probe_size: usize,
        config: &DiagConfig,
    ) -> Result<NetworkHealth, AgentError> {
        let (states, rows) = self.rollout.first_states(probe_size);
        self.plasticity.layer_health(
            &self.model.valid(),
            (states, rows),
            &self.devices.plain,
            config,
        )
    }

    fn churn(&self, probe_size: usize) -> Result<Vec<LayerHealth>, AgentError> {
        let Some(before) = &self.model_before_step else {
            return Ok(Vec::new());
        };
        let (_, rows) = self.rollout.first_states(probe_size);
        let outside: Vec<usize> = (0..rows)
            .filter(|row| !self.last_minibatch.contains(row))
            .collect();
        if outside.is_empty() {
            return Ok(Vec::new());
        }
        let states = self.rollout.gather_observations(&outside);
        let states = rows_tensor(states, outside.len(), self.obs_len, &self.devices.plain);
        Ok(hrl_nn::health::churn(
            &before.valid(),
            &self.model.valid(),
            states,
        )?)
    }

    fn policy(&self) -> Policy {
        A::policy(&self.model)
    }

    fn save(&self, dir: &Path) -> Result<(), AgentError> {
        let state = OnPolicyState {
            updates_done: self.updates_done,
            rng: self.rng.clone(),
        };
        self.plasticity.save(dir)?;
        checkpoint::save_agent(dir, &self.model, &self.optimizer, &self.envs, &state)
    }

    fn load(&mut self, dir: &Path) -> Result<(), AgentError> {
        let (model, optimizer, state): (_, _, OnPolicyState) = checkpoint::load_agent(
            dir,
            self.model.clone(),
            self.optimizer.clone(),
            &mut self.envs,
        )?;
        (self.model, self.optimizer) = (model, optimizer);
        self.plasticity
            .load(dir, &self.model, &self.devices.plain)?;
        (self.updates_done, self.rng) = (state.updates_done, state.rng);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(shape: RolloutShape) -> &'static str {
        match shape.validate() {
            Err(AgentError::Config { key, .. }) => key,
            other => panic!("expected a config error, got {other:?}"),
        }
    }

    #[test]
    fn a_rollout_shape_splits_evenly_and_fits_the_budget() {
        let shape = RolloutShape {
            num_envs: 4,
            num_steps: 6,
            num_minibatches: 4,
            total_timesteps: 100,
        };
        assert!(shape.validate().is_ok());
        assert_eq!((shape.batch_size(), shape.num_updates()), (24, 4));
        assert_eq!(shape.updates_in(1_000), 41);
        let uneven = RolloutShape {
            num_minibatches: 5,
            ..shape
        };
        assert_eq!(key(uneven), "num_minibatches");
        let short = RolloutShape {
            total_timesteps: 23,
            ..shape
        };
        assert_eq!(key(short), "total_timesteps");
        let empty = RolloutShape {
            num_steps: 0,
            ..shape
        };
        assert_eq!(key(empty), "num_steps");
    }
}
