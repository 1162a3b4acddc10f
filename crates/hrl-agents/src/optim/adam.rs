//! Adam (Kingma and Ba 2015) exactly as burn 0.22 computes it, in one pass per parameter on the
//! CPU (see [`super::host`]).
//!
//! With `t` the step, `m` and `v` the moments and `g` the gradient, all in `f32`:
//!
//! ```text
//! m = β1 m + (1 - β1) g        (m = (1 - β1) g at t = 1)
//! v = β2 v + (1 - β2) g²       (v = (1 - β2) g² at t = 1)
//! c = sqrt(1 - β2^t)
//! θ = θ - lr · (m · c / (1 - β1^t)) / (sqrt(v) + ε c)
//! ```
//!
//! which is PyTorch's `torch.optim.Adam` with ε outside the square root (`ε c` is PyTorch's `ε`
//! moved through the bias correction). The state is burn's [`AdamState`], so checkpoints written
//! with burn's Adam load unchanged; on other devices burn's own Adam runs.

use burn::optim::{AdamState, AdaptiveMomentumState, LearningRate, ModuleOptimizer, Optimizer};
use burn::tensor::{Device, Tensor};

use multiversion::multiversion;

use super::host::{MomentStep, on_host};

/// Adam's settings; the defaults are burn's (ε 1e-5; PyTorch's is 1e-8).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdamConfig {
    /// First-moment decay β1.
    pub beta_1: f32,
    /// Second-moment decay β2.
    pub beta_2: f32,
    /// ε added to `sqrt(v̂)`.
    pub epsilon: f32,
}

impl Default for AdamConfig {
    fn default() -> Self {
        AdamConfig {
            beta_1: 0.9,
            beta_2: 0.999,
            epsilon: 1e-5,
        }
    }
}

impl AdamConfig {
    /// The optimiser of one tensor.
    pub fn build(&self) -> Adam {
        Adam {
            config: *self,
            tensor_ops: burn::optim::AdamConfig::new()
                .with_beta_1(self.beta_1)
                .with_beta_2(self.beta_2)
                .with_epsilon(self.epsilon)
                .build(),
        }
    }

    /// The optimiser of a whole module.
    pub fn init(&self) -> ModuleOptimizer {
        ModuleOptimizer::from(self.build())
    }
}

/// Adam for one tensor; wrap with [`AdamConfig::init`] for a module.
#[derive(Clone)]
pub struct Adam {
    config: AdamConfig,
    /// burn's Adam, for tensors off the host.
    tensor_ops: burn::optim::Adam,
}

impl Optimizer for Adam {
    type State<const D: usize> = AdamState<D>;

    fn step<const D: usize>(
        &self,
        lr: LearningRate,
        tensor: Tensor<D>,
        grad: Tensor<D>,
        state: Option<Self::State<D>>,
    ) -> (Tensor<D>, Option<Self::State<D>>) {
        if !on_host(&tensor) {
            return self.tensor_ops.step(lr, tensor, grad, state);
        }
        let AdamConfig {
            beta_1: b1,
            beta_2: b2,
            epsilon,
        } = self.config;
        let previous = state.map(|s| (s.momentum.time, s.momentum.moment_1, s.momentum.moment_2));
        let values = MomentStep::take(tensor, grad, previous);
        let t = values.exponent();
        let correction_2 = (1.0 - b2.powi(t)).sqrt();
        let step = AdamStep {
            beta_1: b1,
            beta_2: b2,
            factor: correction_2 / (1.0 - b1.powi(t)),
            epsilon: epsilon * correction_2,
            lr: lr as f32,
            fresh: values.fresh,
        };
        let time = values.time;
        let (theta, m, v) = values.apply(|theta, g, m, v| adam_update(theta, g, m, v, &step));
        let momentum = AdaptiveMomentumState::new(time, m, v);
        (theta, Some(AdamState::new(momentum)))
    }

    fn to_device<const D: usize>(state: Self::State<D>, device: &Device) -> Self::State<D> {
        burn::optim::Adam::to_device(state, device)
    }
}

/// The scalars of one Adam step, in `f32` as burn rounds them.
struct AdamStep {
    beta_1: f32,
    beta_2: f32,
    /// `sqrt(1 - β2^t) / (1 - β1^t)`.
    factor: f32,
    /// `ε sqrt(1 - β2^t)`.
    epsilon: f32,
    lr: f32,
    /// The first step (no moments yet).
    fresh: bool,
}

#[multiversion(targets("x86_64+avx512f"))]
fn adam_update(theta: &mut [f32], grad: &[f32], m: &mut [f32], v: &mut [f32], step: &AdamStep) {
    let (b1, b2) = (step.beta_1, step.beta_2);
    let (keep_1, keep_2) = (1.0 - b1, 1.0 - b2);
    for (((theta, &g), m), v) in theta.iter_mut().zip(grad).zip(m).zip(v) {
        if step.fresh {
            *m = g * keep_1;
            *v = (g * g) * keep_2;
        } else {
            *m = *m * b1 + g * keep_1;
            *v = *v * b2 + (g * g) * keep_2;
        }
        let update = (*m * step.factor) / (v.sqrt() + step.epsilon);
        *theta -= update * step.lr;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Distribution;

    /// Runs `steps` updates of a `[3, 5]` parameter with both paths and compares every value.
    #[test]
    fn the_host_loop_equals_burns_tensor_operations_to_the_last_bit() {
        let device = Device::flex();
        let config = AdamConfig {
            beta_1: 0.9,
            beta_2: 0.999,
            epsilon: 1e-8,
        };
        let adam = config.build();
        let mut fused = (
            Tensor::<2>::random([3, 5], Distribution::Default, &device),
            None,
        );
        let mut reference = (fused.0.clone(), None);
        for step in 0..30 {
            let grad = Tensor::<2>::random([3, 5], Distribution::Normal(0.0, 1.0), &device);
            let lr = 1e-3 * f64::from(step + 1);
            let (tensor, state) = adam.step(lr, fused.0, grad.clone(), fused.1);
            fused = (tensor, state);
            let (tensor, state) = adam.tensor_ops.step(lr, reference.0, grad, reference.1);
            reference = (tensor, state);
            let bits = |t: &Tensor<2>| -> Vec<u32> {
                t.to_data().iter::<f32>().map(f32::to_bits).collect()
            };
            assert_eq!(bits(&fused.0), bits(&reference.0), "step {step}");
            let (a, b) = (
                &fused.1.as_ref().unwrap().momentum,
                &reference.1.as_ref().unwrap().momentum,
            );
            assert_eq!(a.time, b.time);
            assert_eq!(bits(&a.moment_1), bits(&b.moment_1), "step {step}");
            assert_eq!(bits(&a.moment_2), bits(&b.moment_2), "step {step}");
        }
    }
}
