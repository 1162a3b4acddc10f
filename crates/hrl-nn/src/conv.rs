//! Convolution layers: one activated branch, or the Hadamard product of two, with an optional
//! per-pixel LayerNorm over the channels (Flax's `LayerNorm` on NHWC, as in PQN).

use burn::module::Module;
use burn::nn::conv::Conv2d;
use burn::nn::{LayerNorm, LayerNormConfig, PaddingConfig2d};
use burn::tensor::{Device, Tensor};

use crate::act;
use crate::dense::branch_count;
use crate::init::Init;
use crate::repr::{Activation, Branches};

/// `activation(norm(conv(x)))`, with the norm optional; `VALID` padding.
#[derive(Module, Debug)]
pub struct ConvBranch {
    /// `[batch, c_in, h, w] -> [batch, c_out, h', w']`.
    pub conv: Conv2d,
    /// LayerNorm over the `c_out` channels of each pixel.
    pub norm: Option<LayerNorm>,
    /// The activation.
    #[module(skip)]
    pub activation: Activation,
}

impl ConvBranch {
    /// `[batch, c_in, h, w] -> [batch, c_out, h', w']`.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let z = self.conv.forward(x);
        let z = match &self.norm {
            Some(norm) => channel_norm(norm, z),
            None => z,
        };
        act::apply(self.activation, z)
    }
}

/// LayerNorm over dimension 1 (channels) of `[batch, channels, h, w]`, pixel by pixel.
fn channel_norm(norm: &LayerNorm, z: Tensor<4>) -> Tensor<4> {
    norm.forward(z.permute([0, 2, 3, 1])).permute([0, 3, 1, 2])
}

/// A convolution layer: `first(x)`, or `first(x) ⊙ second(x)` for a Hadamard layer.
#[derive(Module, Debug)]
pub struct ConvLayer {
    /// The first (or only) branch.
    pub first: ConvBranch,
    /// The second branch of a Hadamard layer.
    pub second: Option<ConvBranch>,
}

impl ConvLayer {
    /// `[batch, c_in, h, w] -> [batch, c_out, h', w']`.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        match &self.second {
            None => self.first.forward(x),
            Some(second) => self.first.forward(x.clone()) * second.forward(x),
        }
    }
}

/// Builds a [`ConvLayer`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ConvLayerConfig {
    /// Input channels.
    pub c_in: usize,
    /// Output channels.
    pub c_out: usize,
    /// Square kernel size.
    pub kernel: usize,
    /// Stride.
    pub stride: usize,
    /// One branch or two.
    pub branches: Branches,
    /// Channel LayerNorm before each activation.
    pub layer_norm: bool,
    /// Weight and bias initialiser.
    pub init: Init,
}

impl ConvLayerConfig {
    /// Output side length for an input side of `input` pixels (`VALID` padding), `None` if the
    /// kernel does not fit.
    pub fn output_side(&self, input: usize) -> Option<usize> {
        (input >= self.kernel).then(|| (input - self.kernel) / self.stride + 1)
    }

    /// Initialises the layer; the second branch draws after the first.
    pub fn init(&self, device: &Device) -> ConvLayer {
        let fan_in = self.c_in * self.kernel * self.kernel;
        let fan_out = self.c_out * self.kernel * self.kernel;
        let branch = |activation| ConvBranch {
            conv: Conv2d {
                weight: self.init.weight(
                    [self.c_out, self.c_in, self.kernel, self.kernel],
                    fan_in,
                    fan_out,
                    device,
                ),
                bias: Some(self.init.bias(self.c_out, fan_in, device)),
                stride: [self.stride, self.stride],
                kernel_size: [self.kernel, self.kernel],
                dilation: [1, 1],
                groups: 1,
                padding: PaddingConfig2d::Valid,
            },
            norm: self
                .layer_norm
                .then(|| LayerNormConfig::new(self.c_out).init(device)),
            activation,
        };
        ConvLayer {
            first: branch(self.branches.first()),
            second: self.branches.second().map(branch),
        }
    }

    /// Trainable parameters: per branch `c_out * c_in * k * k + c_out`, plus `2 * c_out` with
    /// LayerNorm.
    pub fn num_params(&self) -> usize {
        let per_branch = self.c_out * self.c_in * self.kernel * self.kernel
            + self.c_out
            + if self.layer_norm { 2 * self.c_out } else { 0 };
        per_branch * branch_count(self.branches)
    }
}
