//! The network half of ReDo, shrink-and-perturb and resets, checked on tiny networks against
//! parameter elements worked out by hand from burn's layouts: exactly the dormant units'
//! incoming elements take fresh values and their outgoing elements become zero, nothing else
//! changes, and the network's outputs do not move at the moment of recycling.

use std::collections::{BTreeSet, HashMap};

use burn::module::{Param, ParamId};
use burn::tensor::{Device, Distribution, Tensor};
use hrl_nn::intervene::{last_layers, redo, reset_params, shrink_perturb};
use hrl_nn::network::{Head, NetworkConfig, QNetwork};
use hrl_nn::surgery::{fresh_values, parameters};
use hrl_nn::torso::{TorsoConfig, TorsoKind};
use hrl_nn::units::layer_units;

/// The device's random stream is the process's: networks initialised in tests running side
/// by side would interleave their draws, so each test holds this while it runs.
static DEVICE_RNG: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    DEVICE_RNG.lock().unwrap_or_else(|e| e.into_inner())
}

fn network(
    kind: TorsoKind,
    repr: &str,
    obs_shape: Vec<usize>,
    hidden: Vec<usize>,
) -> NetworkConfig {
    let mut torso = TorsoConfig::new(kind, repr.parse().unwrap());
    torso.obs_shape = obs_shape;
    torso.hidden = hidden;
    torso.input_scale = 1.0;
    NetworkConfig {
        torso,
        head: Head::default(),
        num_actions: 2,
    }
}

fn set_bias(bias: &mut Option<Param<Tensor<1>>>, unit: usize, value: f32, device: &Device) {
    let param = bias.take().unwrap();
    let mut values: Vec<f32> = param.val().into_data().iter::<f32>().collect();
    values[unit] = value;
    let len = values.len();
    *bias = Some(Param::initialized(
        param.id,
        Tensor::from_data(burn::tensor::TensorData::new(values, [len]), device),
    ));
}

/// Per parameter id, the flat indices whose values differ between `before` and `after`.
fn changed(before: &QNetwork, after: &QNetwork) -> HashMap<ParamId, BTreeSet<usize>> {
    let after: HashMap<_, _> = parameters(after).unwrap().into_iter().collect();
    parameters(before)
        .unwrap()
        .into_iter()
        .filter_map(|(id, old)| {
            let new = &after[&id];
            let diff: BTreeSet<usize> = (0..old.len())
                .filter(|&i| old[i].to_bits() != new[i].to_bits())
                .collect();
            (!diff.is_empty()).then_some((id, diff))
        })
        .collect()
}

fn values_of(net: &QNetwork, id: ParamId) -> Vec<f32> {
    parameters(net)
        .unwrap()
        .into_iter()
        .find(|(i, _)| *i == id)
        .unwrap()
        .1
}

fn q_values(net: &QNetwork, states: &Tensor<2>) -> Vec<f32> {
    net.forward(states.clone())
        .into_data()
        .iter::<f32>()
        .collect()
}

#[test]
fn redo_recycles_a_dead_dense_unit_and_nothing_else() {
    let _device_rng = one_at_a_time();
    let device = Device::flex();
    device.seed(1);
    let config = network(TorsoKind::Mlp, "relu@2", vec![3], vec![4]);
    let mut net = config.init_q(&device).unwrap();
    // fc1 unit 1 is dead on inputs in [0, 1): bias -100.
    set_bias(
        &mut net.torso.hidden[0].first.linear.bias,
        1,
        -100.0,
        &device,
    );
    device.seed(2);
    let fresh_net = config.init_q(&device).unwrap();
    let fresh = fresh_values(&net, &fresh_net).unwrap();
    let states = Tensor::<2>::random([64, 3], Distribution::Default, &device);
    let before_q = q_values(&net, &states);
    let before = net.clone();
    let outcome = redo(net, states.clone(), 0.0, &fresh).unwrap();
    let after = &outcome.network;
    let recycled: Vec<_> = outcome
        .layers
        .iter()
        .map(|l| (l.layer.as_str(), l.recycled))
        .collect();
    assert_eq!(recycled, [("fc1", 1), ("repr", 0)]);

    // fc1: weight [3, 4] column 1 = elements 1, 5, 9; bias element 1. repr weight [4, 2]: row 1
    // = elements 2, 3.
    let fc1 = &before.torso.hidden[0].first.linear;
    let repr = &before.torso.repr.first.linear;
    let (w1, b1, w2) = (fc1.weight.id, fc1.bias.as_ref().unwrap().id, repr.weight.id);
    let expected: HashMap<ParamId, BTreeSet<usize>> = [
        (w1, BTreeSet::from([1, 5, 9])),
        (b1, BTreeSet::from([1])),
        (w2, BTreeSet::from([2, 3])),
    ]
    .into_iter()
    .collect();
    let diff = changed(&before, after);
    assert_eq!(diff, expected);
    for i in [1, 5, 9] {
        assert_eq!(values_of(after, w1)[i], fresh[&w1][i]);
    }
    assert_eq!(values_of(after, b1)[1], fresh[&b1][1]);
    assert_eq!(&values_of(after, w2)[2..4], &[0.0, 0.0]);
    let touched: BTreeSet<_> = outcome.touched[&w2].1.iter().copied().collect();
    assert_eq!(touched, BTreeSet::from([2, 3]));
    // Outgoing weights are zero, so the outputs are unchanged at the moment of recycling.
    assert_eq!(q_values(after, &states), before_q);
}

#[test]
fn redo_on_a_convolution_recycles_channels_and_their_flattened_rows() {
    let _device_rng = one_at_a_time();
    let device = Device::flex();
    device.seed(3);
    // [2, 5, 5] -> conv 16 k3 s1 -> [16, 3, 3] -> flatten 144 -> repr 4 -> 2 actions.
    let config = network(TorsoKind::Minatar, "relu@4", vec![2, 5, 5], vec![]);
    let mut net = config.init_q(&device).unwrap();
    set_bias(&mut net.torso.convs[0].first.conv.bias, 3, -100.0, &device);
    device.seed(4);
    let fresh = fresh_values(&net, &config.init_q(&device).unwrap()).unwrap();
    let states = Tensor::<2>::random([32, 50], Distribution::Normal(0.0, 1.0), &device);
    let before = net.clone();
    let before_q = q_values(&net, &states);
    let outcome = redo(net, states.clone(), 0.0, &fresh).unwrap();
    assert_eq!(outcome.layers[0].recycled, 1);
    let conv = &before.torso.convs[0].first.conv;
    let repr = &before.torso.repr.first.linear;
    // Kernel [16, 2, 3, 3]: channel 3 is elements 54..72; the repr weight [144, 4] reads
    // channel 3 in rows 27..36, elements 108..144.
    let expected: HashMap<ParamId, BTreeSet<usize>> = [
        (conv.weight.id, (54..72).collect()),
        (conv.bias.as_ref().unwrap().id, BTreeSet::from([3])),
        (repr.weight.id, (108..144).collect()),
    ]
    .into_iter()
    .collect();
    assert_eq!(changed(&before, &outcome.network), expected);
    assert_eq!(q_values(&outcome.network, &states), before_q);
}

#[test]
fn redo_between_two_convolutions_zeroes_the_next_kernels_input_channel() {
    let _device_rng = one_at_a_time();
    let device = Device::flex();
    device.seed(19);
    // The Nature torso on [1, 36, 36]: conv1 32 k8 s4 -> 8x8, conv2 64 k4 s2 -> 3x3, conv3 64 k3
    // s1 -> 1x1, flatten 64 -> repr 4.
    let config = network(TorsoKind::Nature, "relu@4", vec![1, 36, 36], vec![]);
    let mut net = config.init_q(&device).unwrap();
    set_bias(&mut net.torso.convs[1].first.conv.bias, 5, -100.0, &device);
    device.seed(14);
    let fresh = fresh_values(&net, &config.init_q(&device).unwrap()).unwrap();
    let states = Tensor::<2>::random([64, 36 * 36], Distribution::Normal(0.0, 1.0), &device);
    let before = net.clone();
    let before_q = q_values(&net, &states);
    let outcome = redo(net, states.clone(), 0.0, &fresh).unwrap();
    let recycled: Vec<usize> = outcome.layers.iter().map(|l| l.recycled).collect();
    assert_eq!(recycled[1], 1, "{recycled:?}");
    let conv2 = &before.torso.convs[1].first.conv;
    let conv3 = &before.torso.convs[2].first.conv;
    // conv2's kernel [64, 32, 4, 4]: channel 5 is elements 2560..3072. conv3's kernel
    // [64, 64, 3, 3] reads input channel 5 at o * 576 + 45 .. + 9 for every output channel o.
    let reads: BTreeSet<usize> = (0..64).flat_map(|o| o * 576 + 45..o * 576 + 54).collect();
    let diff = changed(&before, &outcome.network);
    assert_eq!(diff[&conv2.weight.id], (2560..3072).collect());
    assert_eq!(diff[&conv2.bias.as_ref().unwrap().id], BTreeSet::from([5]));
    assert_eq!(diff[&conv3.weight.id], reads);
    assert_eq!(q_values(&outcome.network, &states), before_q);
}

#[test]
fn redo_recycles_both_branches_of_a_silent_hadamard_unit() {
    let _device_rng = one_at_a_time();
    let device = Device::flex();
    device.seed(5);
    // Unit 0 of the first branch: weights and bias zero, no LayerNorm, so tanh(0) = 0 and the
    // product is 0 on every state.
    let config = network(TorsoKind::Mlp, "hr-tanh@3", vec![2], vec![4]);
    let mut net = config.init_q(&device).unwrap();
    set_bias(&mut net.torso.repr.first.linear.bias, 0, 0.0, &device);
    let weight = &net.torso.repr.first.linear.weight;
    let mut w: Vec<f32> = weight.val().into_data().iter::<f32>().collect();
    for row in 0..4 {
        w[row * 3] = 0.0;
    }
    net.torso.repr.first.linear.weight = Param::initialized(
        weight.id,
        Tensor::from_data(burn::tensor::TensorData::new(w, [4, 3]), &device),
    );
    device.seed(6);
    let fresh = fresh_values(&net, &config.init_q(&device).unwrap()).unwrap();
    let states = Tensor::<2>::random([16, 2], Distribution::Normal(0.0, 1.0), &device);
    let before = net.clone();
    let outcome = redo(net, states, 0.0, &fresh).unwrap();
    assert_eq!(outcome.layers[1].recycled, 1);
    let (a, b) = (
        &before.torso.repr.first.linear,
        &before.torso.repr.second.as_ref().unwrap().linear,
    );
    // Both branches' column 0 of [4, 3] (0, 3, 6, 9) and bias 0; the head [3, 2] row 0.
    let expected: HashMap<ParamId, BTreeSet<usize>> = [
        (a.weight.id, BTreeSet::from([0, 3, 6, 9])),
        (a.bias.as_ref().unwrap().id, BTreeSet::from([0])),
        (b.weight.id, BTreeSet::from([0, 3, 6, 9])),
        (b.bias.as_ref().unwrap().id, BTreeSet::from([0])),
        (before.head.weight.id, BTreeSet::from([0, 1])),
    ]
    .into_iter()
    .collect();
    // Parameters that happened to draw the same value are not "changed"; none do here.
    assert_eq!(changed(&before, &outcome.network), expected);
}

#[test]
fn redo_zeroes_both_outgoing_rows_of_a_crelu_unit() {
    let _device_rng = one_at_a_time();
    let device = Device::flex();
    device.seed(7);
    // fc1 is CReLU only with --hr-placement all; here the repr layer is crelu@2 feeding the head
    // [4, 2]: unit 1's features are 1 and 3. A CReLU unit with z = 0 everywhere is dormant.
    let config = network(TorsoKind::Mlp, "crelu@2", vec![2], vec![3]);
    let mut net = config.init_q(&device).unwrap();
    set_bias(&mut net.torso.repr.first.linear.bias, 1, 0.0, &device);
    let weight = &net.torso.repr.first.linear.weight;
    let mut w: Vec<f32> = weight.val().into_data().iter::<f32>().collect();
    for row in 0..3 {
        w[row * 2 + 1] = 0.0;
    }
    net.torso.repr.first.linear.weight = Param::initialized(
        weight.id,
        Tensor::from_data(burn::tensor::TensorData::new(w, [3, 2]), &device),
    );
    device.seed(8);
    let fresh = fresh_values(&net, &config.init_q(&device).unwrap()).unwrap();
    let states = Tensor::<2>::random([16, 2], Distribution::Normal(0.0, 1.0), &device);
    let before = net.clone();
    let outcome = redo(net, states, 0.0, &fresh).unwrap();
    assert_eq!(outcome.layers[1].recycled, 1);
    let head = before.head.weight.id;
    // Head [4, 2]: rows 1 and 3 are elements 2, 3, 6, 7.
    assert_eq!(
        changed(&before, &outcome.network)[&head],
        BTreeSet::from([2, 3, 6, 7])
    );
}

#[test]
fn shrink_and_perturb_is_the_formula_to_the_last_bit() {
    let _device_rng = one_at_a_time();
    let device = Device::flex();
    device.seed(9);
    let config = network(TorsoKind::Minatar, "hr-tanh+ln@8", vec![2, 5, 5], vec![]);
    let net = config.init_q(&device).unwrap();
    device.seed(10);
    let fresh = fresh_values(&net, &config.init_q(&device).unwrap()).unwrap();
    let before = parameters(&net).unwrap();
    let after = parameters(&shrink_perturb(net, 0.8, 0.2, &fresh).unwrap()).unwrap();
    assert_eq!(before.len(), after.len());
    for ((id, old), (id_after, new)) in before.iter().zip(&after) {
        assert_eq!(id, id_after);
        for ((o, n), f) in old.iter().zip(new).zip(&fresh[id]) {
            let expected = 0.8f32 * o + 0.2f32 * f;
            assert_eq!(n.to_bits(), expected.to_bits());
        }
    }
}

#[test]
fn a_reset_of_the_last_k_layers_replaces_exactly_their_parameters() {
    let _device_rng = one_at_a_time();
    let device = Device::flex();
    device.seed(11);
    let config = network(TorsoKind::Mlp, "hr-tanh@3", vec![2], vec![4]);
    let net = config.init_q(&device).unwrap();
    device.seed(12);
    let fresh = fresh_values(&net, &config.init_q(&device).unwrap()).unwrap();
    let head: BTreeSet<ParamId> = [net.head.weight.id, net.head.bias.as_ref().unwrap().id].into();
    let one: BTreeSet<ParamId> = last_layers(&net, 1).into_iter().collect();
    assert_eq!(one, head);
    // Two layers: the head and the Hadamard representation layer's two branches.
    let two = last_layers(&net, 2);
    assert_eq!(two.len(), 2 + 4);
    let after = reset_params(net.clone(), &two, &fresh).unwrap();
    for (id, values) in parameters(&after).unwrap() {
        let old = values_of(&net, id);
        if two.contains(&id) {
            assert_eq!(values, fresh[&id]);
        } else {
            assert_eq!(values, old);
        }
    }
    assert_eq!(last_layers(&net, 10).len(), parameters(&net).unwrap().len());
}

#[test]
fn a_unit_reads_its_layernorm_scale_and_shift_in_both_branches() {
    let _device_rng = one_at_a_time();
    let device = Device::flex();
    let config = network(TorsoKind::Mlp, "hr-tanh+ln@3", vec![2], vec![4]);
    let net = config.init_q(&device).unwrap();
    let units = layer_units(&net);
    let repr = &units[1];
    assert_eq!(
        (repr.name.as_str(), repr.units, repr.features()),
        ("repr", 3, 3)
    );
    let incoming: BTreeSet<(ParamId, Vec<usize>)> = repr
        .incoming(2)
        .map(|(slice, index)| (slice.param, slice.elements(index).collect()))
        .collect();
    let mut expected = BTreeSet::new();
    for branch in [
        &net.torso.repr.first,
        net.torso.repr.second.as_ref().unwrap(),
    ] {
        let norm = branch.norm.as_ref().unwrap();
        expected.insert((branch.linear.weight.id, vec![2, 5, 8, 11]));
        expected.insert((branch.linear.bias.as_ref().unwrap().id, vec![2]));
        expected.insert((norm.gamma.id, vec![2]));
        expected.insert((norm.beta.as_ref().unwrap().id, vec![2]));
    }
    assert_eq!(incoming, expected);
}

mod health {
    use super::*;
    use burn::module::Module;
    use burn::optim::GradientsParams;
    use hrl_nn::diag::DiagConfig;
    use hrl_nn::health::{Metric, dead_persistence, layer_health};

    fn host(t: Tensor<2>) -> Vec<f64> {
        t.into_data().iter::<f32>().map(f64::from).collect()
    }

    fn value(report: &[hrl_nn::health::LayerHealth], layer: &str, metric: Metric) -> Option<f64> {
        report
            .iter()
            .find(|h| h.layer == layer)
            .and_then(|h| h.values.iter().find(|(m, _)| *m == metric).map(|(_, v)| *v))
    }

    /// fc1 (ReLU, 3 units) computed by hand from its parameters; the representation's branch
    /// weights, distances and gradient norms summed by hand.
    #[test]
    fn every_layer_and_branch_is_measured_from_its_own_values() {
        let _device_rng = one_at_a_time();
        let device = Device::flex().autodiff();
        device.seed(31);
        let config = network(TorsoKind::Mlp, "hr-tanh@2", vec![2], vec![3]);
        let net = config.init_q(&device).unwrap();
        device.seed(32);
        let initial = config.init_q(&device).unwrap();
        let x = [0.5f32, -1.0, 2.0, 0.25, -0.3, 0.7];
        let states =
            Tensor::<2>::from_data(burn::tensor::TensorData::new(x.to_vec(), [3, 2]), &device);
        let loss = net.forward(states.clone()).square().sum();
        let grads = GradientsParams::from_grads(loss.backward(), &net);
        let plain = net.valid();
        let health = layer_health(
            &plain,
            states.clone().inner(),
            &DiagConfig::default(),
            Some(&initial.valid()),
            Some(&grads),
        )
        .unwrap();
        // The representation's diagnostics are the probe's, from the same forward pass.
        let (_, repr) = plain.forward_with_repr(states.clone().inner());
        let branches = config.torso.repr.branches;
        let probe = hrl_nn::probe::diagnose_repr(&repr, branches, &DiagConfig::default()).unwrap();
        assert_eq!(health.repr, probe);
        let report = &health.layers;
        let names: Vec<&str> = report.iter().map(|h| h.layer.as_str()).collect();
        assert_eq!(names, ["fc1", "repr", "repr.first", "repr.second"]);

        let fc1 = &net.torso.hidden[0].first.linear;
        let (w, b) = (
            host(fc1.weight.val().inner()),
            fc1.bias.as_ref().unwrap().val(),
        );
        let b: Vec<f64> = b.into_data().iter::<f32>().map(f64::from).collect();
        let h: Vec<Vec<f64>> = (0..3)
            .map(|r| {
                (0..3)
                    .map(|j| {
                        let z = (0..2)
                            .map(|i| f64::from(x[r * 2 + i]) * w[i * 3 + j])
                            .sum::<f64>();
                        (z + b[j]).max(0.0)
                    })
                    .collect()
            })
            .collect();
        let norm = h
            .iter()
            .map(|row| row.iter().map(|v| v * v).sum::<f64>().sqrt())
            .sum::<f64>()
            / 3.0;
        let got = value(report, "fc1", Metric::FeatureNorm).unwrap();
        assert!((got - norm).abs() < 1e-5, "{got} vs {norm}");
        assert!(value(report, "fc1", Metric::Srank).is_none());
        assert!(value(report, "repr", Metric::Srank).is_some());
        assert!(value(report, "repr.first", Metric::Srank).is_none());

        // repr.first: its weight [3, 2] and bias [2].
        let first = &net.torso.repr.first.linear;
        let start = &initial.torso.repr.first.linear;
        let params = |l: &burn::nn::Linear| -> Vec<f64> {
            let mut v = host(l.weight.val().inner());
            v.extend(
                l.bias
                    .as_ref()
                    .unwrap()
                    .val()
                    .inner()
                    .into_data()
                    .iter::<f32>()
                    .map(f64::from),
            );
            v
        };
        let (now, then) = (params(first), params(start));
        let magnitude = now.iter().map(|w| w.abs()).sum::<f64>() / 8.0;
        let distance = (now
            .iter()
            .zip(&then)
            .map(|(a, b)| (a - b).powi(2))
            .sum::<f64>()
            / 8.0)
            .sqrt();
        let weight_grad = host(grads.get::<2>(first.weight.id).unwrap());
        let bias_grad = grads.get::<1>(first.bias.as_ref().unwrap().id).unwrap();
        let grad_norm = weight_grad
            .iter()
            .copied()
            .chain(bias_grad.into_data().iter::<f32>().map(f64::from))
            .map(|v| v * v)
            .sum::<f64>()
            .sqrt();
        let close = |metric, expected: f64| {
            let got = value(report, "repr.first", metric).unwrap();
            assert!(
                (got - expected).abs() <= 1e-6 * expected.abs().max(1.0),
                "{metric:?}: {got} vs {expected}"
            );
        };
        close(Metric::WeightMagnitude, magnitude);
        close(Metric::DistanceFromInit, distance);
        close(Metric::GradNorm, grad_norm);
    }

    #[test]
    fn persistence_is_the_share_of_dead_units_still_dead() {
        assert_eq!(
            dead_persistence(&[true, true, false, true], &[true, false, false, true]),
            Some(2.0 / 3.0)
        );
        assert_eq!(dead_persistence(&[false, false], &[true, true]), None);
        assert_eq!(dead_persistence(&[true], &[true, false]), None);
    }
}

#[test]
fn churn_is_the_mean_absolute_change_of_each_heads_outputs() {
    let _device_rng = one_at_a_time();
    let device = Device::flex();
    device.seed(41);
    let config = network(TorsoKind::Mlp, "hr-tanh@4", vec![3], vec![5]);
    let before = config.init_q(&device).unwrap();
    let mut after = before.clone();
    // Shifting the head's bias by 0.25 moves every Q-value by exactly 0.25.
    let bias = after.head.bias.take().unwrap();
    after.head.bias = Some(Param::initialized(bias.id, bias.val().add_scalar(0.25)));
    let states = Tensor::<2>::random([16, 3], Distribution::Normal(0.0, 1.0), &device);
    let rows = hrl_nn::health::churn(&before, &after, states.clone()).unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].layer, "q");
    let (metric, value) = rows[0].values[0];
    assert_eq!(metric, hrl_nn::health::Metric::Churn);
    assert!((value - 0.25).abs() < 1e-6, "{value}");
    let same = hrl_nn::health::churn(&before, &before, states).unwrap();
    assert_eq!(same[0].values[0].1, 0.0);
}
