//! What every agent offers the training loop: advance by one update, report what it did, probe
//! its representation, act for evaluation, and save or restore everything it needs to continue.

use std::borrow::Cow;
use std::path::Path;

use burn::tensor::Device;
use hrl_env::{EnvSpec, FinishedEpisode, VecEnv};
use hrl_nn::diag::DiagConfig;
use hrl_nn::health::{LayerHealth, NetworkHealth};
use hrl_nn::network::NetworkConfig;
use hrl_nn::probe::ReprDiagnostics;

use crate::AgentError;
use crate::algo::Algo;
use crate::column::Column;
use crate::plasticity::Applied;
use crate::policy::Policy;

/// Where an agent computes: the plain device it acts, probes and computes targets on, and
/// its autodiff form that training runs on.
#[derive(Clone, Debug)]
pub(crate) struct Devices {
    /// The device the agent was given.
    pub plain: Device,
    /// `plain`'s autodiff form, seeded from the run seed.
    pub train: Device,
}

/// What every agent's `new` does first: checks that `envs` are the `num_envs` copies its config
/// asks for and that `network` was fitted to them ([`fit_network`]), and seeds the autodiff
/// form of `device` with `seed`.
pub(crate) fn setup(
    envs: &VecEnv<f32>,
    num_envs: usize,
    network: &NetworkConfig,
    device: &Device,
    seed: u64,
) -> Result<Devices, AgentError> {
    if envs.num_envs() != num_envs {
        return Err(AgentError::config(
            "num_envs",
            format!(
                "the agent was handed {} environments for num_envs = {num_envs}",
                envs.num_envs()
            ),
        ));
    }
    let spec = envs.spec();
    if network.torso.obs_shape != spec.observation_shape || network.num_actions != spec.num_actions
    {
        return Err(AgentError::config(
            "network",
            format!(
                "fitted to observations {:?} and {} actions, but {} has {:?} and {}",
                network.torso.obs_shape,
                network.num_actions,
                spec.id,
                spec.observation_shape,
                spec.num_actions
            ),
        ));
    }
    let train = device.clone().autodiff();
    train.seed(seed);
    Ok(Devices {
        plain: device.clone(),
        train,
    })
}

/// `network` fitted to an environment: its observation shape and action count. The one place
/// a network learns its environment's sizes.
pub fn fit_network(mut network: NetworkConfig, spec: &EnvSpec) -> NetworkConfig {
    network.torso.obs_shape = spec.observation_shape.clone();
    network.num_actions = spec.num_actions;
    network
}

/// What one [`Agent::advance`] did.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Report {
    /// Mean loss of the gradient steps taken, if any.
    pub loss: Option<f64>,
    /// Mean global gradient norm before clipping, if any gradient step was taken.
    pub grad_norm: Option<f64>,
    /// Exploration rate used, for ε-greedy agents.
    pub epsilon: Option<f64>,
    /// Learning rate used.
    pub learning_rate: f64,
    /// Episodes that ended, with the environment each ran in (on Atari with episodic life,
    /// learning episodes: see [`hrl_env::EpisodeStats::full_game_score`]).
    pub episodes: Vec<FinishedEpisode>,
    /// Algorithm-specific values, in columns of [`Agent::columns`].
    pub extra: Vec<(Column, f64)>,
    /// The interventions that ran, each with the update after which it ran.
    pub interventions: Vec<(u64, Applied)>,
}

/// A reinforcement-learning agent that owns its environments, network and optimiser.
pub trait Agent {
    /// The algorithm.
    fn algo(&self) -> Algo;

    /// The resolved network (observation shape and action count filled in).
    fn network(&self) -> &NetworkConfig;

    /// Agent steps (over all environments) the whole run takes.
    fn total_steps(&self) -> u64;

    /// Agent steps taken so far.
    fn steps_done(&self) -> u64;

    /// One update: collect experience and train on it. Fails with
    /// [`AgentError::NonFinite`] if the loss stops being finite.
    fn advance(&mut self) -> Result<Report, AgentError>;

    /// The agent's own columns of `metrics.csv`, after the ones every run logs; the only ones
    /// [`Report::extra`] may fill.
    fn columns(&self) -> &'static [Column] {
        &[]
    }

    /// The environments' spec (observation shape, frames per agent step, ...).
    fn env_spec(&self) -> &EnvSpec;

    /// At most `probe_size` recent states to probe the representation on, row-major, with
    /// their count.
    fn probe_states(&self, probe_size: usize) -> (Cow<'_, [f32]>, usize);

    /// Representation diagnostics of the current network on [`probe_states`](Self::probe_states).
    fn probe(&self, probe_size: usize, config: &DiagConfig) -> Result<ReprDiagnostics, AgentError> {
        let (states, rows) = self.probe_states(probe_size);
        self.policy()
            .diagnose(&states, rows, self.network().torso.repr.branches, config)
    }

    /// Per-layer health of the current network on [`probe_states`](Self::probe_states), every
    /// hidden layer and Hadamard branch ([`hrl_nn::health`]), with the representation layer's
    /// diagnostics equal to [`probe`](Self::probe)'s from the same forward pass.
    fn layer_health(
        &self,
        probe_size: usize,
        config: &DiagConfig,
    ) -> Result<NetworkHealth, AgentError>;

    /// Churn of each head (Tang and Berseth 2024) across the last gradient step of the last
    /// [`advance`](Self::advance): the mean absolute change of its outputs on
    /// [`probe_states`](Self::probe_states) outside that step's batch (PPO and PQN leave out
    /// the probe states the step trained on; DQN's replay probe rarely meets its minibatch and
    /// keeps all). Empty if the last advance took no gradient step.
    fn churn(&self, probe_size: usize) -> Result<Vec<LayerHealth>, AgentError>;

    /// The current network as an evaluation policy.
    fn policy(&self) -> Policy;

    /// Writes everything needed to continue exactly (network, optimiser, counters, random
    /// streams, environment state) into the existing, empty folder `dir`.
    fn save(&self, dir: &Path) -> Result<(), AgentError>;

    /// Restores what [`save`](Agent::save) wrote into an agent built from the same config.
    fn load(&mut self, dir: &Path) -> Result<(), AgentError>;
}

#[cfg(test)]
mod tests {
    use hrl_env::{EnvOptions, VecEnvConfig};
    use hrl_nn::network::Head;
    use hrl_nn::torso::{TorsoConfig, TorsoKind};

    use super::*;

    #[test]
    fn an_agent_refuses_environments_or_a_network_that_do_not_fit() {
        let envs = VecEnv::<f32>::new(&VecEnvConfig {
            env_id: "cartpole".into(),
            options: EnvOptions::default(),
            num_envs: 2,
            seed: 0,
            num_threads: 1,
        })
        .unwrap();
        let unfitted = NetworkConfig {
            torso: TorsoConfig::new(TorsoKind::Mlp, "relu".parse().unwrap()),
            head: Head::default(),
            num_actions: 0,
        };
        let device = Device::flex();
        let key = |result: Result<Devices, AgentError>| match result {
            Err(AgentError::Config { key, .. }) => key,
            other => panic!("expected a config error, got {other:?}"),
        };
        assert_eq!(key(setup(&envs, 2, &unfitted, &device, 0)), "network");
        let fitted = fit_network(unfitted, envs.spec());
        assert_eq!(
            (fitted.torso.obs_shape.as_slice(), fitted.num_actions),
            (&[4][..], 2)
        );
        assert_eq!(key(setup(&envs, 3, &fitted, &device, 0)), "num_envs");
        assert!(setup(&envs, 2, &fitted, &device, 0).is_ok());
    }
}
