//! The interventions in the agents: the optimiser half checked against Adam's update worked
//! out by hand (ReDo's zeroed moments keep the step count; a reset's dropped state makes the
//! next step a first step), and every algorithm resuming exactly with all four interventions
//! active.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use burn::module::ParamId;
use burn::nn::{Linear, LinearConfig};
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::tensor::{Device, Tensor, TensorData};
use hrl_agents::dqn::{Dqn, DqnConfig};
use hrl_agents::optim::AdamConfig;
use hrl_agents::optim::state_edit::{forget, zero_elements};
use hrl_agents::plasticity::{
    Interventions, L2InitConfig, RedoConfig, ResetConfig, ShrinkPerturbConfig,
};
use hrl_agents::ppo::{Ppo, PpoConfig};
use hrl_agents::pqn::{Pqn, PqnConfig};
use hrl_agents::{Agent, AgentError};
use hrl_env::{EnvOptions, VecEnvConfig};
use hrl_nn::network::{Head, NetworkConfig};
use hrl_nn::torso::{TorsoConfig, TorsoKind};

mod setup;

const LR: f64 = 0.01;

fn linear(device: &Device) -> Linear {
    device.seed(3);
    LinearConfig::new(3, 2).init(device)
}

/// Gradients of `sum(x W + b)` for a fixed `x`, different at every step.
fn grads(model: &Linear, step: usize) -> GradientsParams {
    let device = model.weight.val().device();
    let x: Vec<f32> = (0..6)
        .map(|i| ((i + 3 * step) as f32 * 0.7).sin())
        .collect();
    let x = Tensor::<2>::from_data(TensorData::new(x, [2, 3]), &device);
    let loss = (model.forward(x) * 1.5).sum();
    GradientsParams::from_grads(loss.backward(), model)
}

fn weight_values(model: &Linear) -> Vec<f32> {
    model.weight.val().into_data().iter::<f32>().collect()
}

fn trained(steps: usize) -> (Linear, ModuleOptimizer) {
    let device = Device::flex().autodiff();
    let mut model = linear(&device);
    let mut optimizer = AdamConfig::default().init();
    for step in 0..steps {
        let g = grads(&model, step);
        model = optimizer.step(LR, model, g);
    }
    (model, optimizer)
}

#[test]
fn zeroed_moments_make_a_step_from_zero_moments_at_the_same_count() {
    let _device_rng = one_at_a_time();
    let steps = 5;
    let (model, optimizer) = trained(steps);
    let id = model.weight.id;
    let zeroed = [1usize, 4];
    let edits: HashMap<ParamId, (usize, Vec<usize>)> =
        [(id, (6, zeroed.to_vec()))].into_iter().collect();
    let mut edited = zero_elements(optimizer.clone(), &edits).unwrap();
    let g = grads(&model, steps);
    let g_weight: Vec<f32> = g.get::<2>(id).unwrap().into_data().iter::<f32>().collect();
    let before = weight_values(&model);
    let plain = weight_values(&optimizer.clone().step(LR, model.clone(), g));
    let after = weight_values(&edited.step(LR, model.clone(), grads(&model, steps)));
    let AdamConfig {
        beta_1,
        beta_2,
        epsilon,
    } = AdamConfig::default();
    let t = (steps + 1) as i32;
    let (b1, b2, eps) = (f64::from(beta_1), f64::from(beta_2), f64::from(epsilon));
    for i in 0..6 {
        if zeroed.contains(&i) {
            // m = (1 - β1) g, v = (1 - β2) g² at step t, with t's bias corrections.
            let g = f64::from(g_weight[i]);
            let (m, v) = ((1.0 - b1) * g, (1.0 - b2) * g * g);
            let c2 = (1.0 - b2.powi(t)).sqrt();
            let update = (m * c2 / (1.0 - b1.powi(t))) / (v.sqrt() + eps * c2);
            let expected = f64::from(before[i]) - LR * update;
            let got = f64::from(after[i]);
            assert!(
                (got - expected).abs() <= 1e-6 * expected.abs().max(1.0),
                "element {i}: {got} vs {expected}"
            );
            assert_ne!(
                after[i], plain[i],
                "element {i} must differ from the unedited step"
            );
        } else {
            assert_eq!(after[i].to_bits(), plain[i].to_bits(), "element {i}");
        }
    }
}

#[test]
fn a_forgotten_parameter_takes_a_first_step_and_the_others_continue() {
    let _device_rng = one_at_a_time();
    let steps = 4;
    let (model, mut optimizer) = trained(steps);
    let weight = model.weight.id;
    let forgotten = forget(optimizer.clone(), &HashSet::from([weight])).unwrap();
    let continued = forgotten
        .clone()
        .step(LR, model.clone(), grads(&model, steps));
    let plain = optimizer.step(LR, model.clone(), grads(&model, steps));
    let first = AdamConfig::default()
        .init()
        .step(LR, model.clone(), grads(&model, steps));
    assert_eq!(weight_values(&continued), weight_values(&first));
    let bias_of = |m: &Linear| -> Vec<f32> {
        m.bias
            .as_ref()
            .unwrap()
            .val()
            .into_data()
            .iter::<f32>()
            .collect()
    };
    assert_eq!(bias_of(&continued), bias_of(&plain));
    assert_ne!(weight_values(&continued), weight_values(&plain));
}

fn all_four(period: u64) -> Interventions {
    Interventions {
        redo: Some(RedoConfig {
            period,
            tau: 0.5,
            batch: 32,
        }),
        shrink_perturb: Some(ShrinkPerturbConfig {
            period: period + 1,
            shrink: 0.8,
            perturb: 0.2,
        }),
        reset: Some(ResetConfig {
            period: period + 2,
            layers: 1,
        }),
        l2_init: Some(L2InitConfig { coef: 1e-3 }),
    }
}

fn cartpole() -> VecEnvConfig {
    VecEnvConfig {
        env_id: "cartpole".into(),
        options: EnvOptions::default(),
        num_envs: 0,
        seed: 0,
        num_threads: 1,
    }
}

fn fresh_dir(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("hrl-plasticity-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Every parameter of the agent's network by its module path, with its bytes, read from a
/// checkpoint (parameter ids differ between agents; paths and values must not).
fn network_values(agent: &dyn Agent, name: &str) -> Vec<(String, Vec<u8>)> {
    let dir = fresh_dir(name);
    agent.save(&dir).unwrap();
    let reader =
        burn_pack::Reader::from_file(dir.join(hrl_agents::checkpoint::MODEL_FILE)).unwrap();
    let mut values: Vec<(String, Vec<u8>)> = reader
        .into_tensors()
        .unwrap()
        .into_iter()
        .map(|t| {
            let (name, _, _, _, bytes) = t.into_parts().unwrap();
            (name, bytes.to_vec())
        })
        .collect();
    values.sort();
    values
}

/// The device's random stream is the process's: networks initialised in tests running side
/// by side would interleave their draws, so each test holds this while it runs.
static DEVICE_RNG: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    DEVICE_RNG.lock().unwrap_or_else(|e| e.into_inner())
}

/// Runs `make()` for `advances` reports straight, and again with a save and a load into a
/// fresh agent halfway; the networks and optimiser states must be identical, and the
/// interventions must have run.
fn resumes_exactly(make: &dyn Fn() -> Box<dyn Agent>, advances: usize, name: &str) {
    let mut straight = make();
    let mut ran = 0;
    for _ in 0..advances {
        ran += straight.advance().unwrap().interventions.len();
    }
    assert!(ran > 0, "{name}: no intervention ran");
    let mut first = make();
    for _ in 0..advances / 2 {
        first.advance().unwrap();
    }
    let dir = fresh_dir(&format!("{name}-half"));
    first.save(&dir).unwrap();
    assert!(dir.join(hrl_agents::plasticity::INITIAL_FILE).is_file());
    let mut resumed = make();
    resumed.load(&dir).unwrap();
    for _ in advances / 2..advances {
        resumed.advance().unwrap();
    }
    let resumed = network_values(resumed.as_ref(), &format!("{name}-resumed"));
    let straight = network_values(straight.as_ref(), &format!("{name}-straight"));
    let differ: Vec<&str> = resumed
        .iter()
        .zip(&straight)
        .filter(|(a, b)| a != b)
        .map(|(a, _)| a.0.as_str())
        .collect();
    assert_eq!(resumed.len(), straight.len(), "{name}");
    assert!(
        differ.is_empty(),
        "{name}: the resumed run differs in {differ:?}"
    );
}

fn mlp(repr: &str, head: Head) -> NetworkConfig {
    NetworkConfig {
        torso: TorsoConfig::new(TorsoKind::Mlp, repr.parse().unwrap()),
        head,
        num_actions: 2,
    }
}

#[test]
fn dqn_resumes_exactly_with_every_intervention() {
    let _device_rng = one_at_a_time();
    let make = || -> Box<dyn Agent> {
        let config = DqnConfig {
            total_timesteps: 4_000,
            num_envs: 2,
            buffer_size: 1_000,
            batch_size: 16,
            learning_starts: 100,
            train_frequency: 2,
            target_network_frequency: 50,
            steps_per_report: 200,
            checkpoint_replay: true,
            ..DqnConfig::default()
        };
        let (envs, network) = setup::fitted(
            &cartpole(),
            config.num_envs,
            4,
            mlp("hr-tanh", Head::default()),
        );
        Box::new(
            Dqn::new(config, network, envs, &Device::flex(), 4)
                .unwrap()
                .with_interventions(all_four(40), 4)
                .unwrap(),
        )
    };
    resumes_exactly(&make, 6, "dqn");
}

#[test]
fn ppo_resumes_exactly_with_every_intervention() {
    let _device_rng = one_at_a_time();
    let make = || -> Box<dyn Agent> {
        let config = PpoConfig {
            total_timesteps: 4_096,
            num_envs: 4,
            num_steps: 64,
            ..PpoConfig::default()
        };
        let (envs, network) = setup::fitted(
            &cartpole(),
            config.num_envs,
            5,
            mlp("tanh", Head::cleanrl_actor_critic()),
        );
        Box::new(
            Ppo::new(config, network, envs, &Device::flex(), 5)
                .unwrap()
                .with_interventions(all_four(2), 5)
                .unwrap(),
        )
    };
    resumes_exactly(&make, 8, "ppo");
}

#[test]
fn pqn_resumes_exactly_with_every_intervention() {
    let _device_rng = one_at_a_time();
    let make = || -> Box<dyn Agent> {
        let config = PqnConfig {
            total_timesteps: 4_096,
            num_envs: 4,
            num_steps: 32,
            ..PqnConfig::default()
        };
        let (envs, network) = setup::fitted(
            &cartpole(),
            config.num_envs,
            6,
            mlp("crelu", Head::default()),
        );
        Box::new(
            Pqn::new(config, network, envs, &Device::flex(), 6)
                .unwrap()
                .with_interventions(all_four(3), 6)
                .unwrap(),
        )
    };
    resumes_exactly(&make, 10, "pqn");
}

#[test]
fn bad_intervention_values_name_their_key() {
    let _device_rng = one_at_a_time();
    let key = |interventions: Interventions| match interventions.validate() {
        Err(AgentError::Config { key, .. }) => key,
        other => panic!("expected a config error, got {other:?}"),
    };
    let mut zero_period = all_four(1);
    zero_period.redo.as_mut().unwrap().period = 0;
    assert_eq!(key(zero_period), "redo.period");
    let mut negative = all_four(1);
    negative.l2_init = Some(L2InitConfig { coef: -1.0 });
    assert_eq!(key(negative), "l2_init.coef");
    let mut no_layers = all_four(1);
    no_layers.reset.as_mut().unwrap().layers = 0;
    assert_eq!(key(no_layers), "reset.layers");
}
