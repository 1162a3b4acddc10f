//! Atari 2600 games through ALE 0.12.1 (`ale-sys`), preprocessed as cleanrl's DQN/PPO Atari
//! setup does: no-op reset, frame skip with max-pooling, 84x84 grayscale area resize, frame
//! stack, episodic life, fire reset, reward clipping, sticky actions, a frame cap.
//!
//! [`Atari`] is one game; [`AtariOptions`] switches the preprocessing; [`trace`] prints the
//! raw and preprocessed traces `hrl env trace` shows.

mod env;
mod frame_stack;
mod options;
mod resize;
pub mod trace;

pub use ale_sys;
pub use env::Atari;
pub use options::{AtariConfig, AtariOptions};
pub use resize::AreaResize;

/// ROMs ale-py 0.12.1 ships for multi-player use only: ALE's single-player interface (and so
/// ale-py's `ALEInterface.loadROM`) rejects them, so they get no env id.
pub const MULTIPLAYER_ONLY: [&str; 4] = ["combat", "joust", "maze_craze", "warlords"];

/// Env ids of every single-player game: `atari/GAME` for each of `ale_sys::GAMES` except
/// [`MULTIPLAYER_ONLY`] (104 games).
pub fn env_ids() -> impl Iterator<Item = String> {
    ale_sys::GAMES
        .iter()
        .filter(|game| !MULTIPLAYER_ONLY.contains(game))
        .map(|game| format!("atari/{game}"))
}
