//! Sweep files: a grid of algorithms x environments x representations x seeds, one training run
//! per point, and its expansion into runs with stable names and indices.
//!
//! ```toml
//! name = "example-cartpole"           # the sweep's folder: ROOT/NAME (ROOT is `sweeps` by default)
//! algos = ["pqn"]                     # dqn, ppo, pqn
//! envs = ["cartpole"]                 # ids of `hrl env list`
//! reprs = ["relu", "hr-tanh"]         # representation specs
//! seeds = [1, 2]
//! steps = 20480                       # the budget of each run, in agent steps
//!
//! [set]                               # optional: passed to every run as --set key=value
//! pqn.learning_rate = 1e-4
//! ```
//!
//! Run `i` of the grid is the `i`-th point with the seeds varying fastest, then the
//! representations, the environments and the algorithms (the order of the lists in the file);
//! Slurm array task `i` runs run `i`. Each run's folder is `ROOT/NAME/ALGO.ENV.REPR.sSEED`, named
//! as [`crate::train::config::run_name`] names it. Everything a file gets wrong (unknown keys, empty
//! lists, duplicates, unknown algorithms or environments, unparseable specs) is an error naming
//! the key before anything runs, and so is every run whose training config does not resolve (a
//! `[set]` key that does not exist, a value of the wrong type or out of range, a budget smaller
//! than one update): the whole grid is resolved as `hrl train` would resolve each run, before
//! any run starts or any Slurm script is written.

pub mod archive;
pub mod local;
pub mod run;
pub mod slurm;
pub mod status;

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use hrl_agents::algo::Algo;
use hrl_nn::repr::ReprSpec;

use crate::train::config::{Overrides, TrainConfig, run_name, toml_error_line};

/// The folder sweeps go below unless `--out` names another.
pub const DEFAULT_ROOT: &str = "sweeps";

/// Errors of sweep files; each names the file and, where there is one, the key.
#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    /// The file could not be read.
    #[error("reading sweep file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// Not TOML, an unknown or missing key, or a value of the wrong type (the parser's message
    /// names the key and the line).
    #[error("sweep file {file}: {message}")]
    Parse {
        /// Where the text came from.
        file: String,
        /// The parser's message.
        message: String,
    },
    /// A run of the grid whose training config does not resolve.
    #[error("sweep file {file}: run {run}: {message}")]
    Run {
        /// Where the text came from.
        file: String,
        /// The run's name.
        run: String,
        /// What `hrl train` would have said.
        message: String,
    },
    /// A value that makes no sweep.
    #[error("sweep file {file}: key `{key}`: {message}")]
    Invalid {
        /// Where the text came from.
        file: String,
        /// The key.
        key: String,
        /// What is wrong.
        message: String,
    },
}

/// The file as written.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct SweepFile {
    name: String,
    algos: Vec<String>,
    envs: Vec<String>,
    reprs: Vec<String>,
    seeds: Vec<u64>,
    steps: u64,
    #[serde(default)]
    set: toml::Table,
}

/// A checked sweep.
#[derive(Clone, Debug, PartialEq)]
pub struct Sweep {
    /// The sweep's name, which is its folder's name.
    pub name: String,
    /// Algorithms.
    pub algos: Vec<Algo>,
    /// Environment ids.
    pub envs: Vec<String>,
    /// Representation specs.
    pub reprs: Vec<ReprSpec>,
    /// Seeds.
    pub seeds: Vec<u64>,
    /// The budget of each run, in agent steps (`hrl train --steps`).
    pub steps: u64,
    /// `key=value` overrides for every run (`hrl train --set`), keys sorted.
    pub set: Vec<String>,
}

/// One run of a sweep.
#[derive(Clone, Debug, PartialEq)]
pub struct SweepRun {
    /// Position in the grid (the Slurm array index).
    pub index: usize,
    /// Algorithm.
    pub algo: Algo,
    /// Environment id.
    pub env: String,
    /// Representation spec.
    pub repr: ReprSpec,
    /// Seed.
    pub seed: u64,
    /// Budget in agent steps.
    pub steps: u64,
    /// `key=value` overrides.
    pub set: Vec<String>,
}

impl SweepRun {
    /// The run's name and folder name, e.g. `pqn.minatar-breakout.hr-tanh.s1`.
    pub fn name(&self) -> String {
        run_name(self.algo, &self.env, &self.repr, self.seed)
    }

    /// The training config `hrl train` resolves for this run.
    pub fn config(&self) -> Result<TrainConfig, crate::train::config::ConfigError> {
        TrainConfig::resolve(&Overrides {
            algo: Some(self.algo),
            env: Some(self.env.clone()),
            repr: Some(self.repr),
            seed: Some(self.seed),
            steps: Some(self.steps),
            set: self.set.clone(),
            ..Overrides::default()
        })
    }

    /// The run's folder inside the sweep's folder.
    pub fn dir(&self, sweep_dir: &Path) -> PathBuf {
        sweep_dir.join(self.name())
    }
}

impl Sweep {
    /// Reads and checks a sweep file.
    pub fn load(path: &Path) -> Result<Sweep, SweepError> {
        let text = std::fs::read_to_string(path).map_err(|source| SweepError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Sweep::parse(&text, &path.display().to_string())
    }

    /// Checks the text of a sweep file; `file` names it in errors.
    pub fn parse(text: &str, file: &str) -> Result<Sweep, SweepError> {
        let raw: SweepFile = toml::from_str(text).map_err(|e| SweepError::Parse {
            file: file.to_string(),
            message: toml_error_line(&e, text),
        })?;
        let invalid = |key: &str, message: String| SweepError::Invalid {
            file: file.to_string(),
            key: key.to_string(),
            message,
        };
        check_name(&raw.name).map_err(|message| invalid("name", message))?;
        for (key, len) in [
            ("algos", raw.algos.len()),
            ("envs", raw.envs.len()),
            ("reprs", raw.reprs.len()),
            ("seeds", raw.seeds.len()),
        ] {
            if len == 0 {
                return Err(invalid(key, "the list is empty; give at least one".into()));
            }
        }
        let algos = raw
            .algos
            .iter()
            .map(|algo| algo.parse::<Algo>())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| invalid("algos", e.to_string()))?;
        let env_ids = hrl_env::env_ids();
        for env in &raw.envs {
            if !env_ids.contains(env) {
                return Err(invalid(
                    "envs",
                    format!(
                        "unknown environment `{env}`; valid: cartpole, minatar/GAME, atari/GAME (`hrl env list` lists them)"
                    ),
                ));
            }
        }
        let reprs = raw
            .reprs
            .iter()
            .map(|spec| spec.parse::<ReprSpec>())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| invalid("reprs", e.to_string()))?;
        let repr_names: Vec<String> = reprs.iter().map(ReprSpec::to_string).collect();
        let seed_names: Vec<String> = raw.seeds.iter().map(u64::to_string).collect();
        for (key, entries) in [
            ("algos", &raw.algos),
            ("envs", &raw.envs),
            ("reprs", &repr_names),
            ("seeds", &seed_names),
        ] {
            if let Some(duplicate) = first_duplicate(entries) {
                return Err(invalid(
                    key,
                    format!("`{duplicate}` appears twice (runs would share a folder)"),
                ));
            }
        }
        if raw.steps == 0 {
            return Err(invalid("steps", "must be positive (agent steps)".into()));
        }
        let mut set = Vec::new();
        flatten_set("", &raw.set, &mut set).map_err(|message| invalid("set", message))?;
        let sweep = Sweep {
            name: raw.name,
            algos,
            envs: raw.envs,
            reprs,
            seeds: raw.seeds,
            steps: raw.steps,
            set,
        };
        for run in sweep.runs() {
            run.config().map_err(|error| SweepError::Run {
                file: file.to_string(),
                run: run.name(),
                message: error.to_string(),
            })?;
        }
        Ok(sweep)
    }

    /// The number of runs.
    pub fn len(&self) -> usize {
        self.algos.len() * self.envs.len() * self.reprs.len() * self.seeds.len()
    }

    /// Whether the grid is empty (never, for a checked sweep).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every run, in grid order (seeds fastest, then representations, environments,
    /// algorithms).
    pub fn runs(&self) -> Vec<SweepRun> {
        let mut runs = Vec::with_capacity(self.len());
        for &algo in &self.algos {
            for env in &self.envs {
                for repr in &self.reprs {
                    for &seed in &self.seeds {
                        runs.push(SweepRun {
                            index: runs.len(),
                            algo,
                            env: env.clone(),
                            repr: *repr,
                            seed,
                            steps: self.steps,
                            set: self.set.clone(),
                        });
                    }
                }
            }
        }
        runs
    }

    /// The sweep's folder below `root`: `root/NAME`.
    pub fn dir(&self, root: &Path) -> PathBuf {
        root.join(&self.name)
    }
}

/// A sweep name is one folder name: letters, digits, `-`, `_` and `.`, not starting with `.`.
fn check_name(name: &str) -> Result<(), String> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    if name.is_empty() || name.starts_with('.') || !name.chars().all(allowed) {
        return Err(format!(
            "`{name}` is not a folder name; use letters, digits, `-`, `_` and `.` (not first)"
        ));
    }
    Ok(())
}

fn first_duplicate(entries: &[String]) -> Option<&str> {
    let mut seen = HashSet::new();
    entries
        .iter()
        .find(|entry| !seen.insert(entry.as_str()))
        .map(String::as_str)
}

/// `[set]` as `key=value` lines: nested tables become dotted keys, values are written as TOML
/// (which `hrl train --set` reads back).
fn flatten_set(prefix: &str, table: &toml::Table, out: &mut Vec<String>) -> Result<(), String> {
    for (key, value) in table {
        if key.is_empty() || key.contains('=') || key.contains(char::is_whitespace) {
            return Err(format!(
                "`{prefix}{key}` is not a config key (write e.g. pqn.learning_rate = 1e-4)"
            ));
        }
        let path = format!("{prefix}{key}");
        match value {
            toml::Value::Table(inner) => flatten_set(&format!("{path}."), inner, out)?,
            value => out.push(format!("{path}={value}")),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
name = "grid"
algos = ["pqn"]
envs = ["cartpole", "minatar/breakout"]
reprs = ["relu", "hr-tanh*gelu"]
seeds = [1, 2]
steps = 4096
"#;

    fn parse(text: &str) -> Result<Sweep, SweepError> {
        Sweep::parse(text, "test.toml")
    }

    /// The error for `GOOD` with `line` replacing the line that starts with its key.
    fn error_with(line: &str) -> String {
        let key = line.split('=').next().unwrap().trim();
        let text: Vec<&str> = GOOD
            .lines()
            .map(|l| if l.starts_with(key) { line } else { l })
            .collect();
        parse(&text.join("\n")).unwrap_err().to_string()
    }

    #[test]
    fn the_grid_varies_seeds_fastest_and_names_runs_like_train() {
        let sweep = parse(GOOD).unwrap();
        let runs = sweep.runs();
        assert_eq!((sweep.len(), runs.len()), (8, 8));
        let names: Vec<String> = runs.iter().map(SweepRun::name).collect();
        assert_eq!(
            names,
            [
                "pqn.cartpole.relu.s1",
                "pqn.cartpole.relu.s2",
                "pqn.cartpole.hr-tanhxgelu.s1",
                "pqn.cartpole.hr-tanhxgelu.s2",
                "pqn.minatar-breakout.relu.s1",
                "pqn.minatar-breakout.relu.s2",
                "pqn.minatar-breakout.hr-tanhxgelu.s1",
                "pqn.minatar-breakout.hr-tanhxgelu.s2",
            ]
        );
        assert!(runs.iter().enumerate().all(|(i, run)| run.index == i));
        assert!(
            runs.iter()
                .all(|run| run.steps == 4096 && run.set.is_empty())
        );
        assert_eq!(
            runs[7].dir(&sweep.dir(Path::new("sweeps"))),
            Path::new("sweeps/grid/pqn.minatar-breakout.hr-tanhxgelu.s2")
        );
    }

    #[test]
    fn set_tables_become_dotted_key_value_pairs_in_toml() {
        let text = format!(
            "{GOOD}\n[set]\n\"pqn.learning_rate\" = 1e-4\ndevice = \"cpu\"\n[set.network]\nhidden = [32, 32]\n"
        );
        let sweep = parse(&text).unwrap();
        assert_eq!(
            sweep.set,
            [
                "device=\"cpu\"",
                "network.hidden=[32, 32]",
                "pqn.learning_rate=0.0001"
            ]
        );
        assert_eq!(sweep.runs()[3].set, sweep.set);
    }

    #[test]
    fn the_example_sweep_is_valid() {
        let text = include_str!("../../../../experiments/example-cartpole.toml");
        let sweep = parse(text).unwrap();
        assert_eq!(sweep.name, "example-cartpole");
        assert_eq!(sweep.len(), 4);
    }

    #[test]
    fn errors_name_the_key() {
        let cases = [
            (
                parse(&format!("{GOOD}extra = 1\n"))
                    .unwrap_err()
                    .to_string(),
                "unknown field `extra`",
            ),
            (error_with("algos = []"), "`algos`: the list is empty"),
            (error_with("seeds = []"), "`seeds`: the list is empty"),
            (error_with("algos = [\"sac\"]"), "unknown algorithm `sac`"),
            (
                error_with("envs = [\"minatar/pong\"]"),
                "`envs`: unknown environment `minatar/pong`",
            ),
            (
                error_with("reprs = [\"hr-tan\"]"),
                "`reprs`: representation spec `hr-tan`",
            ),
            (
                error_with("seeds = [1, 2, 1]"),
                "`seeds`: `1` appears twice",
            ),
            (
                error_with("reprs = [\"relu\", \"relu\"]"),
                "`reprs`: `relu` appears twice",
            ),
            (
                error_with("envs = [\"cartpole\", \"cartpole\"]"),
                "`envs`: `cartpole` appears twice",
            ),
            (error_with("steps = 0"), "`steps`: must be positive"),
            (error_with("steps = \"many\""), "steps"),
            (
                error_with("name = \"../up\""),
                "`name`: `../up` is not a folder name",
            ),
            (error_with("name = \"\""), "`name`"),
        ];
        for (message, expected) in cases {
            assert!(message.starts_with("sweep file test.toml: "), "{message}");
            assert!(message.contains(expected), "`{expected}` not in: {message}");
        }
        let missing = parse(&GOOD.replace("steps = 4096", "")).unwrap_err();
        assert!(
            missing.to_string().contains("missing field `steps`"),
            "{missing}"
        );
        let bad_set = parse(&format!("{GOOD}\n[set]\n\"pqn learning_rate\" = 1e-4\n")).unwrap_err();
        assert!(bad_set.to_string().contains("key `set`"), "{bad_set}");
    }
}
