//! Bindings to the Arcade Learning Environment 0.12.1 (the emulator ale-py
//! 0.12.1 ships), compiled from the ale-py source distribution, through a
//! small C shim (`shim/ale_c.h`).
//!
//! - [`Ale`]: one emulator with a ROM loaded; [`Ale::act`] emulates one
//!   frame. Screens are written into caller buffers.
//! - [`rom_path`] and [`GAMES`]: ROMs by ale-py's game names.
//! - [`trace::raw_trace`]: the raw trace that matches ale-py line for line.
//!
//! ALE is GPL-2.0: binaries linking this crate are subject to it (see the
//! crate README).

mod action;
mod ale;
mod error;
mod ffi;
mod games;
mod roms;
mod state;
pub mod trace;

pub use action::Action;
pub use ale::{
    Ale, AleSettings, LogLevel, RAM_SIZE, SCREEN_HEIGHT, SCREEN_WIDTH, Setting, set_log_level,
};
pub use error::AleError;
pub use games::{GAMES, is_game};
pub use roms::{rom_path, rom_search_dirs, sdist_rom_dir};
pub use state::AleState;
