//! Whether a device computes what the CPU computes: the benchmark network's Q-values and the
//! gradients of a TD-style loss, computed on a device and on burn's CPU backend from the same
//! weights and inputs, compared value by value. The GPU check (`bench/gpu/check.sh`) runs it
//! through `hrl bench device`; on the CPU itself every difference is zero.

use burn::module::{Module, ModuleVisitor, Param};
use burn::optim::GradientsParams;
use burn::tensor::{Device, Distribution, Int, Tensor, TensorData};

use crate::bench::{BenchError, NUM_ACTIONS, network_config, observations};
use crate::network::QNetwork;
use crate::torso::TorsoKind;

/// How far a device's results are from the CPU's.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct DeviceAgreement {
    /// The torso's name.
    pub network: &'static str,
    /// Observations in the batch.
    pub batch: usize,
    /// Largest `|Q_device - Q_cpu|` over the batch and actions.
    pub q_max_abs_diff: f64,
    /// Largest `|Q_cpu|`, the scale of the difference.
    pub q_max_abs: f64,
    /// Largest difference of any parameter's gradient.
    pub grad_max_abs_diff: f64,
    /// Largest `|gradient|` on the CPU.
    pub grad_max_abs: f64,
}

impl DeviceAgreement {
    /// The larger of the two differences, each relative to its scale.
    pub fn max_relative_diff(&self) -> f64 {
        let relative = |diff: f64, scale: f64| if scale > 0.0 { diff / scale } else { diff };
        relative(self.q_max_abs_diff, self.q_max_abs)
            .max(relative(self.grad_max_abs_diff, self.grad_max_abs))
    }
}

/// Every gradient of a module, flattened in parameter order.
struct Flatten<'a> {
    grads: &'a GradientsParams,
    values: Vec<f32>,
}

impl ModuleVisitor for Flatten<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        if let Some(grad) = self.grads.get::<D>(param.id) {
            self.values.extend(grad.into_data().iter::<f32>());
        }
    }
}

/// The Q-values of `obs` and the gradients of `0.5 mean((Q(s, a) - y)^2)`, flattened.
fn q_and_grads(
    model: &QNetwork,
    obs: Tensor<2>,
    actions: Tensor<2, Int>,
    targets: Tensor<2>,
) -> (Vec<f32>, Vec<f32>) {
    let q = model.forward(obs);
    let chosen = q.clone().gather(1, actions);
    let loss = (chosen - targets).square().mean().mul_scalar(0.5);
    let grads = GradientsParams::from_grads(loss.backward(), model);
    let mut flat = Flatten {
        grads: &grads,
        values: Vec::new(),
    };
    model.visit(&mut flat);
    (q.into_data().iter::<f32>().collect(), flat.values)
}

fn max_abs_diff(a: &[f32], b: &[f32]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| f64::from((x - y).abs()))
        .fold(0.0, f64::max)
}

fn max_abs(a: &[f32]) -> f64 {
    a.iter().map(|x| f64::from(x.abs())).fold(0.0, f64::max)
}

/// Compares `device` with the CPU on `torso`'s benchmark network (ReLU, 6 actions, PyTorch
/// initialisation, seed 0) for a batch of `batch` random observations.
pub fn compare_with_cpu(
    torso: TorsoKind,
    batch: usize,
    device: &Device,
) -> Result<DeviceAgreement, BenchError> {
    if batch == 0 {
        return Err(BenchError::Zero {
            what: "the batch size",
        });
    }
    let cpu = Device::flex().autodiff();
    cpu.seed(0);
    let network = network_config(torso);
    let obs_len: usize = network.torso_plan()?.obs_shape.iter().product();
    let model = network.init_q(&cpu)?;
    let obs = observations(torso, batch, obs_len, &cpu);
    let actions: Vec<i64> = (0..batch).map(|i| (i % NUM_ACTIONS) as i64).collect();
    let actions = Tensor::<2, Int>::from_data(TensorData::new(actions, [batch, 1]), &cpu);
    let targets = Tensor::<2>::random([batch, 1], Distribution::Normal(0.0, 1.0), &cpu);

    let other = device.clone().autodiff();
    let (q_other, grads_other) = q_and_grads(
        &model.clone().fork(&other),
        obs.clone().to_device(&other),
        actions.clone().to_device(&other),
        targets.clone().to_device(&other),
    );
    let (q_cpu, grads_cpu) = q_and_grads(&model, obs, actions, targets);
    Ok(DeviceAgreement {
        network: torso.name(),
        batch,
        q_max_abs_diff: max_abs_diff(&q_other, &q_cpu),
        q_max_abs: max_abs(&q_cpu),
        grad_max_abs_diff: max_abs_diff(&grads_other, &grads_cpu),
        grad_max_abs: max_abs(&grads_cpu),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cpu_agrees_with_itself_exactly_and_the_scales_are_real() {
        for torso in [TorsoKind::Minatar, TorsoKind::Nature] {
            let agreement = compare_with_cpu(torso, 4, &Device::flex()).unwrap();
            assert_eq!(agreement.q_max_abs_diff, 0.0, "{torso:?}");
            assert_eq!(agreement.grad_max_abs_diff, 0.0, "{torso:?}");
            assert!(agreement.q_max_abs > 0.0 && agreement.grad_max_abs > 0.0);
            assert_eq!(agreement.max_relative_diff(), 0.0);
        }
    }
}
