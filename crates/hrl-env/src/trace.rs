//! MinAtar traces: the step-by-step record `hrl env trace` prints, to compare against the
//! Python reference.
//!
//! The contract: for game `G`, seed `S`, sticky-action probability `P` and an actions file
//! (one integer in 0..=5 per line), behave exactly like this with minatar 1.0.15:
//!
//! ```python
//! env = Environment(G, sticky_action_prob=P, difficulty_ramping=True); env.seed(S); env.reset()
//! for a in actions:
//!     r, term = env.act(a)
//!     print(f"{int(r)} {int(term)} {np.packbits(env.state().astype(np.uint8), axis=None).tobytes().hex()}")
//!     if term: env.reset()
//! ```

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::minatar::{Game, MinAtar, MinAtarConfig, NUM_FULL_ACTIONS};
use crate::{Env, EnvError};

const HEX_DIGITS: &[u8; 16] = b"0123456789abcdef";

/// What went wrong reading an actions file or writing a trace.
#[derive(Debug, thiserror::Error)]
pub enum TraceError {
    /// The actions file could not be read.
    #[error("reading actions file {}: {cause}", path.display())]
    ReadActions {
        /// The file.
        path: PathBuf,
        /// Why.
        cause: std::io::Error,
    },
    /// A line that is not an integer.
    #[error("actions file {}: line {line}: `{text}` is not an integer", path.display())]
    NotAnInteger {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// The line's text.
        text: String,
    },
    /// An integer outside the full action set.
    #[error(
        "actions file {}: line {line}: action {text} is out of range (MinAtar actions are 0..={})",
        path.display(),
        NUM_FULL_ACTIONS - 1
    )]
    ActionOutOfRange {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// The line's text.
        text: String,
    },
    /// The environment refused a step or setting.
    #[error(transparent)]
    Env(#[from] EnvError),
    /// The trace could not be written.
    #[error("writing the trace: {0}")]
    Write(std::io::Error),
}

/// Reads an actions file: one integer action in 0..=5 per line (surrounding whitespace allowed).
pub fn read_actions(path: &Path) -> Result<Vec<usize>, TraceError> {
    let text = std::fs::read_to_string(path).map_err(|cause| TraceError::ReadActions {
        path: path.to_path_buf(),
        cause,
    })?;
    parse_actions(&text, path)
}

/// Parses the text of an actions file; `path` names it in errors.
pub fn parse_actions(text: &str, path: &Path) -> Result<Vec<usize>, TraceError> {
    text.lines()
        .enumerate()
        .map(|(index, line)| {
            let trimmed = line.trim();
            let value: i128 = trimmed.parse().map_err(|_| TraceError::NotAnInteger {
                path: path.to_path_buf(),
                line: index + 1,
                text: trimmed.to_string(),
            })?;
            usize::try_from(value)
                .ok()
                .filter(|&action| action < NUM_FULL_ACTIONS)
                .ok_or_else(|| TraceError::ActionOutOfRange {
                    path: path.to_path_buf(),
                    line: index + 1,
                    text: trimmed.to_string(),
                })
        })
        .collect()
}

/// Plays `actions` in `game` (full action set, difficulty ramping on) from `seed` and writes
/// one trace line per action: `{reward} {terminal} {packed state as hex}`.
pub fn write_trace(
    game: Game,
    seed: u32,
    sticky_action_prob: f64,
    actions: &[usize],
    out: &mut dyn Write,
) -> Result<(), TraceError> {
    let config = MinAtarConfig {
        sticky_action_prob,
        difficulty_ramping: true,
        minimal_action_set: false,
    };
    let mut env = MinAtar::new(game, config)?;
    env.reset(Some(seed));
    let mut packed = Vec::new();
    let mut line = String::new();
    for &action in actions {
        let step = env.step(action)?;
        let terminal = step.done();
        env.packed_state_hwc(&mut packed);
        line.clear();
        line.push_str(&(step.reward as i64).to_string());
        line.push_str(if terminal { " 1 " } else { " 0 " });
        for byte in &packed {
            line.push(char::from(HEX_DIGITS[usize::from(byte >> 4)]));
            line.push(char::from(HEX_DIGITS[usize::from(byte & 0xf)]));
        }
        line.push('\n');
        out.write_all(line.as_bytes()).map_err(TraceError::Write)?;
        if terminal {
            env.reset(None);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Vec<usize>, TraceError> {
        parse_actions(text, Path::new("acts.txt"))
    }

    #[test]
    fn parses_one_action_per_line() {
        assert_eq!(parse("0\n5\n 3 \r\n").unwrap(), [0, 5, 3]);
        assert_eq!(parse("").unwrap(), Vec::<usize>::new());
    }

    #[test]
    fn a_non_integer_line_names_its_line_number() {
        let err = parse("1\n2\nthree\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "actions file acts.txt: line 3: `three` is not an integer"
        );
        let err = parse("1\n\n2\n").unwrap_err();
        assert!(err.to_string().contains("line 2"), "{err}");
    }

    #[test]
    fn an_action_out_of_range_names_its_line_number() {
        for bad in ["6", "-1", "99999999999999999999999"] {
            let err = parse(&format!("0\n{bad}\n")).unwrap_err();
            assert_eq!(
                err.to_string(),
                format!(
                    "actions file acts.txt: line 2: action {bad} is out of range (MinAtar actions are 0..=5)"
                )
            );
        }
    }

    #[test]
    fn a_missing_file_names_the_file() {
        let err = read_actions(Path::new("/nonexistent/acts.txt")).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("reading actions file /nonexistent/acts.txt:"),
            "{err}"
        );
    }
}
