//! Which algorithm a run uses, as a type: [`Algo`] names it (`dqn`, `ppo`, `pqn` in configs,
//! run names and on the command line), [`AgentConfig`] carries its hyperparameters, and
//! [`AgentConfig::build`] is the one place an agent is made from them.
//!
//! ```
//! use hrl_agents::algo::Algo;
//! let algo: Algo = "ppo".parse().unwrap();
//! assert_eq!(algo.to_string(), "ppo");
//! assert!("sac".parse::<Algo>().unwrap_err().to_string().contains("dqn, ppo, pqn"));
//! ```

use std::fmt;
use std::str::FromStr;

use burn::tensor::Device;
use hrl_env::VecEnv;
use hrl_nn::network::{Head, NetworkConfig};

use crate::AgentError;
use crate::agent::Agent;
use crate::dqn::{Dqn, DqnConfig};
use crate::plasticity::Interventions;
use crate::ppo::{Ppo, PpoConfig};
use crate::pqn::{Pqn, PqnConfig};

/// A reinforcement-learning algorithm of hadamard-rl.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Algo {
    /// Deep Q-network with a replay buffer and a target network (Mnih et al. 2015).
    Dqn,
    /// Proximal policy optimisation (Schulman et al. 2017), cleanrl's form.
    Ppo,
    /// Parallelised Q-network with λ-returns (Gallici et al. 2024), purejaxql's form.
    Pqn,
}

impl Algo {
    /// Every algorithm, in the order of their names.
    pub const ALL: [Algo; 3] = [Algo::Dqn, Algo::Ppo, Algo::Pqn];

    /// The name in configs, run names and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Algo::Dqn => "dqn",
            Algo::Ppo => "ppo",
            Algo::Pqn => "pqn",
        }
    }

    /// Whether the algorithm learns action values (a `q` head) rather than a policy and a
    /// value (an `actor-critic` head).
    pub fn learns_q_values(self) -> bool {
        !matches!(self, Algo::Ppo)
    }

    /// Whether `head` is the output head this algorithm trains.
    pub fn fits_head(self, head: &Head) -> bool {
        matches!(head, Head::Q { .. }) == self.learns_q_values()
    }
}

impl fmt::Display for Algo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A name that is not an algorithm.
#[derive(Debug, thiserror::Error)]
#[error("unknown algorithm `{0}`; valid: dqn, ppo, pqn")]
pub struct UnknownAlgo(pub String);

impl FromStr for Algo {
    type Err = UnknownAlgo;

    fn from_str(s: &str) -> Result<Algo, UnknownAlgo> {
        Algo::ALL
            .into_iter()
            .find(|algo| algo.name() == s)
            .ok_or_else(|| UnknownAlgo(s.to_string()))
    }
}

/// The hyperparameters of one algorithm: the section of a run's config that its `algo` selects.
#[derive(Clone, Debug, PartialEq)]
pub enum AgentConfig {
    /// `[dqn]`.
    Dqn(DqnConfig),
    /// `[ppo]`.
    Ppo(PpoConfig),
    /// `[pqn]`.
    Pqn(PqnConfig),
}

impl AgentConfig {
    /// The algorithm.
    pub fn algo(&self) -> Algo {
        match self {
            AgentConfig::Dqn(_) => Algo::Dqn,
            AgentConfig::Ppo(_) => Algo::Ppo,
            AgentConfig::Pqn(_) => Algo::Pqn,
        }
    }

    /// Agent steps the run takes, as configured (before rounding down to whole updates).
    pub fn total_timesteps(&self) -> u64 {
        match self {
            AgentConfig::Dqn(c) => c.total_timesteps,
            AgentConfig::Ppo(c) => c.total_timesteps,
            AgentConfig::Pqn(c) => c.total_timesteps,
        }
    }

    /// Checks the values that would make the run impossible; errors name the key within the
    /// section.
    pub fn validate(&self) -> Result<(), AgentError> {
        match self {
            AgentConfig::Dqn(c) => c.validate(),
            AgentConfig::Ppo(c) => c.validate(),
            AgentConfig::Pqn(c) => c.validate(),
        }
    }

    /// Environment copies the algorithm steps together (the `VecEnv` to hand to
    /// [`build`](Self::build)).
    pub fn num_envs(&self) -> usize {
        match self {
            AgentConfig::Dqn(c) => c.num_envs,
            AgentConfig::Ppo(c) => c.num_envs,
            AgentConfig::Pqn(c) => c.num_envs,
        }
    }

    /// The agent, freshly initialised from `seed`, training in `envs` ([`num_envs`](Self::num_envs)
    /// copies) with `network` (fitted to them: [`fit_network`](crate::agent::fit_network)) on
    /// `device` (the plain device; training runs on its autodiff form), with `interventions`.
    pub fn build(
        self,
        network: NetworkConfig,
        envs: VecEnv<f32>,
        device: &Device,
        seed: u64,
        interventions: Interventions,
    ) -> Result<Box<dyn Agent>, AgentError> {
        Ok(match self {
            AgentConfig::Dqn(c) => Box::new(
                Dqn::new(c, network, envs, device, seed)?
                    .with_interventions(interventions, seed)?,
            ),
            AgentConfig::Ppo(c) => Box::new(
                Ppo::new(c, network, envs, device, seed)?
                    .with_interventions(interventions, seed)?,
            ),
            AgentConfig::Pqn(c) => Box::new(
                Pqn::new(c, network, envs, device, seed)?
                    .with_interventions(interventions, seed)?,
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use hrl_nn::init::Init;

    use super::*;

    #[test]
    fn names_round_trip_and_match_serde() {
        for algo in Algo::ALL {
            assert_eq!(algo.name().parse::<Algo>().unwrap(), algo);
            let json = serde_json::to_string(&algo).unwrap();
            assert_eq!(json, format!("\"{algo}\""));
        }
        let names: Vec<_> = Algo::ALL.map(Algo::name).to_vec();
        let listed = UnknownAlgo("x".into()).to_string();
        assert!(listed.ends_with(&names.join(", ")), "{listed}");
    }

    #[test]
    fn each_algorithm_fits_its_own_head() {
        let q = Head::default();
        let actor_critic = Head::ActorCritic {
            actor_init: Init::TorchDefault,
            critic_init: Init::TorchDefault,
        };
        assert!(Algo::Dqn.fits_head(&q) && Algo::Pqn.fits_head(&q));
        assert!(!Algo::Ppo.fits_head(&q) && Algo::Ppo.fits_head(&actor_critic));
        assert!(!Algo::Dqn.fits_head(&actor_critic));
    }
}
