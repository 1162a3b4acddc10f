//! Atari traces for `hrl env trace --env atari/GAME`: the raw emulator trace (one line per
//! emulator frame, ale-py's contract, see [`ale_sys::trace`]) and the preprocessed one (one
//! line per agent step).
//!
//! Actions files hold whitespace-separated non-negative integers; each indexes the game's
//! minimal action set (raw) or the environment's action set (preprocessed, minimal by
//! default). Errors name the line of a bad token or an out-of-range action.

use std::io::Write;
use std::path::Path;

use ale_sys::trace::screen_hash;

use super::{Atari, AtariConfig};
use crate::{Env, EnvError};

/// What went wrong making an Atari trace.
#[derive(Debug, thiserror::Error)]
pub enum AtariTraceError {
    /// A token that is not a non-negative integer.
    #[error("actions file, line {line}: `{token}` is not a non-negative integer")]
    NotAnInteger {
        /// 1-based line number.
        line: usize,
        /// The token.
        token: String,
    },
    /// An action outside the action set.
    #[error(
        "actions file, line {line}: action {action} is out of range: {game} takes actions \
         0..{num_actions} (indices into its {set} action set)"
    )]
    OutOfRange {
        /// 1-based line number.
        line: usize,
        /// The action.
        action: usize,
        /// The game.
        game: String,
        /// Size of the action set.
        num_actions: usize,
        /// `minimal` or `full`.
        set: &'static str,
    },
    /// The emulator, the ROM lookup or the environment failed.
    #[error(transparent)]
    Env(#[from] EnvError),
    /// The raw trace failed in the emulator.
    #[error(transparent)]
    Ale(#[from] ale_sys::AleError),
    /// The trace could not be written.
    #[error("writing the trace: {0}")]
    Write(#[from] std::io::Error),
}

/// An action with the 1-based line it came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LinedAction {
    /// The action index.
    pub action: usize,
    /// Its line in the file.
    pub line: usize,
}

/// Parses an actions file's text: whitespace-separated non-negative integers.
pub fn parse_actions(text: &str) -> Result<Vec<LinedAction>, AtariTraceError> {
    text.lines()
        .enumerate()
        .flat_map(|(i, content)| content.split_whitespace().map(move |token| (i + 1, token)))
        .map(|(line, token)| {
            token
                .parse()
                .map(|action| LinedAction { action, line })
                .map_err(|_| AtariTraceError::NotAnInteger {
                    line,
                    token: token.to_string(),
                })
        })
        .collect()
}

fn check_range(
    actions: &[LinedAction],
    game: &str,
    num_actions: usize,
    set: &'static str,
) -> Result<Vec<usize>, AtariTraceError> {
    actions
        .iter()
        .map(|a| {
            if a.action < num_actions {
                Ok(a.action)
            } else {
                Err(AtariTraceError::OutOfRange {
                    line: a.line,
                    action: a.action,
                    game: game.to_string(),
                    num_actions,
                    set,
                })
            }
        })
        .collect()
}

/// The raw trace: exactly [`ale_sys::trace::raw_trace`] (per emulator frame
/// `REWARD GAME_OVER LIVES SCREEN_HASH`), after checking every action against the minimal set.
pub fn write_raw_trace(
    game: &str,
    seed: i32,
    sticky: f32,
    actions: &[LinedAction],
    rom_dir: Option<&Path>,
    out: &mut impl Write,
) -> Result<(), AtariTraceError> {
    let rom = ale_sys::rom_path(game, rom_dir)?;
    let num_actions = ale_sys::Ale::new(&rom, &ale_sys::AleSettings::new())?
        .minimal_action_set()?
        .len();
    let actions = check_range(actions, game, num_actions, "minimal")?;
    ale_sys::trace::raw_trace(game, seed, sticky, &actions, rom_dir, out)?;
    Ok(())
}

/// The preprocessed trace: `Atari::new(game, config)`, `reset(Some(seed))`, then per action
/// one agent step and the line `REWARD TERMINATED TRUNCATED LIVES OBS_HASH`: the step's
/// (clipped) reward, 0/1, 0/1, lives after the step, and the first 16 hex digits of the sha256
/// of the u8 observation after the step (`[frame_stack, size, size]`, before any reset).
/// After a step that ends a learning episode, `reset(None)`.
pub fn write_preprocessed_trace(
    game: &str,
    config: AtariConfig,
    seed: u32,
    actions: &[LinedAction],
    out: &mut impl Write,
) -> Result<(), AtariTraceError> {
    let set = if config.minimal_action_set {
        "minimal"
    } else {
        "full"
    };
    let mut env = Atari::new(game, config)?;
    let actions = check_range(actions, game, env.spec().num_actions, set)?;
    let mut obs = vec![0u8; env.spec().observation_len()];
    env.reset(Some(seed));
    for action in actions {
        let step = env.step(action)?;
        env.observe_u8(&mut obs)?;
        writeln!(
            out,
            "{} {} {} {} {}",
            step.reward,
            u8::from(step.terminated),
            u8::from(step.truncated),
            env.lives().unwrap_or(0),
            screen_hash(&obs)
        )?;
        if step.done() {
            env.reset(None);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{AtariTraceError, LinedAction, parse_actions};

    #[test]
    fn actions_keep_their_lines_and_bad_tokens_name_theirs() {
        let actions = parse_actions("1 2\n\n3\n").unwrap();
        assert_eq!(
            actions,
            [
                LinedAction { action: 1, line: 1 },
                LinedAction { action: 2, line: 1 },
                LinedAction { action: 3, line: 3 },
            ]
        );
        let err = parse_actions("0\n1\nx\n").unwrap_err();
        assert!(
            matches!(err, AtariTraceError::NotAnInteger { line: 3, .. }),
            "{err}"
        );
    }

    #[test]
    fn out_of_range_actions_name_their_line() {
        let actions = parse_actions("0\n1\n7\n").unwrap();
        let err = super::check_range(&actions, "breakout", 4, "minimal").unwrap_err();
        let message = err.to_string();
        assert!(
            message.contains("line 3") && message.contains("0..4"),
            "{message}"
        );
    }
}
