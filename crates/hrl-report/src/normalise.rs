//! Normalised scores: one linear map per environment, so that scores of different games can be
//! aggregated.
//!
//! * `atari/GAME`, one of the 57 games of [`super::atari_scores`]: human-normalised,
//!   `(score - random) / (human - random)`.
//! * An environment given a `reference` in the baselines file (see [`super::baselines`]):
//!   `(score - random) / (reference - random)` with the measured random score. This is how
//!   MinAtar games are normalised, by default with the project's own measured references
//!   ([`super::minatar_scores`]: no published MinAtar scores exist as numbers).
//! * `cartpole`: `score / 500`, CartPole-v1's cap on the episode return.
//! * Anything else, and MinAtar games without a reference: raw scores, and the report says so.

use std::fmt;

use super::atari_scores::atari_reference;
use super::baselines::Baselines;

/// CartPole-v1's largest episode return (500 steps, reward 1 per step).
pub const CARTPOLE_MAX_RETURN: f64 = 500.0;

/// How one environment's scores are normalised.
#[derive(Debug, Clone, PartialEq)]
pub enum Normalisation {
    /// Atari's human-normalised score.
    Human {
        /// Random policy's score.
        random: f64,
        /// Human tester's score.
        human: f64,
    },
    /// `(score - random) / (reference - random)`.
    Reference {
        /// Measured random policy's score.
        random: f64,
        /// The reference score.
        reference: f64,
    },
    /// `score / 500`.
    CartPole,
    /// Not normalised.
    Raw {
        /// Why not.
        reason: String,
    },
}

impl Normalisation {
    /// The normalisation of `env` given `baselines` (see the module doc).
    pub fn for_env(env: &str, baselines: &Baselines) -> Normalisation {
        if hrl_env::atari_game(env).is_some() {
            return match atari_reference(env) {
                Some(r) => Normalisation::Human {
                    random: r.random,
                    human: r.human,
                },
                None => Normalisation::Raw {
                    reason: format!("{env} is not one of the 57 games with human reference scores"),
                },
            };
        }
        let given = baselines.envs.get(env);
        if let Some(reference) = given.and_then(|b| b.reference) {
            return match given.and_then(|b| b.random) {
                Some(random) if reference != random.mean => Normalisation::Reference {
                    random: random.mean,
                    reference,
                },
                Some(_) => Normalisation::Raw {
                    reason: format!("{env}'s reference score equals its random score"),
                },
                None => Normalisation::Raw {
                    reason: format!("{env} has a reference score but no random score"),
                },
            };
        }
        if env == "cartpole" {
            return Normalisation::CartPole;
        }
        let reason = if env.starts_with("minatar/") {
            format!(
                "no reference score for {env} (not one of the five games with shipped \
                 references); give one as `reference` in a --baselines file"
            )
        } else {
            format!("no normalisation known for {env}")
        };
        Normalisation::Raw { reason }
    }

    /// The normalised score of `score`.
    pub fn apply(&self, score: f64) -> f64 {
        match self {
            Normalisation::Human { random, human } => (score - random) / (human - random),
            Normalisation::Reference { random, reference } => {
                (score - random) / (reference - random)
            }
            Normalisation::CartPole => score / CARTPOLE_MAX_RETURN,
            Normalisation::Raw { .. } => score,
        }
    }

    /// Whether scores stay raw.
    pub fn is_raw(&self) -> bool {
        matches!(self, Normalisation::Raw { .. })
    }
}

impl fmt::Display for Normalisation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Normalisation::Human { random, human } => write!(
                f,
                "human-normalised: (score - {random}) / ({human} - {random})"
            ),
            Normalisation::Reference { random, reference } => write!(
                f,
                "(score - random {random:.4}) / (reference {reference} - random {random:.4})"
            ),
            Normalisation::CartPole => write!(f, "score / {CARTPOLE_MAX_RETURN}"),
            Normalisation::Raw { reason } => write!(f, "raw ({reason})"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::baselines::EnvBaseline;
    use crate::random_baseline::RandomBaseline;

    #[test]
    fn atari_is_human_normalised() {
        let n = Normalisation::for_env("atari/breakout", &Baselines::default());
        assert_eq!(n.apply(1.7), 0.0);
        assert!((n.apply(30.5) - 1.0).abs() < 1e-15);
        assert!(Normalisation::for_env("atari/tetris", &Baselines::default()).is_raw());
    }

    #[test]
    fn minatar_needs_a_reference() {
        let mut baselines = Baselines::default();
        let random = RandomBaseline {
            episodes: 10,
            seed: 0,
            mean: 0.5,
            std: 0.1,
        };
        baselines.envs.insert(
            "minatar/breakout".into(),
            EnvBaseline {
                random: Some(random),
                ..EnvBaseline::default()
            },
        );
        let raw = Normalisation::for_env("minatar/breakout", &baselines);
        assert!(
            raw.is_raw() && raw.to_string().contains("--baselines"),
            "{raw}"
        );
        baselines
            .envs
            .get_mut("minatar/breakout")
            .unwrap()
            .reference = Some(10.5);
        let n = Normalisation::for_env("minatar/breakout", &baselines);
        assert_eq!(n.apply(5.5), 0.5);
        assert_eq!(n.apply(0.5), 0.0);
    }

    #[test]
    fn cartpole_divides_by_its_cap_and_others_stay_raw() {
        let n = Normalisation::for_env("cartpole", &Baselines::default());
        assert_eq!(n.apply(250.0), 0.5);
        let other = Normalisation::for_env("mujoco/hopper", &Baselines::default());
        assert_eq!(other.apply(3.0), 3.0);
        assert!(other.is_raw());
    }
}
