//! PPO learns CartPole-v1 within a bounded budget.

use burn::tensor::Device;
use hrl_agents::ppo::{Ppo, PpoConfig};
use hrl_env::{EnvOptions, VecEnvConfig};
use hrl_nn::init::Init;
use hrl_nn::network::{Head, NetworkConfig};
use hrl_nn::torso::{HrPlacement, TorsoConfig, TorsoKind};

mod setup;

#[test]
fn ppo_learns_cartpole() {
    // cleanrl's ppo.py CartPole settings (tanh 64-64, orthogonal init, clip 0.2), with a
    // larger learning rate and more environments for a shorter budget.
    let config = PpoConfig {
        total_timesteps: 150_000,
        num_envs: 8,
        num_steps: 128,
        learning_rate: 2.5e-3,
        clip_coef: 0.2,
        ..PpoConfig::default()
    };
    let mut torso = TorsoConfig::new(TorsoKind::Mlp, "tanh".parse().unwrap());
    torso.placement = HrPlacement::All;
    torso.init = Init::orthogonal_sqrt2();
    let network = NetworkConfig {
        torso,
        head: Head::cleanrl_actor_critic(),
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
    let mut agent = Ppo::new(config, network, envs, &Device::flex(), 1).unwrap();
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
