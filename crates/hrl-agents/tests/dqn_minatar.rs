//! DQN on MinAtar Breakout beats the random policy clearly within a short budget.

use burn::tensor::Device;
use hrl_agents::Agent;
use hrl_agents::dqn::{Dqn, DqnConfig};
use hrl_agents::policy::evaluate;
use hrl_agents::rng::Rng;
use hrl_env::VecEnv;
use hrl_nn::network::{Head, NetworkConfig};
use hrl_nn::torso::{TorsoConfig, TorsoKind};

mod common;

use common::{envs, random_policy_return};

mod setup;

#[test]
fn dqn_beats_random_on_minatar_breakout() {
    // The MinAtar paper's DQN (centred RMSprop, Huber loss, a gradient step every step, target
    // every 1000), shortened from 5M to 40k steps: learning from step 1000, ε down to 0.1 over
    // the first 10k steps, twice the step size.
    let config = DqnConfig {
        total_timesteps: 40_000,
        learning_starts: 1_000,
        exploration_fraction: 0.25,
        learning_rate: 5e-4,
        ..setup::preset("dqn-minatar", "dqn")
    };
    let torso = TorsoConfig::new(TorsoKind::Minatar, "relu".parse().unwrap());
    let network = NetworkConfig {
        torso,
        head: Head::default(),
        num_actions: 6,
    };
    let device = Device::flex();
    let (train_envs, network) = setup::fitted(&envs(0), config.num_envs, 3, network);
    let mut agent = Dqn::new(config, network, train_envs, &device, 3).unwrap();
    while agent.steps_done() < agent.total_steps() {
        agent.advance().unwrap();
    }
    // The trained network, nearly greedy, for one episode in each of 32 fresh environments.
    let mut eval_envs = VecEnv::<f32>::new(&envs(32)).unwrap();
    let episodes = evaluate(
        &agent.policy(),
        &mut eval_envs,
        0.05,
        10_000,
        &mut Rng::new(7),
        |_| {},
    )
    .unwrap();
    let trained = episodes.iter().map(|e| e.episodic_return).sum::<f64>() / episodes.len() as f64;
    let random = random_policy_return(1000);
    eprintln!(
        "DQN after {} steps: {trained:.2}; random policy: {random:.2}",
        agent.steps_done()
    );
    assert!(
        trained > 3.0 * random && trained > random + 1.0,
        "trained {trained:.2} vs random {random:.2}"
    );
}
