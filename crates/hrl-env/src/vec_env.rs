//! N copies of one environment stepped together, with auto-reset and per-env episode stats.
//!
//! Each copy owns its random stream, seeded once from the run seed, so results do not depend
//! on how the copies are spread over worker threads.

use rayon::prelude::*;

use crate::{
    AtariOptions, Env, EnvError, EnvOptions, EnvSpec, EpisodeStats, ObsElement, make_with,
};

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
    envs_per_thread: usize,
}

impl<T: ObsElement> VecEnv<T> {
    /// Makes the copies, seeds them and resets them, so `observations()` is ready.
    pub fn new(config: &VecEnvConfig) -> Result<Self, EnvError> {
        Self::new_with(config, &AtariOptions::default())
    }

    /// Like [`VecEnv::new`], with Atari's options for every copy (see [`make_with`]).
    pub fn new_with(config: &VecEnvConfig, atari: &AtariOptions) -> Result<Self, EnvError> {
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
        let make_one = |_| make_with(&config.env_id, &config.options, atari);
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
            envs_per_thread: n.div_ceil(num_threads),
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
        let (k, len) = (self.envs_per_thread, self.obs_len);
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
