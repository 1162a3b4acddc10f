//! Deep RL agents for hadamard-rl: DQN, PPO and PQN with their replay buffer, schedules and
//! optimisers.

mod error;
pub mod optim;
pub mod ppo;
pub mod pqn;
pub mod returns;
pub mod rng;
mod rollout;
pub mod schedule;

pub use error::AgentError;
