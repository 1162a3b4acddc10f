//! Errors of the agents.

use hrl_env::EnvError;
use hrl_nn::diag::DiagError;
use hrl_nn::torso::NetError;

/// What can stop an agent.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    /// A hyperparameter with an impossible value.
    #[error("config key `{key}`: {message}")]
    Config {
        /// The key.
        key: &'static str,
        /// What is wrong with it.
        message: String,
    },
    /// The environments failed.
    #[error(transparent)]
    Env(#[from] EnvError),
    /// The network could not be built.
    #[error(transparent)]
    Network(#[from] NetError),
    /// The diagnostics failed.
    #[error(transparent)]
    Diag(#[from] DiagError),
    /// An intervention (ReDo, shrink-and-perturb, a reset) could not rewrite the network.
    #[error("intervention: {0}")]
    Intervention(#[from] hrl_nn::intervene::InterveneError),
    /// The per-layer health could not be measured.
    #[error("per-layer health: {0}")]
    Health(#[from] hrl_nn::health::HealthError),
    /// The optimiser state could not be edited.
    #[error("optimiser state: {0}")]
    OptimizerState(String),
    /// A checkpoint could not be written or read.
    #[error("checkpoint {path}: {message}")]
    Checkpoint {
        /// The file.
        path: std::path::PathBuf,
        /// What went wrong.
        message: String,
    },
    /// The replay buffer was given data it cannot store.
    #[error("replay buffer: {message}")]
    Replay {
        /// What did not fit.
        message: String,
    },
    /// A loss or parameter stopped being finite.
    #[error(
        "{what} is not finite at agent step {step}; the run stops (the last good checkpoint is kept)"
    )]
    NonFinite {
        /// What was not finite.
        what: &'static str,
        /// Agent steps done when it happened.
        step: u64,
    },
}

impl AgentError {
    /// A config error on `key`.
    pub fn config(key: &'static str, message: impl Into<String>) -> AgentError {
        AgentError::Config {
            key,
            message: message.into(),
        }
    }
}
