//! The environment benchmark behind `hrl bench env`: uniformly random actions (drawn before the
//! clock starts and replayed cyclically), every observation read, episodes reset as they end.
//! One copy is stepped directly, without the vector wrapper; several go through [`VecEnv`]
//! on worker threads. The network benchmark is its neighbour in `hrl_nn::bench`.

use std::time::Instant;

use crate::{EnvError, EnvOptions, ObsDtype, ObsElement, RandomState, VecEnv, VecEnvConfig, make};

/// What to benchmark.
#[derive(Clone, Debug, PartialEq)]
pub struct EnvBenchConfig {
    /// Environment id, with its default options.
    pub env_id: String,
    /// Copies stepped together; 1 steps a single environment without [`VecEnv`].
    pub num_envs: usize,
    /// Environment steps to take, over all copies (rounded up to whole batches of copies).
    pub steps: u64,
    /// Worker threads stepping the copies (ignored for one copy).
    pub num_threads: usize,
    /// Seed of the environments and of the action table.
    pub seed: u64,
}

/// What a benchmark measured.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EnvBenchResult {
    /// Environment steps taken, over all copies.
    pub steps: u64,
    /// Wall-clock seconds they took.
    pub seconds: f64,
    /// Threads that stepped them (1 for a single copy).
    pub threads: usize,
}

impl EnvBenchResult {
    /// Environment steps per wall-clock second.
    pub fn steps_per_second(&self) -> f64 {
        self.steps as f64 / self.seconds
    }
}

/// Entries of the action table (a power of two, far longer than any pattern a game could lock
/// onto).
const ACTION_TABLE_LEN: usize = 1 << 16;

/// Runs the benchmark.
pub fn bench_env(config: &EnvBenchConfig) -> Result<EnvBenchResult, EnvError> {
    let spec = make(&config.env_id, &EnvOptions::default())?.spec().clone();
    let (steps, seconds) = if config.num_envs == 1 {
        bench_single(config)?
    } else {
        let vec = VecEnvConfig {
            env_id: config.env_id.clone(),
            options: EnvOptions::default(),
            num_envs: config.num_envs,
            seed: config.seed,
            num_threads: config.num_threads,
        };
        match spec.observation_dtype {
            ObsDtype::U8 => bench_vec::<u8>(&vec, config.steps)?,
            ObsDtype::F32 => bench_vec::<f32>(&vec, config.steps)?,
        }
    };
    let threads = if config.num_envs == 1 {
        1
    } else {
        config.num_threads
    };
    Ok(EnvBenchResult {
        steps,
        seconds,
        threads,
    })
}

/// Uniformly random actions.
fn action_table(num_actions: usize, len: usize, seed: u64) -> Vec<usize> {
    let mut rng = RandomState::new(seed as u32);
    (0..len)
        .map(|_| rng.randint(num_actions as u32) as usize)
        .collect()
}

/// One environment, stepped and observed, reset on episode end. Returns (steps, seconds).
fn bench_single(config: &EnvBenchConfig) -> Result<(u64, f64), EnvError> {
    let mut env = make(&config.env_id, &EnvOptions::default())?;
    let spec = env.spec().clone();
    let actions = action_table(spec.num_actions, ACTION_TABLE_LEN, config.seed);
    let mut obs_u8 = vec![0u8; spec.observation_len()];
    let mut obs_f32 = vec![0f32; spec.observation_len()];
    env.reset(Some(config.seed as u32));
    let start = Instant::now();
    for t in 0..config.steps {
        let step = env.step(actions[t as usize % ACTION_TABLE_LEN])?;
        match spec.observation_dtype {
            ObsDtype::U8 => env.observe_u8(&mut obs_u8)?,
            ObsDtype::F32 => env.observe_f32(&mut obs_f32)?,
        }
        if step.done() {
            env.reset(None);
        }
    }
    Ok((config.steps, start.elapsed().as_secs_f64()))
}

/// `num_envs` copies through [`VecEnv`]; rounds the steps up to whole batches.
fn bench_vec<T: ObsElement>(config: &VecEnvConfig, steps: u64) -> Result<(u64, f64), EnvError> {
    let mut env = VecEnv::<T>::new(config)?;
    let n = config.num_envs;
    let batches = steps.div_ceil(n as u64);
    let table_len = ACTION_TABLE_LEN.div_ceil(n) * n;
    let actions = action_table(env.spec().num_actions, table_len, config.seed);
    let start = Instant::now();
    for b in 0..batches as usize {
        let offset = (b * n) % table_len;
        env.step(&actions[offset..offset + n])?;
    }
    Ok((batches * n as u64, start.elapsed().as_secs_f64()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_vectorised_run_takes_whole_batches_of_the_steps_asked_for() {
        let config = EnvBenchConfig {
            env_id: "minatar/breakout".into(),
            num_envs: 4,
            steps: 10,
            num_threads: 2,
            seed: 0,
        };
        let result = bench_env(&config).unwrap();
        assert_eq!((result.steps, result.threads), (12, 2));
        let single = bench_env(&EnvBenchConfig {
            num_envs: 1,
            ..config
        })
        .unwrap();
        assert_eq!((single.steps, single.threads), (10, 1));
        assert!(single.seconds > 0.0);
    }
}
