//! Hadamard layers' forward values and gradients against an independent `f64` implementation and
//! central finite differences.

// The reference implementations below index several arrays with one loop variable, as the
// formulas they transcribe do.
#![allow(clippy::needless_range_loop)]

use burn::tensor::{Device, Distribution, Tensor};
use hrl_nn::conv::ConvLayerConfig;
use hrl_nn::dense::DenseLayerConfig;
use hrl_nn::init::Init;
use hrl_nn::repr::{Activation, Branches};

/// Not the default (1e-5), so that the layers use the configured epsilon or fail here.
const LN_EPS: f64 = 1e-3;

fn to_f64<const D: usize>(t: Tensor<D>) -> Vec<f64> {
    t.into_data()
        .try_to_vec::<f32>()
        .unwrap()
        .into_iter()
        .map(f64::from)
        .collect()
}

fn act(a: Activation, z: f64) -> f64 {
    match a {
        Activation::Relu => z.max(0.0),
        Activation::Tanh => z.tanh(),
        Activation::Sigmoid => 1.0 / (1.0 + (-z).exp()),
        Activation::Identity => z,
        Activation::Gelu | Activation::Crelu => unreachable!("not used in these tests"),
    }
}

/// Layer-normalises `z` (one sample's features) in place, then scales and shifts.
fn layer_norm(z: &mut [f64], gamma: &[f64], beta: &[f64]) {
    let n = z.len() as f64;
    let mean = z.iter().sum::<f64>() / n;
    let var = z.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
    for (k, v) in z.iter_mut().enumerate() {
        *v = (*v - mean) / (var + LN_EPS).sqrt() * gamma[k] + beta[k];
    }
}

/// Parameters of one branch, flattened: weight, bias, then gamma and beta when normalised.
#[derive(Clone)]
struct Branch {
    weight: Vec<f64>,
    bias: Vec<f64>,
    norm: Option<(Vec<f64>, Vec<f64>)>,
}

impl Branch {
    fn slots(&mut self) -> Vec<&mut f64> {
        let mut all: Vec<&mut f64> = self.weight.iter_mut().chain(self.bias.iter_mut()).collect();
        if let Some((g, b)) = &mut self.norm {
            all.extend(g.iter_mut().chain(b.iter_mut()));
        }
        all
    }
}

/// `sum(R ⊙ (a(x) ⊙ b(x)))` for a dense layer with burn's `[d_in, d_out]` weight layout.
fn dense_loss(
    x: &[f64],
    r: &[f64],
    d_in: usize,
    d_out: usize,
    branches: &[(Branch, Activation)],
) -> f64 {
    let rows = x.len() / d_in;
    let mut loss = 0.0;
    for row in 0..rows {
        let mut out = vec![1.0; d_out];
        for (branch, activation) in branches {
            let mut z: Vec<f64> = (0..d_out)
                .map(|j| {
                    branch.bias[j]
                        + (0..d_in)
                            .map(|i| x[row * d_in + i] * branch.weight[i * d_out + j])
                            .sum::<f64>()
                })
                .collect();
            if let Some((g, b)) = &branch.norm {
                layer_norm(&mut z, g, b);
            }
            for j in 0..d_out {
                out[j] *= act(*activation, z[j]);
            }
        }
        loss += (0..d_out).map(|j| out[j] * r[row * d_out + j]).sum::<f64>();
    }
    loss
}

/// Compares burn's gradient `analytic` of every slot with a central difference of `loss`.
fn check_gradients(
    mut params: Vec<(Branch, Activation)>,
    analytic: Vec<Vec<f64>>,
    loss: impl Fn(&[(Branch, Activation)]) -> f64,
) {
    let step = 1e-6;
    let mut slot_index = 0;
    for b in 0..params.len() {
        let count = params[b].0.slots().len();
        for s in 0..count {
            let original = *params[b].0.slots()[s];
            *params[b].0.slots()[s] = original + step;
            let up = loss(&params);
            *params[b].0.slots()[s] = original - step;
            let down = loss(&params);
            *params[b].0.slots()[s] = original;
            let numeric = (up - down) / (2.0 * step);
            let found = analytic[b][s];
            let tolerance = 2e-4 * (1.0 + numeric.abs());
            assert!(
                (found - numeric).abs() < tolerance,
                "branch {b} slot {s} (#{slot_index}): autodiff {found} vs finite difference {numeric}"
            );
            slot_index += 1;
        }
    }
}

fn dense_case(first: Activation, second: Activation, layer_norm: bool) {
    let device = Device::flex().autodiff();
    device.seed(7);
    let (rows, d_in, d_out) = (6, 5, 4);
    let layer = DenseLayerConfig {
        d_input: d_in,
        d_output: d_out,
        branches: Branches::Hadamard(first, second),
        layer_norm: layer_norm.then_some(LN_EPS),
        init: Init::TorchDefault,
    }
    .init(&device);
    let x = Tensor::<2>::random([rows, d_in], Distribution::Normal(0.0, 1.0), &device);
    let r = Tensor::<2>::random([rows, d_out], Distribution::Normal(0.0, 1.0), &device);
    let output = layer.forward(x.clone());
    let loss = (output * r.clone()).sum();
    let grads = loss.backward();

    let mut params = Vec::new();
    let mut analytic = Vec::new();
    let second_branch = layer.second.as_ref().unwrap();
    for branch in [&layer.first, second_branch] {
        let weight = branch.linear.weight.val();
        let bias = branch.linear.bias.as_ref().unwrap().val();
        let mut grad = to_f64(weight.grad(&grads).unwrap());
        grad.extend(to_f64(bias.grad(&grads).unwrap()));
        let norm = branch.norm.as_ref().map(|n| {
            let gamma = n.gamma.val();
            let beta = n.beta.as_ref().unwrap().val();
            grad.extend(to_f64(gamma.grad(&grads).unwrap()));
            grad.extend(to_f64(beta.grad(&grads).unwrap()));
            (to_f64(gamma), to_f64(beta))
        });
        params.push((
            Branch {
                weight: to_f64(weight),
                bias: to_f64(bias),
                norm,
            },
            branch.activation,
        ));
        analytic.push(grad);
    }
    let (x, r) = (to_f64(x), to_f64(r));
    let burn_loss = f64::from(loss.into_scalar::<f32>());
    let reference = dense_loss(&x, &r, d_in, d_out, &params);
    assert!(
        (burn_loss - reference).abs() < 1e-4 * (1.0 + reference.abs()),
        "{burn_loss} vs {reference}"
    );
    check_gradients(params, analytic, |p| dense_loss(&x, &r, d_in, d_out, p));
}

#[test]
fn hadamard_tanh_gradients() {
    dense_case(Activation::Tanh, Activation::Tanh, false);
}

#[test]
fn hadamard_tanh_layer_norm_gradients() {
    dense_case(Activation::Tanh, Activation::Tanh, true);
}

#[test]
fn mixed_hadamard_gradients() {
    dense_case(Activation::Tanh, Activation::Sigmoid, false);
    dense_case(Activation::Relu, Activation::Identity, true);
}

/// `sum(R ⊙ (a(x) ⊙ b(x)))` for a stride-1 `VALID` convolution with channel LayerNorm, NCHW.
#[allow(clippy::too_many_arguments)]
fn conv_loss(
    x: &[f64],
    r: &[f64],
    (batch, c_in, side): (usize, usize, usize),
    c_out: usize,
    kernel: usize,
    branches: &[(Branch, Activation)],
) -> f64 {
    let out_side = side - kernel + 1;
    let mut loss = 0.0;
    for n in 0..batch {
        for y in 0..out_side {
            for xx in 0..out_side {
                let mut out = vec![1.0; c_out];
                for (branch, activation) in branches {
                    let mut z: Vec<f64> = (0..c_out)
                        .map(|o| {
                            let mut sum = branch.bias[o];
                            for i in 0..c_in {
                                for ky in 0..kernel {
                                    for kx in 0..kernel {
                                        let w = branch.weight
                                            [((o * c_in + i) * kernel + ky) * kernel + kx];
                                        let v =
                                            x[((n * c_in + i) * side + y + ky) * side + xx + kx];
                                        sum += w * v;
                                    }
                                }
                            }
                            sum
                        })
                        .collect();
                    if let Some((g, b)) = &branch.norm {
                        layer_norm(&mut z, g, b);
                    }
                    for o in 0..c_out {
                        out[o] *= act(*activation, z[o]);
                    }
                }
                for o in 0..c_out {
                    loss += out[o] * r[((n * c_out + o) * out_side + y) * out_side + xx];
                }
            }
        }
    }
    loss
}

#[test]
fn hadamard_conv_with_channel_norm_gradients() {
    let device = Device::flex().autodiff();
    device.seed(11);
    let (batch, c_in, side, c_out, kernel) = (2, 2, 4, 3, 2);
    let layer = ConvLayerConfig {
        c_in,
        c_out,
        kernel,
        stride: 1,
        branches: Branches::Hadamard(Activation::Tanh, Activation::Tanh),
        layer_norm: Some(LN_EPS),
        init: Init::TorchDefault,
    }
    .init(&device);
    let out_side = side - kernel + 1;
    let x = Tensor::<4>::random(
        [batch, c_in, side, side],
        Distribution::Normal(0.0, 1.0),
        &device,
    );
    let r = Tensor::<4>::random(
        [batch, c_out, out_side, out_side],
        Distribution::Normal(0.0, 1.0),
        &device,
    );
    let loss = (layer.forward(x.clone()) * r.clone()).sum();
    let grads = loss.backward();
    let mut params = Vec::new();
    let mut analytic = Vec::new();
    for branch in [&layer.first, layer.second.as_ref().unwrap()] {
        let weight = branch.conv.weight.val();
        let bias = branch.conv.bias.as_ref().unwrap().val();
        let norm = branch.norm.as_ref().unwrap();
        let (gamma, beta) = (norm.gamma.val(), norm.beta.as_ref().unwrap().val());
        let mut grad = to_f64(weight.grad(&grads).unwrap());
        grad.extend(to_f64(bias.grad(&grads).unwrap()));
        grad.extend(to_f64(gamma.grad(&grads).unwrap()));
        grad.extend(to_f64(beta.grad(&grads).unwrap()));
        params.push((
            Branch {
                weight: to_f64(weight),
                bias: to_f64(bias),
                norm: Some((to_f64(gamma), to_f64(beta))),
            },
            branch.activation,
        ));
        analytic.push(grad);
    }
    let (x, r) = (to_f64(x), to_f64(r));
    let dims = (batch, c_in, side);
    let reference = conv_loss(&x, &r, dims, c_out, kernel, &params);
    let burn_loss = f64::from(loss.into_scalar::<f32>());
    assert!(
        (burn_loss - reference).abs() < 1e-4 * (1.0 + reference.abs()),
        "{burn_loss} vs {reference}"
    );
    check_gradients(params, analytic, |p| {
        conv_loss(&x, &r, dims, c_out, kernel, p)
    });
}
