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

use burn::optim::{ModuleOptimizer, RmsPropConfig};

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

    /// The optimiser of a whole module.
    pub fn init(&self) -> ModuleOptimizer {
        self.burn_config().init()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::optim::Optimizer;
    use burn::tensor::{Device, Tensor, TensorData};

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
        let device = Device::flex();
        let optimizer = config.burn_config().build();
        let mut theta = Tensor::<1>::from_data(TensorData::from([theta0 as f32]), &device);
        let mut state = None;
        for (step, g) in grads.iter().enumerate() {
            let grad = Tensor::<1>::from_data(TensorData::from([*g as f32]), &device);
            let (next, next_state) = optimizer.step(lr, theta, grad, state);
            theta = next;
            state = next_state;
            let found = f64::from(theta.clone().into_scalar::<f32>());
            assert!(
                (found - expected[step]).abs() < 1e-5,
                "{config:?} step {}: {found} vs {}",
                step + 1,
                expected[step]
            );
        }
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
