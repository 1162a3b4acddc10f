//! `_native.Env`: one environment, no auto-reset, for gymnasium's single-env API.

use std::sync::{Mutex, MutexGuard};

use hrl_env::atari::ale_sys::{SCREEN_HEIGHT, SCREEN_WIDTH};
use hrl_env::{Atari, EnvSpec, ObsDtype, ObsElement};
use numpy::{Element, IxDyn, PyArrayDyn, PyArrayMethods};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::error::Error;
use crate::options;

/// One environment; every observation it returns is a new numpy array.
#[pyclass(module = "hadamard_rl._native", name = "Env", frozen)]
pub struct Env {
    env: Mutex<Single>,
    spec: EnvSpec,
}

/// Atari is kept as its own type for its raw screen.
enum Single {
    Atari(Box<Atari>),
    Other(Box<dyn hrl_env::Env>),
}

impl Single {
    fn env(&self) -> &dyn hrl_env::Env {
        match self {
            Single::Atari(atari) => atari.as_ref(),
            Single::Other(env) => env.as_ref(),
        }
    }

    fn env_mut(&mut self) -> &mut dyn hrl_env::Env {
        match self {
            Single::Atari(atari) => atari.as_mut(),
            Single::Other(env) => env.as_mut(),
        }
    }
}

impl Env {
    fn lock(&self) -> Result<MutexGuard<'_, Single>, Error> {
        self.env.try_lock().map_err(|_| Error::Busy)
    }

    /// The current observation as a new array of the environment's element type.
    fn observe<'py>(
        &self,
        py: Python<'py>,
        env: &dyn hrl_env::Env,
    ) -> Result<Bound<'py, PyAny>, Error> {
        Ok(match self.spec.observation_dtype {
            ObsDtype::U8 => new_observation::<u8>(py, env)?.into_any(),
            ObsDtype::F32 => new_observation::<f32>(py, env)?.into_any(),
        })
    }
}

fn new_observation<'py, T: ObsElement + Element>(
    py: Python<'py>,
    env: &dyn hrl_env::Env,
) -> Result<Bound<'py, PyArrayDyn<T>>, Error> {
    let array = PyArrayDyn::<T>::zeros(py, IxDyn(&env.spec().observation_shape), false);
    {
        let mut view = array.try_readwrite()?;
        T::observe(env, view.as_slice_mut()?)?;
    }
    Ok(array)
}

#[pymethods]
impl Env {
    /// Makes `env_id` with `options` (keyword arguments of the environment options). Call
    /// `reset` before stepping.
    #[new]
    #[pyo3(signature = (env_id, options=None))]
    fn new(
        py: Python<'_>,
        env_id: &Bound<'_, PyAny>,
        options: Option<&Bound<'_, PyDict>>,
    ) -> Result<Self, Error> {
        let env_id = options::env_id(env_id)?;
        let options = options::parse(options)?;
        let env = py.detach(|| {
            if hrl_env::atari_game(&env_id).is_some() {
                hrl_env::make_atari(&env_id, &options).map(|a| Single::Atari(Box::new(a)))
            } else {
                hrl_env::make(&env_id, &options).map(Single::Other)
            }
        })?;
        let spec = env.env().spec().clone();
        Ok(Self {
            env: Mutex::new(env),
            spec,
        })
    }

    /// `(env_id, observation_shape, observation_dtype, num_actions)`; the dtype is "uint8" or
    /// "float32".
    #[getter]
    fn spec(&self) -> (String, Vec<usize>, &'static str, usize) {
        crate::spec_tuple(&self.spec)
    }

    /// Starts a new episode and returns its first observation. A `seed` (0 to 2**32 - 1)
    /// makes the environment behave like a fresh one seeded with it (numpy's
    /// `RandomState(seed)` convention); `None` continues its random stream.
    #[pyo3(signature = (seed=None))]
    fn reset<'py>(
        &self,
        py: Python<'py>,
        seed: Option<&Bound<'_, PyAny>>,
    ) -> Result<Bound<'py, PyAny>, Error> {
        let seed = seed.map(|s| options::u32_arg("`seed`", s)).transpose()?;
        let mut guard = self.lock()?;
        let single = &mut *guard;
        py.detach(|| single.env_mut().reset(seed));
        self.observe(py, single.env())
    }

    /// Takes one step; returns `(observation, reward, terminated, truncated)`. After a step
    /// that ends the episode, call `reset`.
    fn step<'py>(
        &self,
        py: Python<'py>,
        action: &Bound<'_, PyAny>,
    ) -> Result<(Bound<'py, PyAny>, f64, bool, bool), Error> {
        let action = options::i64_arg("`action`", action)?;
        let num_actions = self.spec.num_actions;
        let action = usize::try_from(action)
            .ok()
            .filter(|&a| a < num_actions)
            .ok_or(Error::Action {
                action,
                num_actions,
            })?;
        let mut guard = self.lock()?;
        let single = &mut *guard;
        let step = py.detach(|| single.env_mut().step(action))?;
        let observation = self.observe(py, single.env())?;
        Ok((
            observation,
            f64::from(step.reward),
            step.terminated,
            step.truncated,
        ))
    }

    /// Lives left in the game (Atari), else `None`.
    fn lives(&self) -> Result<Option<u32>, Error> {
        Ok(self.lock()?.env().lives())
    }

    /// Atari's raw emulator screen, uint8 RGB `[210, 160, 3]` (what ale-py's `getScreenRGB`
    /// gives); an error for other environments.
    fn screen_rgb<'py>(&self, py: Python<'py>) -> Result<Bound<'py, PyAny>, Error> {
        let guard = self.lock()?;
        let Single::Atari(atari) = &*guard else {
            return Err(Error::NoScreen(self.spec.id.clone()));
        };
        let array = PyArrayDyn::<u8>::zeros(py, IxDyn(&[SCREEN_HEIGHT, SCREEN_WIDTH, 3]), false);
        {
            let mut view = array.try_readwrite()?;
            atari.screen_rgb(view.as_slice_mut()?)?;
        }
        Ok(array.into_any())
    }
}
