//! The safe emulator: one `ale::ALEInterface` with a ROM loaded.
//!
//! Time is counted in emulator frames: [`Ale::act`] emulates exactly one
//! frame (ALE's own `frame_skip` setting is left at its default of 1).
//! Agent steps, frame skipping and preprocessing belong to `hrl-env`.

use crate::ffi;
use crate::{Action, AleError, AleState};
use std::ffi::{CStr, CString};
use std::path::Path;
use std::ptr::NonNull;
use std::sync::Once;

/// Width of every Atari 2600 screen ALE renders, in pixels.
pub const SCREEN_WIDTH: usize = 160;
/// Height of every Atari 2600 screen ALE renders, in pixels.
pub const SCREEN_HEIGHT: usize = 210;
/// Bytes of console RAM.
pub const RAM_SIZE: usize = 128;

/// A value for one of ALE's settings (`random_seed`,
/// `repeat_action_probability`, `max_num_frames_per_episode`, ...).
#[derive(Clone, Debug, PartialEq)]
pub enum Setting {
    Int(i32),
    Float(f32),
    Bool(bool),
    String(String),
}

/// The settings applied, in order, before the ROM is loaded.
///
/// Note ALE 0.12's default `repeat_action_probability` is 0.25 (sticky
/// actions); set it explicitly.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AleSettings {
    entries: Vec<(String, Setting)>,
}

impl AleSettings {
    /// No settings: ALE's defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// Seed of ALE's own generator (sticky actions, reset no-ops).
    pub fn random_seed(self, seed: i32) -> Self {
        self.set("random_seed", Setting::Int(seed))
    }

    /// Probability (0..=1) that each frame repeats the previous frame's
    /// action instead of the one given.
    pub fn repeat_action_probability(self, probability: f32) -> Self {
        self.set("repeat_action_probability", Setting::Float(probability))
    }

    /// Any ALE setting by its key.
    pub fn set(mut self, key: impl Into<String>, value: Setting) -> Self {
        self.entries.push((key.into(), value));
        self
    }

    /// The settings in the order they will be applied.
    pub fn entries(&self) -> &[(String, Setting)] {
        &self.entries
    }
}

/// Verbosity of the messages ALE itself prints on stderr (process-wide).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogLevel {
    Info = 0,
    Warning = 1,
    Error = 2,
}

static DEFAULT_LOG_LEVEL: Once = Once::new();

/// Sets ALE's stderr verbosity for the whole process. Until this is called,
/// `ale-sys` uses [`LogLevel::Warning`] (ALE's own default, Info, prints a
/// banner for every emulator created).
pub fn set_log_level(level: LogLevel) {
    DEFAULT_LOG_LEVEL.call_once(|| {});
    // SAFETY: takes a plain integer in 0..=2; it only sets a global enum.
    unsafe { ffi::ale_set_logger_mode(level as i32) };
}

/// One Atari 2600 emulator with a ROM loaded.
///
/// `Ale` is `Send`, so emulators can live in worker threads, but not `Sync`:
/// ALE's interface is not safe to call from two threads at once.
pub struct Ale {
    raw: NonNull<ffi::AleT>,
}

// SAFETY: an `ALEInterface` owns all of its state (no thread-local or
// thread-affine resources; ale-py's vector env runs one per thread), so
// moving it to another thread is sound. It is not `Sync`.
unsafe impl Send for Ale {}

impl Ale {
    /// Creates an emulator, applies `settings` in order, then loads the ROM
    /// at `rom` (for example from [`crate::rom_path`]).
    pub fn new(rom: &Path, settings: &AleSettings) -> Result<Ale, AleError> {
        DEFAULT_LOG_LEVEL.call_once(|| {
            // SAFETY: as in `set_log_level`.
            unsafe { ffi::ale_set_logger_mode(LogLevel::Warning as i32) };
        });
        // SAFETY: `ale_new` has no preconditions; it returns NULL on failure.
        let raw = NonNull::new(unsafe { ffi::ale_new() }).ok_or_else(last_error)?;
        let mut ale = Ale { raw };
        for (key, value) in settings.entries() {
            ale.apply(key, value)?;
        }
        let path = rom.to_str().ok_or_else(|| {
            AleError::Emulator(format!("ROM path {} is not valid UTF-8", rom.display()))
        })?;
        let path = c_string("ROM path", path)?;
        // SAFETY: `raw` is a live handle and `path` a NUL-terminated string.
        check(unsafe { ffi::ale_load_rom(ale.raw.as_ptr(), path.as_ptr()) })?;
        Ok(ale)
    }

    fn apply(&mut self, key: &str, value: &Setting) -> Result<(), AleError> {
        let key = c_string("settings key", key)?;
        let raw = self.raw.as_ptr();
        // SAFETY: `raw` is a live handle; the strings are NUL-terminated and
        // outlive the calls.
        let status = unsafe {
            match value {
                Setting::Int(v) => ffi::ale_set_int(raw, key.as_ptr(), *v),
                Setting::Float(v) => ffi::ale_set_float(raw, key.as_ptr(), *v),
                Setting::Bool(v) => ffi::ale_set_bool(raw, key.as_ptr(), i32::from(*v)),
                Setting::String(v) => {
                    let v = c_string("settings value", v)?;
                    ffi::ale_set_string(raw, key.as_ptr(), v.as_ptr())
                }
            }
        };
        check(status)
    }

    /// Emulates one frame with `action` and returns that frame's reward.
    /// `paddle_strength` (-1..=1; 1.0 as in ale-py) matters only for paddle
    /// games.
    pub fn act(&mut self, action: Action, paddle_strength: f32) -> Result<i32, AleError> {
        let mut reward = 0;
        // SAFETY: live handle, ROM loaded (by construction); `reward` is a
        // valid out-pointer; `action` is in 0..=17.
        check(unsafe {
            ffi::ale_act(self.raw.as_ptr(), action.id(), paddle_strength, &mut reward)
        })?;
        Ok(reward)
    }

    /// Whether the game is over; with `with_truncation`, also when the
    /// `max_num_frames_per_episode` cap was reached (ale-py's default).
    pub fn game_over(&self, with_truncation: bool) -> bool {
        // SAFETY: live handle with a ROM loaded; never fails.
        unsafe { ffi::ale_game_over(self.raw.as_ptr(), i32::from(with_truncation)) != 0 }
    }

    /// Whether the episode was cut by `max_num_frames_per_episode`.
    pub fn game_truncated(&self) -> bool {
        // SAFETY: live handle with a ROM loaded; never fails.
        unsafe { ffi::ale_game_truncated(self.raw.as_ptr()) != 0 }
    }

    /// Lives left, as the game's RAM reports them (0 for games without lives).
    pub fn lives(&mut self) -> i32 {
        // SAFETY: live handle with a ROM loaded; never fails.
        unsafe { ffi::ale_lives(self.raw.as_ptr()) }
    }

    /// Frames emulated since the emulator was created, resets included.
    pub fn frame_number(&self) -> i32 {
        // SAFETY: live handle with a ROM loaded; never fails.
        unsafe { ffi::ale_frame_number(self.raw.as_ptr()) }
    }

    /// Frames emulated since the last reset.
    pub fn episode_frame_number(&self) -> i32 {
        // SAFETY: live handle with a ROM loaded; never fails.
        unsafe { ffi::ale_episode_frame_number(self.raw.as_ptr()) }
    }

    /// Resets the game (ALE's reset sequence, including its random no-ops).
    pub fn reset_game(&mut self) -> Result<(), AleError> {
        // SAFETY: live handle with a ROM loaded.
        check(unsafe { ffi::ale_reset_game(self.raw.as_ptr()) })
    }

    /// The actions that matter in this game, in ALE's order; what ale-py's
    /// `getMinimalActionSet` returns.
    pub fn minimal_action_set(&self) -> Result<Vec<Action>, AleError> {
        self.action_set(ffi::ale_minimal_action_set)
    }

    /// All 18 actions, in ALE's order.
    pub fn legal_action_set(&self) -> Result<Vec<Action>, AleError> {
        self.action_set(ffi::ale_legal_action_set)
    }

    fn action_set(
        &self,
        read: unsafe extern "C" fn(*const ffi::AleT, *mut i32, usize, *mut usize) -> i32,
    ) -> Result<Vec<Action>, AleError> {
        let mut ids = [0i32; Action::ALL.len()];
        let mut len = 0usize;
        // SAFETY: live handle with a ROM loaded; `ids` has room for `cap`
        // entries and `len` is a valid out-pointer.
        check(unsafe { read(self.raw.as_ptr(), ids.as_mut_ptr(), ids.len(), &mut len) })?;
        ids[..len]
            .iter()
            .map(|&id| {
                Action::from_id(id)
                    .ok_or_else(|| AleError::Emulator(format!("ALE returned action id {id}")))
            })
            .collect()
    }

    /// Screen width in pixels ([`SCREEN_WIDTH`]).
    pub fn screen_width(&self) -> usize {
        // SAFETY: live handle with a ROM loaded; never fails.
        unsafe { ffi::ale_screen_width(self.raw.as_ptr()) }
    }

    /// Screen height in pixels ([`SCREEN_HEIGHT`]).
    pub fn screen_height(&self) -> usize {
        // SAFETY: live handle with a ROM loaded; never fails.
        unsafe { ffi::ale_screen_height(self.raw.as_ptr()) }
    }

    /// Writes the current frame's luminance, `[height][width]` row-major,
    /// into `out`, which must hold exactly width*height bytes (210*160).
    pub fn screen_grayscale(&self, out: &mut [u8]) -> Result<(), AleError> {
        self.check_buffer("grayscale", out.len(), 1, "")?;
        // SAFETY: live handle with a ROM loaded; `out` is writable for
        // `out.len()` bytes, which the shim checks against the screen size.
        check(unsafe { ffi::ale_screen_grayscale(self.raw.as_ptr(), out.as_mut_ptr(), out.len()) })
    }

    /// Writes the current frame as RGB, `[height][width][3]` row-major,
    /// into `out`, which must hold exactly width*height*3 bytes.
    pub fn screen_rgb(&self, out: &mut [u8]) -> Result<(), AleError> {
        self.check_buffer("RGB", out.len(), 3, "x3")?;
        // SAFETY: as in `screen_grayscale`, with 3 bytes per pixel.
        check(unsafe { ffi::ale_screen_rgb(self.raw.as_ptr(), out.as_mut_ptr(), out.len()) })
    }

    fn check_buffer(
        &self,
        what: &'static str,
        got: usize,
        channels: usize,
        channels_name: &'static str,
    ) -> Result<(), AleError> {
        let (width, height) = (self.screen_width(), self.screen_height());
        let expected = width * height * channels;
        if got == expected {
            Ok(())
        } else {
            Err(AleError::BufferSize {
                what,
                got,
                expected,
                width,
                height,
                channels: channels_name,
            })
        }
    }

    /// The 128 bytes of console RAM after the last frame.
    pub fn ram(&self) -> [u8; RAM_SIZE] {
        let mut ram = [0u8; RAM_SIZE];
        // SAFETY: live handle with a ROM loaded; `ram` has the 128 bytes
        // the shim writes.
        unsafe { ffi::ale_ram(self.raw.as_ptr(), ram.as_mut_ptr()) };
        ram
    }

    /// Snapshots the emulator. Without `include_rng`, restoring it leaves
    /// ALE's generator (sticky actions) where it is, as ale-py's
    /// `cloneState()` does by default.
    pub fn clone_state(&mut self, include_rng: bool) -> Result<AleState, AleError> {
        let mut data = std::ptr::null_mut();
        let mut len = 0usize;
        // SAFETY: live handle with a ROM loaded; `data`/`len` are valid
        // out-pointers.
        check(unsafe {
            ffi::ale_clone_state(
                self.raw.as_ptr(),
                i32::from(include_rng),
                &mut data,
                &mut len,
            )
        })?;
        // SAFETY: on success the shim returned a malloc'd buffer of `len`
        // bytes, which is copied and then freed exactly once.
        let bytes = unsafe {
            let bytes = std::slice::from_raw_parts(data, len).to_vec();
            ffi::ale_free_buffer(data);
            bytes
        };
        Ok(AleState::from_bytes(bytes))
    }

    /// Restores a snapshot taken by [`Ale::clone_state`] of the same game.
    pub fn restore_state(&mut self, state: &AleState) -> Result<(), AleError> {
        let bytes = state.as_bytes();
        // SAFETY: live handle with a ROM loaded; `bytes` is readable for
        // its length. The shim catches ALE's errors on malformed data.
        check(unsafe { ffi::ale_restore_state(self.raw.as_ptr(), bytes.as_ptr(), bytes.len()) })
    }

    /// Appends the emulator's *exact state* to `out`: everything that determines its future
    /// frames, screens, rewards and random draws, so that [`Ale::restore_exact_state`] on an
    /// emulator of the same ROM and settings continues bit for bit, sticky actions included.
    ///
    /// It is ALE's own serialised state with its generator ([`Ale::clone_state`]`(true)`)
    /// followed by what that leaves out: the last action and paddle strength of each player
    /// (which sticky actions repeat), the TIA's two frame buffers (a frame that leaves pixels
    /// undrawn shows those of the frame before the last), its position in the frame and its
    /// object mask pointers, and what ALE 0.12.1 saves lossily: the DPC cartridge's fractional
    /// music clock (Pitfall II; rounded to 1e-8) and Miniature Golf's level, par, hits and
    /// status counters (saved as booleans). About 80 KB; the settings are not part of it.
    /// Fails with ALE's `color_averaging` on (its blend of past frames is not covered).
    pub fn save_exact_state(&self, out: &mut Vec<u8>) -> Result<(), AleError> {
        let start = out.len();
        let mut cap = EXACT_STATE_GUESS;
        loop {
            out.resize(start + cap, 0);
            let mut len = 0usize;
            // SAFETY: live handle with a ROM loaded; `out[start..]` is writable for `cap`
            // bytes and `len` is a valid out-pointer. The shim only reads the emulator.
            let status = unsafe {
                ffi::ale_save_exact_state(
                    self.raw.as_ptr(),
                    out[start..].as_mut_ptr(),
                    cap,
                    &mut len,
                )
            };
            match status {
                0 => {
                    out.truncate(start + len);
                    return Ok(());
                }
                // The state did not fit: `len` is its size.
                1 if len > cap => cap = len,
                _ => {
                    out.truncate(start);
                    return Err(last_error());
                }
            }
        }
    }

    /// Restores an exact state written by [`Ale::save_exact_state`] for the same ROM, which
    /// must be run with the same settings. The state is checked whole (its layout, the
    /// cartridge's md5, every value it sets) before the emulator is touched; should ALE
    /// afterwards fail to take its own part whole, this is an error and the emulator is left
    /// partly restored.
    pub fn restore_exact_state(&mut self, bytes: &[u8]) -> Result<(), AleError> {
        // SAFETY: live handle with a ROM loaded; `bytes` is readable for its length. The
        // shim bounds-checks every read and catches ALE's errors.
        check(unsafe {
            ffi::ale_restore_exact_state(self.raw.as_ptr(), bytes.as_ptr(), bytes.len())
        })
    }
}

/// Room first offered for an exact state: more than one needs (two 210x160 frames and ALE's
/// state of about 15 KB), so that saving takes one call.
const EXACT_STATE_GUESS: usize = 128 * 1024;

impl Drop for Ale {
    fn drop(&mut self) {
        // SAFETY: `raw` came from `ale_new` and is freed only here.
        unsafe { ffi::ale_delete(self.raw.as_ptr()) };
    }
}

fn c_string(what: &'static str, value: &str) -> Result<CString, AleError> {
    CString::new(value).map_err(|_| AleError::Nul {
        what,
        value: value.to_string(),
    })
}

fn check(status: i32) -> Result<(), AleError> {
    if status == 0 {
        Ok(())
    } else {
        Err(last_error())
    }
}

fn last_error() -> AleError {
    // SAFETY: `ale_last_error` returns a NUL-terminated string owned by this
    // thread's shim state, valid until the next failing call; it is copied
    // at once.
    let message = unsafe { CStr::from_ptr(ffi::ale_last_error()) };
    AleError::Emulator(message.to_string_lossy().into_owned())
}
