//! Optimisers and gradient transforms: Adam, PyTorch's RMSprop and RAdam, each updating a
//! parameter in one pass on the CPU ([`host`]), and clipping by the global norm.

mod adam;
mod clip;
pub mod host;
mod radam;
mod rmsprop;
pub mod state_edit;

pub use adam::{Adam, AdamConfig};
pub use clip::clip_global_norm;
pub use radam::{RAdam, RAdamConfig, RAdamState};
pub use rmsprop::{RmsProp, TorchRmsPropConfig};

/// What the optimisers' tests share: a one-element parameter stepped by `optimizer` through
/// `grads` from `theta0` at learning rate `lr`, its value after every step.
#[cfg(test)]
fn scalar_trajectory<O: burn::optim::Optimizer>(
    optimizer: &O,
    grads: &[f64],
    lr: f64,
    theta0: f64,
) -> Vec<f64> {
    use burn::tensor::{Device, Tensor, TensorData};
    let device = Device::flex();
    let mut theta = Tensor::<1>::from_data(TensorData::from([theta0 as f32]), &device);
    let mut state = None;
    let mut trajectory = Vec::with_capacity(grads.len());
    for g in grads {
        let grad = Tensor::<1>::from_data(TensorData::from([*g as f32]), &device);
        let (next, next_state) = optimizer.step(lr, theta, grad, state);
        (theta, state) = (next, next_state);
        trajectory.push(f64::from(theta.clone().into_scalar::<f32>()));
    }
    trajectory
}
