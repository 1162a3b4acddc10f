//! Optimisers and gradient transforms that burn lacks or configures differently: RAdam,
//! PyTorch's RMSprop and clipping by the global norm.

mod clip;
mod radam;
mod rmsprop;

pub use clip::clip_global_norm;
pub use radam::{RAdam, RAdamConfig, RAdamState};
pub use rmsprop::TorchRmsPropConfig;
