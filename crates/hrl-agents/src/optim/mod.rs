//! Optimisers and gradient transforms that burn lacks: RAdam and clipping by the global norm.

mod clip;
mod radam;

pub use clip::clip_global_norm;
pub use radam::{RAdam, RAdamConfig, RAdamState};
