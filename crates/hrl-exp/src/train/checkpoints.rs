//! Checkpoint folders: `checkpoints/step-N/` holds the agent's files and `train.json` (the
//! training loop's own counters). A checkpoint is written into a hidden `.step-N.tmp/` folder
//! and renamed into place, so a crash never leaves a half-written `step-N`; only the newest
//! `keep` are kept.

use std::fs;
use std::path::{Path, PathBuf};

use hrl_agents::Agent;
use hrl_agents::checkpoint;
use hrl_nn::probe::ReprDiagnostics;

use super::TrainError;
use super::games::GameTally;
use super::manifest::{self, Integrity};
use hrl_report::run_dir::RunPaths;

/// File of the training loop's counters inside a checkpoint folder.
pub const TRAIN_STATE_FILE: &str = "train.json";

/// What the training loop needs, besides the agent, to continue from a checkpoint.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TrainState {
    /// Agent steps done at the checkpoint.
    pub step: u64,
    /// Wall-clock seconds spent on the run before the checkpoint, over all its processes.
    pub wall_seconds: f64,
    /// Games finished so far.
    pub games: u64,
    /// The lives of running games (Atari with episodic life).
    pub tally: GameTally,
    /// The last evaluation return, for the summary of a run resumed after its last evaluation
    /// (absent in checkpoints written before it was kept).
    #[serde(default)]
    pub last_eval: Option<f64>,
    /// The last diagnostics, likewise.
    #[serde(default)]
    pub last_diagnostics: Option<ReprDiagnostics>,
    /// Per layer, the dead units of the last diagnostics point, for the next point's dead
    /// persistence (absent in checkpoints written before it was kept).
    #[serde(default)]
    pub dead_units: std::collections::BTreeMap<String, Vec<bool>>,
    /// The resolved config (TOML) the run had when the checkpoint was written, checked against
    /// `config.toml` on resume (absent in checkpoints written before it was kept).
    #[serde(default)]
    pub config: Option<String>,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> TrainError + '_ {
    move |source| TrainError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Writes the checkpoint of `state.step` and removes all but the newest `keep` checkpoints.
pub fn write(
    paths: &RunPaths,
    agent: &dyn Agent,
    state: &TrainState,
    keep: usize,
) -> Result<PathBuf, TrainError> {
    let dir = paths.checkpoints();
    let temp = dir.join(format!(".step-{}.tmp", state.step));
    let target = paths.checkpoint(state.step);
    if temp.exists() {
        fs::remove_dir_all(&temp).map_err(io(&temp))?;
    }
    fs::create_dir_all(&temp).map_err(io(&temp))?;
    agent.save(&temp)?;
    checkpoint::save_json(state, &temp.join(TRAIN_STATE_FILE))?;
    manifest::write(&temp).map_err(io(&temp))?;
    if target.exists() {
        fs::remove_dir_all(&target).map_err(io(&target))?;
    }
    fs::rename(&temp, &target).map_err(io(&target))?;
    prune(paths, keep)?;
    Ok(target)
}

/// Removes all but the newest `keep` checkpoints.
fn prune(paths: &RunPaths, keep: usize) -> Result<(), TrainError> {
    let steps = list(paths)?;
    for (_, path) in steps.iter().skip(keep) {
        fs::remove_dir_all(path).map_err(io(path))?;
    }
    Ok(())
}

/// The checkpoint folders (`step-N`) of a run, newest first.
fn list(paths: &RunPaths) -> Result<Vec<(u64, PathBuf)>, TrainError> {
    let dir = paths.checkpoints();
    if !dir.exists() {
        return Ok(Vec::new());
    }
    let mut steps: Vec<(u64, PathBuf)> = fs::read_dir(&dir)
        .map_err(io(&dir))?
        .flatten()
        .filter_map(|entry| {
            let name = entry.file_name();
            let step = name.to_str()?.strip_prefix("step-")?.parse::<u64>().ok()?;
            Some((step, entry.path()))
        })
        .collect();
    steps.sort_by(|a, b| b.cmp(a));
    Ok(steps)
}

/// The newest checkpoint whose files match its manifest (or that predates manifests), and the
/// damaged checkpoints newer than it, each with what is wrong.
pub fn newest_intact(paths: &RunPaths) -> Result<IntactSearch, TrainError> {
    let mut damaged = Vec::new();
    for (step, path) in list(paths)? {
        match manifest::verify(&path) {
            Integrity::Intact | Integrity::Unverified => {
                return Ok(IntactSearch {
                    intact: Some((step, path)),
                    damaged,
                });
            }
            Integrity::Damaged(why) => damaged.push((path, why)),
        }
    }
    Ok(IntactSearch {
        intact: None,
        damaged,
    })
}

/// What [`newest_intact`] found.
#[derive(Debug)]
pub struct IntactSearch {
    /// The newest usable checkpoint: its step and folder.
    pub intact: Option<(u64, PathBuf)>,
    /// Newer checkpoints that failed their check: folder and what is wrong.
    pub damaged: Vec<(PathBuf, String)>,
}

/// Moves a damaged checkpoint out of the way (`damaged-step-N`), where no resume or pruning
/// looks, keeping it for inspection.
pub fn set_aside(path: &Path) -> Result<PathBuf, TrainError> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let target = path.with_file_name(format!("damaged-{name}"));
    if target.exists() {
        fs::remove_dir_all(&target).map_err(io(&target))?;
    }
    fs::rename(path, &target).map_err(io(&target))?;
    Ok(target)
}

/// Reads the training loop's counters of the checkpoint folder `dir`.
pub fn read_state(dir: &Path) -> Result<TrainState, TrainError> {
    Ok(checkpoint::load_json(&dir.join(TRAIN_STATE_FILE))?)
}
