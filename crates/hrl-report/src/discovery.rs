//! Finding run folders below the folders given to a report, what run each holds, and what state
//! it is in.
//!
//! A run folder is one that holds a `config.toml` (see [`crate::run_dir`]); the search does not
//! go below a run folder, skips hidden folders, follows links, and visits each folder once, so
//! overlapping roots (`runs` and `runs/sweep1`) find each run once.

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};

use super::ReportError;
use crate::run_dir::read_failure_record;
use crate::run_dir::{RunDirError, RunLock, RunPaths, RunState};

/// What a run is: the key that must be unique among the runs of a report.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RunIdentity {
    /// Algorithm (`pqn`, ...).
    pub algo: String,
    /// Environment id (`minatar/breakout`, `atari/pong`, ...).
    pub env: String,
    /// Representation spec as the config writes it (`hr-tanh`, ...), followed by ` & SECTION`
    /// for each intervention the config turns on (`tanh & redo`): the arm a report compares.
    pub repr: String,
    /// Run seed.
    pub seed: u64,
}

impl fmt::Display for RunIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {} s{}", self.algo, self.env, self.repr, self.seed)
    }
}

/// The config sections of the interventions against plasticity loss (`hrl train`'s `[redo]`,
/// ...), in the order a run's arm names them.
pub const INTERVENTION_SECTIONS: [&str; 4] = ["redo", "shrink_perturb", "reset", "l2_init"];

/// Between a representation spec and the interventions in an arm's name.
pub const INTERVENTION_SEPARATOR: &str = " & ";

/// The representation spec of an arm's name (`tanh` of `tanh & redo`).
pub fn arm_repr(arm: &str) -> &str {
    arm.split(INTERVENTION_SEPARATOR).next().unwrap_or(arm)
}

/// The state of a run folder, as a report sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunStatus {
    /// `summary.json` exists and nothing holds the run.
    Complete,
    /// The sweep runner recorded a failure (`failed.json`); how the last attempt ended.
    Failed { message: String },
    /// A process holds the run lock (`run.lock`, an OS lock that dies with its holder).
    Running { holder: String },
    /// No summary, a checkpoint: resumable.
    Partial { last_checkpoint_step: u64 },
    /// No summary and no checkpoint.
    Fresh,
}

impl RunStatus {
    /// Whether the run counts in the aggregates.
    pub fn is_complete(&self) -> bool {
        matches!(self, RunStatus::Complete)
    }

    /// A one-word name (`complete`, `failed`, `running`, `partial`, `fresh`).
    pub fn name(&self) -> &'static str {
        match self {
            RunStatus::Complete => "complete",
            RunStatus::Failed { .. } => "failed",
            RunStatus::Running { .. } => "running",
            RunStatus::Partial { .. } => "partial",
            RunStatus::Fresh => "fresh",
        }
    }
}

impl fmt::Display for RunStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RunStatus::Complete => write!(f, "complete"),
            RunStatus::Failed { message } => write!(f, "failed: {message}"),
            RunStatus::Running { holder } => write!(f, "running ({holder})"),
            RunStatus::Partial {
                last_checkpoint_step,
            } => write!(f, "partial (checkpoint at step {last_checkpoint_step})"),
            RunStatus::Fresh => write!(f, "no summary, no checkpoint"),
        }
    }
}

/// One run folder found by [`discover`].
#[derive(Debug, Clone, PartialEq)]
pub struct DiscoveredRun {
    /// The folder's paths.
    pub paths: RunPaths,
    /// What run it holds.
    pub identity: RunIdentity,
    /// The budget in agent steps (`[ALGO] total_timesteps` of the config), where it has one.
    pub total_timesteps: Option<u64>,
    /// Its state.
    pub status: RunStatus,
}

impl DiscoveredRun {
    /// The folder's own name (`pqn.minatar-breakout.hr-tanh.s0`).
    pub fn name(&self) -> String {
        self.paths.root().file_name().map_or_else(
            || self.paths.root().display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        )
    }
}

/// Every run folder below `roots`, in path order. Errors: a root that is not a folder, no run
/// at all, a config without `algo`/`env`/`repr`/`seed`, and two folders holding the same run.
pub fn discover(roots: &[PathBuf]) -> Result<Vec<DiscoveredRun>, ReportError> {
    let mut visited = BTreeSet::new();
    let mut folders = Vec::new();
    for root in roots {
        let metadata = std::fs::metadata(root).map_err(ReportError::io(root))?;
        if !metadata.is_dir() {
            return Err(ReportError::Io {
                path: root.clone(),
                source: std::io::Error::other("not a folder"),
            });
        }
        walk(root, &mut visited, &mut folders)?;
    }
    if folders.is_empty() {
        return Err(ReportError::NoRuns {
            roots: roots
                .iter()
                .map(|r| r.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
        });
    }
    let mut seen: HashMap<RunIdentity, PathBuf> = HashMap::new();
    let mut runs = Vec::with_capacity(folders.len());
    for folder in folders {
        let run = read_run(RunPaths::new(folder))?;
        if let Some(first) = seen.get(&run.identity) {
            let id = &run.identity;
            return Err(ReportError::DuplicateRun {
                run: format!(
                    "algo {}, env {}, repr {}, seed {}",
                    id.algo, id.env, id.repr, id.seed
                ),
                first: first.clone(),
                second: run.paths.root().to_path_buf(),
            });
        }
        seen.insert(run.identity.clone(), run.paths.root().to_path_buf());
        runs.push(run);
    }
    Ok(runs)
}

fn walk(
    dir: &Path,
    visited: &mut BTreeSet<PathBuf>,
    folders: &mut Vec<PathBuf>,
) -> Result<(), ReportError> {
    let canonical = dir.canonicalize().map_err(ReportError::io(dir))?;
    if !visited.insert(canonical) {
        return Ok(());
    }
    if RunPaths::new(dir).config().is_file() {
        folders.push(dir.to_path_buf());
        return Ok(());
    }
    let mut children = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(ReportError::io(dir))? {
        let entry = entry.map_err(ReportError::io(dir))?;
        let hidden = entry.file_name().to_string_lossy().starts_with('.');
        if !hidden && entry.path().is_dir() {
            children.push(entry.path());
        }
    }
    children.sort();
    for child in children {
        walk(&child, visited, folders)?;
    }
    Ok(())
}

fn read_run(paths: RunPaths) -> Result<DiscoveredRun, ReportError> {
    let config_path = paths.config();
    let text = std::fs::read_to_string(&config_path).map_err(ReportError::io(&config_path))?;
    let config_error = |message: String| ReportError::Config {
        path: config_path.clone(),
        message,
    };
    let table: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| config_error(e.message().to_string()))?;
    let string = |key: &str| {
        table
            .get(key)
            .and_then(toml::Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| config_error(format!("no string `{key}` at the top level")))
    };
    let algo = string("algo")?;
    let interventions = INTERVENTION_SECTIONS
        .iter()
        .filter(|section| table.get(**section).is_some_and(toml::Value::is_table));
    let repr = std::iter::once(string("repr")?)
        .chain(interventions.map(|s| s.to_string()))
        .collect::<Vec<_>>()
        .join(INTERVENTION_SEPARATOR);
    let identity = RunIdentity {
        env: string("env")?,
        repr,
        seed: table
            .get("seed")
            .and_then(toml::Value::as_integer)
            .and_then(|s| u64::try_from(s).ok())
            .ok_or_else(|| {
                config_error("no non-negative integer `seed` at the top level".into())
            })?,
        algo,
    };
    let total_timesteps = table
        .get(&identity.algo)
        .and_then(|t| t.get("total_timesteps"))
        .and_then(toml::Value::as_integer)
        .and_then(|t| u64::try_from(t).ok());
    let status = status(&paths)?;
    Ok(DiscoveredRun {
        paths,
        identity,
        total_timesteps,
        status,
    })
}

fn status(paths: &RunPaths) -> Result<RunStatus, ReportError> {
    let io_error = |e: RunDirError| match e {
        RunDirError::Io { path, cause } => ReportError::Io {
            path,
            source: cause,
        },
        other => ReportError::Io {
            path: paths.root().to_path_buf(),
            source: std::io::Error::other(other.to_string()),
        },
    };
    if let Some(holder) = RunLock::holder(&paths.lock()).map_err(io_error)? {
        return Ok(RunStatus::Running { holder });
    }
    if !paths.summary().exists()
        && let Some(record) = read_failure_record(paths.root())
    {
        return Ok(RunStatus::Failed {
            message: record.describe_exit(),
        });
    }
    let state = paths.state().map_err(io_error)?;
    Ok(match state {
        RunState::Complete => RunStatus::Complete,
        RunState::Partial {
            last_checkpoint_step,
        } => RunStatus::Partial {
            last_checkpoint_step,
        },
        RunState::Fresh | RunState::Missing => RunStatus::Fresh,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn temp_root(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("hrl-discover-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn run_folder(dir: &Path, seed: u64) {
        fs::create_dir_all(dir).unwrap();
        fs::write(
            dir.join("config.toml"),
            format!(
                "algo = \"pqn\"\nenv = \"cartpole\"\nrepr = \"tanh\"\nseed = {seed}\n\n[pqn]\ntotal_timesteps = 5000\n"
            ),
        )
        .unwrap();
    }

    #[test]
    fn finds_runs_once_below_overlapping_roots_with_their_states() {
        let root = temp_root("states");
        run_folder(&root.join("a/s0"), 0);
        run_folder(&root.join("a/s1"), 1);
        run_folder(&root.join("b/s2"), 2);
        run_folder(&root.join(".hidden/s3"), 3);
        fs::write(root.join("a/s0/summary.json"), "{}").unwrap();
        fs::write(
            root.join("a/s1/failed.json"),
            r#"{"exit_code": 1, "signal": null, "attempts": 2, "failed_at_unix_s": 0}"#,
        )
        .unwrap();
        let _lock = RunLock::acquire(&root.join("b/s2/run.lock")).unwrap();
        let runs = discover(&[root.clone(), root.join("a")]).unwrap();
        let seeds: Vec<u64> = runs.iter().map(|r| r.identity.seed).collect();
        assert_eq!(seeds, [0, 1, 2]);
        assert_eq!(runs[0].status, RunStatus::Complete);
        assert_eq!(runs[0].total_timesteps, Some(5000));
        assert_eq!(runs[0].name(), "s0");
        assert_eq!(
            runs[1].status,
            RunStatus::Failed {
                message: "exit code 1".into()
            }
        );
        assert!(matches!(runs[2].status, RunStatus::Running { .. }));
        fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn an_arm_is_the_representation_and_its_interventions() {
        let root = temp_root("arms");
        run_folder(&root.join("plain"), 0);
        let with = root.join("with");
        fs::create_dir_all(&with).unwrap();
        fs::write(
            with.join("config.toml"),
            "algo = \"pqn\"\nenv = \"cartpole\"\nrepr = \"tanh\"\nseed = 0\n\n[pqn]\n\
             total_timesteps = 5000\n\n[l2_init]\ncoef = 0.1\n\n[redo]\nperiod = 5\n",
        )
        .unwrap();
        let runs = discover(std::slice::from_ref(&root)).unwrap();
        let arms: Vec<&str> = runs.iter().map(|r| r.identity.repr.as_str()).collect();
        assert_eq!(arms, ["tanh", "tanh & redo & l2_init"]);
        assert_eq!(arm_repr(arms[1]), "tanh");
        fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn duplicates_and_empty_roots_are_errors() {
        let root = temp_root("dup");
        assert!(matches!(
            discover(std::slice::from_ref(&root)),
            Err(ReportError::NoRuns { .. })
        ));
        run_folder(&root.join("first"), 7);
        run_folder(&root.join("second"), 7);
        let err = discover(std::slice::from_ref(&root))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("first") && err.contains("second") && err.contains("seed 7"),
            "{err}"
        );
        fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn a_config_without_identity_names_the_key() {
        let root = temp_root("bad-config");
        fs::write(
            root.join("config.toml"),
            "algo = \"pqn\"\nenv = \"cartpole\"\n",
        )
        .unwrap();
        let err = discover(std::slice::from_ref(&root))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("config.toml") && err.contains("`repr`"),
            "{err}"
        );
        fs::remove_dir_all(&root).unwrap();
    }
}
