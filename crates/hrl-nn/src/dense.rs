//! Dense layers: one activated branch, or the Hadamard product of two.

use burn::module::Module;
use burn::nn::{LayerNorm, LayerNormConfig, Linear};
use burn::tensor::{Device, Tensor};

use crate::act;
use crate::init::Init;
use crate::repr::{Activation, Branches};

/// `activation(norm(W x + b))`, with the norm optional.
#[derive(Module, Debug)]
pub struct DenseBranch {
    /// The affine map `[..., d_input] -> [..., d_output]`.
    pub linear: Linear,
    /// LayerNorm over the `d_output` features, before the activation.
    pub norm: Option<LayerNorm>,
    /// The activation.
    #[module(skip)]
    pub activation: Activation,
}

impl DenseBranch {
    /// `[..., d_input] -> [..., d_output]`.
    pub fn forward<const D: usize>(&self, x: Tensor<D>) -> Tensor<D> {
        let z = self.linear.forward(x);
        let z = match &self.norm {
            Some(norm) => norm.forward(z),
            None => z,
        };
        act::apply(self.activation, z)
    }
}

/// A dense layer: `first(x)`, or `first(x) ⊙ second(x)` for a Hadamard layer, the two branches
/// having independent parameters.
#[derive(Module, Debug)]
pub struct DenseLayer {
    /// The first (or only) branch.
    pub first: DenseBranch,
    /// The second branch of a Hadamard layer.
    pub second: Option<DenseBranch>,
}

/// A layer's output, with the branch activations of a Hadamard layer kept for diagnostics.
#[derive(Clone, Debug)]
pub struct LayerOutput<const D: usize> {
    /// The layer's output (the product for a Hadamard layer).
    pub output: Tensor<D>,
    /// `(first(x), second(x))` for a Hadamard layer.
    pub branches: Option<(Tensor<D>, Tensor<D>)>,
}

impl DenseLayer {
    /// `[..., d_input] -> [..., d_output]`.
    pub fn forward<const D: usize>(&self, x: Tensor<D>) -> Tensor<D> {
        match &self.second {
            None => self.first.forward(x),
            Some(second) => self.first.forward(x.clone()) * second.forward(x),
        }
    }

    /// Like [`forward`](Self::forward), keeping the branch activations.
    pub fn forward_parts<const D: usize>(&self, x: Tensor<D>) -> LayerOutput<D> {
        match &self.second {
            None => LayerOutput {
                output: self.first.forward(x),
                branches: None,
            },
            Some(second) => {
                let a = self.first.forward(x.clone());
                let b = second.forward(x);
                LayerOutput {
                    output: a.clone() * b.clone(),
                    branches: Some((a, b)),
                }
            }
        }
    }
}

/// Builds a [`DenseLayer`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DenseLayerConfig {
    /// Input features.
    pub d_input: usize,
    /// Output features (units).
    pub d_output: usize,
    /// One branch or two.
    pub branches: Branches,
    /// LayerNorm before each activation, with this epsilon.
    pub layer_norm: Option<f64>,
    /// Weight and bias initialiser (each branch draws its own values).
    pub init: Init,
}

impl DenseLayerConfig {
    /// Initialises the layer; the second branch draws after the first.
    pub fn init(&self, device: &Device) -> DenseLayer {
        let branch = |activation| DenseBranch {
            linear: linear(self.d_input, self.d_output, self.init, device),
            norm: self.layer_norm.map(|epsilon| {
                LayerNormConfig::new(self.d_output)
                    .with_epsilon(epsilon)
                    .init(device)
            }),
            activation,
        };
        DenseLayer {
            first: branch(self.branches.first()),
            second: self.branches.second().map(branch),
        }
    }

    /// Features the layer outputs: `d_output`, twice that for CReLU.
    pub fn output_features(&self) -> usize {
        self.d_output * self.branches.outputs_per_unit()
    }

    /// Trainable parameters: per branch `d_input * d_output + d_output`, plus `2 * d_output` with
    /// LayerNorm.
    pub fn num_params(&self) -> usize {
        let per_branch = self.d_input * self.d_output
            + self.d_output
            + if self.layer_norm.is_some() {
                2 * self.d_output
            } else {
                0
            };
        per_branch * branch_count(self.branches)
    }
}

/// A plain affine layer `[..., d_input] -> [..., d_output]`.
pub fn linear(d_input: usize, d_output: usize, init: Init, device: &Device) -> Linear {
    Linear {
        weight: init.weight([d_input, d_output], d_input, d_output, device),
        bias: Some(init.bias(d_output, d_input, device)),
    }
}

/// Number of parameterised branches: 1, or 2 for a Hadamard layer.
pub fn branch_count(branches: Branches) -> usize {
    match branches {
        Branches::Single(_) => 1,
        Branches::Hadamard(..) => 2,
    }
}
