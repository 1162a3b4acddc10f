//! Applying an [`Activation`] to a tensor.

use burn::tensor::{Tensor, activation};

use crate::repr::Activation;

/// `activation(x)`, element-wise.
pub fn apply<const D: usize>(activation: Activation, x: Tensor<D>) -> Tensor<D> {
    match activation {
        Activation::Relu => activation::relu(x),
        Activation::Tanh => activation::tanh(x),
        Activation::Sigmoid => activation::sigmoid(x),
        Activation::Gelu => activation::gelu(x),
        Activation::Identity => x,
    }
}
