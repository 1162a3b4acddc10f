//! Parameter counts, shapes and forward values of whole networks.

use burn::tensor::{Device, Tensor, TensorData};
use hrl_nn::network::{Head, NetworkConfig};
use hrl_nn::repr::ReprSpec;
use hrl_nn::torso::{HrPlacement, TorsoConfig, TorsoKind};

fn network(kind: TorsoKind, repr: &str, num_actions: usize) -> NetworkConfig {
    let repr: ReprSpec = repr.parse().unwrap();
    NetworkConfig {
        torso: TorsoConfig::new(kind, repr),
        head: Head::default(),
        num_actions,
    }
}

#[test]
fn nature_cnn_parameter_counts() {
    // conv 8,224 + 32,832 + 36,928; fc 3136*512 + 512; head 513 * 6.
    let single = network(TorsoKind::Nature, "relu", 6);
    assert_eq!(single.num_params().unwrap(), 1_687_206);
    let hadamard = network(TorsoKind::Nature, "hr-tanh", 6);
    assert_eq!(hadamard.num_params().unwrap(), 1_687_206 + 1_606_144);
    // LayerNorm adds 2 * 512 per branch.
    let with_ln = network(TorsoKind::Nature, "hr-tanh+ln", 6);
    assert_eq!(with_ln.num_params().unwrap(), 1_687_206 + 1_606_144 + 2048);
}

#[test]
fn counted_parameters_equal_the_built_modules() {
    use burn::module::Module;
    let device = Device::flex();
    for (kind, repr) in [
        (TorsoKind::Nature, "hr-tanh"),
        (TorsoKind::Minatar, "tanh+ln@matched"),
        (TorsoKind::Mlp, "hr-relu*gelu+ln@32"),
    ] {
        let mut config = network(kind, repr, 5);
        config.torso.layer_norm_all = kind == TorsoKind::Minatar;
        let q = config.init_q(&device).unwrap();
        assert_eq!(
            q.num_params(),
            config.num_params().unwrap(),
            "{kind:?} {repr}"
        );
        let summed: usize = config.summary().unwrap().iter().map(|l| l.params).sum();
        assert_eq!(summed, q.num_params());
        config.head = Head::cleanrl_actor_critic();
        let ac = config.init_actor_critic(&device).unwrap();
        assert_eq!(
            ac.num_params(),
            config.num_params().unwrap(),
            "{kind:?} {repr}"
        );
    }
    let mut all = network(TorsoKind::Nature, "hr-tanh+ln", 18);
    all.torso.placement = HrPlacement::All;
    let built = all.init_q(&device).unwrap();
    assert_eq!(built.num_params(), all.num_params().unwrap());
}

#[test]
fn matched_width_is_within_half_a_percent_of_the_hadamard_count() {
    for kind in [TorsoKind::Nature, TorsoKind::Minatar, TorsoKind::Mlp] {
        for actions in [3, 4, 6, 18] {
            for act in ["tanh", "relu", "sigmoid+ln"] {
                let matched = network(kind, &format!("{act}@matched"), actions);
                let spec: ReprSpec = act.parse().unwrap();
                let target = network(kind, &spec.hadamard_counterpart().to_string(), actions)
                    .num_params()
                    .unwrap() as f64;
                let count = matched.num_params().unwrap() as f64;
                assert!(
                    (count / target - 1.0).abs() < 0.005,
                    "{kind:?} {act} {actions}: {count} vs {target}"
                );
            }
        }
    }
    // The paper's formula: w = (3,212,288 + 512 |A|) / (3137 + |A|) ~ 1021 for 18 actions.
    assert_eq!(
        network(TorsoKind::Nature, "tanh@matched", 18).repr_width(),
        Ok(1021)
    );
    assert_eq!(
        network(TorsoKind::Nature, "tanh@matched", 4).repr_width(),
        Ok(1023)
    );
}

#[test]
fn matched_with_every_layer_is_rejected() {
    let mut config = network(TorsoKind::Minatar, "tanh@matched", 6);
    config.torso.placement = HrPlacement::All;
    let err = config.num_params().unwrap_err().to_string();
    assert!(err.contains("--hr-placement final"), "{err}");
}

#[test]
fn forward_shapes() {
    let device = Device::flex();
    device.seed(0);
    let mut config = network(TorsoKind::Minatar, "hr-tanh", 6);
    config.torso.obs_shape = vec![7, 10, 10];
    let q = config.init_q(&device).unwrap();
    let obs = Tensor::<2>::ones([3, 700], &device);
    let (values, repr) = q.forward_with_repr(obs);
    assert_eq!(values.dims(), [3, 6]);
    assert_eq!(repr.output.dims(), [3, 128]);
    let (a, b) = repr.branches.expect("a Hadamard layer keeps its branches");
    let product = a * b;
    let diff: f32 = (product - repr.output).abs().max().into_scalar();
    assert_eq!(diff, 0.0);
}

#[test]
fn bad_observation_shapes_are_errors() {
    let mut config = network(TorsoKind::Nature, "relu", 6);
    config.torso.obs_shape = vec![4, 84];
    assert!(
        config
            .num_params()
            .unwrap_err()
            .to_string()
            .contains("[C, H, W]")
    );
    config.torso.obs_shape = vec![4, 10, 10];
    let err = config.num_params().unwrap_err().to_string();
    assert!(err.contains("too small for convolution 2"), "{err}");
    let zero = network(TorsoKind::Mlp, "relu", 0);
    assert!(zero.num_params().is_err());
}

/// With the second branch's weights at zero and its bias `b`, a tanh Hadamard layer is
/// `tanh(b) * tanh(W1 x + b1)`.
#[test]
fn hadamard_with_constant_second_branch_scales_the_first() {
    let device = Device::flex();
    device.seed(4);
    let config = network(TorsoKind::Mlp, "hr-tanh@8", 2);
    let mut q = config.init_q(&device).unwrap();
    let bias = 0.3f32;
    let second = q.torso.repr.second.as_mut().unwrap();
    second.linear.weight = burn::module::Param::from_tensor(Tensor::zeros([64, 8], &device));
    second.linear.bias = Some(burn::module::Param::from_tensor(Tensor::full(
        [8],
        bias,
        &device,
    )));
    let obs = Tensor::<2>::from_data(
        TensorData::new(vec![0.1f32, -0.2, 0.3, 0.4, 1.0, 2.0, -1.0, 0.5], [2, 4]),
        &device,
    );
    let repr = q.torso.forward(obs.clone());
    let (first, _) = repr.branches.unwrap();
    let expected = first.mul_scalar(bias.tanh());
    let diff: f32 = (repr.output - expected).abs().max().into_scalar();
    assert!(diff < 1e-7, "{diff}");
}
