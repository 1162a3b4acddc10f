//! DQN learns CartPole-v1 within a bounded budget.

use burn::tensor::Device;
use hrl_agents::Agent;
use hrl_agents::dqn::{Dqn, DqnConfig};
use hrl_env::{EnvOptions, VecEnvConfig};
use hrl_nn::network::{Head, NetworkConfig};
use hrl_nn::torso::{TorsoConfig, TorsoKind};

#[test]
fn dqn_learns_cartpole() {
    // cleanrl's dqn.py CartPole settings (ReLU 120-84, Adam, batch 128, buffer 10k, hard
    // target updates every 500 steps, ε to 0.05), shortened from 500k to 80k steps: twice the
    // learning rate, a gradient step every 2 steps instead of 10, learning from step 2000.
    let config = DqnConfig {
        total_timesteps: 80_000,
        learning_rate: 5e-4,
        exploration_fraction: 0.2,
        learning_starts: 2_000,
        train_frequency: 2,
        ..DqnConfig::cartpole()
    };
    let mut torso = TorsoConfig::new(TorsoKind::Mlp, "relu@84".parse().unwrap());
    torso.hidden = vec![120];
    let network = NetworkConfig {
        torso,
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
    let device = Device::flex();
    let mut agent = Dqn::new(config, network, envs.into(), &device, 1).unwrap();
    let mut returns = Vec::new();
    let mut losses = 0;
    while agent.steps_done() < agent.total_steps() {
        let report = agent.advance().unwrap();
        losses += usize::from(report.loss.is_some());
        returns.extend(report.episodes.iter().map(|e| e.stats.episodic_return));
    }
    // cleanrl's schedule: agent steps g > learning_starts with g % train_frequency == 0.
    let due = (2_001..80_000u64).filter(|g| g % 2 == 0).count() as u64;
    assert_eq!(agent.gradient_steps(), due);
    assert_eq!(losses, 78, "a loss in every report after learning starts");
    let last = &returns[returns.len() - 20..];
    let mean = last.iter().sum::<f64>() / 20.0;
    eprintln!(
        "DQN after {} steps: last 20 episodes {mean:.1}",
        agent.steps_done()
    );
    assert!(mean >= 195.0, "mean return of the last 20 episodes: {mean}");
}
