//! The environment registry: ids to environments.

use crate::atari::{Atari, AtariConfig, AtariOptions};
use crate::minatar::{Game, MinAtar, MinAtarConfig};
use crate::{CartPole, Env, EnvError, TimeLimit};

/// Options for [`make`], every environment's in one struct; `None` keeps the environment's
/// default. Setting an option the environment does not have is an error. In TOML (with the
/// `serde` feature) Atari's are a nested table:
///
/// ```toml
/// [env_options]
/// sticky_action_prob = 0.25
/// [env_options.atari]
/// frame_skip = 4
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct EnvOptions {
    /// Probability of repeating the previous action (MinAtar: per step, default 0.1; Atari:
    /// ALE's `repeat_action_probability`, per emulator frame, default 0.0).
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub sticky_action_prob: Option<f64>,
    /// Difficulty ramping (MinAtar; default on).
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub difficulty_ramping: Option<bool>,
    /// Use the game's minimal action set instead of the full one (MinAtar: default off;
    /// Atari: default on).
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub minimal_action_set: Option<bool>,
    /// End every episode after this many agent steps, as `truncated` (any environment; default
    /// none beyond the game's own limits). gymnax's MinAtar games stop at 1,000.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub max_episode_steps: Option<u64>,
    /// Atari's preprocessing (frame skip, frame stack, episodic life, ...).
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "AtariOptions::is_empty")
    )]
    pub atari: AtariOptions,
}

/// Every id [`make`] accepts: `minatar/GAME` for the five games, `cartpole`, then
/// `atari/GAME` for every game ale-py 0.12.1 ships.
pub fn env_ids() -> Vec<String> {
    Game::ALL
        .iter()
        .map(|game| format!("minatar/{}", game.name()))
        .chain(std::iter::once("cartpole".to_string()))
        .chain(crate::atari::env_ids())
        .collect()
}

/// The family of an environment id, the part before the first `/` (`minatar`, `atari`,
/// `cartpole`): presets are chosen and reports group suites by it.
pub fn env_family(env_id: &str) -> &str {
    env_id.split('/').next().unwrap_or(env_id)
}

/// The game of an Atari id `atari/GAME`; `None` for every other id. The one place the Atari
/// prefix is spelled.
pub fn atari_game(env_id: &str) -> Option<&str> {
    env_id.strip_prefix("atari/")
}

impl EnvOptions {
    /// The options `env_id`'s evaluation episodes run with: whole games scored unclipped, so on
    /// Atari no episodic life and no reward clipping; elsewhere these options unchanged.
    pub fn for_evaluation(&self, env_id: &str) -> EnvOptions {
        let mut options = self.clone();
        if atari_game(env_id).is_some() {
            options.atari.episodic_life = Some(false);
            options.atari.clip_rewards = Some(false);
        }
        options
    }
}

/// Makes the environment registered as `env_id`. Call `reset` on it before stepping.
pub fn make(env_id: &str, options: &EnvOptions) -> Result<Box<dyn Env>, EnvError> {
    let env = make_uncapped(env_id, options)?;
    Ok(match options.max_episode_steps {
        Some(max_episode_steps) => Box::new(TimeLimit::new(env, max_episode_steps)?),
        None => env,
    })
}

/// [`make`] without the `max_episode_steps` cap.
fn make_uncapped(env_id: &str, options: &EnvOptions) -> Result<Box<dyn Env>, EnvError> {
    if atari_game(env_id).is_some() {
        return Ok(Box::new(atari(env_id, options)?));
    }
    if let Some(option) = options.atari.set_names().first() {
        return Err(EnvError::UnsupportedOption {
            env_id: env_id.to_string(),
            option,
        });
    }
    if let Some(game) = env_id.strip_prefix("minatar/").and_then(Game::from_name) {
        let defaults = MinAtarConfig::default();
        let config = MinAtarConfig {
            sticky_action_prob: options
                .sticky_action_prob
                .unwrap_or(defaults.sticky_action_prob),
            difficulty_ramping: options
                .difficulty_ramping
                .unwrap_or(defaults.difficulty_ramping),
            minimal_action_set: options
                .minimal_action_set
                .unwrap_or(defaults.minimal_action_set),
        };
        return Ok(Box::new(MinAtar::new(game, config)?));
    }
    if env_id == "cartpole" {
        let unsupported = [
            ("sticky_action_prob", options.sticky_action_prob.is_some()),
            ("difficulty_ramping", options.difficulty_ramping.is_some()),
            ("minimal_action_set", options.minimal_action_set.is_some()),
        ];
        if let Some((option, _)) = unsupported.iter().find(|(_, set)| *set) {
            return Err(EnvError::UnsupportedOption {
                env_id: env_id.to_string(),
                option,
            });
        }
        return Ok(Box::new(CartPole::new()));
    }
    Err(EnvError::UnknownEnv {
        id: env_id.to_string(),
        valid: env_ids(),
    })
}

/// Like [`make`] for an Atari id `atari/GAME`, returning the concrete [`Atari`] (for its raw
/// screen, [`Atari::screen_rgb`]); any other id is an [`EnvError::UnknownEnv`], and
/// `max_episode_steps` (a wrapper's cap) an [`EnvError::UnsupportedOption`].
pub fn make_atari(env_id: &str, options: &EnvOptions) -> Result<Atari, EnvError> {
    if options.max_episode_steps.is_some() {
        // The bare emulator has no wrapper: its own cap is `atari.max_episode_frames`.
        return Err(EnvError::UnsupportedOption {
            env_id: env_id.to_string(),
            option: "max_episode_steps",
        });
    }
    atari(env_id, options)
}

/// The Atari game of `env_id` with `options`, without the `max_episode_steps` cap.
fn atari(env_id: &str, options: &EnvOptions) -> Result<Atari, EnvError> {
    let Some(game) = atari_game(env_id) else {
        return Err(EnvError::UnknownEnv {
            id: env_id.to_string(),
            valid: crate::atari::env_ids().collect(),
        });
    };
    if options.difficulty_ramping.is_some() {
        return Err(EnvError::UnsupportedOption {
            env_id: env_id.to_string(),
            option: "difficulty_ramping",
        });
    }
    let config = AtariConfig::resolve(options)?;
    Atari::new(game, config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evaluation_options_score_whole_unclipped_atari_games_and_change_nothing_elsewhere() {
        let options = EnvOptions {
            sticky_action_prob: Some(0.25),
            ..EnvOptions::default()
        };
        let atari = options.for_evaluation("atari/pong");
        assert_eq!(atari.atari.episodic_life, Some(false));
        assert_eq!(atari.atari.clip_rewards, Some(false));
        assert_eq!(atari.sticky_action_prob, Some(0.25));
        assert_eq!(options.for_evaluation("minatar/breakout"), options);
        assert_eq!(atari_game("atari/pong"), Some("pong"));
        assert_eq!(atari_game("minatar/breakout"), None);
    }

    #[test]
    fn the_family_is_the_part_before_the_first_slash() {
        assert_eq!(env_family("minatar/space_invaders"), "minatar");
        assert_eq!(env_family("atari/pong"), "atari");
        assert_eq!(env_family("cartpole"), "cartpole");
    }

    #[test]
    fn every_listed_id_makes_an_env_with_that_id() {
        for id in env_ids() {
            let env = make(&id, &EnvOptions::default()).expect("a listed id");
            assert_eq!(env.spec().id, id);
        }
    }

    #[test]
    fn minatar_specs_match_the_reference_shapes() {
        let expect = [
            ("minatar/breakout", 4, 3),
            ("minatar/asterix", 4, 5),
            ("minatar/freeway", 7, 3),
            ("minatar/seaquest", 10, 6),
            ("minatar/space_invaders", 6, 4),
        ];
        for (id, channels, minimal) in expect {
            let full = make(id, &EnvOptions::default()).unwrap();
            assert_eq!(full.spec().observation_shape, [channels, 10, 10]);
            assert_eq!(full.spec().num_actions, 6);
            let options = EnvOptions {
                minimal_action_set: Some(true),
                ..EnvOptions::default()
            };
            assert_eq!(make(id, &options).unwrap().spec().num_actions, minimal);
        }
    }

    #[test]
    fn unknown_id_lists_the_valid_ones() {
        let err = make("minatar/pong", &EnvOptions::default()).err().unwrap();
        let message = err.to_string();
        assert!(message.contains("`minatar/pong`"), "{message}");
        assert!(
            message.contains("minatar/space_invaders, cartpole"),
            "{message}"
        );
    }

    #[test]
    fn options_an_env_lacks_are_rejected() {
        let options = EnvOptions {
            sticky_action_prob: Some(0.25),
            ..EnvOptions::default()
        };
        let err = make("cartpole", &options).err().unwrap();
        assert_eq!(
            err,
            EnvError::UnsupportedOption {
                env_id: "cartpole".into(),
                option: "sticky_action_prob"
            }
        );
    }

    #[test]
    fn sticky_action_prob_outside_the_unit_interval_is_rejected() {
        let options = EnvOptions {
            sticky_action_prob: Some(1.5),
            ..EnvOptions::default()
        };
        let err = make("minatar/breakout", &options).err().unwrap();
        assert_eq!(err, EnvError::StickyActionProb(1.5));
    }
}
