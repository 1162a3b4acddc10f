//! CReLU (`crelu`): outputs `[relu(z), relu(-z)]` for `z = W x + b`, doubling the features the
//! next layer sees; checked against the definition computed by hand, finite differences and
//! parameter counts worked out by hand.

use burn::module::Module;
use burn::tensor::{Device, Tensor, TensorData};
use hrl_nn::dense::DenseLayerConfig;
use hrl_nn::init::Init;
use hrl_nn::network::{Head, NetworkConfig};
use hrl_nn::repr::{Activation, Branches, ReprSpec};
use hrl_nn::torso::{HrPlacement, TorsoConfig, TorsoKind};

fn values<const D: usize>(t: Tensor<D>) -> Vec<f64> {
    t.into_data().iter::<f32>().map(f64::from).collect()
}

fn crelu_layer(device: &Device) -> hrl_nn::dense::DenseLayer {
    DenseLayerConfig {
        d_input: 3,
        d_output: 2,
        branches: Branches::Single(Activation::Crelu),
        layer_norm: None,
        init: Init::TorchDefault,
    }
    .init(device)
}

#[test]
fn the_outputs_are_relu_of_z_then_relu_of_minus_z() {
    let device = Device::flex();
    device.seed(3);
    let layer = crelu_layer(&device);
    let w = values(layer.first.linear.weight.val()); // [3, 2], row-major
    let b = values(layer.first.linear.bias.as_ref().unwrap().val());
    let x = [[1.0, -2.0, 0.5], [-0.3, 0.8, 2.0]];
    let input = Tensor::<2>::from_data(
        TensorData::new(x.iter().flatten().map(|&v| v as f32).collect(), [2, 3]),
        &device,
    );
    let got = values(layer.forward(input));
    assert_eq!(got.len(), 2 * 4);
    for (row, x) in x.iter().enumerate() {
        let z: Vec<f64> = (0..2)
            .map(|j| (0..3).map(|i| x[i] * w[i * 2 + j]).sum::<f64>() + b[j])
            .collect();
        let expected = [
            z[0].max(0.0),
            z[1].max(0.0),
            (-z[0]).max(0.0),
            (-z[1]).max(0.0),
        ];
        for (k, e) in expected.iter().enumerate() {
            assert!((got[row * 4 + k] - e).abs() < 1e-6, "row {row} output {k}");
        }
    }
}

#[test]
fn input_gradients_match_finite_differences() {
    let device = Device::flex().autodiff();
    device.seed(5);
    let layer = crelu_layer(&device);
    let weights = [0.3, -1.2, 0.7, 2.0]; // loss = sum_k weights[k] * y_k
    let loss_of = |x: &[f64; 3]| -> f64 {
        let input = Tensor::<2>::from_data(
            TensorData::new(x.iter().map(|&v| v as f32).collect(), [1, 3]),
            &device,
        );
        let y = values(layer.forward(input));
        y.iter().zip(weights).map(|(y, w)| y * w).sum()
    };
    let x = [0.9, -0.4, 1.3];
    let input = Tensor::<2>::from_data(
        TensorData::new(x.iter().map(|&v| v as f32).collect(), [1, 3]),
        &device,
    )
    .require_grad();
    let c = Tensor::<2>::from_data(
        TensorData::new(weights.iter().map(|&v| v as f32).collect(), [1, 4]),
        &device,
    );
    let loss = (layer.forward(input.clone()) * c).sum();
    let grads = loss.backward();
    let analytic = values(input.grad(&grads).unwrap());
    let h = 1e-2;
    for i in 0..3 {
        let (mut up, mut down) = (x, x);
        up[i] += h;
        down[i] -= h;
        let numeric = (loss_of(&up) - loss_of(&down)) / (2.0 * h);
        assert!(
            (analytic[i] - numeric).abs() < 1e-3,
            "input {i}: autodiff {} vs finite differences {numeric}",
            analytic[i]
        );
    }
}

fn minatar(repr: &str) -> NetworkConfig {
    NetworkConfig {
        torso: TorsoConfig::new(TorsoKind::Minatar, repr.parse::<ReprSpec>().unwrap()),
        head: Head::default(),
        num_actions: 6,
    }
}

#[test]
fn the_next_layer_and_the_head_see_twice_the_units() {
    // MinAtar: conv16 3x3 on [4, 10, 10] -> 1024 features -> repr 128 -> head.
    let conv = 16 * 4 * 9 + 16;
    let crelu = minatar("crelu");
    let plan = crelu.torso_plan().unwrap();
    assert_eq!(plan.repr.output_features(), 256);
    assert_eq!(
        crelu.num_params().unwrap(),
        conv + 1024 * 128 + 128 + (256 + 1) * 6
    );
    // Every hidden layer CReLU: the conv's 32 output channels feed the representation layer.
    let mut all = minatar("crelu");
    all.torso.placement = HrPlacement::All;
    let plan = all.torso_plan().unwrap();
    assert_eq!(plan.repr.d_input, 32 * 8 * 8);
    assert_eq!(
        all.num_params().unwrap(),
        conv + 2048 * 128 + 128 + (256 + 1) * 6
    );
    let device = Device::flex();
    for config in [crelu, all] {
        let q = config.init_q(&device).unwrap();
        assert_eq!(q.num_params(), config.num_params().unwrap());
        let obs = Tensor::<2>::zeros([3, 400], &device);
        assert_eq!(q.forward(obs).dims(), [3, 6]);
    }
}

#[test]
fn matched_crelu_has_the_parameter_count_of_hadamard_crelu() {
    let hadamard = minatar("hr-crelu").num_params().unwrap() as i64;
    let matched = minatar("crelu@matched");
    let width = matched.repr_width().unwrap();
    let params = matched.num_params().unwrap() as i64;
    // One unit more or less moves the count by 1024 + 1 + 2 * 6 parameters.
    assert!(
        (params - hadamard).abs() <= (1024 + 1 + 12) / 2 + 1,
        "{params} vs {hadamard}"
    );
    assert!(width > 128, "{width}");
}

#[test]
fn crelu_pairs_only_with_itself() {
    assert!("hr-crelu".parse::<ReprSpec>().is_ok());
    let err = "hr-crelu*relu".parse::<ReprSpec>().unwrap_err().to_string();
    assert!(err.contains("pairs only with itself"), "{err}");
    assert_eq!(
        "crelu+ln@64".parse::<ReprSpec>().unwrap().to_string(),
        "crelu+ln@64"
    );
}
