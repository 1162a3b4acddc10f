//! DQN's checkpoints and config: a save→load round trip restores the networks, optimiser,
//! counters, random stream and replay buffer exactly; bad replay and optimiser files are refused;
//! config errors name their key.

use std::path::PathBuf;

use burn::tensor::{Device, Tensor, TensorData};
use hrl_agents::dqn::{Dqn, DqnConfig, DqnLoss, DqnOptimizer};
use hrl_agents::replay::ReplayBuffer;
use hrl_agents::{Agent, AgentError};
use hrl_env::{AtariOptions, EnvOptions, VecEnvConfig};
use hrl_nn::diag::DiagConfig;
use hrl_nn::network::{Head, NetworkConfig, QNetwork};
use hrl_nn::torso::{TorsoConfig, TorsoKind};

mod setup;

fn small_config(optimizer: DqnOptimizer) -> DqnConfig {
    DqnConfig {
        total_timesteps: 5_000,
        num_envs: 2,
        buffer_size: 600,
        batch_size: 16,
        learning_starts: 100,
        train_frequency: 2,
        target_network_frequency: 50,
        tau: if optimizer == DqnOptimizer::Adam {
            1.0
        } else {
            0.5
        },
        loss: DqnLoss::Huber,
        optimizer,
        rmsprop_alpha: 0.95,
        rmsprop_epsilon: 0.01,
        rmsprop_centered: true,
        rmsprop_momentum: 0.9,
        max_grad_norm: Some(10.0),
        steps_per_report: 400,
        ..DqnConfig::default()
    }
}

fn agent(config: DqnConfig) -> Dqn {
    let network = NetworkConfig {
        torso: TorsoConfig::new(TorsoKind::Mlp, "relu".parse().unwrap()),
        head: Head::default(),
        num_actions: 2,
    };
    let envs = VecEnvConfig {
        env_id: "cartpole".into(),
        options: EnvOptions::default(),
        num_envs: 0,
        seed: 0,
        num_threads: 1,
    };
    let (envs, network) = setup::fitted(&envs, config.num_envs, 9, network);
    Dqn::new(config, network, envs, &Device::flex(), 9).unwrap()
}

fn fresh_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("hrl-dqn-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Q-values of `model` on fixed inputs, `[8, 2]` row-major.
fn outputs(model: &QNetwork) -> Vec<f32> {
    let inputs: Vec<f32> = (0..32).map(|i| ((i as f32) * 0.37).sin()).collect();
    let device = model.head.weight.val().device();
    let x = Tensor::<2>::from_data(TensorData::new(inputs, [8, 4]), &device);
    model.forward(x).into_data().iter::<f32>().collect()
}

/// Every held transition of both buffers, in order.
fn contents(replay: &ReplayBuffer) -> Vec<(Vec<f32>, Vec<f32>, String)> {
    let len = replay.obs_len();
    (0..replay.len())
        .map(|position| {
            let id = replay.id_at(position).unwrap();
            let (mut obs, mut next_obs) = (vec![0.0; len], vec![0.0; len]);
            let info = replay.get(id, &mut obs, &mut next_obs).unwrap();
            (obs, next_obs, format!("{id:?} {info:?}"))
        })
        .collect()
}

/// The fused passes (greedy actions while the replay fills, TD targets, the gradient step)
/// against burn's forward pass and autodiff: the same replay, loss and step.
#[test]
fn the_fused_step_and_autodiff_take_the_same_gradient_step() {
    let config = DqnConfig {
        learning_starts: 400,
        ..small_config(DqnOptimizer::Adam)
    };
    let mut fused = agent(config.clone());
    let mut autodiff = agent(DqnConfig {
        fused_step: false,
        ..config
    });
    assert!(fused.fused_step() && !autodiff.fused_step());
    fused.advance().unwrap();
    autodiff.advance().unwrap();
    assert_eq!(
        fused.gradient_steps(),
        0,
        "the replay fills without learning"
    );
    let before = outputs(fused.model());
    assert_eq!(before, outputs(autodiff.model()));
    let (a, b) = (
        fused.gradient_step().unwrap(),
        autodiff.gradient_step().unwrap(),
    );
    assert!((a.loss - b.loss).abs() <= 1e-5 * b.loss, "{a:?} vs {b:?}");
    assert!((a.q_mean - b.q_mean).abs() <= 1e-5 * b.q_mean.abs().max(1e-3));
    let (after_fused, after_autodiff) = (outputs(fused.model()), outputs(autodiff.model()));
    let moved = before
        .iter()
        .zip(&after_autodiff)
        .fold(0.0f32, |m, (x, y)| m.max((x - y).abs()));
    assert!(moved > 0.0, "the step changes the network");
    for (f, a) in after_fused.iter().zip(&after_autodiff) {
        assert!(
            (f - a).abs() <= 1e-3 * moved,
            "{f} vs {a}: the step moved outputs by {moved}"
        );
    }
}

#[test]
fn save_then_load_restores_networks_optimizer_counters_and_replay() {
    for optimizer in [DqnOptimizer::Adam, DqnOptimizer::Rmsprop] {
        let mut trained = agent(small_config(optimizer));
        trained.advance().unwrap();
        trained.advance().unwrap();
        assert!(trained.gradient_steps() > 100);
        assert_ne!(outputs(trained.model()), outputs(trained.target()));
        let dir = fresh_dir(&format!("{optimizer:?}"));
        trained.save(&dir).unwrap();

        let mut loaded = agent(small_config(optimizer));
        assert_ne!(outputs(loaded.model()), outputs(trained.model()));
        loaded.load(&dir).unwrap();
        assert_eq!(outputs(loaded.model()), outputs(trained.model()));
        assert_eq!(outputs(loaded.target()), outputs(trained.target()));
        assert_eq!(loaded.steps_done(), trained.steps_done());
        assert_eq!(loaded.gradient_steps(), trained.gradient_steps());
        assert_eq!(loaded.epsilon(), trained.epsilon());
        assert_eq!(loaded.replay().len(), trained.replay().len());
        assert!(contents(loaded.replay()) == contents(trained.replay()));

        // The same random stream draws the same batch, and the same optimiser state (Adam's
        // moments and step count; RMSprop's averages and momentum) takes the same step.
        let (a, b) = (
            trained.gradient_step().unwrap(),
            loaded.gradient_step().unwrap(),
        );
        assert_eq!(a, b, "{optimizer:?}");
        assert_eq!(outputs(loaded.model()), outputs(trained.model()));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

fn checkpoint_message(result: Result<(), AgentError>) -> String {
    match result {
        Err(e @ AgentError::Checkpoint { .. }) => e.to_string(),
        other => panic!("expected a checkpoint error, got {other:?}"),
    }
}

#[test]
fn a_corrupted_missing_or_mismatched_replay_file_is_refused() {
    let config = small_config(DqnOptimizer::Adam);
    let mut trained = agent(config.clone());
    trained.advance().unwrap();
    let dir = fresh_dir("refused");
    trained.save(&dir).unwrap();
    let replay_file = dir.join(hrl_agents::checkpoint::REPLAY_FILE);
    let bytes = std::fs::read(&replay_file).unwrap();

    let mut corrupted = bytes.clone();
    let last = corrupted.len() - 20;
    corrupted[last] ^= 1;
    std::fs::write(&replay_file, &corrupted).unwrap();
    let message = checkpoint_message(agent(config.clone()).load(&dir));
    assert!(message.contains("replay.bin"), "{message}");
    assert!(message.contains("checksum mismatch"), "{message}");

    std::fs::write(&replay_file, &bytes).unwrap();
    let other = DqnConfig {
        buffer_size: 800,
        ..config.clone()
    };
    let message = checkpoint_message(agent(other).load(&dir));
    assert!(
        message.contains("transition slots per stream = 300, this run has 400"),
        "{message}"
    );

    std::fs::remove_file(&replay_file).unwrap();
    let message = checkpoint_message(agent(config.clone()).load(&dir));
    assert!(message.contains("checkpoint_replay = false"), "{message}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// burn's optimiser panics on a state tensor without its parameter id; a file so damaged is
/// refused with the file and the tensor named (the checkpoint fuzz test once flipped a byte
/// there).
#[test]
fn an_optimizer_state_without_its_parameter_id_is_refused() {
    let config = small_config(DqnOptimizer::Adam);
    let mut trained = agent(config.clone());
    trained.advance().unwrap();
    let dir = fresh_dir("no-param-id");
    trained.save(&dir).unwrap();
    let file = dir.join(hrl_agents::checkpoint::OPTIMIZER_FILE);
    let reader = burn_pack::Reader::from_file(&file).unwrap();
    let metadata = reader.metadata().clone();
    let mut tensors = reader.into_tensors().unwrap();
    assert!(tensors.iter().all(|t| t.param_id.is_some()));
    let (name, dtype, shape, _, bytes) = tensors.remove(0).into_parts().unwrap();
    tensors.insert(
        0,
        burn_pack::Tensor::new(name.clone(), dtype, shape, None, bytes),
    );
    let mut writer = burn_pack::Writer::new(tensors).overwrite(true);
    for (key, value) in &metadata {
        writer = writer.with_metadata(key, value);
    }
    writer.write_to_file(&file).unwrap();
    let message = checkpoint_message(agent(config).load(&dir));
    assert!(message.contains("optimizer.bpk"), "{message}");
    assert!(
        message.contains(&format!("state tensor {name:?} carries no parameter id")),
        "{message}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn without_the_replay_learning_waits_for_the_buffer_to_refill() {
    let config = DqnConfig {
        checkpoint_replay: false,
        ..small_config(DqnOptimizer::Adam)
    };
    let mut trained = agent(config.clone());
    trained.advance().unwrap();
    let dir = fresh_dir("no-replay");
    trained.save(&dir).unwrap();
    assert!(!dir.join(hrl_agents::checkpoint::REPLAY_FILE).exists());

    let mut loaded = agent(config);
    loaded.load(&dir).unwrap();
    assert!(loaded.replay().is_empty());
    let before = loaded.gradient_steps();
    let report = loaded.advance().unwrap();
    // learning_starts = 100 agent steps of refilling, then a gradient step every 2 steps.
    let resumed = loaded.steps_done() - 400;
    let due = (resumed + 100..loaded.steps_done())
        .filter(|g| g % 2 == 0)
        .count() as u64;
    assert_eq!(loaded.gradient_steps() - before, due);
    assert!(report.loss.is_some());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn config_errors_name_their_key() {
    let cases: Vec<(&str, DqnConfig)> = vec![
        (
            "batch_size",
            DqnConfig {
                batch_size: 2_000_000,
                ..DqnConfig::default()
            },
        ),
        (
            "learning_starts",
            DqnConfig {
                learning_starts: 10,
                ..DqnConfig::default()
            },
        ),
        (
            "train_frequency",
            DqnConfig {
                train_frequency: 0,
                ..DqnConfig::default()
            },
        ),
        (
            "buffer_size",
            DqnConfig {
                num_envs: 8,
                buffer_size: 4,
                batch_size: 4,
                ..DqnConfig::default()
            },
        ),
        (
            "exploration_fraction",
            DqnConfig {
                exploration_fraction: 1.5,
                ..DqnConfig::default()
            },
        ),
        (
            "end_e",
            DqnConfig {
                end_e: -0.1,
                ..DqnConfig::default()
            },
        ),
        (
            "tau",
            DqnConfig {
                tau: 0.0,
                ..DqnConfig::default()
            },
        ),
        (
            "adam_epsilon",
            DqnConfig {
                adam_epsilon: 0.0,
                ..DqnConfig::default()
            },
        ),
        (
            "max_grad_norm",
            DqnConfig {
                max_grad_norm: Some(-1.0),
                ..DqnConfig::default()
            },
        ),
        (
            "total_timesteps",
            DqnConfig {
                total_timesteps: 50_000,
                ..DqnConfig::default()
            },
        ),
    ];
    for (key, config) in cases {
        match config.validate() {
            Err(AgentError::Config { key: found, .. }) => assert_eq!(found, key),
            other => panic!("{key}: {other:?}"),
        }
    }
    DqnConfig::default().validate().unwrap();
    for preset in ["dqn-minatar", "dqn-cartpole", "dqn-atari"] {
        setup::preset::<DqnConfig>(preset, "dqn")
            .validate()
            .unwrap();
    }
}

#[test]
fn the_config_reads_from_toml_with_defaults_and_refuses_unknown_keys() {
    let config: DqnConfig =
        toml::from_str("loss = \"huber\"\noptimizer = \"rmsprop\"\nbatch_size = 64\n").unwrap();
    assert_eq!(config.loss, DqnLoss::Huber);
    assert_eq!(config.optimizer, DqnOptimizer::Rmsprop);
    assert_eq!(config.batch_size, 64);
    assert_eq!(config.learning_starts, 80_000);
    let error = toml::from_str::<DqnConfig>("batch_sise = 64\n").unwrap_err();
    assert!(error.to_string().contains("batch_sise"), "{error}");
}

#[test]
fn a_hard_target_update_copies_the_network_right_after_the_gradient_step() {
    // A gradient step and a target update at every even agent step: the last step of every
    // report leaves the target equal to the online network.
    let config = DqnConfig {
        target_network_frequency: 2,
        tau: 1.0,
        ..small_config(DqnOptimizer::Adam)
    };
    let mut dqn = agent(config);
    dqn.advance().unwrap();
    assert_eq!(outputs(dqn.target()), outputs(dqn.model()));
    let soft = DqnConfig {
        tau: 0.5,
        ..DqnConfig {
            target_network_frequency: 2,
            ..small_config(DqnOptimizer::Adam)
        }
    };
    let mut dqn = agent(soft);
    dqn.advance().unwrap();
    assert_ne!(outputs(dqn.target()), outputs(dqn.model()));
}

#[test]
fn the_probe_is_deterministic_and_uses_the_replay_buffer() {
    let mut dqn = agent(small_config(DqnOptimizer::Adam));
    let before = dqn.probe(64, &DiagConfig::default()).unwrap();
    dqn.advance().unwrap();
    let first = dqn.probe(64, &DiagConfig::default()).unwrap();
    let again = dqn.probe(64, &DiagConfig::default()).unwrap();
    assert_eq!(first, again);
    assert_ne!(first, before);
}

#[test]
fn dqn_runs_on_atari_with_a_byte_replay_and_the_nature_network() {
    let config = DqnConfig {
        total_timesteps: 2_000,
        buffer_size: 1_000,
        learning_starts: 250,
        steps_per_report: 200,
        ..DqnConfig::default()
    };
    let network = NetworkConfig {
        torso: TorsoConfig::new(TorsoKind::Nature, "relu".parse().unwrap()),
        head: Head::default(),
        num_actions: 0,
    };
    let envs = VecEnvConfig {
        env_id: "atari/breakout".into(),
        options: EnvOptions {
            atari: AtariOptions {
                max_episode_frames: Some(400),
                ..AtariOptions::default()
            },
            ..EnvOptions::default()
        },
        num_envs: 0,
        seed: 0,
        num_threads: 1,
    };
    let (envs, network) = setup::fitted(&envs, config.num_envs, 4, network);
    let mut dqn = Dqn::new(config, network, envs, &Device::flex(), 4).unwrap();
    assert_eq!(dqn.network().num_actions, 4);
    let mut episodes = 0;
    let mut losses = Vec::new();
    for _ in 0..2 {
        let report = dqn.advance().unwrap();
        episodes += report.episodes.len();
        losses.extend(report.loss);
    }
    assert!(episodes > 0, "the frame cap ends episodes");
    assert_eq!(losses.len(), 1, "learning starts in the second report");
    assert_eq!(
        dqn.gradient_steps(),
        (251..400u64).filter(|g| g % 4 == 0).count() as u64
    );
    assert_eq!(dqn.replay().len(), 400);
    let dir = fresh_dir("atari");
    dqn.save(&dir).unwrap();
    let replay_bytes = std::fs::metadata(dir.join(hrl_agents::checkpoint::REPLAY_FILE))
        .unwrap()
        .len();
    // One byte per pixel, one frame per transition plus one per episode start and the stacks'
    // padding: far below the four frames per observation of whole stacks.
    let frame = 84 * 84;
    assert!(replay_bytes < 420 * frame, "{replay_bytes} bytes");
    assert!(replay_bytes > 400 * frame, "{replay_bytes} bytes");
    std::fs::remove_dir_all(&dir).unwrap();
}
