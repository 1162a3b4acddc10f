//! The binding's errors and the Python exceptions they become.

use pyo3::PyErr;
use pyo3::exceptions::{PyRuntimeError, PyValueError};

/// What went wrong in a call from Python. Bad arguments and every environment error are raised
/// as `ValueError`; using one environment from two threads at once as `RuntimeError`.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The environment library refused (unknown id, an option the environment lacks, an
    /// option value out of range, a missing ROM, `num_envs` 0, ...).
    #[error("{0}")]
    Env(#[from] hrl_env::EnvError),
    /// A keyword argument that is no environment option.
    #[error("unknown option `{name}`; the options are: {}", crate::options::NAMES.join(", "))]
    UnknownOption {
        /// The keyword given.
        name: String,
    },
    /// An argument of the wrong type or out of its range.
    #[error("{what} must be {expected}, got {got}")]
    Argument {
        /// The argument, e.g. "option `frame_skip`" or "`num_envs`".
        what: String,
        /// What it may be.
        expected: String,
        /// The value given and its type.
        got: String,
    },
    /// A batch of actions of the wrong shape.
    #[error("actions must be a 1-D integer array of {num_envs} actions, got shape {shape:?}")]
    ActionShape {
        /// Copies in the vectorised environment.
        num_envs: usize,
        /// The shape given.
        shape: Vec<usize>,
    },
    /// An action outside `0..num_actions`.
    #[error("action {action} is out of range: this environment takes actions 0..{num_actions}")]
    Action {
        /// The action given.
        action: i64,
        /// The number of actions.
        num_actions: usize,
    },
    /// Rendering asked of an environment without a screen.
    #[error("environment `{0}` has no screen to render; only Atari environments render")]
    NoScreen(String),
    /// One of the environment's output arrays was made read-only or reshaped in place.
    #[error("the environment's output arrays must stay writeable and contiguous: {0}")]
    Buffer(String),
    /// Another thread is using this environment right now.
    #[error(
        "this environment is being used by another thread; step each environment from one thread at a time"
    )]
    Busy,
}

impl From<Error> for PyErr {
    fn from(error: Error) -> PyErr {
        match error {
            Error::Busy | Error::Env(hrl_env::EnvError::ThreadPool(_)) => {
                PyRuntimeError::new_err(error.to_string())
            }
            _ => PyValueError::new_err(error.to_string()),
        }
    }
}

impl From<numpy::BorrowError> for Error {
    fn from(error: numpy::BorrowError) -> Error {
        match error {
            numpy::BorrowError::AlreadyBorrowed => Error::Busy,
            other => Error::Buffer(other.to_string()),
        }
    }
}

impl From<numpy::AsSliceError> for Error {
    fn from(error: numpy::AsSliceError) -> Error {
        Error::Buffer(error.to_string())
    }
}
