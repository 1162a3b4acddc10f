//! `_native.VecEnv`: an [`hrl_env::VecEnv`] whose results land in numpy arrays allocated once.

use std::sync::{Mutex, MutexGuard};

use hrl_env::{EnvSpec, ObsElement, VecEnvConfig};
use numpy::{
    Element, IxDyn, PyArray1, PyArrayDyn, PyArrayMethods, PyReadonlyArrayDyn, PyUntypedArrayMethods,
};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::error::Error;
use crate::options;

/// One ended episode as Python sees it: `(env_index, episodic_return, episodic_length,
/// game_score)`, where `game_score` is the unclipped score of the whole game on Atari when the
/// episode ended the game, else `None`.
type Finished = (usize, f64, u64, Option<f64>);

/// `num_envs` copies of one environment, stepped in Rust with the GIL released.
///
/// The arrays it exposes (`observations`, `final_observations`, `rewards`, `terminations`,
/// `truncations`) are allocated once and overwritten by every `step` and `reset`, which copy
/// the Rust buffers into them once. Auto-reset happens in the same step: where an episode
/// ended, `final_observations` holds its last observation and `observations` the first of
/// the next episode (rows of copies that did not end an episode are left as they were).
#[pyclass(module = "hadamard_rl._native", name = "VecEnv", frozen)]
pub struct VecEnv {
    batch: Batch,
    spec: EnvSpec,
    rewards: Py<PyArray1<f32>>,
    terminations: Py<PyArray1<bool>>,
    truncations: Py<PyArray1<bool>>,
}

/// The copies and their observation arrays, for the environment's element type.
enum Batch {
    U8(Typed<u8>),
    F32(Typed<f32>),
}

struct Typed<T: ObsElement + Element> {
    stepper: Mutex<Stepper<T>>,
    observations: Py<PyArrayDyn<T>>,
    final_observations: Py<PyArrayDyn<T>>,
}

struct Stepper<T: ObsElement> {
    env: hrl_env::VecEnv<T>,
    /// The last actions, converted; kept to step without allocating.
    actions: Vec<usize>,
}

/// The small per-step arrays, borrowed for one step.
struct Outputs<'a> {
    rewards: &'a mut [f32],
    terminated: &'a mut [bool],
    truncated: &'a mut [bool],
}

impl<T: ObsElement + Element> Typed<T> {
    fn new(py: Python<'_>, env: hrl_env::VecEnv<T>) -> Result<Self, Error> {
        let shape: Vec<usize> = std::iter::once(env.num_envs())
            .chain(env.spec().observation_shape.iter().copied())
            .collect();
        let observations = PyArrayDyn::<T>::zeros(py, IxDyn(&shape), false);
        copy_into(&observations, env.observations())?;
        Ok(Self {
            stepper: Mutex::new(Stepper {
                actions: Vec::with_capacity(env.num_envs()),
                env,
            }),
            observations: observations.unbind(),
            final_observations: PyArrayDyn::<T>::zeros(py, IxDyn(&shape), false).unbind(),
        })
    }

    /// Takes the lock without blocking: the numpy borrows already keep a second thread out.
    fn lock(&self) -> Result<MutexGuard<'_, Stepper<T>>, Error> {
        self.stepper.try_lock().map_err(|_| Error::Busy)
    }

    fn step(
        &self,
        py: Python<'_>,
        actions: &[i64],
        out: Outputs<'_>,
    ) -> Result<Option<Vec<Finished>>, Error> {
        let mut guard = self.lock()?;
        let stepper = &mut *guard;
        let num_actions = stepper.env.spec().num_actions;
        stepper.actions.clear();
        for &action in actions {
            match usize::try_from(action) {
                Ok(a) if a < num_actions => stepper.actions.push(a),
                _ => {
                    return Err(Error::Action {
                        action,
                        num_actions,
                    });
                }
            }
        }
        let observations = self.observations.bind(py);
        let final_observations = self.final_observations.bind(py);
        let mut observations = observations.try_readwrite()?;
        let mut final_observations = final_observations.try_readwrite()?;
        let observations = observations.as_slice_mut()?;
        let final_observations = final_observations.as_slice_mut()?;
        py.detach(|| {
            let Stepper { env, actions } = stepper;
            env.step(actions)?;
            observations.copy_from_slice(env.observations());
            out.rewards.copy_from_slice(env.rewards());
            out.terminated.copy_from_slice(env.terminated());
            out.truncated.copy_from_slice(env.truncated());
            let finished = env.finished_episodes();
            if finished.is_empty() {
                return Ok(None);
            }
            let len = env.spec().observation_len();
            let ended = env.final_observations();
            for f in finished {
                let row = f.env_index * len..(f.env_index + 1) * len;
                final_observations[row.clone()].copy_from_slice(&ended[row]);
            }
            Ok(Some(
                finished
                    .iter()
                    .map(|f| {
                        (
                            f.env_index,
                            f.stats.episodic_return,
                            f.stats.episodic_length,
                            f.stats.game_score.and(f.stats.full_game_score()),
                        )
                    })
                    .collect(),
            ))
        })
    }

    fn reset(&self, py: Python<'_>, seed: u64, out: Outputs<'_>) -> Result<(), Error> {
        let mut guard = self.lock()?;
        let stepper = &mut *guard;
        let observations = self.observations.bind(py);
        let mut observations = observations.try_readwrite()?;
        let observations = observations.as_slice_mut()?;
        py.detach(|| {
            stepper.env.reset(seed)?;
            observations.copy_from_slice(stepper.env.observations());
            out.rewards.fill(0.0);
            out.terminated.fill(false);
            out.truncated.fill(false);
            Ok(())
        })
    }
}

/// Copies `values` into a fresh array of the same length (under the GIL: only at creation).
fn copy_into<T: Element + Copy>(
    array: &Bound<'_, PyArrayDyn<T>>,
    values: &[T],
) -> Result<(), Error> {
    let mut array = array.try_readwrite()?;
    array.as_slice_mut()?.copy_from_slice(values);
    Ok(())
}

#[pymethods]
impl VecEnv {
    /// Makes `num_envs` copies of `env_id` with `options` (keyword arguments of the
    /// environment options), copy `i` seeded with `env_seed(seed, i)`, stepped by
    /// `num_threads` worker threads, and resets them.
    #[new]
    #[pyo3(signature = (env_id, num_envs, seed, num_threads, options=None))]
    fn new(
        py: Python<'_>,
        env_id: &Bound<'_, PyAny>,
        num_envs: &Bound<'_, PyAny>,
        seed: &Bound<'_, PyAny>,
        num_threads: &Bound<'_, PyAny>,
        options: Option<&Bound<'_, PyDict>>,
    ) -> Result<Self, Error> {
        let env_id = options::env_id(env_id)?;
        let num_envs = options::usize_arg("`num_envs`", num_envs)?;
        let seed = options::u64_arg("`seed`", seed)?;
        let num_threads = options::usize_arg("`num_threads`", num_threads)?;
        if num_threads == 0 {
            return Err(Error::Argument {
                what: "`num_threads`".into(),
                expected: "at least 1".into(),
                got: "0".into(),
            });
        }
        let config = VecEnvConfig {
            env_id,
            options: options::parse(options)?,
            num_envs,
            seed,
            num_threads,
        };
        // Bytes where the environment observes bytes (MinAtar, Atari), else floats (CartPole,
        // which refuses to write bytes). Made without the GIL: an Atari copy loads its ROM.
        let batch = match py.detach(|| hrl_env::VecEnv::<u8>::new(&config)) {
            Ok(env) => Batch::U8(Typed::new(py, env)?),
            Err(hrl_env::EnvError::NotU8(_)) => {
                let env = py.detach(|| hrl_env::VecEnv::<f32>::new(&config))?;
                Batch::F32(Typed::new(py, env)?)
            }
            Err(e) => return Err(e.into()),
        };
        let spec = match &batch {
            Batch::U8(typed) => typed.lock()?.env.spec().clone(),
            Batch::F32(typed) => typed.lock()?.env.spec().clone(),
        };
        Ok(Self {
            batch,
            spec,
            rewards: PyArray1::zeros(py, num_envs, false).unbind(),
            terminations: PyArray1::zeros(py, num_envs, false).unbind(),
            truncations: PyArray1::zeros(py, num_envs, false).unbind(),
        })
    }

    /// `(env_id, observation_shape, observation_dtype, num_actions)` of one copy; the dtype is
    /// "uint8" or "float32".
    #[getter]
    fn spec(&self) -> (String, Vec<usize>, &'static str, usize) {
        crate::spec_tuple(&self.spec)
    }

    /// Current observations, `[num_envs, *observation_shape]`, overwritten in place.
    #[getter]
    fn observations<'py>(&self, py: Python<'py>) -> Bound<'py, PyAny> {
        match &self.batch {
            Batch::U8(t) => t.observations.bind(py).clone().into_any(),
            Batch::F32(t) => t.observations.bind(py).clone().into_any(),
        }
    }

    /// Last observations of the episodes that ended in the last step (rows of the copies
    /// `step` reported), `[num_envs, *observation_shape]`, overwritten in place.
    #[getter]
    fn final_observations<'py>(&self, py: Python<'py>) -> Bound<'py, PyAny> {
        match &self.batch {
            Batch::U8(t) => t.final_observations.bind(py).clone().into_any(),
            Batch::F32(t) => t.final_observations.bind(py).clone().into_any(),
        }
    }

    /// Rewards of the last step, float32 `[num_envs]`, overwritten in place.
    #[getter]
    fn rewards<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f32>> {
        self.rewards.bind(py).clone()
    }

    /// Which copies reached a terminal state in the last step, bool `[num_envs]`.
    #[getter]
    fn terminations<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<bool>> {
        self.terminations.bind(py).clone()
    }

    /// Which copies hit a time limit in the last step, bool `[num_envs]`.
    #[getter]
    fn truncations<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<bool>> {
        self.truncations.bind(py).clone()
    }

    /// Steps copy `i` with `actions[i]` (a contiguous int64 array `[num_envs]`), resetting the
    /// copies whose episode ended. Returns `None` when no episode ended, else one
    /// `(env_index, episodic_return, episodic_length, game_score)` per ended episode, in
    /// copy order (`game_score`: Atari's unclipped whole-game score where the episode ended
    /// the game, else `None`).
    fn step(
        &self,
        py: Python<'_>,
        actions: PyReadonlyArrayDyn<'_, i64>,
    ) -> Result<Option<Vec<Finished>>, Error> {
        let shape = actions.shape().to_vec();
        let num_envs = self.rewards.bind(py).len();
        let actions = match actions.as_slice() {
            Ok(slice) if shape.len() == 1 && slice.len() == num_envs => slice,
            _ => return Err(Error::ActionShape { num_envs, shape }),
        };
        self.with_outputs(py, |out| match &self.batch {
            Batch::U8(t) => t.step(py, actions, out),
            Batch::F32(t) => t.step(py, actions, out),
        })
    }

    /// Reseeds copy `i` with `env_seed(seed, i)` and starts new episodes everywhere.
    fn reset(&self, py: Python<'_>, seed: &Bound<'_, PyAny>) -> Result<(), Error> {
        let seed = options::u64_arg("`seed`", seed)?;
        self.with_outputs(py, |out| match &self.batch {
            Batch::U8(t) => t.reset(py, seed, out),
            Batch::F32(t) => t.reset(py, seed, out),
        })
    }
}

impl VecEnv {
    /// Runs `f` with the reward and flag arrays borrowed mutably.
    fn with_outputs<R>(
        &self,
        py: Python<'_>,
        f: impl FnOnce(Outputs<'_>) -> Result<R, Error>,
    ) -> Result<R, Error> {
        let rewards = self.rewards.bind(py);
        let terminations = self.terminations.bind(py);
        let truncations = self.truncations.bind(py);
        let mut rewards = rewards.try_readwrite()?;
        let mut terminations = terminations.try_readwrite()?;
        let mut truncations = truncations.try_readwrite()?;
        f(Outputs {
            rewards: rewards.as_slice_mut()?,
            terminated: terminations.as_slice_mut()?,
            truncated: truncations.as_slice_mut()?,
        })
    }
}
