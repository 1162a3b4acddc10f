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
    /// `max_episode_steps` of 0.
    #[error("max_episode_steps must be positive (agent steps per episode), got 0")]
    MaxEpisodeSteps,
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
    /// Bytes given to [`crate::VecEnv::restore_state`] that do not start with the magic of a
    /// saved environment state.
    #[error(
        "not a saved environment state: the bytes do not start with {:?}",
        String::from_utf8_lossy(crate::vec_env::STATE_MAGIC)
    )]
    StateMagic,
    /// A saved state in a format version this build does not read.
    #[error(
        "saved environment state has format version {found}; this build reads version {supported}"
    )]
    StateVersion {
        /// The version in the state.
        found: u32,
        /// The version this build writes and reads.
        supported: u32,
    },
    /// A saved state that ends early.
    #[error(
        "saved environment state is truncated: {what} needs {needed} bytes, only {available} are left"
    )]
    StateTruncated {
        /// The part being read.
        what: &'static str,
        /// Bytes it needs.
        needed: u64,
        /// Bytes that were left.
        available: u64,
    },
    /// A saved state of another environment, number of copies or configuration than the one
    /// restoring it.
    #[error(
        "saved environment state does not fit this environment: its {what} is {saved}, here it is {current}"
    )]
    StateMismatch {
        /// What differs: `env id`, `num_envs`, an option's name, ...
        what: &'static str,
        /// The value in the state.
        saved: String,
        /// The value of the environment restoring it.
        current: String,
    },
    /// A saved state whose payload does not match its checksum: it was damaged.
    #[error(
        "saved environment state is corrupt: its payload's checksum is {actual:#018x}, the header records {expected:#018x}"
    )]
    StateChecksum {
        /// The checksum in the header.
        expected: u64,
        /// The checksum of the payload as read.
        actual: u64,
    },
    /// A saved state holding a value no environment could have saved.
    #[error("saved environment state is corrupt: {0}")]
    StateCorrupt(String),
    /// The state of one copy of a vectorised environment could not be restored.
    #[error("restoring copy {index}: {source}")]
    StateCopy {
        /// Which copy.
        index: usize,
        /// Why.
        source: Box<EnvError>,
    },
}
