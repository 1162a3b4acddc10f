//! Diagnostics of a network's representation on a probe batch: the layer's output and, for a
//! Hadamard layer, each branch and their correlation.

use burn::tensor::Tensor;

use crate::dense::LayerOutput;
use crate::diag::{self, DeadCriterion, DiagConfig, DiagError, Features, LayerDiagnostics};
use crate::repr::Branches;

/// Diagnostics of a representation layer.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ReprDiagnostics {
    /// The layer's output (the product for a Hadamard layer).
    pub output: LayerDiagnostics,
    /// Dead fraction of the first branch of a Hadamard layer.
    pub first_dead_fraction: Option<f64>,
    /// Dead fraction of the second branch of a Hadamard layer.
    pub second_dead_fraction: Option<f64>,
    /// Mean absolute Pearson correlation between the branches, per neuron.
    pub branch_correlation: Option<f64>,
}

/// The dead test of a layer's output: the activation's own test, for a Hadamard product of one
/// activation with itself too (a tanh product saturates only where both branches do, a ReLU
/// product is zero where either is); `None` for mixed products and the identity.
pub fn output_criterion(branches: Branches, eps: f64) -> Option<DeadCriterion> {
    match branches {
        Branches::Single(a) => DeadCriterion::for_activation(a, eps),
        Branches::Hadamard(a, b) if a == b => DeadCriterion::for_activation(a, eps),
        Branches::Hadamard(..) => None,
    }
}

/// Copies a `[rows, cols]` tensor to the host.
pub(crate) fn host(tensor: Tensor<2>) -> Result<(Vec<f32>, usize, usize), DiagError> {
    let [rows, cols] = tensor.dims();
    let values = tensor
        .into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .map_err(|e| DiagError::Data(format!("{e:?}")))?;
    Ok((values, rows, cols))
}

/// Diagnoses a representation computed on a probe batch of `rows` states.
pub fn diagnose_repr(
    repr: &LayerOutput<2>,
    branches: Branches,
    config: &DiagConfig,
) -> Result<ReprDiagnostics, DiagError> {
    let (values, rows, cols) = host(repr.output.clone())?;
    let output = diag::diagnose(
        Features::new(&values, rows, cols)?,
        output_criterion(branches, config.eps),
        config,
    )?;
    let mut report = ReprDiagnostics {
        output,
        first_dead_fraction: None,
        second_dead_fraction: None,
        branch_correlation: None,
    };
    if let (Some((a, b)), Branches::Hadamard(act_a, act_b)) = (&repr.branches, branches) {
        let (a_values, _, _) = host(a.clone())?;
        let (b_values, _, _) = host(b.clone())?;
        let first = Features::new(&a_values, rows, cols)?;
        let second = Features::new(&b_values, rows, cols)?;
        let dead = |features, act| {
            DeadCriterion::for_activation(act, config.eps)
                .map(|c| diag::dead_fraction(features, c, config.row_fraction))
        };
        report.first_dead_fraction = dead(first, act_a);
        report.second_dead_fraction = dead(second, act_b);
        report.branch_correlation = diag::branch_correlation(first, second)?;
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::module::Param;
    use burn::tensor::{Device, Distribution};

    use crate::network::{Head, NetworkConfig};
    use crate::torso::{TorsoConfig, TorsoKind};

    /// A saturated first branch leaves the tanh product alive: the product is dead only where
    /// both branches are.
    #[test]
    fn saturated_branch_does_not_kill_the_tanh_product() {
        let device = Device::flex();
        device.seed(5);
        let config = NetworkConfig {
            torso: TorsoConfig::new(TorsoKind::Mlp, "hr-tanh@16".parse().unwrap()),
            head: Head::default(),
            num_actions: 2,
        };
        let mut q = config.init_q(&device).unwrap();
        let first = &mut q.torso.repr.first;
        first.linear.bias = Some(Param::from_tensor(Tensor::full([16], 50.0, &device)));
        let obs = Tensor::<2>::random([64, 4], Distribution::Normal(0.0, 1.0), &device);
        let (_, repr) = q.forward_with_repr(obs);
        let branches = config.torso.repr.branches;
        let report = diagnose_repr(&repr, branches, &DiagConfig::default()).unwrap();
        assert_eq!(report.first_dead_fraction, Some(1.0));
        assert_eq!(report.second_dead_fraction, Some(0.0));
        assert_eq!(report.output.dead_fraction, Some(0.0));
        // The first branch is constant, so no neuron has a defined correlation.
        assert_eq!(report.branch_correlation, None);
    }

    #[test]
    fn single_layers_have_no_branch_report() {
        let device = Device::flex();
        let config = NetworkConfig {
            torso: TorsoConfig::new(TorsoKind::Mlp, "relu".parse().unwrap()),
            head: Head::default(),
            num_actions: 2,
        };
        let q = config.init_q(&device).unwrap();
        let obs = Tensor::<2>::random([32, 4], Distribution::Normal(0.0, 1.0), &device);
        let (_, repr) = q.forward_with_repr(obs);
        let report =
            diagnose_repr(&repr, config.torso.repr.branches, &DiagConfig::default()).unwrap();
        assert!(report.output.dead_fraction.is_some());
        assert_eq!(report.first_dead_fraction, None);
        assert_eq!(report.branch_correlation, None);
        assert!(report.output.srank >= 1 && report.output.srank <= 32);
    }

    #[test]
    fn mixed_products_have_no_output_criterion() {
        use crate::repr::Activation::{Gelu, Relu, Tanh};
        assert_eq!(output_criterion(Branches::Hadamard(Tanh, Gelu), 0.01), None);
        assert_eq!(
            output_criterion(Branches::Hadamard(Relu, Relu), 0.01),
            Some(DeadCriterion::Zero)
        );
    }
}
