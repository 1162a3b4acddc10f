//! Soft target-network updates (Polyak averaging), cleanrl's
//! `target.data.copy_(tau * online.data + (1 - tau) * target.data)` for every parameter.

use std::collections::HashMap;

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param, ParamId};
use burn::tensor::Tensor;

/// Collects a module's float parameters, flattened, by id.
struct Collect {
    values: HashMap<ParamId, Tensor<1>>,
}

impl ModuleVisitor for Collect {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let value = param.val().inner();
        let len = value.shape().num_elements();
        self.values.insert(param.id, value.reshape([len]));
    }
}

/// Moves each parameter towards the collected one with the same id.
struct Blend {
    online: HashMap<ParamId, Tensor<1>>,
    tau: f64,
}

impl ModuleMapper for Blend {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let Some(online) = self.online.remove(&param.id) else {
            return param;
        };
        let tau = self.tau;
        param.map(|target| {
            let online = online.reshape(target.shape()).to_device(&target.device());
            target.mul_scalar(1.0 - tau) + online.mul_scalar(tau)
        })
    }
}

/// `tau * online + (1 - tau) * target` for every parameter of `target`, matched to `online`'s
/// by parameter id (a target made by `online.valid()` keeps the ids).
pub fn soft_update<M: Module, N: Module>(target: M, online: &N, tau: f64) -> M {
    let mut collect = Collect {
        values: HashMap::new(),
    };
    online.visit(&mut collect);
    target.map(&mut Blend {
        online: collect.values,
        tau,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::nn::{Linear, LinearConfig};
    use burn::tensor::Device;

    fn values(linear: &Linear) -> Vec<f32> {
        linear.weight.val().into_data().iter::<f32>().collect()
    }

    #[test]
    fn blends_every_parameter_by_tau() {
        let device = Device::flex();
        let online = LinearConfig::new(3, 2).init(&device.clone().autodiff());
        let target = LinearConfig::new(3, 2).init(&device);
        let target = Linear {
            weight: Param::initialized(online.weight.id, target.weight.val()),
            bias: target
                .bias
                .map(|b| Param::initialized(online.bias.as_ref().unwrap().id, b.val())),
        };
        let (a, b) = (values(&online), values(&target));
        let blended = soft_update(target, &online, 0.25);
        for ((x, y), z) in a.iter().zip(&b).zip(values(&blended)) {
            assert!((0.25 * x + 0.75 * y - z).abs() < 1e-6);
        }
        let copied = soft_update(blended, &online, 1.0);
        assert_eq!(values(&copied), a);
    }
}
