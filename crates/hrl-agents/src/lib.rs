//! Deep RL agents for hadamard-rl: DQN, PPO and PQN (chosen by [`Algo`], built from an
//! [`AgentConfig`]) with their replay buffer, schedules and
//! optimisers.

pub mod agent;
pub mod algo;
pub mod checkpoint;
pub mod column;
pub mod dqn;
mod error;
pub mod optim;
pub mod policy;
pub mod ppo;
pub mod pqn;
pub mod replay;
pub mod returns;
pub mod rng;
mod rollout;
pub mod schedule;
pub mod target;

pub use agent::{Agent, Report};
pub use algo::{AgentConfig, Algo};
pub use column::Column;
pub use error::AgentError;
