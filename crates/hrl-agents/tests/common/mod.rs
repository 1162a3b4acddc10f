//! What the MinAtar integration tests share: the environments and the random policy's score.

use hrl_agents::rng::Rng;
use hrl_env::{EnvOptions, VecEnv, VecEnvConfig};

/// `num_envs` copies of MinAtar Breakout with the reference defaults, seed 5.
pub fn envs(num_envs: usize) -> VecEnvConfig {
    VecEnvConfig {
        env_id: "minatar/breakout".into(),
        options: EnvOptions::default(),
        num_envs,
        seed: 5,
        num_threads: 1,
    }
}

/// Mean return of uniformly random actions over `episodes` episodes.
pub fn random_policy_return(episodes: usize) -> f64 {
    let mut env = VecEnv::<f32>::new(&envs(16)).unwrap();
    let mut rng = Rng::new(11);
    let mut returns = Vec::new();
    let mut actions = vec![0; 16];
    while returns.len() < episodes {
        for a in actions.iter_mut() {
            *a = rng.below(6);
        }
        env.step(&actions).unwrap();
        returns.extend(
            env.finished_episodes()
                .iter()
                .map(|e| e.stats.episodic_return),
        );
    }
    returns.iter().sum::<f64>() / returns.len() as f64
}
