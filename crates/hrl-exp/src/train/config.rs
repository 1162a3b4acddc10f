//! The fully resolved configuration of a training run: preset, then command-line values, then
//! `--set key=value` overrides, checked before any work starts.
//!
//! Presets are the TOML files in the repository's `configs/` folder, compiled into the binary;
//! the one used is `ALGO-FAMILY` (`pqn-minatar`, `pqn-cartpole`, ...) unless named. The resolved
//! config is written to the run folder as `config.toml`, and `hrl train --config` on that file
//! reproduces the run.

use std::path::{Path, PathBuf};

use hrl_agents::agent::fit_network;
use hrl_agents::algo::{AgentConfig, Algo};
use hrl_agents::dqn::DqnConfig;
use hrl_agents::plasticity::{
    Interventions, L2InitConfig, RedoConfig, ResetConfig, ShrinkPerturbConfig,
};
use hrl_agents::ppo::PpoConfig;
use hrl_agents::pqn::PqnConfig;
use hrl_env::{EnvError, EnvOptions, EnvSpec, VecEnv, VecEnvConfig, env_family};
use hrl_nn::diag::DiagConfig;
use hrl_nn::init::Init;
use hrl_nn::network::{Head, NetworkConfig};
use hrl_nn::repr::ReprSpec;
use hrl_nn::torso::{DEFAULT_LAYER_NORM_EPSILON, HrPlacement, TorsoConfig, TorsoKind};

/// The presets compiled into the binary: `(name, TOML text)`.
pub const PRESETS: [(&str, &str); 9] = [
    (
        "dqn-minatar",
        include_str!("../../../../configs/dqn-minatar.toml"),
    ),
    (
        "dqn-cartpole",
        include_str!("../../../../configs/dqn-cartpole.toml"),
    ),
    (
        "dqn-atari",
        include_str!("../../../../configs/dqn-atari.toml"),
    ),
    (
        "pqn-minatar",
        include_str!("../../../../configs/pqn-minatar.toml"),
    ),
    (
        "pqn-cartpole",
        include_str!("../../../../configs/pqn-cartpole.toml"),
    ),
    (
        "pqn-atari",
        include_str!("../../../../configs/pqn-atari.toml"),
    ),
    (
        "ppo-minatar",
        include_str!("../../../../configs/ppo-minatar.toml"),
    ),
    (
        "ppo-cartpole",
        include_str!("../../../../configs/ppo-cartpole.toml"),
    ),
    (
        "ppo-atari",
        include_str!("../../../../configs/ppo-atari.toml"),
    ),
];

/// Errors resolving a config; each names the key or file.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// No preset of that name.
    #[error("unknown preset `{name}`; available: {available}")]
    UnknownPreset {
        /// The name asked for.
        name: String,
        /// The presets there are.
        available: String,
    },
    /// No preset for the algorithm and environment family.
    #[error(
        "no preset for algorithm `{algo}` on `{env}` (looked for `{name}`); available: {available}; name one with --preset"
    )]
    NoPreset {
        /// The algorithm.
        algo: Algo,
        /// The environment id.
        env: String,
        /// The preset name tried.
        name: String,
        /// The presets there are.
        available: String,
    },
    /// A `--set` that is not `key=value`.
    #[error("--set `{0}`: expected key=value, e.g. --set pqn.learning_rate=1e-4")]
    SetSyntax(String),
    /// A `--set` whose value the config does not take (unknown key, wrong type).
    #[error("--set {key}={value}: {message}")]
    SetValue {
        /// The dotted key.
        key: String,
        /// The value as given.
        value: String,
        /// The parser's message.
        message: String,
    },
    /// A `--set` on a key that does not exist or under a value that is not a table.
    #[error("--set `{key}`: `{part}` is not a table of the config")]
    SetPath {
        /// The dotted key.
        key: String,
        /// The part that failed.
        part: String,
    },
    /// The config does not deserialise: unknown key, wrong type.
    #[error("config {source_name}: {message}")]
    Invalid {
        /// Where the config came from.
        source_name: String,
        /// The parser's message (it names the key).
        message: String,
    },
    /// A value that makes the run impossible.
    #[error("config key `{key}`: {message}")]
    Value {
        /// The key.
        key: String,
        /// What is wrong.
        message: String,
    },
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
}

/// Network settings of a run; the representation spec is the top-level `repr`.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkSection {
    /// Torso architecture.
    pub torso: TorsoKind,
    /// Which hidden layers the spec governs.
    pub hr_placement: HrPlacement,
    /// LayerNorm before every hidden activation.
    pub layer_norm_all: bool,
    /// Epsilon of every LayerNorm (PyTorch's 1e-5 if absent; Flax's is 1e-6).
    #[serde(default = "default_layer_norm_epsilon")]
    pub layer_norm_epsilon: f64,
    /// Initialiser of the torso.
    pub init: Init,
    /// The output head: `{ kind = "q", init = ... }` or
    /// `{ kind = "actor-critic", actor_init = ..., critic_init = ... }`.
    pub head: Head,
    /// Observations are multiplied by this first.
    pub input_scale: f64,
    /// Dense layers before the representation layer; the torso's default if absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hidden: Option<Vec<usize>>,
}

fn default_layer_norm_epsilon() -> f64 {
    DEFAULT_LAYER_NORM_EPSILON
}

/// Greedy evaluation during training (as purejaxql's test episodes).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EvalSection {
    /// Evaluations over the run, evenly spaced, the last at the end; 0 turns them off.
    pub points: u64,
    /// Episodes per evaluation, played in parallel, one per environment.
    pub episodes: usize,
    /// ε of the evaluation policy (Q agents; PPO samples its policy).
    pub epsilon: f64,
    /// Agent steps after which an evaluation episode is cut off.
    pub max_steps: u64,
}

impl Default for EvalSection {
    fn default() -> Self {
        EvalSection {
            points: 20,
            episodes: 8,
            epsilon: 0.0,
            max_steps: 27_000,
        }
    }
}

/// When checkpoints are written.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CheckpointSection {
    /// Checkpoints over the run, evenly spaced; the end of the run always gets one (so 0 means
    /// only that one).
    pub points: u64,
    /// Checkpoints kept on disk; older ones are removed (at least 1).
    pub keep: usize,
}

impl Default for CheckpointSection {
    fn default() -> Self {
        CheckpointSection {
            points: 10,
            keep: 2,
        }
    }
}

/// Logging and diagnostics.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSection {
    /// Diagnostics points over the run.
    pub diag_points: u64,
    /// States in the probe batch.
    pub probe_size: usize,
    /// Settings of the diagnostics.
    #[serde(default)]
    pub diag: DiagConfig,
    /// Whether diagnostics points also measure every hidden layer into `diagnostics.csv`
    /// (on unless set to false).
    #[serde(default = "LogSection::default_layer_health")]
    pub layer_health: bool,
}

impl LogSection {
    fn default_layer_health() -> bool {
        true
    }
}

/// A training run, fully resolved.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "TrainConfigLayout", into = "TrainConfigLayout")]
pub struct TrainConfig {
    /// The algorithm and its hyperparameters (`algo = "dqn"` with its `[dqn]` table).
    pub agent: AgentConfig,
    /// Environment id.
    pub env: String,
    /// Representation spec of the final hidden layer.
    pub repr: ReprSpec,
    /// Run seed.
    pub seed: u64,
    /// `cpu`, `cuda` or `cuda:N`.
    pub device: String,
    /// Worker threads stepping the environments.
    pub num_threads: usize,
    /// The network.
    pub network: NetworkSection,
    /// Environment options (`[env_options]`, Atari's under `[env_options.atari]`); absent
    /// keys keep the environment's defaults, and an option the environment does not have is
    /// an error.
    pub env_options: EnvOptions,
    /// Logging.
    pub log: LogSection,
    /// Evaluation during training.
    pub eval: EvalSection,
    /// Checkpoints.
    pub checkpoint: CheckpointSection,
    /// Interventions against plasticity loss (`[redo]`, `[shrink_perturb]`, `[reset]`,
    /// `[l2_init]`), each off unless its section is there.
    pub interventions: Interventions,
}

/// How a [`TrainConfig`] is laid out in TOML: the algorithm's name and its table side by side
/// (`algo = "dqn"` and `[dqn]`). Reading checks that the selected table is there and no other
/// algorithm's is.
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct TrainConfigLayout {
    algo: Algo,
    env: String,
    repr: ReprSpec,
    seed: u64,
    device: String,
    num_threads: usize,
    network: NetworkSection,
    env_options: EnvOptions,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pqn: Option<PqnConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    dqn: Option<DqnConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ppo: Option<PpoConfig>,
    log: LogSection,
    #[serde(default)]
    eval: EvalSection,
    #[serde(default)]
    checkpoint: CheckpointSection,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    redo: Option<RedoConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    shrink_perturb: Option<ShrinkPerturbConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    reset: Option<ResetConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    l2_init: Option<L2InitConfig>,
}

impl TryFrom<TrainConfigLayout> for TrainConfig {
    type Error = ConfigError;

    fn try_from(layout: TrainConfigLayout) -> Result<TrainConfig, ConfigError> {
        let TrainConfigLayout {
            algo,
            pqn,
            dqn,
            ppo,
            ..
        } = layout;
        let stray = [
            (Algo::Dqn, dqn.is_some()),
            (Algo::Ppo, ppo.is_some()),
            (Algo::Pqn, pqn.is_some()),
        ]
        .into_iter()
        .find(|&(other, present)| present && other != algo);
        if let Some((other, _)) = stray {
            return Err(ConfigError::Value {
                key: other.to_string(),
                message: format!(
                    "belongs to algo = \"{other}\", but this run's algo is \"{algo}\" (its settings go under [{algo}])"
                ),
            });
        }
        let missing = || ConfigError::Value {
            key: algo.to_string(),
            message: format!("algo = \"{algo}\" needs a [{algo}] table"),
        };
        let agent = match algo {
            Algo::Dqn => AgentConfig::Dqn(dqn.ok_or_else(missing)?),
            Algo::Ppo => AgentConfig::Ppo(ppo.ok_or_else(missing)?),
            Algo::Pqn => AgentConfig::Pqn(pqn.ok_or_else(missing)?),
        };
        Ok(TrainConfig {
            agent,
            env: layout.env,
            repr: layout.repr,
            seed: layout.seed,
            device: layout.device,
            num_threads: layout.num_threads,
            network: layout.network,
            env_options: layout.env_options,
            log: layout.log,
            eval: layout.eval,
            checkpoint: layout.checkpoint,
            interventions: Interventions {
                redo: layout.redo,
                shrink_perturb: layout.shrink_perturb,
                reset: layout.reset,
                l2_init: layout.l2_init,
            },
        })
    }
}

impl From<TrainConfig> for TrainConfigLayout {
    fn from(config: TrainConfig) -> TrainConfigLayout {
        let algo = config.agent.algo();
        let (mut dqn, mut ppo, mut pqn) = (None, None, None);
        match config.agent {
            AgentConfig::Dqn(c) => dqn = Some(c),
            AgentConfig::Ppo(c) => ppo = Some(c),
            AgentConfig::Pqn(c) => pqn = Some(c),
        }
        TrainConfigLayout {
            algo,
            env: config.env,
            repr: config.repr,
            seed: config.seed,
            device: config.device,
            num_threads: config.num_threads,
            network: config.network,
            env_options: config.env_options,
            pqn,
            dqn,
            ppo,
            log: config.log,
            eval: config.eval,
            checkpoint: config.checkpoint,
            redo: config.interventions.redo,
            shrink_perturb: config.interventions.shrink_perturb,
            reset: config.interventions.reset,
            l2_init: config.interventions.l2_init,
        }
    }
}

/// What the command line asked for, before the preset is known.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Overrides {
    /// `--algo`.
    pub algo: Option<Algo>,
    /// `--env`.
    pub env: Option<String>,
    /// `--repr`.
    pub repr: Option<ReprSpec>,
    /// `--seed`.
    pub seed: Option<u64>,
    /// `--steps`: the algorithm's `total_timesteps`.
    pub steps: Option<u64>,
    /// `--device`.
    pub device: Option<String>,
    /// `--preset`.
    pub preset: Option<String>,
    /// `--set key=value`, in order.
    pub set: Vec<String>,
}

fn preset_names() -> String {
    PRESETS.map(|(name, _)| name).join(", ")
}

/// The most worker threads a run may ask for (`num_threads`, `--threads`): far more than the
/// cores of any machine this runs on, few enough that starting them takes no noticeable time.
pub const MAX_THREADS: usize = 256;

/// A TOML error on one line: `line L, column C (`SOURCE LINE`): MESSAGE` where the error has a
/// place in `text`
/// (the parser's own text spans several lines, with a drawing of the place), else the parser's
/// text with its line breaks as spaces (`missing field `torso` in `network``; pass "" for errors
/// of values that have no text).
pub fn toml_error_line(error: &toml::de::Error, text: &str) -> String {
    match error.span() {
        Some(span) if !text.is_empty() => {
            let message = error.message().replace('\n', " ");
            let start = span.start.min(text.len());
            let before = &text.as_bytes()[..start];
            let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
            let column = before.iter().rev().take_while(|&&b| b != b'\n').count() + 1;
            let source = text.lines().nth(line - 1).unwrap_or("").trim();
            format!("line {line}, column {column} (`{source}`): {message}")
        }
        _ => error
            .to_string()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" "),
    }
}

/// The first `--set` after which `base` no longer deserialises, as an error naming it and the
/// value given; `None` if `base` itself does not (the preset or file is to blame).
fn blame_set(mut base: toml::Table, set: &[String]) -> Result<Option<ConfigError>, ConfigError> {
    let error_of = |table: &toml::Table| {
        toml::Value::Table(table.clone())
            .try_into::<TrainConfig>()
            .err()
    };
    if error_of(&base).is_some() {
        return Ok(None);
    }
    for assignment in set {
        if let Some((key, raw)) = assignment.split_once('=') {
            set_path(&mut base, key.trim(), parse_value(raw.trim()))?;
            if let Some(error) = error_of(&base) {
                return Ok(Some(ConfigError::SetValue {
                    key: key.trim().to_string(),
                    value: raw.trim().to_string(),
                    message: toml_error_line(&error, ""),
                }));
            }
        }
    }
    Ok(None)
}

/// The most evaluation episodes per evaluation point (`eval.episodes`).
pub const MAX_EVAL_EPISODES: usize = 4096;

fn preset_text(name: &str) -> Option<&'static str> {
    PRESETS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, text)| *text)
}

impl TrainConfig {
    /// Resolves a config from a preset (named, or `ALGO-FAMILY`) and the command-line values.
    pub fn resolve(overrides: &Overrides) -> Result<TrainConfig, ConfigError> {
        let (text, source_name) = match &overrides.preset {
            Some(name) => (
                preset_text(name).ok_or_else(|| ConfigError::UnknownPreset {
                    name: name.clone(),
                    available: preset_names(),
                })?,
                format!("preset `{name}`"),
            ),
            None => {
                let algo = overrides.algo.unwrap_or(Algo::Pqn);
                let env = overrides.env.as_deref().unwrap_or("minatar/breakout");
                let name = format!("{algo}-{}", env_family(env));
                let text = preset_text(&name).ok_or_else(|| ConfigError::NoPreset {
                    algo,
                    env: env.to_string(),
                    name: name.clone(),
                    available: preset_names(),
                })?;
                (text, format!("preset `{name}`"))
            }
        };
        Self::from_text_with(text, &source_name, overrides)
    }

    /// Loads `path` (a `config.toml` of an earlier run) and applies the command-line values.
    pub fn load(path: &Path, overrides: &Overrides) -> Result<TrainConfig, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_text_with(&text, &path.display().to_string(), overrides)
    }

    fn from_text_with(
        text: &str,
        source_name: &str,
        overrides: &Overrides,
    ) -> Result<TrainConfig, ConfigError> {
        let invalid = |message: String| ConfigError::Invalid {
            source_name: source_name.to_string(),
            message,
        };
        let mut table: toml::Table = text
            .parse()
            .map_err(|e: toml::de::Error| invalid(toml_error_line(&e, text)))?;
        let mut put = |key: &str, value: toml::Value| {
            table.insert(key.to_string(), value);
        };
        if let Some(algo) = overrides.algo {
            put("algo", algo.name().into());
        }
        if let Some(env) = &overrides.env {
            put("env", env.clone().into());
        }
        if let Some(repr) = &overrides.repr {
            put("repr", repr.to_string().into());
        }
        if let Some(seed) = overrides.seed {
            put("seed", toml::Value::Integer(to_toml_int(seed, "seed")?));
        }
        if let Some(device) = &overrides.device {
            put("device", device.clone().into());
        }
        if let Some(steps) = overrides.steps {
            let algo = table
                .get("algo")
                .and_then(toml::Value::as_str)
                .unwrap_or("pqn")
                .to_string();
            set_path(
                &mut table,
                &format!("{algo}.total_timesteps"),
                toml::Value::Integer(to_toml_int(steps, "--steps")?),
            )?;
        }
        let base = table.clone();
        for assignment in &overrides.set {
            let (key, raw) = assignment
                .split_once('=')
                .ok_or_else(|| ConfigError::SetSyntax(assignment.clone()))?;
            set_path(&mut table, key.trim(), parse_value(raw.trim()))?;
        }
        let config: TrainConfig = match toml::Value::Table(table).try_into() {
            Ok(config) => config,
            Err(error) => {
                let error: toml::de::Error = error;
                return Err(blame_set(base, &overrides.set)?
                    .unwrap_or_else(|| invalid(toml_error_line(&error, ""))));
            }
        };
        config.validate()?;
        Ok(config)
    }

    /// Checks what deserialisation cannot: the algorithm's values, the environment and the
    /// network.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let value = |key: &str, message: String| ConfigError::Value {
            key: key.to_string(),
            message,
        };
        let agent_error = |section: &str, e: hrl_agents::AgentError| match e {
            hrl_agents::AgentError::Config { key, message } => {
                value(&format!("{section}.{key}"), message)
            }
            other => value(section, other.to_string()),
        };
        let algo = self.agent.algo();
        self.agent
            .validate()
            .map_err(|e| agent_error(algo.name(), e))?;
        self.interventions.validate().map_err(|e| match e {
            hrl_agents::AgentError::Config { key, message } => value(key, message),
            other => value("interventions", other.to_string()),
        })?;
        if !algo.fits_head(&self.network.head) {
            let kind = if algo.learns_q_values() {
                "q"
            } else {
                "actor-critic"
            };
            return Err(value(
                "network.head",
                format!("algo `{algo}` needs kind = \"{kind}\""),
            ));
        }
        if self.checkpoint.keep == 0 {
            return Err(value("checkpoint.keep", "must be at least 1".into()));
        }
        if self.eval.points > 0 && (self.eval.episodes == 0 || self.eval.max_steps == 0) {
            return Err(value(
                "eval",
                "episodes and max_steps must be positive (or points = 0 to turn evaluation off)"
                    .into(),
            ));
        }
        if !(0.0..=1.0).contains(&self.eval.epsilon) {
            return Err(value("eval.epsilon", "must be in [0, 1]".into()));
        }
        let spec = hrl_env::make(&self.env, &self.env_options)
            .map_err(|e| value("env", e.to_string()))?
            .spec()
            .clone();
        if !(1..=MAX_THREADS).contains(&self.num_threads) {
            return Err(value(
                "num_threads",
                format!("must be between 1 and {MAX_THREADS}"),
            ));
        }
        if let AgentConfig::Dqn(dqn) = &self.agent {
            let needed = hrl_agents::replay::ReplayBuffer::bytes_for_env(
                &spec,
                dqn.buffer_size,
                dqn.num_envs,
            );
            let available = hrl_agents::replay::available_memory_bytes();
            let gib = |bytes: u64| bytes as f64 / f64::from(1u32 << 30);
            match (needed, available) {
                (None, _) => {
                    return Err(value(
                        "dqn.buffer_size",
                        "is too large: its memory does not fit a 64-bit count".into(),
                    ));
                }
                (Some(needed), Some(available)) if needed > available => {
                    return Err(value(
                        "dqn.buffer_size",
                        format!(
                            "{} transitions need {:.1} GiB for the replay buffer, more than the \
                             {:.1} GiB this machine has available",
                            dqn.buffer_size,
                            gib(needed),
                            gib(available)
                        ),
                    ));
                }
                _ => {}
            }
        }
        if self.eval.episodes > MAX_EVAL_EPISODES {
            return Err(value(
                "eval.episodes",
                format!(
                    "must be at most {MAX_EVAL_EPISODES} (each is a fresh environment, all played at once)"
                ),
            ));
        }
        let epsilon = self.network.layer_norm_epsilon;
        if !(epsilon > 0.0 && epsilon.is_finite()) {
            return Err(value(
                "network.layer_norm_epsilon",
                format!("must be positive and finite, got {epsilon}"),
            ));
        }
        if self.log.probe_size == 0 || self.log.diag_points == 0 {
            return Err(value(
                "log",
                "probe_size and diag_points must be positive".into(),
            ));
        }
        let network = self.network_config(&spec);
        network
            .num_params()
            .map_err(|e| value("network", e.to_string()))?;
        self.device
            .parse::<hrl_nn::device::DeviceSpec>()
            .map_err(|e| value("device", e.to_string()))?;
        Ok(())
    }

    /// The algorithm.
    pub fn algo(&self) -> Algo {
        self.agent.algo()
    }

    /// The network, fitted to environments of `spec`.
    pub fn network_config(&self, spec: &EnvSpec) -> NetworkConfig {
        let n = &self.network;
        let mut torso = TorsoConfig::new(n.torso, self.repr);
        torso.placement = n.hr_placement;
        torso.layer_norm_all = n.layer_norm_all;
        torso.layer_norm_epsilon = n.layer_norm_epsilon;
        torso.init = n.init;
        torso.input_scale = n.input_scale;
        if let Some(hidden) = &n.hidden {
            torso.hidden = hidden.clone();
        }
        fit_network(
            NetworkConfig {
                torso,
                head: n.head,
                num_actions: 0,
            },
            spec,
        )
    }

    /// The environments the run trains in: its agent's `num_envs` copies, seeded with the run
    /// seed.
    pub fn train_envs(&self) -> Result<VecEnv<f32>, EnvError> {
        self.envs(self.env_options.clone(), self.agent.num_envs(), self.seed)
    }

    /// `num_envs` copies of the run's environment with `options`, seeded with `seed`, stepped
    /// by the run's worker threads.
    pub fn envs(
        &self,
        options: EnvOptions,
        num_envs: usize,
        seed: u64,
    ) -> Result<VecEnv<f32>, EnvError> {
        VecEnv::new(&VecEnvConfig {
            env_id: self.env.clone(),
            options,
            num_envs,
            seed,
            num_threads: self.num_threads,
        })
    }

    /// A stable, readable run name; see [`run_name`].
    pub fn run_name(&self) -> String {
        run_name(self.algo(), &self.env, &self.repr, self.seed)
    }

    /// The TOML text of this config.
    pub fn to_toml(&self) -> String {
        toml::to_string(self).unwrap_or_else(|e| format!("# could not serialise the config: {e}\n"))
    }
}

/// A stable, readable run name: `pqn.minatar-breakout.hr-tanh.s1` (`/` becomes `-` and the `*`
/// of mixed Hadamard specs becomes `x`).
pub fn run_name(algo: Algo, env: &str, repr: &ReprSpec, seed: u64) -> String {
    let repr = repr.to_string().replace('*', "x");
    format!("{algo}.{}.{repr}.s{seed}", env.replace('/', "-"))
}

fn to_toml_int(value: u64, key: &str) -> Result<i64, ConfigError> {
    i64::try_from(value).map_err(|_| ConfigError::Value {
        key: key.to_string(),
        message: format!("{value} is too large"),
    })
}

/// A `--set` value: TOML if it parses as one (`1e-4`, `true`, `[64, 64]`), a string otherwise.
fn parse_value(raw: &str) -> toml::Value {
    format!("v = {raw}")
        .parse::<toml::Table>()
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(raw.to_string()))
}

/// Sets `a.b.c = value`, creating the tables on the way that are absent (deserialisation then
/// rejects the names that are not part of the config) and refusing to go through a value that
/// is not a table.
fn set_path(table: &mut toml::Table, key: &str, value: toml::Value) -> Result<(), ConfigError> {
    let mut parts: Vec<&str> = key.split('.').collect();
    let last = parts.pop().unwrap_or(key);
    let mut current = table;
    for part in parts {
        current = current
            .entry(part.to_string())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()))
            .as_table_mut()
            .ok_or_else(|| ConfigError::SetPath {
                key: key.to_string(),
                part: part.to_string(),
            })?;
    }
    current.insert(last.to_string(), value);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve(overrides: Overrides) -> Result<TrainConfig, ConfigError> {
        TrainConfig::resolve(&overrides)
    }

    #[test]
    fn every_preset_resolves() {
        for (name, _) in PRESETS {
            let config = resolve(Overrides {
                preset: Some(name.to_string()),
                ..Overrides::default()
            })
            .unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(
                format!("{}-{}", config.algo(), env_family(&config.env)),
                name
            );
        }
    }

    #[test]
    fn command_line_values_and_sets_apply_in_order() {
        let config = resolve(Overrides {
            env: Some("minatar/asterix".into()),
            repr: Some("hr-tanh".parse().unwrap()),
            seed: Some(7),
            steps: Some(50_000),
            set: vec![
                "pqn.learning_rate=1e-4".into(),
                "network.hidden=[32]".into(),
                "env_options.sticky_action_prob=0.0".into(),
            ],
            ..Overrides::default()
        })
        .unwrap();
        let AgentConfig::Pqn(pqn) = &config.agent else {
            panic!("the default algorithm is pqn, got {}", config.algo())
        };
        assert_eq!(config.env, "minatar/asterix");
        assert_eq!(config.repr.to_string(), "hr-tanh");
        assert_eq!((config.seed, pqn.total_timesteps), (7, 50_000));
        assert_eq!(pqn.learning_rate, 1e-4);
        assert_eq!(config.network.hidden, Some(vec![32]));
        assert_eq!(config.run_name(), "pqn.minatar-asterix.hr-tanh.s7");
        assert_eq!(config.env_options.sticky_action_prob, Some(0.0));
        // The written config reads back to the same config.
        let again =
            TrainConfig::from_text_with(&config.to_toml(), "round trip", &Overrides::default())
                .unwrap();
        assert_eq!(again, config);
    }

    #[test]
    fn the_layer_norm_epsilon_reaches_every_layer_norm_and_defaults_to_pytorchs() {
        let config = resolve(Overrides::default()).unwrap();
        assert_eq!(
            config.network.layer_norm_epsilon, 1e-6,
            "the PQN MinAtar preset"
        );
        let spec = hrl_env::make(&config.env, &config.env_options)
            .unwrap()
            .spec()
            .clone();
        let network = config.network_config(&spec);
        let plan = network.torso.plan(128).unwrap();
        let norms: Vec<_> = plan.convs.iter().map(|c| c.layer_norm).collect();
        assert_eq!(norms, [Some(1e-6)]);
        assert_eq!(plan.repr.layer_norm, Some(1e-6));
        // A config written before the setting existed keeps the epsilon it ran with.
        let text: String = config
            .to_toml()
            .lines()
            .filter(|line| !line.starts_with("layer_norm_epsilon"))
            .map(|line| format!("{line}\n"))
            .collect();
        assert!(!text.contains("layer_norm_epsilon"));
        let old = TrainConfig::from_text_with(&text, "old", &Overrides::default()).unwrap();
        assert_eq!(old.network.layer_norm_epsilon, 1e-5);
        let bad = resolve(Overrides {
            set: vec!["network.layer_norm_epsilon=0.0".into()],
            ..Overrides::default()
        })
        .unwrap_err()
        .to_string();
        assert!(bad.contains("network.layer_norm_epsilon"), "{bad}");
    }

    #[test]
    fn interventions_are_top_level_sections_the_report_knows() {
        let config = resolve(Overrides {
            set: vec![
                "redo.period=10".into(),
                "shrink_perturb.period=20".into(),
                "reset.period=30".into(),
                "l2_init.coef=0.01".into(),
            ],
            ..Overrides::default()
        })
        .unwrap();
        let interventions = &config.interventions;
        assert_eq!(interventions.redo.as_ref().unwrap().tau, 0.1);
        assert_eq!(interventions.reset.as_ref().unwrap().layers, 1);
        let table: toml::Table = config.to_toml().parse().unwrap();
        let sections: Vec<&str> = hrl_report::discovery::INTERVENTION_SECTIONS
            .into_iter()
            .filter(|s| table.get(*s).is_some_and(toml::Value::is_table))
            .collect();
        assert_eq!(sections, hrl_report::discovery::INTERVENTION_SECTIONS);
        let back: TrainConfig = toml::from_str(&config.to_toml()).unwrap();
        assert_eq!(back, config);
        let off = resolve(Overrides::default()).unwrap();
        assert!(!off.interventions.any());
        let table: toml::Table = off.to_toml().parse().unwrap();
        assert!(
            hrl_report::discovery::INTERVENTION_SECTIONS
                .iter()
                .all(|s| !table.contains_key(*s))
        );
    }

    #[test]
    fn a_gymnax_style_episode_cap_is_an_environment_option() {
        let config = resolve(Overrides {
            set: vec!["env_options.max_episode_steps=1000".into()],
            ..Overrides::default()
        })
        .unwrap();
        assert_eq!(config.env_options.max_episode_steps, Some(1000));
        let again =
            TrainConfig::from_text_with(&config.to_toml(), "round trip", &Overrides::default())
                .unwrap();
        assert_eq!(again, config);
        let zero = resolve(Overrides {
            set: vec!["env_options.max_episode_steps=0".into()],
            ..Overrides::default()
        })
        .unwrap_err()
        .to_string();
        assert!(
            zero.contains("max_episode_steps must be positive"),
            "{zero}"
        );
    }

    #[test]
    fn atari_options_are_a_nested_table_that_round_trips() {
        let config = resolve(Overrides {
            env: Some("atari/pong".into()),
            set: vec!["env_options.atari.frame_skip=3".into()],
            ..Overrides::default()
        })
        .unwrap();
        assert_eq!(config.env_options.atari.frame_skip, Some(3));
        let text = config.to_toml();
        let atari = &text[text.find("[env_options.atari]").unwrap()..];
        assert!(atari.contains("\nframe_skip = 3\n"), "{text}");
        let again =
            TrainConfig::from_text_with(&config.to_toml(), "round trip", &Overrides::default())
                .unwrap();
        assert_eq!(again, config);
        let flat = resolve(Overrides {
            env: Some("atari/pong".into()),
            set: vec!["env_options.frame_skip=3".into()],
            ..Overrides::default()
        })
        .unwrap_err()
        .to_string();
        assert!(
            flat.contains("unknown field `frame_skip`") && flat.contains("`atari`"),
            "{flat}"
        );
        let elsewhere = resolve(Overrides {
            set: vec!["env_options.atari.frame_skip=3".into()],
            ..Overrides::default()
        })
        .unwrap_err()
        .to_string();
        assert!(elsewhere.contains("frame_skip"), "{elsewhere}");
    }

    #[test]
    fn errors_name_the_key() {
        let message = |overrides: Overrides| resolve(overrides).unwrap_err().to_string();
        let unknown = message(Overrides {
            set: vec!["pqn.learning_rat=1e-4".into()],
            ..Overrides::default()
        });
        assert!(unknown.contains("learning_rat"), "{unknown}");
        let wrong_type = message(Overrides {
            set: vec!["pqn.num_envs=\"many\"".into()],
            ..Overrides::default()
        });
        assert!(wrong_type.contains("num_envs"), "{wrong_type}");
        let impossible = message(Overrides {
            set: vec!["pqn.num_minibatches=7".into()],
            ..Overrides::default()
        });
        assert!(impossible.contains("pqn.num_minibatches"), "{impossible}");
        let too_short = message(Overrides {
            steps: Some(100),
            ..Overrides::default()
        });
        assert!(too_short.contains("pqn.total_timesteps"), "{too_short}");
        let no_table = message(Overrides {
            set: vec!["nosuch.key=1".into()],
            ..Overrides::default()
        });
        assert!(no_table.contains("nosuch"), "{no_table}");
        let through_value = message(Overrides {
            set: vec!["seed.value=1".into()],
            ..Overrides::default()
        });
        assert!(
            through_value.contains("`seed` is not a table"),
            "{through_value}"
        );
        let env = message(Overrides {
            env: Some("minatar/pong".into()),
            ..Overrides::default()
        });
        assert!(
            env.contains("env") && env.contains("minatar/breakout"),
            "{env}"
        );
        let no_preset = message(Overrides {
            algo: Some(Algo::Ppo),
            env: Some("procgen/coinrun".into()),
            ..Overrides::default()
        });
        assert!(no_preset.contains("ppo-procgen"), "{no_preset}");
        let stray = message(Overrides {
            algo: Some(Algo::Dqn),
            set: vec!["pqn.learning_rate=1e-4".into()],
            ..Overrides::default()
        });
        assert!(
            stray.contains("--set pqn.learning_rate=1e-4")
                && stray.contains(
                    "key `pqn`: belongs to algo = \"pqn\", but this run's algo is \"dqn\""
                ),
            "{stray}"
        );
        let mut table: toml::Table = resolve(Overrides::default())
            .unwrap()
            .to_toml()
            .parse()
            .unwrap();
        table.remove("pqn");
        table.insert("algo".into(), "ppo".into());
        let missing =
            TrainConfig::from_text_with(&table.to_string(), "edited", &Overrides::default())
                .unwrap_err()
                .to_string();
        assert!(
            missing.contains("algo = \"ppo\" needs a [ppo] table"),
            "{missing}"
        );
        let device = message(Overrides {
            device: Some("tpu".into()),
            ..Overrides::default()
        });
        assert!(device.contains("device"), "{device}");
        assert!(matches!(
            resolve(Overrides {
                set: vec!["nonsense".into()],
                ..Overrides::default()
            }),
            Err(ConfigError::SetSyntax(_))
        ));
    }
}
