//! Environments for hadamard-rl: the environment interface, vectorised stepping, MinAtar,
//! CartPole and Atari (ALE 0.12.1 with cleanrl-style preprocessing).
//!
//! Every environment implements [`Env`] and describes itself in an [`EnvSpec`] (observation
//! shape and type, actions, emulator frames per agent step, frames stacked); [`make`] builds
//! one from its id (`minatar/breakout`, `cartpole`, `atari/breakout`, ...) and an
//! [`EnvOptions`], the one options struct of every environment (Atari's nested, serde behind
//! the `serde` feature); [`VecEnv`] steps many copies together; [`mod@bench`] measures their speed;
//! [`trace`] prints the step-by-step trace used to check MinAtar against the Python reference,
//! and [`atari::trace`] the Atari ones.

pub mod atari;
pub mod bench;
mod cartpole;
mod env;
mod error;
pub mod minatar;
mod random_state;
mod registry;
mod state;
mod time_limit;
pub mod trace;
mod vec_env;

pub use atari::{Atari, AtariOptions};
pub use cartpole::CartPole;
pub use env::{Env, EnvSpec, EpisodeStats, ObsDtype, ObsElement, Step};
pub use error::EnvError;
pub use minatar::{Game, MinAtar, MinAtarConfig};
pub use random_state::RandomState;
pub use registry::{EnvOptions, atari_game, env_family, env_ids, make, make_atari};
pub use time_limit::TimeLimit;
pub use vec_env::{FinishedEpisode, STATE_FORMAT_VERSION, VecEnv, VecEnvConfig};
