//! PQN on MinAtar Breakout beats the random policy clearly within a short budget.

use burn::tensor::Device;
use hrl_agents::pqn::{Pqn, PqnConfig};
use hrl_nn::init::Init;
use hrl_nn::network::{Head, NetworkConfig};
use hrl_nn::torso::{TorsoConfig, TorsoKind};

mod common;

use common::{envs, random_policy_return};

mod setup;

#[test]
fn pqn_beats_random_on_minatar_breakout() {
    let config = PqnConfig {
        total_timesteps: 32 * 4096,
        ..PqnConfig::default()
    };
    let mut torso = TorsoConfig::new(TorsoKind::Minatar, "hr-tanh".parse().unwrap());
    torso.layer_norm_all = true;
    torso.init = Init::HeNormal;
    let network = NetworkConfig {
        torso,
        head: Head::Q {
            init: Init::LecunNormal,
        },
        num_actions: 6,
    };
    let (envs, network) = setup::fitted(&envs(0), config.num_envs, 3, network);
    let mut agent = Pqn::new(config, network, envs, &Device::flex(), 3).unwrap();
    let mut returns = Vec::new();
    while agent.updates_done() < agent.config().shape().num_updates() {
        returns.extend(
            agent
                .update()
                .unwrap()
                .stats
                .episodes
                .iter()
                .map(|e| e.stats.episodic_return),
        );
    }
    let last = &returns[returns.len() - 200..];
    let trained = last.iter().sum::<f64>() / last.len() as f64;
    let random = random_policy_return(1000);
    eprintln!(
        "PQN after {} steps: {trained:.2}; random policy: {random:.2}",
        agent.steps_done()
    );
    assert!(
        trained > 3.0 * random && trained > random + 1.0,
        "trained {trained:.2} vs random {random:.2}"
    );
}
