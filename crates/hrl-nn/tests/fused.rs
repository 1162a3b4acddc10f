//! The fused training step against burn's autodiff: for every torso kind, layer kind and
//! activation the fused step takes, `Q(s_i, a_i)` and the gradient of every parameter of a loss
//! `Σ_i c_i Q(s_i, a_i)` agree with `QNetwork::forward` differentiated by burn; the networks it
//! declines are declined; a step repeated gives the same bits. Every action's Q-value from
//! `FusedQ::q_values` agrees with `QNetwork::forward`, on the autodiff and the plain device.

use std::collections::HashMap;

use burn::module::{Module, ParamId};
use burn::optim::GradientsParams;
use burn::tensor::{Device, Int, Tensor, TensorData};
use hrl_nn::fused::FusedQ;
use hrl_nn::network::{Head, NetworkConfig, QNetwork};
use hrl_nn::surgery::parameters;
use hrl_nn::torso::{HrPlacement, TorsoConfig, TorsoKind};

const ACTIONS: usize = 3;
const BATCH: usize = 5;

fn network(kind: TorsoKind, repr: &str, obs_shape: Vec<usize>, input_scale: f64) -> QNetwork {
    let mut torso = TorsoConfig::new(kind, repr.parse().unwrap());
    torso.obs_shape = obs_shape;
    torso.input_scale = input_scale;
    if kind == TorsoKind::Mlp {
        torso.hidden = vec![16, 8];
    }
    config_network(torso)
}

fn config_network(torso: TorsoConfig) -> QNetwork {
    NetworkConfig {
        torso,
        head: Head::default(),
        num_actions: ACTIONS,
    }
    .init_q(&Device::flex().autodiff())
    .unwrap()
}

/// Observations spread over both signs (ReLU units on either side of zero) and a few
/// magnitudes (tanh units near saturation too).
fn observations(obs_len: usize) -> Vec<f32> {
    (0..BATCH * obs_len)
        .map(|i| ((i * 7919 % 1013) as f32 / 1013.0 - 0.4) * 3.0)
        .collect()
}

fn actions() -> Vec<usize> {
    (0..BATCH).map(|i| (i * 2 + 1) % ACTIONS).collect()
}

/// The loss's derivative with respect to each `Q(s_i, a_i)`.
fn loss_weights() -> Vec<f32> {
    (0..BATCH).map(|i| 0.3 - 0.17 * i as f32).collect()
}

/// `(Q(s_i, a_i), gradient per parameter)` by burn's autodiff.
fn by_autodiff(model: &QNetwork, obs: &[f32]) -> (Vec<f32>, HashMap<ParamId, Vec<f32>>) {
    let device = Device::flex().autodiff();
    let obs_len = obs.len() / BATCH;
    let obs = Tensor::<2>::from_data(TensorData::new(obs.to_vec(), [BATCH, obs_len]), &device);
    let actions: Vec<i64> = actions().into_iter().map(|a| a as i64).collect();
    let actions = Tensor::<2, Int>::from_data(TensorData::new(actions, [BATCH, 1]), &device);
    let weights = Tensor::<2>::from_data(TensorData::new(loss_weights(), [BATCH, 1]), &device);
    let q = model.forward(obs).gather(1, actions);
    let q_values = q.clone().into_data().iter::<f32>().collect();
    let loss = (q * weights).sum();
    let grads = GradientsParams::from_grads(loss.backward(), model);
    (q_values, flat_grads(model, &grads))
}

fn by_fused(model: &QNetwork, obs: &[f32]) -> (Vec<f32>, HashMap<ParamId, Vec<f32>>) {
    let mut fused = FusedQ::new(model).expect("the fused step takes this network");
    let q = fused.forward(model, obs, &actions()).to_vec();
    let grads = fused.backward(&loss_weights(), &Device::flex());
    (q, flat_grads(model, &grads))
}

fn flat_grads(model: &QNetwork, grads: &GradientsParams) -> HashMap<ParamId, Vec<f32>> {
    struct Collect<'a> {
        grads: &'a GradientsParams,
        out: HashMap<ParamId, Vec<f32>>,
    }
    impl burn::module::ModuleVisitor for Collect<'_> {
        fn visit_float<const D: usize>(&mut self, param: &burn::module::Param<Tensor<D>>) {
            if let Some(grad) = self.grads.get::<D>(param.id) {
                self.out
                    .insert(param.id, grad.into_data().iter::<f32>().collect());
            }
        }
    }
    let mut collect = Collect {
        grads,
        out: HashMap::new(),
    };
    burn::module::Module::visit(model, &mut collect);
    collect.out
}

fn assert_close(what: &str, fused: &[f32], autodiff: &[f32]) {
    assert_eq!(fused.len(), autodiff.len(), "{what}: lengths");
    let scale = autodiff.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    for (i, (&f, &a)) in fused.iter().zip(autodiff).enumerate() {
        assert!(
            (f - a).abs() <= 2e-5 * scale.max(1e-3),
            "{what}[{i}]: fused {f}, autodiff {a} (largest |value| {scale})"
        );
    }
}

/// Every action's Q-value by `QNetwork::forward`, action-major as `FusedQ::q_values` gives them.
fn all_q_by_burn(model: &QNetwork, obs: &[f32], device: &Device) -> Vec<f32> {
    let obs_len = obs.len() / BATCH;
    let obs = Tensor::<2>::from_data(TensorData::new(obs.to_vec(), [BATCH, obs_len]), device);
    let q: Vec<f32> = model.forward(obs).into_data().iter::<f32>().collect();
    (0..ACTIONS * BATCH)
        .map(|i| q[(i % BATCH) * ACTIONS + i / BATCH])
        .collect()
}

fn check(model: &QNetwork, label: &str) {
    let obs_len: usize = model.torso.obs_shape.iter().product();
    let obs = observations(obs_len);
    let mut fused = FusedQ::new(model).expect("the fused step takes this network");
    let plain = model.valid();
    let device = Device::flex().autodiff();
    for (network, device, what) in [
        (model, &device, "online"),
        (&plain, &Device::flex(), "plain copy"),
    ] {
        let by_burn = all_q_by_burn(network, &obs, device);
        let by_fused = fused.q_values(network, &obs, BATCH);
        assert_close(&format!("{label} {what}: all Q"), by_fused, &by_burn);
    }
    let (q_fused, grads_fused) = by_fused(model, &obs);
    let (q_autodiff, grads_autodiff) = by_autodiff(model, &obs);
    assert_close(&format!("{label} Q"), &q_fused, &q_autodiff);
    let params = parameters(model).unwrap();
    assert_eq!(
        grads_autodiff.len(),
        params.len(),
        "{label}: autodiff grads"
    );
    assert_eq!(
        grads_fused.len(),
        params.len(),
        "{label}: one fused grad per parameter"
    );
    for (index, (id, _)) in params.iter().enumerate() {
        let what = format!("{label} parameter {index}");
        let nonzero = grads_autodiff[id].iter().any(|&g| g != 0.0);
        assert!(nonzero, "{what}: the test exercises no gradient here");
        assert_close(&what, &grads_fused[id], &grads_autodiff[id]);
    }
}

#[test]
fn minatar_gradients_match_autodiff_for_every_activation_taken() {
    for repr in [
        "relu",
        "tanh",
        "sigmoid",
        "hr-tanh",
        "hr-relu",
        "tanh@matched",
    ] {
        let model = network(TorsoKind::Minatar, repr, vec![4, 10, 10], 1.0);
        check(&model, &format!("minatar {repr}"));
    }
}

#[test]
fn nature_gradients_match_autodiff_through_three_strided_convolutions() {
    // 36 pixels: 8x8 after the stride-4 kernel, 3x3 after stride 2, 1x1 after the last.
    for repr in ["relu", "hr-tanh"] {
        let model = network(TorsoKind::Nature, repr, vec![4, 36, 36], 1.0 / 255.0);
        check(&model, &format!("nature {repr}"));
    }
}

#[test]
fn hadamard_convolutions_and_mlp_layers_match_autodiff() {
    let mut torso = TorsoConfig::new(TorsoKind::Minatar, "hr-tanh".parse().unwrap());
    torso.obs_shape = vec![3, 6, 7];
    torso.placement = HrPlacement::All;
    check(&config_network(torso), "minatar hr-tanh in every layer");
    let model = network(TorsoKind::Mlp, "hr-tanh", vec![6], 1.0);
    check(&model, "mlp hr-tanh");
    let model = network(TorsoKind::Mlp, "identity", vec![6], 0.5);
    check(&model, "mlp identity");
}

#[test]
fn layer_norm_crelu_and_gelu_are_declined() {
    for repr in ["tanh+ln", "hr-tanh+ln", "crelu", "gelu", "hr-gelu"] {
        let model = network(TorsoKind::Minatar, repr, vec![4, 10, 10], 1.0);
        assert!(FusedQ::new(&model).is_none(), "{repr} declined");
    }
}

#[test]
#[should_panic(expected = "a forward pass awaits this backward pass")]
fn q_values_between_forward_and_backward_leave_nothing_to_differentiate() {
    let model = network(TorsoKind::Minatar, "relu", vec![4, 10, 10], 1.0);
    let obs = observations(400);
    let mut fused = FusedQ::new(&model).unwrap();
    fused.forward(&model, &obs, &actions());
    fused.q_values(&model, &obs, BATCH);
    fused.backward(&loss_weights(), &Device::flex());
}

#[test]
fn a_step_repeated_gives_the_same_bits() {
    let model = network(TorsoKind::Minatar, "hr-tanh", vec![4, 10, 10], 1.0);
    let obs = observations(400);
    let mut fused = FusedQ::new(&model).unwrap();
    let mut run = || {
        let q = fused.forward(&model, &obs, &actions()).to_vec();
        let grads = flat_grads(&model, &fused.backward(&loss_weights(), &Device::flex()));
        (q, grads)
    };
    let (q_1, grads_1) = run();
    let (q_2, grads_2) = run();
    assert_eq!(q_1, q_2);
    assert_eq!(grads_1, grads_2);
}

#[test]
fn products_split_over_threads_give_the_bits_of_one_thread() {
    // At 16 samples the first Nature convolution (12x12 outputs of 8x8x4 patches, 32 channels)
    // is a product of 19M multiply-adds, which runs on the pool's threads.
    let model = network(TorsoKind::Nature, "hr-tanh", vec![4, 52, 52], 1.0 / 255.0);
    let batch = 16;
    let obs: Vec<f32> = (0..batch * 4 * 52 * 52)
        .map(|i| (i * 7919 % 256) as f32)
        .collect();
    let actions: Vec<usize> = (0..batch).map(|i| i % ACTIONS).collect();
    let loss: Vec<f32> = (0..batch).map(|i| 0.1 * i as f32 - 0.5).collect();
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            let mut fused = FusedQ::new(&model).unwrap();
            let q = fused.forward(&model, &obs, &actions).to_vec();
            let grads = flat_grads(&model, &fused.backward(&loss, &Device::flex()));
            (q, grads)
        })
    };
    assert!(run(1) == run(3));
}
