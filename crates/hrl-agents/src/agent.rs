//! What every agent offers the training loop: advance by one update, report what it did, probe
//! its representation, act for evaluation, and save or restore everything it needs to continue.

use std::path::Path;

use hrl_env::{AtariOptions, FinishedEpisode, VecEnvConfig};
use hrl_nn::diag::DiagConfig;
use hrl_nn::network::NetworkConfig;
use hrl_nn::probe::ReprDiagnostics;

use crate::AgentError;
use crate::algo::Algo;
use crate::column::Column;
use crate::policy::Policy;

/// The environments an agent trains in: the vectorised set and, for Atari, its preprocessing.
/// The agent fills in `num_envs` and `seed` from its own config and seed.
#[derive(Clone, Debug, PartialEq)]
pub struct EnvSetup {
    /// Environment id, options and worker threads.
    pub vec: VecEnvConfig,
    /// Atari's preprocessing (ignored by other environments when left at its defaults).
    pub atari: AtariOptions,
}

impl From<VecEnvConfig> for EnvSetup {
    fn from(vec: VecEnvConfig) -> EnvSetup {
        EnvSetup {
            vec,
            atari: AtariOptions::default(),
        }
    }
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

    /// Representation diagnostics on a fixed-size probe batch of recent states.
    fn probe(&self, probe_size: usize, config: &DiagConfig) -> Result<ReprDiagnostics, AgentError>;

    /// The current network as an evaluation policy.
    fn policy(&self) -> Policy;

    /// Writes everything needed to continue exactly (network, optimiser, counters, random
    /// streams, environment state) into the existing, empty folder `dir`.
    fn save(&self, dir: &Path) -> Result<(), AgentError>;

    /// Restores what [`save`](Agent::save) wrote into an agent built from the same config.
    fn load(&mut self, dir: &Path) -> Result<(), AgentError>;
}
