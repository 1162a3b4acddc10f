//! The uniform random policy's score on an environment: the "random" end of a normalised score.
//!
//! One environment from [`hrl_env::make`] with its default options, reset with the seed, then
//! stepped with actions drawn uniformly from `0..num_actions` by a ChaCha8 stream seeded with
//! the same seed, until `episodes` whole games have ended. A game's score is
//! [`hrl_env::EpisodeStats::full_game_score`]: on Atari the unclipped score over all lives (the
//! learning episodes of one game are summed by the environment), elsewhere the episodic return.

use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::SeedableRng;

use crate::stats::uniform_index;

/// Errors of a random-policy baseline.
#[derive(Debug, thiserror::Error)]
pub enum RandomBaselineError {
    /// The environment could not be made or stepped.
    #[error("random policy on {env}: {source}")]
    Env {
        /// The environment id.
        env: String,
        /// The cause.
        source: hrl_env::EnvError,
    },
    /// Zero episodes were asked for.
    #[error("a random baseline needs at least one episode")]
    NoEpisodes,
}

/// The random policy's score on one environment.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RandomBaseline {
    /// Whole games played.
    pub episodes: usize,
    /// Seed of the environment and of the action stream.
    pub seed: u32,
    /// Mean game score.
    pub mean: f64,
    /// Sample standard deviation of the game scores (`n - 1` in the denominator; 0 for one game).
    pub std: f64,
}

/// Plays `episodes` games of `env_id` with the uniform random policy (see the module doc).
pub fn random_baseline(
    env_id: &str,
    episodes: usize,
    seed: u32,
) -> Result<RandomBaseline, RandomBaselineError> {
    if episodes == 0 {
        return Err(RandomBaselineError::NoEpisodes);
    }
    let env_error = |source| RandomBaselineError::Env {
        env: env_id.to_string(),
        source,
    };
    let mut env = hrl_env::make(env_id, &hrl_env::EnvOptions::default()).map_err(env_error)?;
    let num_actions = env.spec().num_actions;
    let mut rng = ChaCha8Rng::seed_from_u64(u64::from(seed));
    env.reset(Some(seed));
    let mut scores = Vec::with_capacity(episodes);
    while scores.len() < episodes {
        let step = env
            .step(uniform_index(&mut rng, num_actions))
            .map_err(env_error)?;
        if step.done() {
            scores.extend(env.episode().full_game_score());
            env.reset(None);
        }
    }
    let n = scores.len() as f64;
    let mean = scores.iter().sum::<f64>() / n;
    let std = if scores.len() > 1 {
        (scores.iter().map(|s| (s - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt()
    } else {
        0.0
    };
    Ok(RandomBaseline {
        episodes,
        seed,
        mean,
        std,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn is_seeded_and_near_minatar_breakouts_published_random_score() {
        let first = random_baseline("minatar/breakout", 300, 1).unwrap();
        assert_eq!(first, random_baseline("minatar/breakout", 300, 1).unwrap());
        assert_ne!(first, random_baseline("minatar/breakout", 300, 2).unwrap());
        // MinAtar's README: random_play.py on breakout gives "Avg Return: 0.5+/-0.023".
        assert!((first.mean - 0.5).abs() < 0.15, "{first:?}");
        assert!(first.std > 0.0);
    }

    #[test]
    fn cartpole_random_episodes_are_short() {
        let baseline = random_baseline("cartpole", 50, 0).unwrap();
        // A random CartPole policy keeps the pole up for about 22 steps (reward 1 per step).
        assert!((10.0..40.0).contains(&baseline.mean), "{baseline:?}");
    }

    #[test]
    fn rejects_zero_episodes_and_unknown_envs() {
        assert!(matches!(
            random_baseline("cartpole", 0, 0),
            Err(RandomBaselineError::NoEpisodes)
        ));
        let err = random_baseline("minatar/pong", 1, 0).unwrap_err();
        assert!(err.to_string().contains("minatar/pong"), "{err}");
    }
}
