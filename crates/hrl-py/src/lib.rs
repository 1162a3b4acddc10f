//! Python bindings of hadamard-rl's native environments: the `hadamard_rl._native` extension
//! module behind the `hadamard_rl` package (`python/`), built with maturin.
//!
//! [`VecEnv`](vec_env::VecEnv) wraps [`hrl_env::VecEnv`] and writes each step's results into
//! numpy arrays allocated once, with the GIL released while stepping; [`Env`](env::Env) is
//! one environment for gymnasium's single-env API. Every bad argument is a `ValueError` that
//! names it. The gymnasium classes are Python, in `python/hadamard_rl/`.

mod env;
mod error;
mod options;
mod vec_env;

use pyo3::prelude::*;

/// `(env_id, observation_shape, observation_dtype, num_actions)` as the classes expose it.
fn spec_tuple(spec: &hrl_env::EnvSpec) -> (String, Vec<usize>, &'static str, usize) {
    let dtype = match spec.observation_dtype {
        hrl_env::ObsDtype::U8 => "uint8",
        hrl_env::ObsDtype::F32 => "float32",
    };
    (
        spec.id.clone(),
        spec.observation_shape.clone(),
        dtype,
        spec.num_actions,
    )
}

/// The extension module.
#[pymodule]
mod _native {
    use pyo3::prelude::*;

    #[pymodule_export]
    use super::env::Env;
    #[pymodule_export]
    use super::vec_env::VecEnv;

    /// Every environment id: `minatar/GAME` for the five games, `cartpole`, then `atari/GAME`
    /// for each single-player game ale-py 0.12.1 ships.
    #[pyfunction]
    fn env_ids() -> Vec<String> {
        hrl_env::env_ids()
    }

    /// The seed (numpy `RandomState` convention) of copy `env_index` of a vector environment
    /// made or reset with `seed`.
    #[pyfunction]
    fn env_seed(seed: u64, env_index: usize) -> u32 {
        hrl_env::VecEnv::<u8>::env_seed(seed, env_index)
    }

    /// The option keywords `make_vec` and the single environments accept.
    #[pyfunction]
    fn option_names() -> Vec<&'static str> {
        super::options::NAMES.to_vec()
    }
}
