//! N copies of one environment stepped together, with auto-reset and per-env episode stats.
//!
//! Each copy owns its random stream, seeded once from the run seed, so results do not depend
//! on how the copies are spread over worker threads.

use rayon::prelude::*;

use crate::state::{Put, Take, expect_end, expect_same, fnv1a_64, put_episode, take_episode};
use crate::{Env, EnvError, EnvOptions, EnvSpec, EpisodeStats, ObsDtype, ObsElement, make};

/// The first bytes of a saved [`VecEnv`] state.
pub(crate) const STATE_MAGIC: &[u8; 8] = b"HRLVENV\0";
/// The format version [`VecEnv::save_state`] writes and [`VecEnv::restore_state`] reads.
pub const STATE_FORMAT_VERSION: u32 = 1;

/// How to build a [`VecEnv`].
#[derive(Clone, Debug, PartialEq)]
pub struct VecEnvConfig {
    /// Registry id of the environment, e.g. `minatar/breakout`.
    pub env_id: String,
    /// Options passed to [`crate::make`] for every copy.
    pub options: EnvOptions,
    /// Number of copies.
    pub num_envs: usize,
    /// The run seed; copy `i` is seeded with [`VecEnv::env_seed`]`(seed, i)`.
    pub seed: u64,
    /// Worker threads stepping the copies; 1 steps them on the calling thread.
    pub num_threads: usize,
}

/// An episode that ended during the last [`VecEnv::step`]. On Atari with episodic life this is
/// a learning episode (one life); keep `stats.full_game_score()` where it is `Some` to log the
/// scores of whole games.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FinishedEpisode {
    /// Which copy it ran in.
    pub env_index: usize,
    /// Its statistics.
    pub stats: EpisodeStats,
}

/// The per-copy results of one step.
struct Outputs<'a, T> {
    observations: &'a mut [T],
    final_observations: &'a mut [T],
    rewards: &'a mut [f32],
    terminated: &'a mut [bool],
    truncated: &'a mut [bool],
    finished: &'a mut [Option<EpisodeStats>],
}

/// `num_envs` copies of one environment with batched buffers; allocation-free stepping on
/// the calling thread (with worker threads, rayon's job queue may allocate now and then).
///
/// Auto-reset: when copy `i` ends an episode, its terminal observation goes to
/// `final_observations()[i]`, the copy is reset (continuing its random stream) and
/// `observations()[i]` holds the first observation of the next episode.
pub struct VecEnv<T: ObsElement> {
    envs: Vec<Box<dyn Env>>,
    spec: EnvSpec,
    obs_len: usize,
    observations: Vec<T>,
    final_observations: Vec<T>,
    rewards: Vec<f32>,
    terminated: Vec<bool>,
    truncated: Vec<bool>,
    finished_stats: Vec<Option<EpisodeStats>>,
    finished: Vec<FinishedEpisode>,
    pool: Option<rayon::ThreadPool>,
    /// Copies stepped by one pool task (see [`envs_per_task`]).
    envs_per_task: usize,
}

impl<T: ObsElement> VecEnv<T> {
    /// Makes the copies, seeds them and resets them, so `observations()` is ready.
    pub fn new(config: &VecEnvConfig) -> Result<Self, EnvError> {
        if config.num_envs == 0 {
            return Err(EnvError::NoEnvs);
        }
        let n = config.num_envs;
        let num_threads = config.num_threads.clamp(1, n);
        let pool = if num_threads > 1 {
            Some(
                rayon::ThreadPoolBuilder::new()
                    .num_threads(num_threads)
                    .build()
                    .map_err(|e| EnvError::ThreadPool(e.to_string()))?,
            )
        } else {
            None
        };
        // Making an Atari copy loads its ROM (a tenth of a second): spread that over the pool.
        let make_one = |_| make(&config.env_id, &config.options);
        let envs = match &pool {
            None => (0..n).map(make_one).collect::<Result<Vec<_>, _>>()?,
            Some(pool) => pool.install(|| {
                (0..n)
                    .into_par_iter()
                    .map(make_one)
                    .collect::<Result<Vec<_>, _>>()
            })?,
        };
        let spec = envs[0].spec().clone();
        let obs_len = spec.observation_len();
        let mut vec_env = Self {
            envs,
            spec,
            obs_len,
            observations: vec![T::default(); n * obs_len],
            final_observations: vec![T::default(); n * obs_len],
            rewards: vec![0.0; n],
            terminated: vec![false; n],
            truncated: vec![false; n],
            finished_stats: vec![None; n],
            finished: Vec::with_capacity(n),
            pool,
            envs_per_task: envs_per_task(n, num_threads),
        };
        vec_env.reset(config.seed)?;
        Ok(vec_env)
    }

    /// The seed of copy `env_index` under run seed `seed`: SplitMix64 of their combination,
    /// high 32 bits.
    pub fn env_seed(seed: u64, env_index: usize) -> u32 {
        let mut z = seed.wrapping_add((env_index as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15));
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        ((z ^ (z >> 31)) >> 32) as u32
    }

    /// Reseeds every copy from `seed` and starts new episodes.
    pub fn reset(&mut self, seed: u64) -> Result<(), EnvError> {
        let reset_one = |(i, (env, obs)): (usize, (&mut Box<dyn Env>, &mut [T]))| {
            env.reset(Some(Self::env_seed(seed, i)));
            T::observe(env.as_ref(), obs)
        };
        let len = self.obs_len;
        match &self.pool {
            None => self
                .envs
                .iter_mut()
                .zip(self.observations.chunks_mut(len))
                .enumerate()
                .try_for_each(reset_one)?,
            Some(pool) => pool.install(|| {
                self.envs
                    .par_iter_mut()
                    .zip(self.observations.par_chunks_mut(len))
                    .enumerate()
                    .try_for_each(reset_one)
            })?,
        }
        self.rewards.fill(0.0);
        self.terminated.fill(false);
        self.truncated.fill(false);
        self.finished.clear();
        Ok(())
    }

    /// Steps copy `i` with `actions[i]`, resetting the copies whose episode ended.
    pub fn step(&mut self, actions: &[usize]) -> Result<(), EnvError> {
        if actions.len() != self.envs.len() {
            return Err(EnvError::ActionBatchLen {
                num_envs: self.envs.len(),
                actual: actions.len(),
            });
        }
        let num_actions = self.spec.num_actions;
        if let Some(&action) = actions.iter().find(|&&a| a >= num_actions) {
            return Err(EnvError::InvalidAction {
                action,
                num_actions,
            });
        }
        let (k, len) = (self.envs_per_task, self.obs_len);
        match &self.pool {
            None => step_all(
                &mut self.envs,
                actions,
                Outputs {
                    observations: &mut self.observations,
                    final_observations: &mut self.final_observations,
                    rewards: &mut self.rewards,
                    terminated: &mut self.terminated,
                    truncated: &mut self.truncated,
                    finished: &mut self.finished_stats,
                },
            )?,
            Some(pool) => pool.install(|| {
                (
                    self.envs.par_chunks_mut(k),
                    actions.par_chunks(k),
                    self.observations.par_chunks_mut(k * len),
                    self.final_observations.par_chunks_mut(k * len),
                    self.rewards.par_chunks_mut(k),
                    self.terminated.par_chunks_mut(k),
                    self.truncated.par_chunks_mut(k),
                    self.finished_stats.par_chunks_mut(k),
                )
                    .into_par_iter()
                    .with_max_len(1)
                    .try_for_each(
                        |(envs, actions, obs, final_obs, rew, term, trunc, fin)| {
                            step_all(
                                envs,
                                actions,
                                Outputs {
                                    observations: obs,
                                    final_observations: final_obs,
                                    rewards: rew,
                                    terminated: term,
                                    truncated: trunc,
                                    finished: fin,
                                },
                            )
                        },
                    )
            })?,
        }
        self.finished.clear();
        for (env_index, stats) in self.finished_stats.iter().enumerate() {
            if let Some(stats) = stats {
                self.finished.push(FinishedEpisode {
                    env_index,
                    stats: *stats,
                });
            }
        }
        Ok(())
    }

    /// The environment's spec (the same for every copy).
    pub fn spec(&self) -> &EnvSpec {
        &self.spec
    }

    /// Number of copies `N`.
    pub fn num_envs(&self) -> usize {
        self.envs.len()
    }

    /// Current observations, `[N, *observation_shape]` row-major.
    pub fn observations(&self) -> &[T] {
        &self.observations
    }

    /// Terminal observations, `[N, *observation_shape]`; row `i` is meaningful only where copy
    /// `i` ended an episode in the last step.
    pub fn final_observations(&self) -> &[T] {
        &self.final_observations
    }

    /// Copy `i`'s observation after the last step: its final observation where the step ended
    /// an episode (`observations()` already holds the next episode's first), else its current
    /// one. The next state of a transition is this, never `observations()` alone.
    pub fn next_observation(&self, i: usize) -> &[T] {
        let len = self.obs_len;
        let rows = if self.terminated[i] || self.truncated[i] {
            &self.final_observations
        } else {
            &self.observations
        };
        &rows[i * len..(i + 1) * len]
    }

    /// Rewards of the last step, `[N]`.
    pub fn rewards(&self) -> &[f32] {
        &self.rewards
    }

    /// Which copies reached a terminal state in the last step, `[N]`.
    pub fn terminated(&self) -> &[bool] {
        &self.terminated
    }

    /// Which copies hit a time limit in the last step, `[N]`.
    pub fn truncated(&self) -> &[bool] {
        &self.truncated
    }

    /// Episodes that ended in the last step, in copy order.
    pub fn finished_episodes(&self) -> &[FinishedEpisode] {
        &self.finished
    }

    /// The running episode of copy `env_index`.
    pub fn episode(&self, env_index: usize) -> EpisodeStats {
        self.envs[env_index].episode()
    }

    /// Lives left in copy `env_index`'s game, for games that have them (Atari).
    pub fn lives(&self, env_index: usize) -> Option<u32> {
        self.envs[env_index].lives()
    }

    /// Saves the complete state of every copy and of the last step's results, for resuming a
    /// run exactly: [`VecEnv::restore_state`] on a `VecEnv` built from the same
    /// [`VecEnvConfig`] makes its `observations()`, `episode(i)`,
    /// `lives`, last-step results and every later step for the same actions byte-identical to
    /// this one's. The seed and the thread count need not match: neither changes results.
    ///
    /// What is saved: each copy's [`Env::save_state`] (its game, random generators, previous
    /// action, episode counters, frame stack, lives and reset flags, and its options), then
    /// the last step's `rewards()`, `terminated()`, `truncated()`, `finished_episodes()` and
    /// the rows of `final_observations()` of the copies that ended an episode (the other rows
    /// mean nothing and restore as zeros). `observations()` is not stored: it is each copy's
    /// current observation and is drawn again on restore.
    ///
    /// Format (little-endian): the magic `HRLVENV\0` (8 bytes), the format version
    /// ([`STATE_FORMAT_VERSION`], u32), the env id (u32 length, then UTF-8), `num_envs` (u64),
    /// the observation length (u64), the element type (u8: 0 for `u8`, 1 for `f32`), the
    /// payload's length (u64) and its 64-bit FNV-1a checksum (u64), then the payload: the
    /// rewards (N f32), the terminated and truncated flags (N bytes each), the finished
    /// episodes (u64 count, then per episode the copy's index and its statistics), the final
    /// observations of the copies that ended an episode, and each copy's state (u64 length,
    /// then its bytes), in copy order.
    ///
    /// Fails only for Atari, when the emulator cannot serialise itself.
    pub fn save_state(&self) -> Result<Vec<u8>, EnvError> {
        let n = self.envs.len();
        let len = self.obs_len;
        let mut payload = Vec::new();
        for &reward in &self.rewards {
            payload.put_f32(reward);
        }
        for &flag in self.terminated.iter().chain(&self.truncated) {
            payload.put_bool(flag);
        }
        payload.put_usize(self.finished.len());
        for episode in &self.finished {
            payload.put_usize(episode.env_index);
            put_episode(&mut payload, &episode.stats);
        }
        for i in (0..n).filter(|&i| self.ended_last_step(i)) {
            T::write_le(
                &self.final_observations[i * len..(i + 1) * len],
                &mut payload,
            );
        }
        let mut copy = Vec::new();
        for env in &self.envs {
            copy.clear();
            env.save_state(&mut copy)?;
            payload.put_usize(copy.len());
            payload.extend_from_slice(&copy);
        }

        let id = self.spec.id.as_bytes();
        let mut out = Vec::with_capacity(payload.len() + id.len() + 64);
        out.extend_from_slice(STATE_MAGIC);
        out.put_u32(STATE_FORMAT_VERSION);
        out.put_u32(id.len() as u32);
        out.extend_from_slice(id);
        out.put_usize(n);
        out.put_usize(len);
        out.put_u8(dtype_code(T::DTYPE));
        out.put_usize(payload.len());
        out.put_u64(fnv1a_64(&payload));
        out.extend_from_slice(&payload);
        Ok(out)
    }

    /// Restores a state written by [`VecEnv::save_state`] into this `VecEnv`, which must be
    /// built from the same [`VecEnvConfig`] as the one that saved it,
    /// with the same observation element type; its seed and thread count do not matter.
    ///
    /// Errors, each naming the problem: [`EnvError::StateMagic`] for bytes that are not a
    /// saved state, [`EnvError::StateVersion`] for another format version,
    /// [`EnvError::StateMismatch`] for another env id, `num_envs`, observation length, element
    /// type or option, [`EnvError::StateTruncated`] for bytes that end early,
    /// [`EnvError::StateChecksum`] for a damaged payload and [`EnvError::StateCorrupt`] for
    /// values no environment could have saved; problems inside one copy's state come wrapped
    /// in [`EnvError::StateCopy`] with its index. The header, the checksum and this
    /// `VecEnv`'s own part are checked before anything changes, and each copy checks its
    /// whole state before changing, so on error the `VecEnv` is unchanged, except when a copy
    /// other than the first rejects its state (then the copies before it are restored) or
    /// the Atari emulator rejects its own part after the checks: build a new `VecEnv` then.
    pub fn restore_state(&mut self, bytes: &[u8]) -> Result<(), EnvError> {
        let mut input = bytes;
        let payload = self.check_header(&mut input)?;
        let n = self.envs.len();
        let len = self.obs_len;
        let mut input = payload;
        let mut rewards = vec![0.0; n];
        for reward in &mut rewards {
            *reward = input.take_f32("rewards")?;
        }
        let mut terminated = vec![false; n];
        for flag in &mut terminated {
            *flag = input.take_bool("terminated flags")?;
        }
        let mut truncated = vec![false; n];
        for flag in &mut truncated {
            *flag = input.take_bool("truncated flags")?;
        }
        let num_finished = input.take_index(n + 1, "number of finished episodes")?;
        let mut finished = Vec::with_capacity(n);
        for _ in 0..num_finished {
            let env_index = input.take_index(n, "finished episode's copy")?;
            if !(terminated[env_index] || truncated[env_index])
                || finished
                    .last()
                    .is_some_and(|f: &FinishedEpisode| f.env_index >= env_index)
            {
                return Err(EnvError::StateCorrupt(format!(
                    "finished episode of copy {env_index} is out of order or that copy did \
                     not end an episode"
                )));
            }
            finished.push(FinishedEpisode {
                env_index,
                stats: take_episode(&mut input)?,
            });
        }
        let element_len = std::mem::size_of::<T>();
        let mut final_observations = vec![T::default(); n * len];
        for i in (0..n).filter(|&i| terminated[i] || truncated[i]) {
            let row = input.take_bytes(len * element_len, "final observations")?;
            T::read_le(row, &mut final_observations[i * len..(i + 1) * len]);
        }

        let mut copies = Vec::with_capacity(n);
        for _ in 0..n {
            let copy_len = input.take_len(1, "a copy's state")?;
            copies.push(input.take_bytes(copy_len, "a copy's state")?);
        }
        expect_end(input, "the last copy's state")?;

        for (index, (env, mut copy)) in self.envs.iter_mut().zip(copies).enumerate() {
            env.restore_state(&mut copy)
                .and_then(|()| expect_end(copy, "the copy's state"))
                .map_err(|source| EnvError::StateCopy {
                    index,
                    source: Box::new(source),
                })?;
        }

        for (env, obs) in self.envs.iter().zip(self.observations.chunks_mut(len)) {
            T::observe(env.as_ref(), obs)?;
        }
        self.rewards = rewards;
        self.terminated = terminated;
        self.truncated = truncated;
        self.final_observations = final_observations;
        for (stats, i) in self.finished_stats.iter_mut().zip(0..) {
            *stats = finished.iter().find(|f| f.env_index == i).map(|f| f.stats);
        }
        self.finished.clear();
        self.finished.extend_from_slice(&finished);
        Ok(())
    }

    /// Reads and checks the header of a saved state; returns its payload, checksum verified.
    fn check_header<'a>(&self, input: &mut &'a [u8]) -> Result<&'a [u8], EnvError> {
        let magic = input
            .take_bytes(STATE_MAGIC.len(), "the magic")
            .map_err(|_| EnvError::StateMagic)?;
        if magic != STATE_MAGIC {
            return Err(EnvError::StateMagic);
        }
        let version = input.take_u32("the format version")?;
        if version != STATE_FORMAT_VERSION {
            return Err(EnvError::StateVersion {
                found: version,
                supported: STATE_FORMAT_VERSION,
            });
        }
        let id_len = input.take_u32("the env id's length")? as usize;
        let id = input.take_bytes(id_len, "the env id")?;
        let id = String::from_utf8_lossy(id);
        if id != self.spec.id {
            return Err(EnvError::StateMismatch {
                what: "env id",
                saved: format!("`{id}`"),
                current: format!("`{}`", self.spec.id),
            });
        }
        expect_same(
            "num_envs",
            input.take_u64("num_envs")?,
            self.envs.len() as u64,
        )?;
        expect_same(
            "observation length",
            input.take_u64("the observation length")?,
            self.obs_len as u64,
        )?;
        let dtype = input.take_u8("the observation element type")?;
        if dtype != dtype_code(T::DTYPE) {
            return Err(EnvError::StateMismatch {
                what: "observation element type",
                saved: match dtype {
                    0 => "u8".to_string(),
                    1 => "f32".to_string(),
                    other => format!("unknown ({other})"),
                },
                current: dtype_name(T::DTYPE).to_string(),
            });
        }
        let payload_len = input.take_u64("the payload's length")?;
        let checksum = input.take_u64("the checksum")?;
        if payload_len > input.len() as u64 {
            return Err(EnvError::StateTruncated {
                what: "the payload",
                needed: payload_len,
                available: input.len() as u64,
            });
        }
        let payload = input.take_bytes(payload_len as usize, "the payload")?;
        expect_end(input, "the payload")?;
        let actual = fnv1a_64(payload);
        if actual != checksum {
            return Err(EnvError::StateChecksum {
                expected: checksum,
                actual,
            });
        }
        Ok(payload)
    }

    /// Copy `i` ended an episode in the last step, so its final observation means something.
    fn ended_last_step(&self, i: usize) -> bool {
        self.terminated[i] || self.truncated[i]
    }
}

fn dtype_code(dtype: ObsDtype) -> u8 {
    match dtype {
        ObsDtype::U8 => 0,
        ObsDtype::F32 => 1,
    }
}

fn dtype_name(dtype: ObsDtype) -> &'static str {
    match dtype {
        ObsDtype::U8 => "u8",
        ObsDtype::F32 => "f32",
    }
}

/// How many copies one pool task steps: about four tasks per thread, so that a thread whose
/// copies finish early (most steps) takes over tasks from one whose copies are resetting (a new
/// Atari game: up to 30 no-op frames and the fire reset). One static run of copies per thread
/// left the other thread idle through every reset; envpool balances its queue the same way.
fn envs_per_task(num_envs: usize, num_threads: usize) -> usize {
    num_envs.div_ceil(4 * num_threads)
}

/// Steps a contiguous run of copies; `out` holds exactly their slices.
fn step_all<T: ObsElement>(
    envs: &mut [Box<dyn Env>],
    actions: &[usize],
    out: Outputs<'_, T>,
) -> Result<(), EnvError> {
    let len = out.observations.len() / envs.len();
    for (i, env) in envs.iter_mut().enumerate() {
        let step = env.step(actions[i])?;
        let obs = &mut out.observations[i * len..(i + 1) * len];
        out.rewards[i] = step.reward;
        out.terminated[i] = step.terminated;
        out.truncated[i] = step.truncated;
        if step.done() {
            out.finished[i] = Some(env.episode());
            T::observe(
                env.as_ref(),
                &mut out.final_observations[i * len..(i + 1) * len],
            )?;
            env.reset(None);
        } else {
            out.finished[i] = None;
        }
        T::observe(env.as_ref(), obs)?;
    }
    Ok(())
}
