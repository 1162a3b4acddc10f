//! Deep RL agents for hadamard-rl: DQN, PPO and PQN with their replay buffer, schedules and
//! optimisers.

pub mod optim;
pub mod returns;
pub mod schedule;
