//! Errors of the environment library.

/// What went wrong when making or stepping an environment.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum EnvError {
    /// No environment is registered under this id.
    #[error("unknown environment id `{id}`; valid ids: {}", valid.join(", "))]
    UnknownEnv {
        /// The id asked for.
        id: String,
        /// Every id `make` accepts.
        valid: Vec<String>,
    },
    /// An option that this environment does not have was set.
    #[error("environment `{env_id}` has no option `{option}`")]
    UnsupportedOption {
        /// The environment.
        env_id: String,
        /// The option's name.
        option: &'static str,
    },
    /// `sticky_action_prob` outside [0, 1].
    #[error("sticky_action_prob must be in [0, 1], got {0}")]
    StickyActionProb(f64),
    /// An action id outside `0..num_actions`.
    #[error("action {action} is out of range: this environment takes actions 0..{num_actions}")]
    InvalidAction {
        /// The action given.
        action: usize,
        /// The number of actions.
        num_actions: usize,
    },
    /// `step` was called before `reset` or after the episode ended.
    #[error("step called before reset or after the episode ended; call reset first")]
    NeedsReset,
    /// An observation buffer of the wrong length.
    #[error("observation buffer holds {actual} elements, the observation has {expected}")]
    ObservationBufferLen {
        /// Elements the observation has.
        expected: usize,
        /// Elements the buffer holds.
        actual: usize,
    },
    /// `observe_u8` on an environment with float observations.
    #[error("environment `{0}` has f32 observations; use observe_f32")]
    NotU8(String),
    /// A vectorised environment needs at least one copy.
    #[error("num_envs must be at least 1")]
    NoEnvs,
    /// The batch of actions does not have one action per environment.
    #[error("got {actual} actions for {num_envs} environments")]
    ActionBatchLen {
        /// Copies in the vectorised environment.
        num_envs: usize,
        /// Actions given.
        actual: usize,
    },
    /// The worker threads of a vectorised environment could not be started.
    #[error("could not start the worker threads: {0}")]
    ThreadPool(String),
    /// An Atari option with a value it cannot take.
    #[error("Atari option {option} = {value} is invalid: it must be {expected}")]
    AtariOption {
        /// The option's name.
        option: &'static str,
        /// The value given.
        value: String,
        /// What it may be.
        expected: &'static str,
    },
    /// The Atari emulator failed, or a game or its ROM was not found (the message lists the
    /// valid games or the folders searched).
    #[error("Atari: {0}")]
    Atari(String),
}
