//! Applying an [`Activation`] to a tensor.

use burn::tensor::{Tensor, activation};

use crate::repr::Activation;

/// `activation(x)`: element-wise, but for CReLU, whose two halves are concatenated along the last
/// dimension (which doubles).
pub fn apply<const D: usize>(activation: Activation, x: Tensor<D>) -> Tensor<D> {
    match activation {
        Activation::Crelu => Tensor::cat(
            vec![activation::relu(x.clone()), activation::relu(x.neg())],
            D - 1,
        ),
        Activation::Relu => activation::relu(x),
        Activation::Tanh => activation::tanh(x),
        Activation::Sigmoid => activation::sigmoid(x),
        Activation::Gelu => activation::gelu(x),
        Activation::Identity => x,
    }
}
