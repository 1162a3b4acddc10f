//! Evaluation episodes: the current policy plays fresh environments, one episode each. On
//! Atari they play whole games with unclipped rewards (no episodic life), as papers score them.

use hrl_agents::AgentError;
use hrl_agents::policy::{self, Policy};
use hrl_agents::rng::Rng;
use hrl_env::{EpisodeStats, VecEnv};

use crate::train::config::TrainConfig;

/// The mean score and length of one evaluation.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Evaluation {
    /// Mean game score over the episodes.
    pub mean_return: f64,
    /// Mean agent steps per episode.
    pub mean_length: f64,
}

/// The environments evaluation `index` plays: `episodes` copies, seeded apart from training's.
pub fn eval_envs(
    config: &TrainConfig,
    episodes: usize,
    index: u64,
) -> Result<VecEnv<f32>, AgentError> {
    let options = config.env_options.for_evaluation(&config.env);
    Ok(config.envs(options, episodes, eval_seed(config.seed, index))?)
}

/// Seeds of evaluations are far from the training seeds of nearby runs.
fn eval_seed(seed: u64, index: u64) -> u64 {
    seed.wrapping_mul(0x9e37_79b9)
        .wrapping_add(1_000_003)
        .wrapping_add(index.wrapping_mul(7919))
}

/// The score of one evaluation episode.
pub fn episode_score(stats: &EpisodeStats) -> f64 {
    stats.game_score.unwrap_or(stats.episodic_return)
}

/// Plays evaluation `index` of a run with `policy`.
pub fn evaluate(
    config: &TrainConfig,
    policy: &Policy,
    index: u64,
) -> Result<Evaluation, AgentError> {
    let eval = &config.eval;
    let mut envs = eval_envs(config, eval.episodes, index)?;
    let mut rng = Rng::new(eval_seed(config.seed, index) ^ 0x4556_414c);
    let episodes = policy::evaluate(
        policy,
        &mut envs,
        eval.epsilon,
        eval.max_steps,
        &mut rng,
        |_| {},
    )?;
    let n = episodes.len().max(1) as f64;
    Ok(Evaluation {
        mean_return: episodes.iter().map(episode_score).sum::<f64>() / n,
        mean_length: episodes
            .iter()
            .map(|e| e.episodic_length as f64)
            .sum::<f64>()
            / n,
    })
}
