//! The environment interface every agent uses: one trait, a step result and episode statistics.

use crate::EnvError;

/// Element type of an observation as the environment produces it natively.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ObsDtype {
    /// Bytes: MinAtar's 0/1 grids, Atari's grayscale frames.
    U8,
    /// Floats: CartPole's physical state.
    F32,
}

/// What an environment looks like from outside: fixed for its lifetime.
#[derive(Clone, Debug, PartialEq)]
pub struct EnvSpec {
    /// Registry id, e.g. `minatar/breakout`.
    pub id: String,
    /// Observation shape, row-major: `[C, H, W]` for image-like observations
    /// (`[C, 10, 10]` for MinAtar, `[4, 84, 84]` for preprocessed Atari), `[4]` for CartPole.
    pub observation_shape: Vec<usize>,
    /// The native element type; every environment can also write f32 observations.
    pub observation_dtype: ObsDtype,
    /// Actions are `0..num_actions`.
    pub num_actions: usize,
    /// Emulator frames per agent step: Atari's frame skip, 1 elsewhere.
    pub frames_per_step: u32,
    /// Consecutive frames stacked into one observation (the first axis of
    /// `observation_shape` on Atari), 1 where observations are not stacks.
    pub frame_stack: usize,
}

impl EnvSpec {
    /// Number of elements of one observation (the product of `observation_shape`).
    pub fn observation_len(&self) -> usize {
        self.observation_shape.iter().product()
    }
}

/// The outcome of one agent step.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Step {
    /// Reward the agent receives (on Atari: after any clipping).
    pub reward: f32,
    /// The episode ended in a terminal state of the game: do not bootstrap past it.
    pub terminated: bool,
    /// The episode was cut by a time limit: the state is not terminal.
    pub truncated: bool,
}

impl Step {
    /// The episode is over, for either reason: call `reset` before the next step.
    pub fn done(&self) -> bool {
        self.terminated || self.truncated
    }
}

/// Statistics of one (learning) episode, the running one or the one that just ended.
///
/// On Atari with episodic life a learning episode is one life: see [`crate::atari::Atari`].
/// To log the score of whole games, as papers report it, keep [`EpisodeStats::full_game_score`]
/// of the finished episodes where it is `Some`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct EpisodeStats {
    /// Sum of the rewards the agent received (on Atari: clipped, this learning episode only).
    pub episodic_return: f64,
    /// Agent steps taken in this learning episode.
    pub episodic_length: u64,
    /// The game's own score where it differs from `episodic_return`: on Atari the unclipped
    /// score of the whole game so far, over all its lives (always `Some`); `None` where the
    /// two are the same (MinAtar, CartPole).
    pub game_score: Option<f64>,
    /// This learning episode ended by a lost life under Atari's episodic life, and the game
    /// goes on in the next episode; false for every other episode and environment.
    pub continues_game: bool,
}

impl EpisodeStats {
    /// Counts one step that earned `reward`.
    pub fn record(&mut self, reward: f32) {
        self.episodic_return += f64::from(reward);
        self.episodic_length += 1;
    }

    /// For a finished episode: the score of the whole game it ended (`game_score`, else
    /// `episodic_return`); `None` when the game goes on (`continues_game`).
    pub fn full_game_score(&self) -> Option<f64> {
        (!self.continues_game).then(|| self.game_score.unwrap_or(self.episodic_return))
    }
}

/// A single environment with discrete actions.
///
/// Call `reset` before the first `step` and after every step that ends the episode
/// (`Step::done`); stepping a finished episode is an error. Observations are written, never
/// returned, so a caller reuses one buffer and nothing allocates per step.
pub trait Env: Send {
    /// Shape, element type and action count.
    fn spec(&self) -> &EnvSpec;

    /// Starts a new episode. `Some(seed)` makes the environment behave exactly like a fresh one
    /// seeded with `seed`; `None` continues its random stream.
    fn reset(&mut self, seed: Option<u32>);

    /// Takes one agent step with `action` in `0..num_actions`.
    fn step(&mut self, action: usize) -> Result<Step, EnvError>;

    /// Writes the current observation, row-major in `observation_shape`, into `out`
    /// (length `observation_len()`).
    fn observe_f32(&self, out: &mut [f32]) -> Result<(), EnvError>;

    /// Like `observe_f32` for environments whose `observation_dtype` is `U8`; an error otherwise.
    fn observe_u8(&self, out: &mut [u8]) -> Result<(), EnvError>;

    /// Statistics of the current episode; right after a step that ended it, of that episode.
    fn episode(&self) -> EpisodeStats;

    /// Lives left, for games that have them (Atari).
    fn lives(&self) -> Option<u32> {
        None
    }

    /// Appends this environment's complete state to `out`: everything its future steps,
    /// observations, episode statistics and random draws depend on (game state, random
    /// generators, previous action, episode counters, frame stack, ...), so that
    /// [`Env::restore_state`] on an environment made with the same id and options continues
    /// exactly as this one would, step for step. The options themselves are included, so that
    /// restoring into an environment made with other options fails instead of diverging.
    ///
    /// The bytes are little-endian in a layout of each environment's own; [`crate::VecEnv`]
    /// wraps them in a versioned, checksummed format. Only Atari can fail (an emulator error).
    fn save_state(&self, out: &mut Vec<u8>) -> Result<(), EnvError>;

    /// Restores a state written by [`Env::save_state`], read from the front of `input`, which
    /// is advanced past it.
    ///
    /// Errors: [`EnvError::StateMismatch`] for a state saved with other options,
    /// [`EnvError::StateTruncated`] when `input` ends early and [`EnvError::StateCorrupt`] for
    /// values no environment could have saved. Everything is read and checked before the
    /// environment changes, so it is left as it was on error (for Atari, except when the
    /// emulator itself rejects its part; see [`crate::Atari`]).
    fn restore_state(&mut self, input: &mut &[u8]) -> Result<(), EnvError>;
}

/// An observation element type a buffer can hold: `u8` or `f32`.
pub trait ObsElement: Copy + Default + Send + Sync + 'static {
    /// This type as an [`ObsDtype`] (recorded in saved states).
    const DTYPE: ObsDtype;

    /// Writes `env`'s current observation into `out`.
    fn observe(env: &dyn Env, out: &mut [Self]) -> Result<(), EnvError>;

    /// Appends `values` in little-endian byte order (for saved states).
    fn write_le(values: &[Self], out: &mut Vec<u8>);

    /// Fills `out` from what [`ObsElement::write_le`] wrote; `bytes` holds exactly
    /// `out.len()` elements.
    fn read_le(bytes: &[u8], out: &mut [Self]);
}

impl ObsElement for u8 {
    const DTYPE: ObsDtype = ObsDtype::U8;

    fn observe(env: &dyn Env, out: &mut [u8]) -> Result<(), EnvError> {
        env.observe_u8(out)
    }

    fn write_le(values: &[u8], out: &mut Vec<u8>) {
        out.extend_from_slice(values);
    }

    fn read_le(bytes: &[u8], out: &mut [u8]) {
        out.copy_from_slice(bytes);
    }
}

impl ObsElement for f32 {
    const DTYPE: ObsDtype = ObsDtype::F32;

    fn observe(env: &dyn Env, out: &mut [f32]) -> Result<(), EnvError> {
        env.observe_f32(out)
    }

    fn write_le(values: &[f32], out: &mut Vec<u8>) {
        out.reserve(4 * values.len());
        for v in values {
            out.extend_from_slice(&v.to_le_bytes());
        }
    }

    fn read_le(bytes: &[u8], out: &mut [f32]) {
        for (o, b) in out.iter_mut().zip(bytes.chunks_exact(4)) {
            *o = f32::from_le_bytes([b[0], b[1], b[2], b[3]]);
        }
    }
}

/// Checks that an observation buffer has the length the spec asks for.
pub(crate) fn check_observation_len(spec: &EnvSpec, len: usize) -> Result<(), EnvError> {
    let expected = spec.observation_len();
    if len == expected {
        Ok(())
    } else {
        Err(EnvError::ObservationBufferLen {
            expected,
            actual: len,
        })
    }
}
