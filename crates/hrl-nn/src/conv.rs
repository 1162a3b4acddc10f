//! Convolution layers: one activated branch, or the Hadamard product of two, with an optional
//! per-pixel LayerNorm over the channels (Flax's `LayerNorm` on NHWC, as in PQN).
//!
//! The convolution itself is an im2col product: the input's patches are gathered once per layer
//! into a `[batch * pixels, c_in * k * k]` matrix (shared by both branches of a Hadamard layer)
//! and multiplied by each branch's `[c_in * k * k, c_out]` weights in one matrix product. The
//! branch works on the resulting channels-last rows, where the channel LayerNorm needs no
//! transposition, and the layer hands back `[batch, c_out, h', w']`. On burn's CPU backend this
//! is several times faster than its direct convolution for the few-channel inputs of RL
//! networks, and its gradients are those of a gather and a matrix product.

use burn::module::{Module, Param};
use burn::nn::{LayerNorm, LayerNormConfig};
use burn::tensor::{Device, Int, Tensor, TensorData};

use crate::act;
use crate::dense::branch_count;
use crate::init::Init;
use crate::repr::{Activation, Branches};

/// The weights of a `VALID` convolution, stored as PyTorch and burn store them.
#[derive(Module, Debug)]
pub struct ConvWeights {
    /// `[c_out, c_in, k, k]`.
    pub weight: Param<Tensor<4>>,
    /// `[c_out]`.
    pub bias: Option<Param<Tensor<1>>>,
}

impl ConvWeights {
    /// `[rows, c_in * k * k]` patches -> `[rows, c_out]`.
    fn forward_patches(&self, patches: Tensor<2>) -> Tensor<2> {
        let [c_out, c_in, k, _] = self.weight.dims();
        let kernel = self.weight.val().reshape([c_out, c_in * k * k]).transpose();
        let z = patches.matmul(kernel);
        match &self.bias {
            Some(bias) => z + bias.val().unsqueeze_dim(0),
            None => z,
        }
    }
}

/// `activation(norm(conv(x)))`, with the norm optional; `VALID` padding.
#[derive(Module, Debug)]
pub struct ConvBranch {
    /// The convolution, `[batch, c_in, h, w] -> [batch, c_out, h', w']`.
    pub conv: ConvWeights,
    /// LayerNorm over the `c_out` channels of each pixel.
    pub norm: Option<LayerNorm>,
    /// The activation.
    #[module(skip)]
    pub activation: Activation,
}

impl ConvBranch {
    /// `[batch * h' * w', c_in * k * k]` patches -> `[batch * h' * w', c_out]` activations.
    fn forward_patches(&self, patches: Tensor<2>) -> Tensor<2> {
        let z = self.conv.forward_patches(patches);
        let z = match &self.norm {
            Some(norm) => norm.forward(z),
            None => z,
        };
        act::apply(self.activation, z)
    }
}

/// The flat indices into `[c_in * h * w]` of every patch element, ordered by output pixel
/// (row-major), then by input channel, kernel row and kernel column: gathering them from a
/// `[batch, c_in * h * w]` input and reshaping gives `[batch * h' * w', c_in * k * k]`.
fn patch_indices(c_in: usize, h: usize, w: usize, kernel: usize, stride: usize) -> Vec<i64> {
    let (out_h, out_w) = ((h - kernel) / stride + 1, (w - kernel) / stride + 1);
    let mut indices = Vec::with_capacity(out_h * out_w * c_in * kernel * kernel);
    for oy in 0..out_h {
        for ox in 0..out_w {
            for c in 0..c_in {
                for ky in 0..kernel {
                    let row = (c * h + oy * stride + ky) * w + ox * stride;
                    indices.extend((row..row + kernel).map(|i| i as i64));
                }
            }
        }
    }
    indices
}

/// A convolution layer: `first(x)`, or `first(x) ⊙ second(x)` for a Hadamard layer.
#[derive(Module, Debug)]
pub struct ConvLayer {
    /// The first (or only) branch.
    pub first: ConvBranch,
    /// The second branch of a Hadamard layer.
    pub second: Option<ConvBranch>,
    /// Square kernel size.
    #[module(skip)]
    pub kernel: usize,
    /// Stride.
    #[module(skip)]
    pub stride: usize,
}

impl ConvLayer {
    /// `[batch, c_in, h, w] -> [batch, c_out, h', w']`; `h, w >= kernel`.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let [batch, c_in, h, w] = x.dims();
        let (out_h, out_w) = (
            (h - self.kernel) / self.stride + 1,
            (w - self.kernel) / self.stride + 1,
        );
        let indices = patch_indices(c_in, h, w, self.kernel, self.stride);
        let count = indices.len();
        let indices = Tensor::<1, Int>::from_data(TensorData::new(indices, [count]), &x.device());
        let patches = x
            .reshape([batch, c_in * h * w])
            .select(1, indices)
            .reshape([batch * out_h * out_w, c_in * self.kernel * self.kernel]);
        let y = match &self.second {
            None => self.first.forward_patches(patches),
            Some(second) => {
                self.first.forward_patches(patches.clone()) * second.forward_patches(patches)
            }
        };
        let c_out = y.dims()[1];
        y.reshape([batch, out_h * out_w, c_out])
            .swap_dims(1, 2)
            .reshape([batch, c_out, out_h, out_w])
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
            conv: ConvWeights {
                weight: self.init.weight(
                    [self.c_out, self.c_in, self.kernel, self.kernel],
                    fan_in,
                    fan_out,
                    device,
                ),
                bias: Some(self.init.bias(self.c_out, fan_in, device)),
            },
            norm: self
                .layer_norm
                .then(|| LayerNormConfig::new(self.c_out).init(device)),
            activation,
        };
        ConvLayer {
            first: branch(self.branches.first()),
            second: self.branches.second().map(branch),
            kernel: self.kernel,
            stride: self.stride,
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
