//! PQN learns CartPole-v1 within a bounded budget.

use burn::tensor::Device;
use hrl_agents::pqn::{Pqn, PqnConfig};
use hrl_env::{EnvOptions, VecEnvConfig};
use hrl_nn::network::{Head, NetworkConfig};
use hrl_nn::torso::{TorsoConfig, TorsoKind};

mod setup;

#[test]
fn pqn_learns_cartpole() {
    let config = PqnConfig {
        total_timesteps: 200_000,
        num_envs: 32,
        num_steps: 32,
        num_epochs: 4,
        num_minibatches: 8,
        eps_finish: 0.02,
        eps_decay: 0.2,
        learning_rate: 1e-3,
        lr_linear_decay: false,
        ..PqnConfig::default()
    };
    let mut torso = TorsoConfig::new(TorsoKind::Mlp, "relu".parse().unwrap());
    torso.layer_norm_all = true;
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
    let (envs, network) = setup::fitted(&envs, config.num_envs, 1, network);
    let mut agent = Pqn::new(config, network, envs, &Device::flex(), 1).unwrap();
    let mut returns = Vec::new();
    while agent.updates_done() < agent.config().shape().num_updates() {
        let update = agent.update().unwrap();
        returns.extend(
            update
                .stats
                .episodes
                .iter()
                .map(|e| e.stats.episodic_return),
        );
    }
    let last = &returns[returns.len() - 20..];
    let mean = last.iter().sum::<f64>() / 20.0;
    assert!(mean >= 195.0, "mean return of the last 20 episodes: {mean}");
}
