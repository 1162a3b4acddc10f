//! Optimisers and gradient transforms: Adam, PyTorch's RMSprop and RAdam, each updating a
//! parameter in one pass on the CPU ([`host`]), and clipping by the global norm.

mod adam;
mod clip;
pub mod host;
mod radam;
mod rmsprop;

pub use adam::{Adam, AdamConfig};
pub use clip::clip_global_norm;
pub use radam::{RAdam, RAdamConfig, RAdamState};
pub use rmsprop::{RmsProp, TorchRmsPropConfig};
