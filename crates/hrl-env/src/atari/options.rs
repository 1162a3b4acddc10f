//! The Atari preprocessing switches and their defaults (cleanrl's DQN/PPO Atari setup).

use std::path::PathBuf;

use crate::{EnvError, EnvOptions};

/// Atari-only options, [`crate::EnvOptions::atari`]; `None` keeps the default given with each.
/// Setting any of them for another environment is an error.
///
/// Two shared [`crate::EnvOptions`] fields apply to Atari too: `sticky_action_prob` is ALE's
/// `repeat_action_probability`, drawn every emulator frame (default 0.0; 0.25 for Machado et
/// al. style runs), and `minimal_action_set` picks the game's minimal set over all 18 actions
/// (default true). `difficulty_ramping` is MinAtar's and an error here.
///
/// Units: `noop_max` and `max_episode_frames` count emulator frames; everything an agent sees
/// (rewards, `Step`, episode lengths) is per agent step of `frame_skip` frames.
#[derive(Clone, Debug, Default, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct AtariOptions {
    /// On a real reset, a uniform number of NOOP frames in `1..=noop_max` follows ALE's own
    /// reset; 0 turns it off (default 30).
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub noop_max: Option<u32>,
    /// Emulator frames per agent step, the action repeated and the rewards summed (default 4).
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub frame_skip: Option<u32>,
    /// Observe the pixel-wise max of the step's last two frames instead of its last frame
    /// (default true).
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub max_pool: Option<bool>,
    /// Side of the square grayscale observation, area-averaged from 210x160 (default 84).
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub screen_size: Option<usize>,
    /// Frames stacked into one observation, oldest first (default 4).
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub frame_stack: Option<usize>,
    /// DQN's episodic life: a lost life ends the learning episode (`terminated`) while the
    /// game goes on; the game is reset only when it is over (default true).
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub episodic_life: Option<bool>,
    /// After every reset (also after a lost life under episodic life), press FIRE for one
    /// agent step, then take action 2 for one agent step, where the minimal action set has
    /// FIRE (default true).
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub fire_reset: Option<bool>,
    /// `Step::reward` is the sign of the step's game reward (-1, 0 or 1) (default true).
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub clip_rewards: Option<bool>,
    /// Emulator frames after which a game is cut (`truncated`); 0 means no cap
    /// (default 108,000).
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub max_episode_frames: Option<u32>,
    /// Folder searched first for `GAME.bin` (then `$HRL_ROM_DIR` and the places
    /// `ale_sys::rom_search_dirs` lists).
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub rom_dir: Option<PathBuf>,
}

impl AtariOptions {
    /// Whether no option is set (every default kept).
    pub fn is_empty(&self) -> bool {
        self.set_names().is_empty()
    }

    /// The names of the options that are set, for rejecting them on other environments.
    pub(crate) fn set_names(&self) -> Vec<&'static str> {
        [
            ("noop_max", self.noop_max.is_some()),
            ("frame_skip", self.frame_skip.is_some()),
            ("max_pool", self.max_pool.is_some()),
            ("screen_size", self.screen_size.is_some()),
            ("frame_stack", self.frame_stack.is_some()),
            ("episodic_life", self.episodic_life.is_some()),
            ("fire_reset", self.fire_reset.is_some()),
            ("clip_rewards", self.clip_rewards.is_some()),
            ("max_episode_frames", self.max_episode_frames.is_some()),
            ("rom_dir", self.rom_dir.is_some()),
        ]
        .into_iter()
        .filter_map(|(name, set)| set.then_some(name))
        .collect()
    }
}

/// Every Atari setting, resolved: what an [`super::Atari`] runs with.
#[derive(Clone, Debug, PartialEq)]
pub struct AtariConfig {
    /// ALE's `repeat_action_probability`, per emulator frame.
    pub sticky_action_prob: f32,
    /// Minimal action set (true) or all 18 actions.
    pub minimal_action_set: bool,
    /// See [`AtariOptions::noop_max`] (frames).
    pub noop_max: u32,
    /// See [`AtariOptions::frame_skip`] (frames per agent step, at least 1).
    pub frame_skip: u32,
    /// See [`AtariOptions::max_pool`].
    pub max_pool: bool,
    /// See [`AtariOptions::screen_size`] (pixels, 1..=160).
    pub screen_size: usize,
    /// See [`AtariOptions::frame_stack`] (at least 1).
    pub frame_stack: usize,
    /// See [`AtariOptions::episodic_life`].
    pub episodic_life: bool,
    /// See [`AtariOptions::fire_reset`].
    pub fire_reset: bool,
    /// See [`AtariOptions::clip_rewards`].
    pub clip_rewards: bool,
    /// See [`AtariOptions::max_episode_frames`] (frames; 0 = no cap).
    pub max_episode_frames: u32,
    /// See [`AtariOptions::rom_dir`].
    pub rom_dir: Option<PathBuf>,
}

impl Default for AtariConfig {
    fn default() -> Self {
        Self {
            sticky_action_prob: 0.0,
            minimal_action_set: true,
            noop_max: 30,
            frame_skip: 4,
            max_pool: true,
            screen_size: 84,
            frame_stack: 4,
            episodic_life: true,
            fire_reset: true,
            clip_rewards: true,
            max_episode_frames: 108_000,
            rom_dir: None,
        }
    }
}

impl AtariConfig {
    /// The defaults overridden by whatever `options` (its shared fields and its Atari ones)
    /// set.
    pub fn resolve(env_options: &EnvOptions) -> Result<Self, EnvError> {
        let options = &env_options.atari;
        let d = Self::default();
        let sticky = env_options
            .sticky_action_prob
            .unwrap_or(f64::from(d.sticky_action_prob));
        if !(0.0..=1.0).contains(&sticky) {
            return Err(EnvError::StickyActionProb(sticky));
        }
        let config = Self {
            sticky_action_prob: sticky as f32,
            minimal_action_set: env_options
                .minimal_action_set
                .unwrap_or(d.minimal_action_set),
            noop_max: options.noop_max.unwrap_or(d.noop_max),
            frame_skip: options.frame_skip.unwrap_or(d.frame_skip),
            max_pool: options.max_pool.unwrap_or(d.max_pool),
            screen_size: options.screen_size.unwrap_or(d.screen_size),
            frame_stack: options.frame_stack.unwrap_or(d.frame_stack),
            episodic_life: options.episodic_life.unwrap_or(d.episodic_life),
            fire_reset: options.fire_reset.unwrap_or(d.fire_reset),
            clip_rewards: options.clip_rewards.unwrap_or(d.clip_rewards),
            max_episode_frames: options.max_episode_frames.unwrap_or(d.max_episode_frames),
            rom_dir: options.rom_dir.clone(),
        };
        let bad = |option: &'static str, value: String, expected: &'static str| {
            Err(EnvError::AtariOption {
                option,
                value,
                expected,
            })
        };
        if config.frame_skip == 0 {
            return bad("frame_skip", "0".into(), "at least 1");
        }
        if config.frame_stack == 0 {
            return bad("frame_stack", "0".into(), "at least 1");
        }
        if !(1..=ale_sys::SCREEN_WIDTH).contains(&config.screen_size) {
            return bad(
                "screen_size",
                config.screen_size.to_string(),
                "1..=160 pixels",
            );
        }
        if i32::try_from(config.max_episode_frames).is_err() {
            return bad(
                "max_episode_frames",
                config.max_episode_frames.to_string(),
                "at most 2^31 - 1 frames",
            );
        }
        Ok(config)
    }
}
