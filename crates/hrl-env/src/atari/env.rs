//! One Atari game behind ALE 0.12.1 with cleanrl-style preprocessing.

use std::path::PathBuf;

use ale_sys::{Action, Ale, AleSettings, SCREEN_HEIGHT, SCREEN_WIDTH, Setting, rom_path};

use super::frame_stack::FrameStack;
use super::options::AtariConfig;
use super::resize::AreaResize;
use crate::env::check_observation_len;
use crate::state::{
    Put, Take, expect_same, put_episode, put_rng, put_str, take_episode, take_rng, take_str,
};
use crate::{Env, EnvError, EnvSpec, EpisodeStats, ObsDtype, RandomState, Step};

const SCREEN_LEN: usize = SCREEN_HEIGHT * SCREEN_WIDTH;

/// An Atari game as an [`Env`]: env id `atari/GAME`, observation u8
/// `[frame_stack, screen_size, screen_size]` (default `[4, 84, 84]`), grey levels 0..=255
/// (`observe_f32` writes the same values as floats, unscaled).
///
/// An agent step repeats the action for `frame_skip` emulator frames and sums their rewards;
/// the newest stacked frame is the grayscale max of the step's last two frames, area-resized.
///
/// Episodes and statistics (with the defaults: episodic life, reward clipping):
/// - a *learning episode* ends when a life is lost (`terminated`, the game goes on), when the
///   game is over (`terminated`) or at the frame cap (`truncated`); `reset` then either
///   continues the game after a lost life (one NOOP agent step, then the fire reset) or starts
///   a new game (ALE's reset, then the random no-ops, then the fire reset);
/// - [`EpisodeStats::episodic_return`] sums the clipped rewards the agent received in the
///   learning episode and `episodic_length` counts its agent steps (reset steps excluded);
/// - [`EpisodeStats::game_score`] is always `Some`: the unclipped score of the whole game so
///   far, over all lives, including rewards earned during reset steps;
/// - [`EpisodeStats::continues_game`] is true exactly for a learning episode that ended by a
///   lost life while the game goes on. The full-game score researchers report is
///   [`EpisodeStats::full_game_score`], `Some` only for the episode that ended the game.
///
/// Seeding: `reset(Some(seed))` recreates the emulator with ALE's `random_seed` =
/// `seed & 0x7fff_ffff` (sticky actions and ALE's reset) and seeds the no-op count generator
/// (numpy's `RandomState(seed)`) with `seed`.
///
/// Saved state ([`Env::save_state`], about 110 KB with the default preprocessing): the game
/// and the options (all but `rom_dir`; both checked on restore), the no-op generator, the
/// frame stack, the lives seen last, the episode's statistics and the game's score, the
/// episodic-life and reset flags, an emulator error waiting to be returned, and the
/// emulator's exact state ([`ale_sys::Ale::save_exact_state`]: ALE's state with its
/// generator, the action sticky actions repeat, the TIA's frame buffers). The two max-pool
/// frames are not saved: every step writes them before reading them. Restoring checks everything before changing
/// anything, except that should ALE reject part of its own state after those checks the
/// emulator is left partly restored (an error; make a new environment then).
pub struct Atari {
    spec: EnvSpec,
    game: String,
    rom: PathBuf,
    config: AtariConfig,
    ale: Ale,
    actions: Vec<Action>,
    has_fire: bool,
    rng: RandomState,
    /// `[0]`: the step's last frame; `[1]`: the frame before it.
    frames: [Vec<u8>; 2],
    resize: AreaResize,
    stack: FrameStack,
    lives: i32,
    episode: EpisodeStats,
    game_score: f64,
    /// Set after a step that ended a learning episode, cleared by `reset`.
    needs_reset: bool,
    /// The last learning episode ended the game (or none was started yet).
    game_ended: bool,
    /// An emulator error met during `reset`, returned by the next `step`.
    fault: Option<String>,
}

impl Atari {
    /// Loads `game` (an ale-py ROM name such as `breakout`) with `config`; call `reset` before
    /// stepping.
    pub fn new(game: &str, config: AtariConfig) -> Result<Self, EnvError> {
        let rom = rom_path(game, config.rom_dir.as_deref()).map_err(atari_error)?;
        let ale = Ale::new(&rom, &settings(&config, 0)).map_err(atari_error)?;
        let actions = if config.minimal_action_set {
            ale.minimal_action_set()
        } else {
            ale.legal_action_set()
        }
        .map_err(atari_error)?;
        let has_fire = ale
            .minimal_action_set()
            .map_err(atari_error)?
            .contains(&Action::Fire)
            && actions.len() >= 3;
        let size = config.screen_size;
        let spec = EnvSpec {
            id: format!("atari/{game}"),
            observation_shape: vec![config.frame_stack, size, size],
            observation_dtype: ObsDtype::U8,
            num_actions: actions.len(),
            frames_per_step: config.frame_skip,
            frame_stack: config.frame_stack,
        };
        Ok(Self {
            spec,
            game: game.to_string(),
            rom,
            resize: AreaResize::new(SCREEN_HEIGHT, SCREEN_WIDTH, size, size),
            stack: FrameStack::new(config.frame_stack, size * size),
            config,
            ale,
            actions,
            has_fire,
            rng: RandomState::new(0),
            frames: [vec![0; SCREEN_LEN], vec![0; SCREEN_LEN]],
            lives: 0,
            episode: EpisodeStats::default(),
            game_score: 0.0,
            needs_reset: true,
            game_ended: true,
            fault: None,
        })
    }

    /// The game's ale-py ROM name.
    pub fn game(&self) -> &str {
        &self.game
    }

    /// The settings this environment runs with.
    pub fn config(&self) -> &AtariConfig {
        &self.config
    }

    /// The ALE actions behind agent actions `0..num_actions`.
    pub fn action_set(&self) -> &[Action] {
        &self.actions
    }

    /// The newest preprocessed frame, `[screen_size, screen_size]`.
    pub fn newest_frame(&self) -> &[u8] {
        self.stack.newest()
    }

    /// Writes the emulator's current screen, unprocessed, as RGB `[210, 160, 3]` row-major into
    /// `out` (`3 * 210 * 160` bytes): what ale-py's `getScreenRGB` returns, for rendering.
    pub fn screen_rgb(&self, out: &mut [u8]) -> Result<(), EnvError> {
        self.ale.screen_rgb(out).map_err(atari_error)
    }

    /// Emulator frames since ALE's last game reset (no-ops and reset steps included).
    pub fn episode_frame_number(&self) -> i32 {
        self.ale.episode_frame_number()
    }

    /// Repeats `action` for `frame_skip` frames (fewer if the game ends), pushes the
    /// preprocessed frame onto the stack and returns the frames' summed (unclipped) reward.
    fn emulate(&mut self, action: Action) -> Result<i64, EnvError> {
        let skip = self.config.frame_skip;
        let mut reward = 0i64;
        let mut have_previous = false;
        for t in 0..skip {
            reward += i64::from(self.ale.act(action, 1.0).map_err(atari_error)?);
            let over = self.ale.game_over(true);
            if t + 2 == skip && !over {
                self.ale
                    .screen_grayscale(&mut self.frames[1])
                    .map_err(atari_error)?;
                have_previous = true;
            }
            if t + 1 == skip || over {
                self.ale
                    .screen_grayscale(&mut self.frames[0])
                    .map_err(atari_error)?;
                break;
            }
        }
        self.push_frame(self.config.max_pool && have_previous);
        Ok(reward)
    }

    /// Resizes the last frame (max-pooled with the one before it if `pool`) onto the stack.
    fn push_frame(&mut self, pool: bool) {
        let [last, previous] = &mut self.frames;
        if pool {
            for (a, b) in last.iter_mut().zip(previous.iter()) {
                *a = (*a).max(*b);
            }
        }
        self.resize.apply(last, self.stack.push_slot());
    }

    /// ALE's reset, then `1..=noop_max` NOOP frames (a game over among them resets again).
    fn new_game(&mut self) -> Result<(), EnvError> {
        self.ale.reset_game().map_err(atari_error)?;
        self.game_score = 0.0;
        if self.config.noop_max > 0 {
            let noops = self.rng.randint_range(1, self.config.noop_max + 1);
            for _ in 0..noops {
                self.ale.act(Action::Noop, 1.0).map_err(atari_error)?;
                if self.ale.game_over(true) {
                    self.ale.reset_game().map_err(atari_error)?;
                }
            }
        }
        self.ale
            .screen_grayscale(&mut self.frames[0])
            .map_err(atari_error)?;
        self.push_frame(false);
        Ok(())
    }

    /// One reset step whose reward counts for the game score only.
    fn reset_step(&mut self, action: Action) -> Result<(), EnvError> {
        let reward = self.emulate(action)?;
        self.game_score += reward as f64;
        Ok(())
    }

    fn try_reset(&mut self, seed: Option<u32>) -> Result<(), EnvError> {
        if let Some(seed) = seed {
            self.ale = Ale::new(&self.rom, &settings(&self.config, seed)).map_err(atari_error)?;
            self.rng = RandomState::new(seed);
            self.game_ended = true;
        }
        if self.game_ended {
            self.new_game()?;
        } else {
            self.reset_step(Action::Noop)?;
            if self.ale.game_over(true) {
                self.new_game()?;
            }
        }
        if self.config.fire_reset && self.has_fire {
            self.reset_step(Action::Fire)?;
            self.reset_step(self.actions[2])?;
            if self.ale.game_over(true) {
                self.new_game()?;
            }
        }
        self.stack.fill_with_newest();
        self.lives = self.ale.lives();
        self.episode = EpisodeStats {
            game_score: Some(self.game_score),
            ..EpisodeStats::default()
        };
        self.needs_reset = false;
        self.game_ended = false;
        Ok(())
    }
}

impl Env for Atari {
    fn spec(&self) -> &EnvSpec {
        &self.spec
    }

    fn reset(&mut self, seed: Option<u32>) {
        if let Err(e) = self.try_reset(seed) {
            self.fault = Some(e.to_string());
            self.needs_reset = true;
            self.game_ended = true;
        } else {
            self.fault = None;
        }
    }

    fn step(&mut self, action: usize) -> Result<Step, EnvError> {
        if let Some(fault) = &self.fault {
            return Err(EnvError::Atari(fault.clone()));
        }
        if self.needs_reset {
            return Err(EnvError::NeedsReset);
        }
        let Some(&ale_action) = self.actions.get(action) else {
            return Err(EnvError::InvalidAction {
                action,
                num_actions: self.actions.len(),
            });
        };
        let raw = self.emulate(ale_action)?;
        self.game_score += raw as f64;
        let reward = if self.config.clip_rewards {
            raw.signum() as f32
        } else {
            raw as f32
        };
        self.episode.record(reward);
        self.episode.game_score = Some(self.game_score);
        let over = self.ale.game_over(false);
        let cut = !over && self.ale.game_truncated();
        let lives = self.ale.lives();
        let life_lost = self.config.episodic_life && 0 < lives && lives < self.lives;
        self.lives = lives;
        let terminated = over || (life_lost && !cut);
        if terminated || cut {
            self.needs_reset = true;
            self.game_ended = over || cut;
            self.episode.continues_game = !self.game_ended;
        }
        Ok(Step {
            reward,
            terminated,
            truncated: cut,
        })
    }

    fn observe_f32(&self, out: &mut [f32]) -> Result<(), EnvError> {
        check_observation_len(&self.spec, out.len())?;
        for (chunk, frame) in out
            .chunks_exact_mut(self.stack_frame_len())
            .zip(self.stack.ordered())
        {
            for (o, &v) in chunk.iter_mut().zip(frame) {
                *o = f32::from(v);
            }
        }
        Ok(())
    }

    fn observe_u8(&self, out: &mut [u8]) -> Result<(), EnvError> {
        check_observation_len(&self.spec, out.len())?;
        for (chunk, frame) in out
            .chunks_exact_mut(self.stack_frame_len())
            .zip(self.stack.ordered())
        {
            chunk.copy_from_slice(frame);
        }
        Ok(())
    }

    fn episode(&self) -> EpisodeStats {
        self.episode
    }

    fn lives(&self) -> Option<u32> {
        u32::try_from(self.lives).ok()
    }

    fn save_state(&self, out: &mut Vec<u8>) -> Result<(), EnvError> {
        put_str(out, &self.game);
        put_config(out, &self.config);
        put_rng(out, &self.rng);
        self.stack.save(out);
        out.put_i32(self.lives);
        put_episode(out, &self.episode);
        out.put_f64(self.game_score);
        out.put_bool(self.needs_reset);
        out.put_bool(self.game_ended);
        out.put_bool(self.fault.is_some());
        put_str(out, self.fault.as_deref().unwrap_or_default());
        let len_at = out.len();
        out.put_u64(0);
        self.ale.save_exact_state(out).map_err(atari_error)?;
        let ale_len = (out.len() - len_at - 8) as u64;
        out[len_at..len_at + 8].copy_from_slice(&ale_len.to_le_bytes());
        Ok(())
    }

    fn restore_state(&mut self, input: &mut &[u8]) -> Result<(), EnvError> {
        expect_same(
            "Atari game",
            take_str(input, "Atari game")?.as_str(),
            self.game.as_str(),
        )?;
        check_config(input, &self.config)?;
        let rng = take_rng(input)?;
        let mut stack = self.stack.clone();
        stack.restore(input)?;
        let lives = input.take_i32("Atari lives")?;
        let episode = take_episode(input)?;
        let game_score = input.take_f64("Atari game score")?;
        let needs_reset = input.take_bool("Atari needs-reset flag")?;
        let game_ended = input.take_bool("Atari game-ended flag")?;
        let has_fault = input.take_bool("Atari fault flag")?;
        let fault = take_str(input, "Atari fault message")?;
        let ale_len = input.take_len(1, "Atari emulator state")?;
        let ale_state = input.take_bytes(ale_len, "Atari emulator state")?;
        self.ale
            .restore_exact_state(ale_state)
            .map_err(|e| EnvError::StateCorrupt(e.to_string()))?;
        self.rng = rng;
        self.stack = stack;
        self.lives = lives;
        self.episode = episode;
        self.game_score = game_score;
        self.needs_reset = needs_reset;
        self.game_ended = game_ended;
        self.fault = has_fault.then_some(fault);
        Ok(())
    }
}

impl Atari {
    fn stack_frame_len(&self) -> usize {
        self.config.screen_size * self.config.screen_size
    }
}

/// The options a saved state must be restored with (`rom_dir` only says where the ROM is).
fn put_config(out: &mut Vec<u8>, config: &AtariConfig) {
    out.put_f32(config.sticky_action_prob);
    out.put_bool(config.minimal_action_set);
    out.put_u32(config.noop_max);
    out.put_u32(config.frame_skip);
    out.put_bool(config.max_pool);
    out.put_usize(config.screen_size);
    out.put_usize(config.frame_stack);
    out.put_bool(config.episodic_life);
    out.put_bool(config.fire_reset);
    out.put_bool(config.clip_rewards);
    out.put_u32(config.max_episode_frames);
}

/// Reads what `put_config` wrote and fails on the first option that differs from `config`.
fn check_config(input: &mut &[u8], config: &AtariConfig) -> Result<(), EnvError> {
    let sticky = input.take_f32("sticky_action_prob")?;
    if sticky.to_bits() != config.sticky_action_prob.to_bits() {
        return Err(EnvError::StateMismatch {
            what: "sticky_action_prob",
            saved: sticky.to_string(),
            current: config.sticky_action_prob.to_string(),
        });
    }
    expect_same(
        "minimal_action_set",
        input.take_bool("minimal_action_set")?,
        config.minimal_action_set,
    )?;
    expect_same("noop_max", input.take_u32("noop_max")?, config.noop_max)?;
    expect_same(
        "frame_skip",
        input.take_u32("frame_skip")?,
        config.frame_skip,
    )?;
    expect_same("max_pool", input.take_bool("max_pool")?, config.max_pool)?;
    expect_same(
        "screen_size",
        input.take_u64("screen_size")?,
        config.screen_size as u64,
    )?;
    expect_same(
        "frame_stack",
        input.take_u64("frame_stack")?,
        config.frame_stack as u64,
    )?;
    expect_same(
        "episodic_life",
        input.take_bool("episodic_life")?,
        config.episodic_life,
    )?;
    expect_same(
        "fire_reset",
        input.take_bool("fire_reset")?,
        config.fire_reset,
    )?;
    expect_same(
        "clip_rewards",
        input.take_bool("clip_rewards")?,
        config.clip_rewards,
    )?;
    expect_same(
        "max_episode_frames",
        input.take_u32("max_episode_frames")?,
        config.max_episode_frames,
    )
}

/// ALE's settings for `config` and `seed`.
fn settings(config: &AtariConfig, seed: u32) -> AleSettings {
    AleSettings::new()
        .random_seed((seed & 0x7fff_ffff) as i32)
        .repeat_action_probability(config.sticky_action_prob)
        .set(
            "max_num_frames_per_episode",
            Setting::Int(config.max_episode_frames as i32),
        )
}

fn atari_error(e: ale_sys::AleError) -> EnvError {
    EnvError::Atari(e.to_string())
}
