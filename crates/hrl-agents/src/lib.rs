//! Deep RL agents for hadamard-rl: DQN, PPO and PQN with their replay buffer, schedules and
//! optimisers.
//!
//! [`Algo`] names an algorithm and [`AgentConfig`] carries its hyperparameters; its `build` is
//! the one place an agent is made, from environments the caller built once
//! ([`hrl_env::VecEnv`]) and a network fitted to them ([`agent::fit_network`]). Each algorithm
//! reads top to bottom in its own file (`dqn`, `ppo`, `pqn`) and declares its own
//! `metrics.csv` columns ([`Column`]); what they share is written once: the [`Agent`] trait and
//! its setup ([`agent`]), acting and probing ([`policy`]), what PPO and PQN share with their one
//! `Agent` implementation ([`on_policy`]), config checks, host-tensor conversions, checkpoints
//! ([`checkpoint`]), the optimisers ([`optim`]) and the interventions against plasticity loss
//! ([`plasticity`]).

pub mod agent;
pub mod algo;
pub mod checkpoint;
mod checks;
pub mod column;
pub mod dqn;
mod error;
pub mod on_policy;
pub mod optim;
pub mod plasticity;
pub mod policy;
pub mod ppo;
pub mod pqn;
pub mod replay;
pub mod returns;
pub mod rng;
mod rollout;
pub mod schedule;
pub mod target;
mod tensor;

pub use agent::{Agent, Report};
pub use algo::{AgentConfig, Algo};
pub use column::Column;
pub use error::AgentError;
