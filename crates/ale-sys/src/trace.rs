//! The raw emulator trace: one line per emulator frame, the contract that
//! `hrl env trace --env atari/GAME --raw` keeps with ale-py 0.12.1.
//!
//! With ale-py it is:
//!
//! ```python
//! ale = ALEInterface()
//! ale.setInt("random_seed", S)
//! ale.setFloat("repeat_action_probability", P)
//! ale.loadROM(path)
//! A = ale.getMinimalActionSet()
//! for i in actions:
//!     r = ale.act(A[i])
//!     print(f"{int(r)} {int(ale.game_over())} {ale.lives()} "
//!           f"{hashlib.sha256(ale.getScreenGrayscale().tobytes()).hexdigest()[:16]}")
//!     if ale.game_over():
//!         ale.reset_game()
//! ```

use crate::{Ale, AleError, AleSettings, rom_path};
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::Path;

/// Parses an actions file: whitespace-separated non-negative integers, each
/// an index into the game's minimal action set.
pub fn parse_actions(text: &str) -> Result<Vec<usize>, AleError> {
    text.lines()
        .enumerate()
        .flat_map(|(line, content)| content.split_whitespace().map(move |token| (line, token)))
        .map(|(line, token)| {
            token.parse().map_err(|_| AleError::ActionsFile {
                line: line + 1,
                token: token.to_string(),
            })
        })
        .collect()
}

/// The first 16 hex digits of the sha256 of a screen's bytes.
pub fn screen_hash(screen: &[u8]) -> String {
    Sha256::digest(screen)
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Runs `game` with ALE's `random_seed` = `seed` and
/// `repeat_action_probability` = `sticky`, feeding one action per frame
/// (`actions[k]` indexes the minimal action set), and writes per frame
/// `"{reward} {game_over 0|1} {lives} {screen_hash}"`, resetting after each
/// game over. Every index is checked before anything is emulated.
pub fn raw_trace(
    game: &str,
    seed: i32,
    sticky: f32,
    actions: &[usize],
    rom_dir: Option<&Path>,
    out: &mut impl Write,
) -> Result<(), AleError> {
    let settings = AleSettings::new()
        .random_seed(seed)
        .repeat_action_probability(sticky);
    let mut ale = Ale::new(&rom_path(game, rom_dir)?, &settings)?;
    let minimal = ale.minimal_action_set()?;
    if let Some((step, &index)) = actions
        .iter()
        .enumerate()
        .find(|(_, i)| **i >= minimal.len())
    {
        return Err(AleError::ActionIndex {
            game: game.to_string(),
            step,
            index,
            num_actions: minimal.len(),
        });
    }
    let mut screen = vec![0u8; ale.screen_width() * ale.screen_height()];
    for &index in actions {
        let reward = ale.act(minimal[index], 1.0)?;
        let game_over = ale.game_over(true);
        ale.screen_grayscale(&mut screen)?;
        writeln!(
            out,
            "{reward} {} {} {}",
            u8::from(game_over),
            ale.lives(),
            screen_hash(&screen)
        )?;
        if game_over {
            ale.reset_game()?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{parse_actions, screen_hash};
    use crate::AleError;

    #[test]
    fn actions_are_whitespace_separated_indices() {
        assert_eq!(parse_actions("1 2\n3\n\n 0 \n").unwrap(), [1, 2, 3, 0]);
        let err = parse_actions("1\n2 -3\n").unwrap_err();
        assert!(
            matches!(err, AleError::ActionsFile { line: 2, ref token } if token == "-3"),
            "{err}"
        );
    }

    #[test]
    fn screen_hash_is_the_sha256_prefix() {
        // sha256("") = e3b0c44298fc1c149afbf4c8996fb924...
        assert_eq!(screen_hash(b""), "e3b0c44298fc1c14");
    }
}
