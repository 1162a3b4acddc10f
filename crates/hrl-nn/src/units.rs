//! Which parameter elements belong to each hidden unit of a network: the ones the unit reads
//! (*incoming*: its weights, its bias and its LayerNorm scale and shift, in each branch of a
//! Hadamard layer) and the ones that read it (*outgoing*: the next layer's weights on its
//! output features, in every branch of that layer, or the heads' weights). ReDo (Sokar et al.
//! 2023) re-initialises the first and zeroes the second.
//!
//! Layouts are burn's, flat and row-major:
//!
//! | parameter | shape | unit or feature `j` |
//! |---|---|---|
//! | dense weight | `[d_in, d_out]` | unit `j` reads column `j`; feature `j` is read by row `j` |
//! | convolution kernel | `[c_out, c_in, k, k]` | unit `j` reads block `j`; feature `j` is read by `[:, j, :, :]` |
//! | bias, LayerNorm scale and shift | `[d_out]` | unit `j` owns element `j` |
//!
//! A convolution feeding a dense layer is flattened channel-major, so the dense weight's rows
//! `j * h * w .. (j + 1) * h * w` read channel `j`. A CReLU unit `j` of a layer of `d` units has
//! two output features, `j` and `d + j` (the two halves of the concatenation).
//!
//! The units are those the per-layer diagnostics measure: a convolution's are its channels.

use burn::module::{Param, ParamId};
use burn::nn::LayerNorm;
use burn::tensor::Tensor;

use crate::conv::{ConvBranch, ConvLayer};
use crate::dense::{DenseBranch, DenseLayer};
use crate::network::Network;
use crate::repr::Activation;

/// Elements of one parameter that belong to index `i` (a unit or a feature): the flat indices
/// `o * outer_stride + i * index_stride + r` for `o < outer`, `r < run`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Slice {
    /// The parameter.
    pub param: ParamId,
    /// Number of elements the parameter holds.
    pub numel: usize,
    outer: usize,
    outer_stride: usize,
    index_stride: usize,
    run: usize,
}

impl Slice {
    /// Element `index` of a vector (bias, LayerNorm scale or shift).
    fn vector(param: ParamId, len: usize) -> Slice {
        Slice {
            param,
            numel: len,
            outer: 1,
            outer_stride: 0,
            index_stride: 1,
            run: 1,
        }
    }

    /// Column `index` of a `[rows, cols]` matrix.
    fn column(param: ParamId, rows: usize, cols: usize) -> Slice {
        Slice {
            param,
            numel: rows * cols,
            outer: rows,
            outer_stride: cols,
            index_stride: 1,
            run: 1,
        }
    }

    /// Rows `index * block .. (index + 1) * block` of a `[rows, cols]` matrix.
    fn rows(param: ParamId, rows: usize, cols: usize, block: usize) -> Slice {
        Slice {
            param,
            numel: rows * cols,
            outer: 1,
            outer_stride: 0,
            index_stride: block * cols,
            run: block * cols,
        }
    }

    /// `[:, index, :, :]` of a `[c_out, c_in, k, k]` kernel.
    fn input_channel(param: ParamId, dims: [usize; 4]) -> Slice {
        let [c_out, c_in, k, _] = dims;
        Slice {
            param,
            numel: c_out * c_in * k * k,
            outer: c_out,
            outer_stride: c_in * k * k,
            index_stride: k * k,
            run: k * k,
        }
    }

    /// The flat indices of the elements that belong to `index`.
    pub fn elements(&self, index: usize) -> impl Iterator<Item = usize> + '_ {
        (0..self.outer).flat_map(move |o| {
            let start = o * self.outer_stride + index * self.index_stride;
            start..start + self.run
        })
    }
}

/// One hidden layer's units and the parameter elements each reads and feeds.
#[derive(Clone, Debug, PartialEq)]
pub struct LayerUnits {
    /// The layer's name ([`crate::torso::hidden_layer_names`]).
    pub name: String,
    /// Number of units (a convolution's output channels before CReLU doubles them).
    pub units: usize,
    /// Output features per unit: 1, or 2 for CReLU.
    pub features_per_unit: usize,
    /// Per unit: the layer's own parameters.
    incoming: Vec<Slice>,
    /// Per output feature: the next layer's (or the heads') weights.
    outgoing: Vec<Slice>,
}

impl LayerUnits {
    /// Number of output features (the columns of the layer's output rows).
    pub fn features(&self) -> usize {
        self.units * self.features_per_unit
    }

    /// The output features of `unit`: `unit`, and `units + unit` for CReLU.
    pub fn features_of(&self, unit: usize) -> impl Iterator<Item = usize> + '_ {
        (0..self.features_per_unit).map(move |half| half * self.units + unit)
    }

    /// `(parameter slice, index)` pairs whose elements `unit` reads.
    pub fn incoming(&self, unit: usize) -> impl Iterator<Item = (&Slice, usize)> {
        self.incoming.iter().map(move |slice| (slice, unit))
    }

    /// `(parameter slice, index)` pairs whose elements read `unit`'s output features.
    pub fn outgoing(&self, unit: usize) -> impl Iterator<Item = (&Slice, usize)> {
        self.features_of(unit)
            .flat_map(move |feature| self.outgoing.iter().map(move |slice| (slice, feature)))
    }
}

/// The hidden layers of `network`, input to output, with their units' parameter elements.
pub fn layer_units<N: Network>(network: &N) -> Vec<LayerUnits> {
    let torso = network.torso();
    let names = torso.layer_names();
    let mut layers = Vec::with_capacity(names.len());
    let mut names = names.into_iter();
    // Output side lengths of the convolutions, to know how many flattened rows a channel has.
    let (mut height, mut width) = match torso.obs_shape.as_slice() {
        [_, h, w] => (*h, *w),
        _ => (1, 1),
    };
    for (index, (conv, name)) in torso.convs.iter().zip(&mut names).enumerate() {
        height = (height - conv.kernel) / conv.stride + 1;
        width = (width - conv.kernel) / conv.stride + 1;
        let outgoing = match torso.convs.get(index + 1) {
            Some(next) => conv_readers(next),
            None => {
                let next = torso.hidden.first().unwrap_or(&torso.repr);
                dense_readers(dense_weights(next), height * width)
            }
        };
        layers.push(conv_units(conv, name, outgoing));
    }
    let dense: Vec<&DenseLayer> = torso.hidden.iter().chain([&torso.repr]).collect();
    for (index, (layer, name)) in dense.iter().zip(&mut names).enumerate() {
        let readers = match dense.get(index + 1) {
            Some(next) => dense_weights(next),
            None => network
                .heads()
                .into_iter()
                .map(|head| &head.weight)
                .collect(),
        };
        layers.push(dense_units(layer, name, dense_readers(readers, 1)));
    }
    layers
}

fn conv_branches(layer: &ConvLayer) -> impl Iterator<Item = &ConvBranch> {
    std::iter::once(&layer.first).chain(layer.second.as_ref())
}

fn dense_branches(layer: &DenseLayer) -> impl Iterator<Item = &DenseBranch> {
    std::iter::once(&layer.first).chain(layer.second.as_ref())
}

fn dense_weights(layer: &DenseLayer) -> Vec<&Param<Tensor<2>>> {
    dense_branches(layer).map(|b| &b.linear.weight).collect()
}

/// The kernels of `next` read input channel `j` at `[:, j, :, :]`.
fn conv_readers(next: &ConvLayer) -> Vec<Slice> {
    conv_branches(next)
        .map(|b| Slice::input_channel(b.conv.weight.id, b.conv.weight.dims()))
        .collect()
}

/// Dense weights read feature `j` in `pixels` consecutive rows (one per flattened pixel).
fn dense_readers(weights: Vec<&Param<Tensor<2>>>, pixels: usize) -> Vec<Slice> {
    weights
        .into_iter()
        .map(|w| {
            let [rows, cols] = w.dims();
            Slice::rows(w.id, rows, cols, pixels)
        })
        .collect()
}

fn norm_slices(norm: Option<&LayerNorm>, units: usize) -> Vec<Slice> {
    norm.into_iter()
        .flat_map(|norm| std::iter::once(norm.gamma.id).chain(norm.beta.as_ref().map(|b| b.id)))
        .map(|id| Slice::vector(id, units))
        .collect()
}

fn bias_slice(bias: Option<&Param<Tensor<1>>>, units: usize) -> Option<Slice> {
    bias.map(|b| Slice::vector(b.id, units))
}

fn features_per_unit(activation: Activation) -> usize {
    if activation == Activation::Crelu {
        2
    } else {
        1
    }
}

fn conv_units(layer: &ConvLayer, name: String, outgoing: Vec<Slice>) -> LayerUnits {
    let [units, ..] = layer.first.conv.weight.dims();
    let branches = conv_branches(layer).map(|b| {
        let [_, c_in, k, _] = b.conv.weight.dims();
        (
            Slice::rows(b.conv.weight.id, units, c_in * k * k, 1),
            b.conv.bias.as_ref(),
            b.norm.as_ref(),
        )
    });
    unit_layer(name, units, layer.first.activation, branches, outgoing)
}

fn dense_units(layer: &DenseLayer, name: String, outgoing: Vec<Slice>) -> LayerUnits {
    let [_, units] = layer.first.linear.weight.dims();
    let branches = dense_branches(layer).map(|b| {
        let [rows, cols] = b.linear.weight.dims();
        (
            Slice::column(b.linear.weight.id, rows, cols),
            b.linear.bias.as_ref(),
            b.norm.as_ref(),
        )
    });
    unit_layer(name, units, layer.first.activation, branches, outgoing)
}

/// A layer of `units` units whose branches are `(weight slice, bias, LayerNorm)`.
fn unit_layer<'a>(
    name: String,
    units: usize,
    activation: Activation,
    branches: impl Iterator<Item = (Slice, Option<&'a Param<Tensor<1>>>, Option<&'a LayerNorm>)>,
    outgoing: Vec<Slice>,
) -> LayerUnits {
    let mut incoming = Vec::new();
    for (weight, bias, norm) in branches {
        incoming.push(weight);
        incoming.extend(bias_slice(bias, units));
        incoming.extend(norm_slices(norm, units));
    }
    LayerUnits {
        name,
        units,
        features_per_unit: features_per_unit(activation),
        incoming,
        outgoing,
    }
}
