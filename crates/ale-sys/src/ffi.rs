//! Raw declarations of the C shim in `shim/ale_c.h`. See that header for
//! the contract of each function; [`crate::Ale`] is the safe interface.

use std::ffi::{c_char, c_float, c_int};

/// The opaque emulator handle of the shim.
#[repr(C)]
pub struct AleT {
    _private: [u8; 0],
}

// Linking zlib: ALE's state serialisation and ROM loading call into it.
use libz_sys as _;

unsafe extern "C" {
    pub fn ale_last_error() -> *const c_char;
    pub fn ale_set_logger_mode(mode: c_int);

    pub fn ale_new() -> *mut AleT;
    pub fn ale_delete(ale: *mut AleT);

    pub fn ale_set_int(ale: *mut AleT, key: *const c_char, value: c_int) -> c_int;
    pub fn ale_set_float(ale: *mut AleT, key: *const c_char, value: c_float) -> c_int;
    pub fn ale_set_bool(ale: *mut AleT, key: *const c_char, value: c_int) -> c_int;
    pub fn ale_set_string(ale: *mut AleT, key: *const c_char, value: *const c_char) -> c_int;

    pub fn ale_load_rom(ale: *mut AleT, path: *const c_char) -> c_int;

    pub fn ale_act(
        ale: *mut AleT,
        action: c_int,
        paddle_strength: c_float,
        reward: *mut c_int,
    ) -> c_int;
    pub fn ale_game_over(ale: *const AleT, with_truncation: c_int) -> c_int;
    pub fn ale_game_truncated(ale: *const AleT) -> c_int;
    pub fn ale_lives(ale: *mut AleT) -> c_int;
    pub fn ale_frame_number(ale: *const AleT) -> c_int;
    pub fn ale_episode_frame_number(ale: *const AleT) -> c_int;
    pub fn ale_reset_game(ale: *mut AleT) -> c_int;

    pub fn ale_minimal_action_set(
        ale: *const AleT,
        out: *mut c_int,
        cap: usize,
        len: *mut usize,
    ) -> c_int;
    pub fn ale_legal_action_set(
        ale: *const AleT,
        out: *mut c_int,
        cap: usize,
        len: *mut usize,
    ) -> c_int;

    pub fn ale_screen_width(ale: *const AleT) -> usize;
    pub fn ale_screen_height(ale: *const AleT) -> usize;
    pub fn ale_screen_grayscale(ale: *const AleT, out: *mut u8, len: usize) -> c_int;
    pub fn ale_screen_rgb(ale: *const AleT, out: *mut u8, len: usize) -> c_int;
    pub fn ale_ram(ale: *const AleT, out: *mut u8);

    pub fn ale_clone_state(
        ale: *mut AleT,
        include_rng: c_int,
        data: *mut *mut u8,
        len: *mut usize,
    ) -> c_int;
    pub fn ale_restore_state(ale: *mut AleT, data: *const u8, len: usize) -> c_int;
    pub fn ale_free_buffer(data: *mut u8);

    pub fn ale_save_exact_state(
        ale: *const AleT,
        out: *mut u8,
        cap: usize,
        len: *mut usize,
    ) -> c_int;
    pub fn ale_restore_exact_state(ale: *mut AleT, data: *const u8, len: usize) -> c_int;
}
