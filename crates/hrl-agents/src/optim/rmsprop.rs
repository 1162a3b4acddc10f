//! PyTorch's `torch.optim.RMSprop` (without weight decay), the MinAtar DQN's optimiser.
//!
//! PyTorch documents the update as
//!
//! ```text
//! v = α v + (1 - α) g²                       (v starts at 0)
//! ṽ = v - ḡ²,  ḡ = α ḡ + (1 - α) g          (centered only; otherwise ṽ = v)
//! momentum μ > 0:  b = μ b + g / (sqrt(ṽ) + ε),  θ -= lr b
//! otherwise:       θ -= lr g / (sqrt(ṽ) + ε)
//! ```
//!
//! with ε outside the square root. burn 0.22's `RmsProp` computes exactly this (checked by the
//! test below on a fixed gradient sequence), but its defaults differ from PyTorch's (momentum 0.9
//! instead of 0, ε 1e-5 instead of 1e-8), so [`TorchRmsPropConfig`] sets every value.
//!
//! [`RmsProp`] runs burn's arithmetic without momentum in one pass per parameter on the CPU (see
//! [`super::host`]), with burn's state (so checkpoints of burn's RMSprop load unchanged), and
//! burn's own RMSprop elsewhere and with momentum.

use burn::optim::{
    CenteredState, LearningRate, ModuleOptimizer, Optimizer, RmsPropConfig, RmsPropState,
    SquareAvgState,
};
use burn::tensor::{Device, Tensor};

use multiversion::multiversion;

use super::host::{HostValues, on_host};

/// RMSprop's settings, named as PyTorch names them; the defaults are PyTorch's.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TorchRmsPropConfig {
    /// Decay α of the squared-gradient (and, centered, the gradient) averages (`alpha`).
    pub alpha: f64,
    /// ε added to `sqrt(ṽ)` (`eps`).
    pub epsilon: f64,
    /// Divide by the centred second moment `v - ḡ²` (`centered`).
    pub centered: bool,
    /// Momentum μ of the scaled step; 0 turns it off (`momentum`).
    pub momentum: f64,
}

impl Default for TorchRmsPropConfig {
    fn default() -> Self {
        TorchRmsPropConfig {
            alpha: 0.99,
            epsilon: 1e-8,
            centered: false,
            momentum: 0.0,
        }
    }
}

impl TorchRmsPropConfig {
    /// burn's `RmsPropConfig` with these settings.
    pub fn burn_config(&self) -> RmsPropConfig {
        RmsPropConfig::new()
            .with_alpha(self.alpha as f32)
            .with_epsilon(self.epsilon as f32)
            .with_centered(self.centered)
            .with_momentum(self.momentum as f32)
    }

    /// The optimiser of one tensor.
    pub fn build(&self) -> RmsProp {
        RmsProp {
            config: *self,
            tensor_ops: self.burn_config().build(),
        }
    }

    /// The optimiser of a whole module.
    pub fn init(&self) -> ModuleOptimizer {
        ModuleOptimizer::from(self.build())
    }
}

/// RMSprop for one tensor; wrap with [`TorchRmsPropConfig::init`] for a module.
#[derive(Clone)]
pub struct RmsProp {
    config: TorchRmsPropConfig,
    /// burn's RMSprop, for tensors off the host and for momentum.
    tensor_ops: burn::optim::RmsProp,
}

impl Optimizer for RmsProp {
    type State<const D: usize> = RmsPropState<D>;

    /// burn's operations, in `f32`: `v = α v + (1 - α) g²` (`(1 - α) g²` at first), centred
    /// `ḡ = α ḡ + (1 - α) g` and `ṽ = v - ḡ²` (else `ṽ = v`), `θ = θ - lr (g / (sqrt(ṽ) + ε))`.
    fn step<const D: usize>(
        &self,
        lr: LearningRate,
        tensor: Tensor<D>,
        grad: Tensor<D>,
        state: Option<Self::State<D>>,
    ) -> (Tensor<D>, Option<Self::State<D>>) {
        if !on_host(&tensor) || self.config.momentum > 0.0 {
            return self.tensor_ops.step(lr, tensor, grad, state);
        }
        let device = tensor.device();
        let alpha = self.config.alpha as f32;
        let (epsilon, lr) = (self.config.epsilon as f32, lr as f32);
        let mut theta = HostValues::of(tensor);
        let grad = HostValues::<D>::of(grad);
        let fresh = state.is_none();
        let (mut square_avg, previous_grad_avg, mut avg) = match state {
            Some(state) => (
                HostValues::of(state.square_avg.square_avg),
                state.centered.grad_avg.map(HostValues::of),
                HostValues::of(state.centered.avg),
            ),
            None => (
                HostValues::zeros_like(&grad),
                None,
                HostValues::zeros_like(&grad),
            ),
        };
        let grad_avg_fresh = previous_grad_avg.is_none();
        let mut grad_avg = self
            .config
            .centered
            .then(|| previous_grad_avg.unwrap_or_else(|| HostValues::zeros_like(&grad)));
        let step = RmsPropStep {
            alpha,
            epsilon,
            lr,
            fresh,
            grad_avg_fresh,
        };
        match grad_avg.as_mut() {
            Some(grad_avg) => rmsprop_centered_update(
                theta.values_mut(),
                grad.values(),
                square_avg.values_mut(),
                grad_avg.values_mut(),
                avg.values_mut(),
                &step,
            ),
            None => rmsprop_update(
                theta.values_mut(),
                grad.values(),
                square_avg.values_mut(),
                avg.values_mut(),
                &step,
            ),
        }
        let state = RmsPropState::new(
            SquareAvgState::new(square_avg.into_tensor(&device)),
            CenteredState::new(
                grad_avg.map(|values| values.into_tensor(&device)),
                avg.into_tensor(&device),
            ),
            None,
        );
        (theta.into_tensor(&device), Some(state))
    }

    fn to_device<const D: usize>(state: Self::State<D>, device: &Device) -> Self::State<D> {
        burn::optim::RmsProp::to_device(state, device)
    }
}

/// The scalars of one RMSprop step, in `f32` as burn rounds them.
struct RmsPropStep {
    alpha: f32,
    epsilon: f32,
    lr: f32,
    /// The first step (no squared average yet).
    fresh: bool,
    /// No gradient average yet (centred only).
    grad_avg_fresh: bool,
}

#[multiversion(targets("x86_64+avx512f"))]
fn rmsprop_update(
    theta: &mut [f32],
    grad: &[f32],
    square_avg: &mut [f32],
    avg: &mut [f32],
    step: &RmsPropStep,
) {
    let (alpha, keep) = (step.alpha, 1.0 - step.alpha);
    for (((theta, &g), v), avg) in theta.iter_mut().zip(grad).zip(square_avg).zip(avg) {
        *v = if step.fresh {
            (g * g) * keep
        } else {
            *v * alpha + (g * g) * keep
        };
        *avg = *v;
        *theta -= (g / (avg.sqrt() + step.epsilon)) * step.lr;
    }
}

#[multiversion(targets("x86_64+avx512f"))]
fn rmsprop_centered_update(
    theta: &mut [f32],
    grad: &[f32],
    square_avg: &mut [f32],
    grad_avg: &mut [f32],
    avg: &mut [f32],
    step: &RmsPropStep,
) {
    let (alpha, keep) = (step.alpha, 1.0 - step.alpha);
    let values = theta.iter_mut().zip(grad).zip(square_avg).zip(grad_avg);
    for ((((theta, &g), v), g_avg), avg) in values.zip(avg) {
        *v = if step.fresh {
            (g * g) * keep
        } else {
            *v * alpha + (g * g) * keep
        };
        let constant = g * keep;
        *g_avg = if step.grad_avg_fresh {
            constant
        } else {
            *g_avg * alpha + constant
        };
        *avg = *v - *g_avg * *g_avg;
        *theta -= (g / (avg.sqrt() + step.epsilon)) * step.lr;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::optim::Optimizer;
    use burn::tensor::{Device, Tensor};

    /// PyTorch's documented update rule, scalar and in f64, written out independently.
    fn reference(config: &TorchRmsPropConfig, grads: &[f64], lr: f64, theta0: f64) -> Vec<f64> {
        let (alpha, eps, mu) = (config.alpha, config.epsilon, config.momentum);
        let (mut v, mut g_avg, mut b, mut theta) = (0.0, 0.0, 0.0, theta0);
        let mut out = Vec::new();
        for &g in grads {
            v = alpha * v + (1.0 - alpha) * g * g;
            let mut v_tilde = v;
            if config.centered {
                g_avg = alpha * g_avg + (1.0 - alpha) * g;
                v_tilde -= g_avg * g_avg;
            }
            let scaled = g / (f64::sqrt(v_tilde) + eps);
            if mu > 0.0 {
                b = mu * b + scaled;
                theta -= lr * b;
            } else {
                theta -= lr * scaled;
            }
            out.push(theta);
        }
        out
    }

    fn check(config: TorchRmsPropConfig) {
        let grads: Vec<f64> = (0..40)
            .map(|i| ((i as f64) * 0.9).cos() * 1.5 - 0.2)
            .collect();
        let (lr, theta0) = (0.01, 0.7);
        let expected = reference(&config, &grads, lr, theta0);
        let found = super::super::scalar_trajectory(&config.build(), &grads, lr, theta0);
        for (step, (found, expected)) in found.iter().zip(&expected).enumerate() {
            assert!(
                (found - expected).abs() < 1e-5,
                "{config:?} step {}: {found} vs {expected}",
                step + 1
            );
        }
    }

    /// Both paths on a `[4, 3]` parameter for 30 steps, every value compared bit for bit.
    fn host_loop_equals_tensor_operations(config: TorchRmsPropConfig) {
        use burn::tensor::Distribution;
        let device = Device::flex();
        let rmsprop = config.build();
        let mut fused = (
            Tensor::<2>::random([4, 3], Distribution::Default, &device),
            None,
        );
        let mut reference = (fused.0.clone(), None);
        let bits =
            |t: &Tensor<2>| -> Vec<u32> { t.to_data().iter::<f32>().map(f32::to_bits).collect() };
        for step in 0..30 {
            let grad = Tensor::<2>::random([4, 3], Distribution::Normal(0.0, 1.0), &device);
            let lr = 1e-3 * f64::from(step + 1);
            fused = rmsprop.step(lr, fused.0, grad.clone(), fused.1);
            reference = rmsprop.tensor_ops.step(lr, reference.0, grad, reference.1);
            assert_eq!(bits(&fused.0), bits(&reference.0), "{config:?} step {step}");
            let (a, b) = (fused.1.as_ref().unwrap(), reference.1.as_ref().unwrap());
            assert_eq!(
                bits(&a.square_avg.square_avg),
                bits(&b.square_avg.square_avg)
            );
            assert_eq!(bits(&a.centered.avg), bits(&b.centered.avg));
            assert_eq!(
                a.centered.grad_avg.as_ref().map(bits),
                b.centered.grad_avg.as_ref().map(bits)
            );
        }
    }

    #[test]
    fn the_host_loop_equals_burns_tensor_operations_to_the_last_bit() {
        host_loop_equals_tensor_operations(TorchRmsPropConfig {
            alpha: 0.95,
            epsilon: 0.01,
            centered: true,
            momentum: 0.0,
        });
        host_loop_equals_tensor_operations(TorchRmsPropConfig::default());
    }

    #[test]
    fn burn_rmsprop_follows_the_pytorch_rule_centered_as_minatar_uses_it() {
        check(TorchRmsPropConfig {
            alpha: 0.95,
            epsilon: 0.01,
            centered: true,
            momentum: 0.0,
        });
    }

    #[test]
    fn burn_rmsprop_follows_the_pytorch_rule_with_momentum() {
        check(TorchRmsPropConfig {
            momentum: 0.9,
            epsilon: 1e-3,
            ..TorchRmsPropConfig::default()
        });
        check(TorchRmsPropConfig {
            centered: true,
            momentum: 0.95,
            alpha: 0.95,
            epsilon: 0.01,
        });
    }
}
