//! The im2col convolution of [`ConvLayer`] against burn's direct `Conv2d` (an independent
//! implementation) on strided, non-square inputs: outputs, input gradients and weight gradients.

use burn::module::Param;
use burn::nn::PaddingConfig2d;
use burn::nn::conv::Conv2dConfig;
use burn::tensor::{Device, Distribution, Tensor};
use hrl_nn::conv::ConvLayerConfig;
use hrl_nn::init::Init;
use hrl_nn::repr::{Activation, Branches};

fn host<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().try_to_vec::<f32>().unwrap()
}

fn assert_close(what: &str, ours: &[f32], reference: &[f32]) {
    assert_eq!(ours.len(), reference.len(), "{what}: lengths");
    for (i, (a, b)) in ours.iter().zip(reference).enumerate() {
        assert!(
            (a - b).abs() <= 1e-4 * (1.0 + b.abs()),
            "{what}[{i}]: {a} vs {b}"
        );
    }
}

/// `(batch, c_in, h, w, c_out, kernel, stride)`.
fn check(case: (usize, usize, usize, usize, usize, usize, usize), seed: u64) {
    let (batch, c_in, h, w, c_out, kernel, stride) = case;
    let device = Device::flex().autodiff();
    device.seed(seed);
    let ours = ConvLayerConfig {
        c_in,
        c_out,
        kernel,
        stride,
        branches: Branches::Single(Activation::Identity),
        layer_norm: None,
        init: Init::TorchDefault,
    }
    .init(&device);
    let weights = &ours.first.conv;
    let mut reference = Conv2dConfig::new([c_in, c_out], [kernel, kernel])
        .with_stride([stride, stride])
        .with_padding(PaddingConfig2d::Valid)
        .init(&device);
    reference.weight = Param::from_tensor(weights.weight.val().detach()).set_require_grad(true);
    reference.bias = Some(
        Param::from_tensor(weights.bias.as_ref().unwrap().val().detach()).set_require_grad(true),
    );

    let x = Tensor::<4>::random([batch, c_in, h, w], Distribution::Normal(0.0, 1.0), &device);
    let (x_ours, x_ref) = (x.clone().require_grad(), x.require_grad());
    let y_ours = ours.forward(x_ours.clone());
    let y_ref = reference.forward(x_ref.clone());
    assert_eq!(y_ours.dims(), y_ref.dims());
    let r = Tensor::<4>::random(y_ref.dims(), Distribution::Normal(0.0, 1.0), &device);
    assert_close("output", &host(y_ours.clone()), &host(y_ref.clone()));

    let grads_ours = (y_ours * r.clone()).sum().backward();
    let grads_ref = (y_ref * r).sum().backward();
    let grad = |t: Tensor<4>, g| host(t.grad(g).unwrap());
    assert_close(
        "input gradient",
        &grad(x_ours, &grads_ours),
        &grad(x_ref, &grads_ref),
    );
    assert_close(
        "weight gradient",
        &grad(weights.weight.val(), &grads_ours),
        &grad(reference.weight.val(), &grads_ref),
    );
    let bias_grad = |t: Tensor<1>, g| host(t.grad(g).unwrap());
    assert_close(
        "bias gradient",
        &bias_grad(weights.bias.as_ref().unwrap().val(), &grads_ours),
        &bias_grad(reference.bias.as_ref().unwrap().val(), &grads_ref),
    );
}

#[test]
fn nature_first_layer_shape() {
    // 8x8 kernels at stride 4 on 4 stacked frames, smaller than 84x84 but with the same stride
    // pattern, and a remainder column that the kernel never reaches.
    check((2, 4, 28, 29, 8, 8, 4), 1);
}

#[test]
fn patches_gathered_in_runs_of_pixels() {
    // The Nature network's pattern (84 -> 20 -> 9 -> 7) on smaller images: widths that kernel
    // and stride divide, with enough channels that the gather copies runs of 4, 2 and 1 pixels
    // as rows (16, 32 and 16 floats); one height the stride does not divide.
    check((2, 4, 28, 28, 8, 8, 4), 5);
    check((3, 16, 10, 10, 6, 4, 2), 6);
    check((2, 16, 13, 12, 4, 4, 2), 7);
    check((2, 16, 7, 9, 8, 3, 1), 8);
}

#[test]
fn few_channels_gathered_element_by_element() {
    // Rows of fewer than 16 floats: MinAtar's few channels at stride 1, and runs of 2 pixels.
    check((3, 5, 10, 10, 6, 4, 2), 9);
    check((2, 3, 13, 12, 4, 4, 2), 10);
}

#[test]
fn stride_two_and_stride_one() {
    check((3, 5, 11, 9, 6, 4, 2), 2);
    check((2, 7, 10, 10, 16, 3, 1), 3);
}

#[test]
fn kernel_as_large_as_the_input() {
    check((4, 3, 5, 5, 2, 5, 1), 4);
}
