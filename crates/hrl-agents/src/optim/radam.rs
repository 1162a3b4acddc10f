//! Rectified Adam (Liu et al. 2019), as optax's `radam` computes it (PQN's optimiser).
//!
//! With `m`, `v` Adam's moments after `t` steps, `m̂ = m / (1 - β1^t)`, `v̂ = v / (1 - β2^t)`,
//! `ρ∞ = 2 / (1 - β2) - 1` and `ρ_t = ρ∞ - 2 t β2^t / (1 - β2^t)`, the update is
//!
//! ```text
//! ρ_t >= threshold:  θ -= lr * r_t * m̂ / (sqrt(v̂) + ε),  r_t = sqrt((ρ_t-4)(ρ_t-2)ρ∞ / ((ρ∞-4)(ρ∞-2)ρ_t))
//! otherwise:         θ -= lr * m̂
//! ```
//!
//! On the CPU the update runs as one loop per parameter (see [`super::host`]), elsewhere as
//! tensor operations; both do the same `f32` arithmetic.

use burn::optim::{LearningRate, ModuleOptimizer, Optimizer, RecordState, StateSink, StateSource};
use burn::tensor::{Device, Tensor};
use burn_pack::Scalar;

use multiversion::multiversion;

use super::host::{MomentStep, on_host};

/// RAdam's settings; the defaults are optax's.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RAdamConfig {
    /// First-moment decay β1.
    pub beta_1: f64,
    /// Second-moment decay β2.
    pub beta_2: f64,
    /// ε added to `sqrt(v̂)`.
    pub epsilon: f64,
    /// The rectified update applies from `ρ_t >= threshold` on.
    pub threshold: f64,
}

impl Default for RAdamConfig {
    fn default() -> Self {
        RAdamConfig {
            beta_1: 0.9,
            beta_2: 0.999,
            epsilon: 1e-8,
            threshold: 5.0,
        }
    }
}

impl RAdamConfig {
    /// The optimiser of one tensor.
    pub fn build(&self) -> RAdam {
        RAdam { config: *self }
    }

    /// The optimiser of a whole module.
    pub fn init(&self) -> ModuleOptimizer {
        ModuleOptimizer::from(self.build())
    }

    /// `(scale of m̂, whether to divide by sqrt(v̂) + ε)` at step `t` (1-based).
    fn rectification(&self, t: i32) -> (f64, bool) {
        let beta_2_t = self.beta_2.powi(t);
        let rho_inf = 2.0 / (1.0 - self.beta_2) - 1.0;
        let rho_t = rho_inf - 2.0 * f64::from(t) * beta_2_t / (1.0 - beta_2_t);
        if rho_t >= self.threshold {
            let r = ((rho_t - 4.0) * (rho_t - 2.0) * rho_inf
                / ((rho_inf - 4.0) * (rho_inf - 2.0) * rho_t))
                .sqrt();
            (r, true)
        } else {
            (1.0, false)
        }
    }
}

/// RAdam for one tensor; wrap with [`RAdamConfig::init`] for a module.
#[derive(Clone, Debug)]
pub struct RAdam {
    config: RAdamConfig,
}

/// RAdam's state for one parameter.
#[derive(Clone)]
pub struct RAdamState<const D: usize> {
    /// Steps taken.
    pub time: i64,
    /// First moment `m`.
    pub moment_1: Tensor<D>,
    /// Second moment `v`.
    pub moment_2: Tensor<D>,
}

impl<const D: usize> RecordState for RAdamState<D> {
    fn state_flatten(&self, prefix: &str, out: &mut StateSink) {
        out.push_scalar(prefix, "time", Scalar::Int(self.time));
        out.push_tensor(prefix, "moment_1", self.moment_1.to_data());
        out.push_tensor(prefix, "moment_2", self.moment_2.to_data());
    }

    fn state_unflatten(prefix: &str, src: &mut StateSource, device: &Device) -> Option<Self> {
        let Scalar::Int(time) = src.take_scalar(prefix, "time")? else {
            return None;
        };
        let moment_1 = Tensor::from_data(src.take_tensor(prefix, "moment_1")?, device);
        let moment_2 = Tensor::from_data(src.take_tensor(prefix, "moment_2")?, device);
        Some(RAdamState {
            time,
            moment_1,
            moment_2,
        })
    }
}

impl RAdam {
    /// The update as tensor operations (any device).
    fn step_with_tensor_ops<const D: usize>(
        &self,
        lr: LearningRate,
        tensor: Tensor<D>,
        grad: Tensor<D>,
        state: Option<RAdamState<D>>,
    ) -> (Tensor<D>, Option<RAdamState<D>>) {
        let c = &self.config;
        let (b1, b2) = (c.beta_1, c.beta_2);
        let (time, moment_1, moment_2) = match state {
            Some(s) => (
                s.time + 1,
                s.moment_1.mul_scalar(b1) + grad.clone().mul_scalar(1.0 - b1),
                s.moment_2.mul_scalar(b2) + grad.square().mul_scalar(1.0 - b2),
            ),
            None => (
                1,
                grad.clone().mul_scalar(1.0 - b1),
                grad.square().mul_scalar(1.0 - b2),
            ),
        };
        let t = i32::try_from(time).unwrap_or(i32::MAX);
        let m_hat = moment_1.clone().div_scalar(1.0 - b1.powi(t));
        let (scale, adaptive) = c.rectification(t);
        let update = if adaptive {
            let v_hat_sqrt = moment_2.clone().div_scalar(1.0 - b2.powi(t)).sqrt();
            m_hat.mul_scalar(scale) / v_hat_sqrt.add_scalar(c.epsilon)
        } else {
            m_hat
        };
        let state = RAdamState {
            time,
            moment_1,
            moment_2,
        };
        (tensor - update.mul_scalar(lr), Some(state))
    }

    /// The tensor operations of [`RAdam::step_with_tensor_ops`] in one loop over host values, in the same
    /// `f32` arithmetic (every scalar rounded to `f32` as burn rounds it).
    fn step_on_host<const D: usize>(
        &self,
        lr: LearningRate,
        values: MomentStep<D>,
    ) -> (Tensor<D>, RAdamState<D>) {
        let c = &self.config;
        let t = values.exponent();
        let (scale, adaptive) = c.rectification(t);
        let step = RAdamStep {
            beta_1: c.beta_1 as f32,
            beta_2: c.beta_2 as f32,
            keep_1: (1.0 - c.beta_1) as f32,
            keep_2: (1.0 - c.beta_2) as f32,
            correction_1: (1.0 - c.beta_1.powi(t)) as f32,
            correction_2: (1.0 - c.beta_2.powi(t)) as f32,
            scale: adaptive.then_some(scale as f32),
            epsilon: c.epsilon as f32,
            lr: lr as f32,
            fresh: values.fresh,
        };
        let time = i64::try_from(values.time).unwrap_or(i64::MAX);
        let (theta, moment_1, moment_2) =
            values.apply(|theta, g, m, v| radam_update(theta, g, m, v, &step));
        let state = RAdamState {
            time,
            moment_1,
            moment_2,
        };
        (theta, state)
    }
}

/// The scalars of one RAdam step, each rounded to `f32` as burn rounds it.
struct RAdamStep {
    beta_1: f32,
    beta_2: f32,
    /// `1 - β1`, `1 - β2` (computed in `f64`).
    keep_1: f32,
    keep_2: f32,
    /// `1 - β1^t`, `1 - β2^t`.
    correction_1: f32,
    correction_2: f32,
    /// `r_t` where the rectified update applies, else `None` (the update is `m̂`).
    scale: Option<f32>,
    epsilon: f32,
    lr: f32,
    /// The first step (no moments yet).
    fresh: bool,
}

#[multiversion(targets("x86_64+avx512f"))]
fn radam_update(theta: &mut [f32], grad: &[f32], m: &mut [f32], v: &mut [f32], step: &RAdamStep) {
    for (((theta, &g), m), v) in theta.iter_mut().zip(grad).zip(m).zip(v) {
        if step.fresh {
            *m = g * step.keep_1;
            *v = (g * g) * step.keep_2;
        } else {
            *m = *m * step.beta_1 + g * step.keep_1;
            *v = *v * step.beta_2 + (g * g) * step.keep_2;
        }
        let m_hat = *m / step.correction_1;
        let update = match step.scale {
            Some(scale) => (m_hat * scale) / ((*v / step.correction_2).sqrt() + step.epsilon),
            None => m_hat,
        };
        *theta -= update * step.lr;
    }
}

impl Optimizer for RAdam {
    type State<const D: usize> = RAdamState<D>;

    fn step<const D: usize>(
        &self,
        lr: LearningRate,
        tensor: Tensor<D>,
        grad: Tensor<D>,
        state: Option<Self::State<D>>,
    ) -> (Tensor<D>, Option<Self::State<D>>) {
        if !on_host(&tensor) {
            return self.step_with_tensor_ops(lr, tensor, grad, state);
        }
        let previous = state.map(|s| {
            let steps = usize::try_from(s.time).unwrap_or(0);
            (steps, s.moment_1, s.moment_2)
        });
        let (theta, state) = self.step_on_host(lr, MomentStep::take(tensor, grad, previous));
        (theta, Some(state))
    }

    fn to_device<const D: usize>(mut state: Self::State<D>, device: &Device) -> Self::State<D> {
        state.moment_1 = state.moment_1.to_device(device);
        state.moment_2 = state.moment_2.to_device(device);
        state
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::TensorData;

    /// The published update rule, scalar and in f64, written out independently.
    fn reference(grads: &[f64], lr: f64, theta0: f64) -> Vec<f64> {
        let (b1, b2, eps): (f64, f64, f64) = (0.9, 0.999, 1e-8);
        let rho_inf = 2.0 / (1.0 - b2) - 1.0;
        let (mut m, mut v, mut theta) = (0.0, 0.0, theta0);
        let mut out = Vec::new();
        for (i, g) in grads.iter().enumerate() {
            let t = (i + 1) as f64;
            m = b1 * m + (1.0 - b1) * g;
            v = b2 * v + (1.0 - b2) * g * g;
            let m_hat = m / (1.0 - b1.powf(t));
            let rho = rho_inf - 2.0 * t * b2.powf(t) / (1.0 - b2.powf(t));
            let step = if rho >= 5.0 {
                let r = ((rho - 4.0) * (rho - 2.0) * rho_inf
                    / ((rho_inf - 4.0) * (rho_inf - 2.0) * rho))
                    .sqrt();
                r * m_hat / ((v / (1.0 - b2.powf(t))).sqrt() + eps)
            } else {
                m_hat
            };
            theta -= lr * step;
            out.push(theta);
        }
        out
    }

    #[test]
    fn follows_the_update_rule_on_a_fixed_gradient_sequence() {
        let grads: Vec<f64> = (0..40)
            .map(|i| ((i as f64) * 0.7).sin() * 2.0 + 0.3)
            .collect();
        let (lr, theta0) = (0.01, 1.5);
        let expected = reference(&grads, lr, theta0);
        let found =
            super::super::scalar_trajectory(&RAdamConfig::default().build(), &grads, lr, theta0);
        for (step, (found, expected)) in found.iter().zip(&expected).enumerate() {
            assert!(
                (found - expected).abs() < 1e-5,
                "step {}: {found} vs {expected}",
                step + 1
            );
        }
    }

    #[test]
    fn the_host_loop_equals_the_tensor_operations_to_the_last_bit() {
        use burn::tensor::Distribution;
        let device = Device::flex();
        let optimizer = RAdamConfig::default().build();
        let bits =
            |t: &Tensor<2>| -> Vec<u32> { t.to_data().iter::<f32>().map(f32::to_bits).collect() };
        let mut fused = (
            Tensor::<2>::random([3, 4], Distribution::Default, &device),
            None,
        );
        let mut reference: (Tensor<2>, Option<RAdamState<2>>) = (fused.0.clone(), None);
        // Past step 6, where the rectified update starts.
        for step in 0..12 {
            let grad = Tensor::<2>::random([3, 4], Distribution::Normal(0.0, 1.0), &device);
            let lr = 1e-3 * f64::from(step + 1);
            fused = optimizer.step(lr, fused.0, grad.clone(), fused.1);
            reference = optimizer.step_with_tensor_ops(lr, reference.0, grad, reference.1);
            assert_eq!(bits(&fused.0), bits(&reference.0), "step {step}");
            let (a, b) = (fused.1.as_ref().unwrap(), reference.1.as_ref().unwrap());
            assert_eq!(a.time, b.time);
            assert_eq!(bits(&a.moment_1), bits(&b.moment_1), "step {step}");
            assert_eq!(bits(&a.moment_2), bits(&b.moment_2), "step {step}");
        }
    }

    #[test]
    fn state_survives_a_record_round_trip() {
        let device = Device::flex();
        let state = RAdamState::<1> {
            time: 7,
            moment_1: Tensor::from_data(TensorData::from([0.5f32, -1.0]), &device),
            moment_2: Tensor::from_data(TensorData::from([0.25f32, 2.0]), &device),
        };
        let mut sink = StateSink::default();
        state.state_flatten("p", &mut sink);
        let mut source = StateSource::new(sink.scalars.into_iter().collect());
        for (name, data) in sink.tensors {
            source.insert_tensor(name, data);
        }
        let back = RAdamState::<1>::state_unflatten("p", &mut source, &device).unwrap();
        assert_eq!(back.time, 7);
        let values = |t: Tensor<1>| t.into_data().iter::<f32>().collect::<Vec<_>>();
        assert_eq!(values(back.moment_1), vec![0.5, -1.0]);
        assert_eq!(values(back.moment_2), vec![0.25, 2.0]);
    }

    #[test]
    fn rectification_starts_at_step_six() {
        // rho_t = 1999 - 2 t 0.999^t / (1 - 0.999^t): 4.996 at t = 5, 5.994 at t = 6.
        let config = RAdamConfig::default();
        assert_eq!(config.rectification(5), (1.0, false));
        let (r, adaptive) = config.rectification(6);
        assert!(adaptive && r > 0.0 && r < 0.1, "{r}");
        // r_t tends to 1.
        assert!((config.rectification(100_000).0 - 1.0).abs() < 1e-3);
    }
}
