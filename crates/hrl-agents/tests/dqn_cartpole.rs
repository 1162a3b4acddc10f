//! DQN learns CartPole-v1 within a bounded budget.

use burn::tensor::Device;
use hrl_agents::Agent;
use hrl_agents::dqn::{Dqn, DqnConfig};
use hrl_env::{EnvOptions, VecEnvConfig};
use hrl_nn::network::{Head, NetworkConfig};
use hrl_nn::torso::{TorsoConfig, TorsoKind};

mod setup;

#[test]
fn dqn_learns_cartpole() {
    // The preset (configs/dqn-cartpole.toml): cleanrl's dqn.py CartPole settings shortened
    // from 500k to 80k steps.
    let config: DqnConfig = setup::preset("dqn-cartpole", "dqn");
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
    let (envs, network) = setup::fitted(&envs, config.num_envs, 1, network);
    let mut agent = Dqn::new(config, network, envs, &device, 1).unwrap();
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
