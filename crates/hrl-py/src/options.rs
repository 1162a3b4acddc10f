//! Python arguments to Rust values: the environment options as keyword arguments, and checked
//! integers, so that every bad argument is a `ValueError` naming it.

use std::path::PathBuf;

use hrl_env::EnvOptions;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict};

use crate::error::Error;

/// Every option keyword, in the order the error for an unknown one lists them: the shared
/// fields of [`EnvOptions`], then its Atari-only ones (flat in Python, `EnvOptions::atari` in
/// Rust).
pub const NAMES: [&str; 14] = [
    "sticky_action_prob",
    "difficulty_ramping",
    "minimal_action_set",
    "max_episode_steps",
    "noop_max",
    "frame_skip",
    "max_pool",
    "screen_size",
    "frame_stack",
    "episodic_life",
    "fire_reset",
    "clip_rewards",
    "max_episode_frames",
    "rom_dir",
];

/// Reads the options from keyword arguments; `None` as a value keeps that option's default.
/// Whether the environment has each option is checked when it is made.
pub fn parse(options: Option<&Bound<'_, PyDict>>) -> Result<EnvOptions, Error> {
    let mut parsed = EnvOptions::default();
    for (key, value) in options.into_iter().flat_map(|dict| dict.iter()) {
        let name: String = key.extract().map_err(|_| Error::Argument {
            what: "an option's name".into(),
            expected: "a string".into(),
            got: describe(&key),
        })?;
        if value.is_none() {
            if NAMES.contains(&name.as_str()) {
                continue;
            }
            return Err(Error::UnknownOption { name });
        }
        let what = format!("option `{name}`");
        match name.as_str() {
            "sticky_action_prob" => parsed.sticky_action_prob = Some(float(&what, &value)?),
            "difficulty_ramping" => parsed.difficulty_ramping = Some(boolean(&what, &value)?),
            "minimal_action_set" => parsed.minimal_action_set = Some(boolean(&what, &value)?),
            "max_episode_steps" => parsed.max_episode_steps = Some(u64_arg(&what, &value)?),
            "noop_max" => parsed.atari.noop_max = Some(u32_arg(&what, &value)?),
            "frame_skip" => parsed.atari.frame_skip = Some(u32_arg(&what, &value)?),
            "max_pool" => parsed.atari.max_pool = Some(boolean(&what, &value)?),
            "screen_size" => parsed.atari.screen_size = Some(usize_arg(&what, &value)?),
            "frame_stack" => parsed.atari.frame_stack = Some(usize_arg(&what, &value)?),
            "episodic_life" => parsed.atari.episodic_life = Some(boolean(&what, &value)?),
            "fire_reset" => parsed.atari.fire_reset = Some(boolean(&what, &value)?),
            "clip_rewards" => parsed.atari.clip_rewards = Some(boolean(&what, &value)?),
            "max_episode_frames" => parsed.atari.max_episode_frames = Some(u32_arg(&what, &value)?),
            "rom_dir" => parsed.atari.rom_dir = Some(path(&what, &value)?),
            _ => return Err(Error::UnknownOption { name }),
        }
    }
    Ok(parsed)
}

/// An environment id.
pub fn env_id(value: &Bound<'_, PyAny>) -> Result<String, Error> {
    value.extract().map_err(|_| Error::Argument {
        what: "`env_id`".into(),
        expected: "a string such as \"minatar/breakout\" (see hadamard_rl.env_ids())".into(),
        got: describe(value),
    })
}

/// A non-negative integer (Python `int` or a numpy integer; not `bool`).
pub fn u64_arg(what: &str, value: &Bound<'_, PyAny>) -> Result<u64, Error> {
    let bad = || Error::Argument {
        what: what.to_string(),
        expected: "a non-negative integer".into(),
        got: describe(value),
    };
    if value.is_instance_of::<PyBool>() {
        return Err(bad());
    }
    value.extract::<u64>().map_err(|_| bad())
}

/// A non-negative integer that fits in 32 bits.
pub fn u32_arg(what: &str, value: &Bound<'_, PyAny>) -> Result<u32, Error> {
    let wide = u64_arg(what, value)?;
    u32::try_from(wide).map_err(|_| Error::Argument {
        what: what.to_string(),
        expected: format!("at most {}", u32::MAX),
        got: wide.to_string(),
    })
}

/// A non-negative integer that fits in a `usize`.
pub fn usize_arg(what: &str, value: &Bound<'_, PyAny>) -> Result<usize, Error> {
    let wide = u64_arg(what, value)?;
    usize::try_from(wide).map_err(|_| Error::Argument {
        what: what.to_string(),
        expected: format!("at most {}", usize::MAX),
        got: wide.to_string(),
    })
}

/// An integer that may be negative (an action), for range errors that show it as given.
pub fn i64_arg(what: &str, value: &Bound<'_, PyAny>) -> Result<i64, Error> {
    let bad = || Error::Argument {
        what: what.to_string(),
        expected: "an integer".into(),
        got: describe(value),
    };
    if value.is_instance_of::<PyBool>() {
        return Err(bad());
    }
    value.extract::<i64>().map_err(|_| bad())
}

fn float(what: &str, value: &Bound<'_, PyAny>) -> Result<f64, Error> {
    let bad = || Error::Argument {
        what: what.to_string(),
        expected: "a number".into(),
        got: describe(value),
    };
    if value.is_instance_of::<PyBool>() {
        return Err(bad());
    }
    value.extract::<f64>().map_err(|_| bad())
}

fn boolean(what: &str, value: &Bound<'_, PyAny>) -> Result<bool, Error> {
    value.extract::<bool>().map_err(|_| Error::Argument {
        what: what.to_string(),
        expected: "True or False".into(),
        got: describe(value),
    })
}

fn path(what: &str, value: &Bound<'_, PyAny>) -> Result<PathBuf, Error> {
    value.extract::<PathBuf>().map_err(|_| Error::Argument {
        what: what.to_string(),
        expected: "a path (str or os.PathLike)".into(),
        got: describe(value),
    })
}

/// `repr(value) (type)`, shortened, for error messages.
fn describe(value: &Bound<'_, PyAny>) -> String {
    let repr = value
        .repr()
        .map(|r| r.to_string())
        .unwrap_or_else(|_| "?".into());
    let repr = if repr.chars().count() > 60 {
        format!("{}...", repr.chars().take(57).collect::<String>())
    } else {
        repr
    };
    let type_name = value
        .get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "?".into());
    format!("{repr} ({type_name})")
}
