//! `baselines.json`: per environment, the random policy's measured score and, where the user
//! gives one, the reference score that normalisation maps to 1.
//!
//! ```json
//! {
//!   "minatar/breakout": {
//!     "random": { "episodes": 100, "seed": 0, "mean": 0.52, "std": 0.71 },
//!     "reference": 20.0,
//!     "reference_source": "where the reference score comes from"
//!   }
//! }
//! ```
//!
//! A report fills in the shipped MinAtar references ([`super::minatar_scores`]) for the games
//! that lack one, measures `random` itself (see [`crate::random_baseline`]) for every MinAtar
//! environment and every environment with a `reference` that lacks one, and writes the whole
//! set to `OUT/baselines.json`; `hrl report --baselines FILE` starts from an earlier one.

use std::collections::BTreeMap;
use std::path::Path;

use super::ReportError;
use super::minatar_scores::{MINATAR_REFERENCE_SOURCE, minatar_reference};
use crate::atomic;
use crate::random_baseline::{RandomBaseline, random_baseline};

/// The baselines of one environment.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvBaseline {
    /// The uniform random policy's score.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub random: Option<RandomBaseline>,
    /// The score normalisation maps to 1 (game points).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<f64>,
    /// Where `reference` comes from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference_source: Option<String>,
}

/// Baselines by environment id.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct Baselines {
    /// Environment id to its baselines.
    pub envs: BTreeMap<String, EnvBaseline>,
}

impl Baselines {
    /// Reads a baselines file.
    pub fn read(path: &Path) -> Result<Baselines, ReportError> {
        let text = std::fs::read_to_string(path).map_err(ReportError::io(path))?;
        serde_json::from_str(&text).map_err(|e| ReportError::Json {
            path: path.to_path_buf(),
            message: e.to_string(),
        })
    }

    /// Writes the file atomically, pretty-printed.
    pub fn write(&self, path: &Path) -> Result<(), ReportError> {
        let mut json = serde_json::to_vec_pretty(self).map_err(|e| ReportError::Json {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        json.push(b'\n');
        atomic::write(path, &json).map_err(ReportError::io(path))
    }

    /// Whether the report measures `env`'s random score: MinAtar games and any environment given
    /// a reference, whose normalisation needs it, and Atari games, where it stands beside the
    /// published random score that human normalisation keeps (CartPole needs none).
    pub fn measures_random(&self, env: &str) -> bool {
        env.starts_with("minatar/")
            || hrl_env::atari_game(env).is_some()
            || self.envs.get(env).is_some_and(|b| b.reference.is_some())
    }

    /// Gives each MinAtar game of `envs` without a reference the shipped one (with its source);
    /// references already given are kept.
    pub fn fill_minatar_references<'a>(&mut self, envs: impl IntoIterator<Item = &'a str>) {
        for env in envs {
            let Some(reference) = minatar_reference(env) else {
                continue;
            };
            let baseline = self.envs.entry(env.to_string()).or_default();
            if baseline.reference.is_none() {
                baseline.reference = Some(reference);
                baseline.reference_source = Some(MINATAR_REFERENCE_SOURCE.to_string());
            }
        }
    }

    /// Measures the random score of each of `envs` that needs one and lacks it, with
    /// `episodes` games from `seed`; returns the environments measured.
    pub fn fill_random<'a>(
        &mut self,
        envs: impl IntoIterator<Item = &'a str>,
        episodes: usize,
        seed: u32,
    ) -> Result<Vec<String>, ReportError> {
        let mut measured = Vec::new();
        for env in envs {
            let lacks = self.envs.get(env).is_none_or(|b| b.random.is_none());
            if self.measures_random(env) && lacks {
                let random = random_baseline(env, episodes, seed)?;
                self.envs.entry(env.to_string()).or_default().random = Some(random);
                measured.push(env.to_string());
            }
        }
        Ok(measured)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_what_is_missing_and_round_trips() {
        let mut baselines: Baselines = serde_json::from_str(
            r#"{"cartpole": {"reference": 400.0, "reference_source": "a test"},
                "minatar/asterix": {"random": {"episodes": 3, "seed": 9, "mean": 1.0, "std": 0.5}}}"#,
        )
        .unwrap();
        let measured = baselines
            .fill_random(
                [
                    "minatar/breakout",
                    "minatar/asterix",
                    "cartpole",
                    "atari/pong",
                ],
                20,
                0,
            )
            .unwrap();
        assert_eq!(measured, ["minatar/breakout", "cartpole", "atari/pong"]);
        assert_eq!(
            baselines.envs["minatar/asterix"].random.unwrap().seed,
            9,
            "kept"
        );
        // A uniform random policy loses Pong 21 to 0 or close to it: the published random
        // score (Mnih et al. 2015) is -20.7.
        let pong = baselines.envs["atari/pong"].random.unwrap();
        assert!((pong.mean - -20.7).abs() < 0.7, "{pong:?}");
        let dir = std::env::temp_dir().join(format!("hrl-baselines-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("baselines.json");
        baselines.write(&path).unwrap();
        assert_eq!(Baselines::read(&path).unwrap(), baselines);
        std::fs::write(&path, r#"{"cartpole": {"referense": 1}}"#).unwrap();
        let err = Baselines::read(&path).unwrap_err().to_string();
        assert!(
            err.contains("baselines.json") && err.contains("referense"),
            "{err}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn shipped_minatar_references_fill_only_the_gaps() {
        let mut baselines: Baselines = serde_json::from_str(
            r#"{"minatar/asterix": {"reference": 3.0, "reference_source": "mine"}}"#,
        )
        .unwrap();
        baselines.fill_minatar_references(["minatar/asterix", "minatar/breakout", "cartpole"]);
        assert_eq!(baselines.envs["minatar/asterix"].reference, Some(3.0));
        let breakout = &baselines.envs["minatar/breakout"];
        assert_eq!(breakout.reference, minatar_reference("minatar/breakout"));
        assert_eq!(
            breakout.reference_source.as_deref(),
            Some(MINATAR_REFERENCE_SOURCE)
        );
        assert!(!baselines.envs.contains_key("cartpole"));
    }
}
