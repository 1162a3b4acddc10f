//! Errors of the emulator wrapper, ROM lookup and traces.

use std::path::PathBuf;

/// What went wrong, worded for the user.
#[derive(Debug, thiserror::Error)]
pub enum AleError {
    /// ALE (through the C shim) reported a failure.
    #[error("ALE: {0}")]
    Emulator(String),
    /// A settings key, value or path contained a NUL byte, which C cannot take.
    #[error("{what} {value:?} contains a NUL byte")]
    Nul { what: &'static str, value: String },
    /// A screen buffer of the wrong size was passed.
    #[error(
        "{what} buffer holds {got} bytes, but the screen needs {expected} ({width}x{height}{channels})"
    )]
    BufferSize {
        what: &'static str,
        got: usize,
        expected: usize,
        width: usize,
        height: usize,
        channels: &'static str,
    },
    /// The game name is not one of ale-py 0.12.1's ROM names.
    #[error("unknown Atari game {game:?}; valid games are: {}", valid.join(", "))]
    UnknownGame {
        game: String,
        valid: Vec<&'static str>,
    },
    /// The game is known but its ROM file was found in none of the places.
    #[error(
        "no ROM for Atari game {game:?}; looked for {file} in: {}.\n\
         Pass a ROM folder (HRL_ROM_DIR or --rom-dir) holding ale-py's ROMs, or rebuild ale-sys \
         so that it fetches the ale-py 0.12.1 source distribution (it holds all ROMs).",
        looked_in.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
    )]
    MissingRom {
        game: String,
        file: String,
        looked_in: Vec<PathBuf>,
    },
    /// An index into the minimal action set was out of range.
    #[error(
        "action index {index} at position {step} of the action stream is out of range: \
         {game} has {num_actions} minimal actions, so indices must be 0..{num_actions}"
    )]
    ActionIndex {
        game: String,
        step: usize,
        index: usize,
        num_actions: usize,
    },
    /// A token of an actions file is not a non-negative integer.
    #[error("actions file, line {line}: {token:?} is not a non-negative integer")]
    ActionsFile { line: usize, token: String },
    /// Writing trace output failed.
    #[error("writing the trace: {0}")]
    Io(#[from] std::io::Error),
}
