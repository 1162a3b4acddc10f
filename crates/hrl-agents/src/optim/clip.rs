//! Clipping every gradient of a module together by their global L2 norm (optax's
//! `clip_by_global_norm`, PyTorch's `clip_grad_norm_`), which burn's per-tensor clipping is not.

use burn::module::{Module, ModuleVisitor, Param};
use burn::optim::GradientsParams;
use burn::tensor::Tensor;

struct SquaredNorm<'a> {
    grads: &'a GradientsParams,
    total: Option<Tensor<1>>,
}

impl ModuleVisitor for SquaredNorm<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        if let Some(grad) = self.grads.get::<D>(param.id) {
            let sum = grad.square().sum();
            self.total = Some(match self.total.take() {
                Some(total) => total + sum,
                None => sum,
            });
        }
    }
}

struct Scale<'a> {
    grads: &'a mut GradientsParams,
    factor: f64,
}

impl ModuleVisitor for Scale<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        if let Some(grad) = self.grads.remove::<D>(param.id) {
            self.grads.register(param.id, grad.mul_scalar(self.factor));
        }
    }
}

/// Scales all of `module`'s gradients by `max_norm / norm` when their global norm exceeds
/// `max_norm`; returns the norm before clipping.
pub fn clip_global_norm<M: Module>(module: &M, grads: &mut GradientsParams, max_norm: f64) -> f64 {
    let mut visitor = SquaredNorm { grads, total: None };
    module.visit(&mut visitor);
    let norm = visitor
        .total
        .map(|t| f64::from(t.into_scalar::<f32>()).sqrt())
        .unwrap_or(0.0);
    if norm > max_norm {
        module.visit(&mut Scale {
            grads,
            factor: max_norm / norm,
        });
    }
    norm
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::nn::{Linear, LinearConfig};
    use burn::tensor::{Device, TensorData};

    #[derive(Module, Debug)]
    struct Two {
        a: Linear,
        b: Linear,
    }

    fn grads_of(model: &Two, device: &Device) -> GradientsParams {
        let x = Tensor::<2>::from_data(TensorData::new(vec![1.0f32, -2.0, 3.0], [1, 3]), device);
        let loss = (model.a.forward(x.clone()) * 3.0).sum() + model.b.forward(x).sum();
        GradientsParams::from_grads(loss.backward(), model)
    }

    fn all_grads(model: &Two, grads: &GradientsParams) -> Vec<f32> {
        let mut out = Vec::new();
        for linear in [&model.a, &model.b] {
            let w = grads.get::<2>(linear.weight.id).unwrap();
            out.extend(w.into_data().iter::<f32>());
            let b = grads.get::<1>(linear.bias.as_ref().unwrap().id).unwrap();
            out.extend(b.into_data().iter::<f32>());
        }
        out
    }

    #[test]
    fn clips_by_the_norm_of_all_gradients_together() {
        let device = Device::flex().autodiff();
        let model = Two {
            a: LinearConfig::new(3, 2).init(&device),
            b: LinearConfig::new(3, 1).init(&device),
        };
        let mut grads = grads_of(&model, &device);
        // d/dW_a = 3 x per output (2 outputs), d/db_a = 3; d/dW_b = x, d/db_b = 1.
        let x2 = 1.0 + 4.0 + 9.0;
        let expected_norm = (2.0 * 9.0 * x2 + 2.0 * 9.0 + x2 + 1.0f64).sqrt();
        let before = all_grads(&model, &grads);
        let norm = clip_global_norm(&model, &mut grads, 100.0);
        assert!(
            (norm - expected_norm).abs() < 1e-4,
            "{norm} vs {expected_norm}"
        );
        assert_eq!(
            all_grads(&model, &grads),
            before,
            "below the limit nothing changes"
        );
        let norm = clip_global_norm(&model, &mut grads, 1.0);
        assert!((norm - expected_norm).abs() < 1e-4);
        let after = all_grads(&model, &grads);
        let new_norm: f64 = after
            .iter()
            .map(|g| f64::from(*g).powi(2))
            .sum::<f64>()
            .sqrt();
        assert!((new_norm - 1.0).abs() < 1e-5, "{new_norm}");
        for (a, b) in after.iter().zip(&before) {
            assert!((f64::from(*a) - f64::from(*b) / expected_norm).abs() < 1e-6);
        }
    }
}
