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
}

/// An observation element type a buffer can hold: `u8` or `f32`.
pub trait ObsElement: Copy + Default + Send + Sync + 'static {
    /// Writes `env`'s current observation into `out`.
    fn observe(env: &dyn Env, out: &mut [Self]) -> Result<(), EnvError>;
}

impl ObsElement for u8 {
    fn observe(env: &dyn Env, out: &mut [u8]) -> Result<(), EnvError> {
        env.observe_u8(out)
    }
}

impl ObsElement for f32 {
    fn observe(env: &dyn Env, out: &mut [f32]) -> Result<(), EnvError> {
        env.observe_f32(out)
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
