//! Reference scores of the five MinAtar games, the scores that normalisation maps to 1
//! (`(score - random) / (reference - random)`, with the random policy's score measured by the
//! report).
//!
//! No published MinAtar results exist as numbers: Young and Tian (2019) and the PQN paper
//! (Gallici et al. 2024) give them only as learning curves. So hadamard-rl measures its own:
//! PQN with purejaxql's MinAtar network and hyperparameters (`configs/pqn-minatar.toml`, ReLU,
//! LayerNorm before each hidden activation), one run per game of 2M agent steps on seed 100,
//! scored as `hrl report` scores every run (mean return over the last 10% of its training
//! episodes). Produced by
//!
//! ```text
//! hrl sweep run experiments/minatar-reference.toml --jobs 2
//! hrl report sweeps/minatar-reference --out results/minatar-reference
//! ```
//!
//! with the values below copied from `results/minatar-reference/scores.csv` (column
//! `final_score`). A normalised MinAtar score thus reads "the fraction of what ReLU PQN
//! reaches after 2M steps, above random". Seaquest's is low (ReLU PQN has barely left the
//! random policy's score there after 2M steps), so Seaquest's normalised scores spread widely;
//! the IQM is robust to that, the mean is not. A `reference` in `hrl report --baselines FILE`
//! overrides these.

/// Where the references come from, written into `baselines.json` beside each one.
pub const MINATAR_REFERENCE_SOURCE: &str = "hadamard-rl PQN (configs/pqn-minatar.toml, relu), \
     2M agent steps, seed 100: experiments/minatar-reference.toml, results/minatar-reference";

/// `(env id, reference score)`: the `final_score` column of
/// `results/minatar-reference/scores.csv`.
const MINATAR_REFERENCES: [(&str, f64); 5] = [
    ("minatar/asterix", 11.962354551676933),
    ("minatar/breakout", 14.262092238470192),
    ("minatar/freeway", 56.81578947368421),
    ("minatar/seaquest", 1.0087463556851313),
    ("minatar/space_invaders", 79.16666666666667),
];

/// The reference score of `env`, if it is one of the five games.
pub fn minatar_reference(env: &str) -> Option<f64> {
    MINATAR_REFERENCES
        .iter()
        .find(|(id, _)| *id == env)
        .map(|&(_, score)| score)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_game_has_a_positive_reference() {
        for game in hrl_env::minatar::Game::ALL {
            let env = format!("minatar/{}", game.name());
            let reference = minatar_reference(&env).unwrap_or_else(|| panic!("{env}"));
            assert!(reference > 0.0, "{env}: {reference}");
        }
        assert_eq!(minatar_reference("minatar/pong"), None);
        assert_eq!(minatar_reference("atari/breakout"), None);
    }
}
