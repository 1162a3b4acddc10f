//! Evaluating a trained run: load a checkpoint's network into a fresh one, play episodes with
//! it (one per environment, in parallel) and optionally record the first one as a GIF.

use std::path::{Path, PathBuf};

use hrl_agents::checkpoint::{self, MODEL_FILE};
use hrl_agents::policy::{self, Policy};
use hrl_agents::rng::Rng;
use hrl_nn::network::Head;

use crate::recording::{Recorder, RecordingError};
use crate::train::checkpoints;
use crate::train::config::{Overrides, TrainConfig};
use crate::train::evaluation::{episode_score, eval_envs};
use crate::train::manifest::{self, Integrity};
use crate::train::{self, TrainError};
use hrl_report::run_dir::{RunDirError, RunPaths};

/// What to evaluate and how.
#[derive(Clone, Debug, PartialEq)]
pub struct EvalOptions {
    /// The checkpoint's agent step; the newest if `None`.
    pub checkpoint: Option<u64>,
    /// Episodes to play.
    pub episodes: usize,
    /// ε of Q policies; the run's `eval.epsilon` if `None`.
    pub epsilon: Option<f64>,
    /// Seeds the environments and the policy's random draws.
    pub seed: u64,
    /// Write the first episode as a GIF here.
    pub record: Option<PathBuf>,
}

/// The episodes an evaluation played.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct EvalReport {
    /// The checkpoint folder used.
    pub checkpoint: PathBuf,
    /// Its agent step.
    pub step: u64,
    /// ε used (Q policies).
    pub epsilon: f64,
    /// Each episode's game score (Atari: unclipped, whole game).
    pub scores: Vec<f64>,
    /// Each episode's length in agent steps.
    pub lengths: Vec<u64>,
    /// Mean score.
    pub mean: f64,
    /// Sample standard deviation of the scores.
    pub std: f64,
}

/// Errors of an evaluation.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    /// The run folder has no such checkpoint.
    #[error("{root}: {message}")]
    NoCheckpoint {
        /// The run folder.
        root: PathBuf,
        /// What is missing.
        message: String,
    },
    /// The run folder cannot be read.
    #[error(transparent)]
    RunDir(#[from] RunDirError),
    /// The config, network or environments failed.
    #[error(transparent)]
    Train(#[from] TrainError),
    /// The recording failed.
    #[error(transparent)]
    Recording(#[from] RecordingError),
}

impl From<hrl_agents::AgentError> for EvalError {
    fn from(e: hrl_agents::AgentError) -> EvalError {
        EvalError::Train(e.into())
    }
}

/// Evaluates the run in `dir`.
pub fn evaluate_run(dir: &Path, options: &EvalOptions) -> Result<EvalReport, EvalError> {
    let paths = RunPaths::new(dir);
    let config =
        TrainConfig::load(&paths.config(), &Overrides::default()).map_err(TrainError::from)?;
    let (step, checkpoint) = match options.checkpoint {
        Some(step) => (step, paths.checkpoint(step)),
        None => {
            let search = checkpoints::newest_intact(&paths)?;
            for (damaged, why) in &search.damaged {
                tracing::warn!(
                    "checkpoint {} is damaged ({why}); using an older one",
                    damaged.display()
                );
            }
            search.intact.ok_or_else(|| EvalError::NoCheckpoint {
                root: dir.to_path_buf(),
                message: if search.damaged.is_empty() {
                    "no checkpoint yet (checkpoints/step-N)".into()
                } else {
                    "no intact checkpoint".into()
                },
            })?
        }
    };
    if !checkpoint.is_dir() {
        return Err(EvalError::NoCheckpoint {
            root: dir.to_path_buf(),
            message: format!("no checkpoint of step {step}"),
        });
    }
    if let Integrity::Damaged(why) = manifest::verify(&checkpoint) {
        return Err(EvalError::NoCheckpoint {
            root: dir.to_path_buf(),
            message: format!("checkpoint of step {step} is damaged: {why}"),
        });
    }
    let device = train::device(&config)?;
    let epsilon = options.epsilon.unwrap_or(config.eval.epsilon);
    let mut envs = eval_envs(&config, options.episodes, options.seed)?;
    let network = config.network_config(envs.spec());
    let model_path = checkpoint.join(MODEL_FILE);
    let policy = match network.head {
        Head::Q { .. } => Policy::Greedy(checkpoint::load_module(
            network
                .init_q(&device)
                .map_err(hrl_agents::AgentError::from)?,
            &model_path,
        )?),
        Head::ActorCritic { .. } => Policy::Categorical(checkpoint::load_module(
            network
                .init_actor_critic(&device)
                .map_err(hrl_agents::AgentError::from)?,
            &model_path,
        )?),
    };
    let mut recorder = match &options.record {
        Some(_) => Some(Recorder::new(&config.env, &envs.spec().observation_shape)?),
        None => None,
    };
    let obs_len = envs.spec().observation_len();
    if let Some(recorder) = recorder.as_mut() {
        recorder.push(&envs.observations()[..obs_len]);
    }
    let mut first_done = false;
    let mut rng = Rng::new(options.seed ^ 0x0045_5641_4c52_554e);
    let episodes = policy::evaluate(
        &policy,
        &mut envs,
        epsilon,
        config.eval.max_steps,
        &mut rng,
        |envs| {
            if first_done {
                return;
            }
            first_done = envs.finished_episodes().iter().any(|e| e.env_index == 0);
            if let Some(recorder) = recorder.as_mut() {
                let frame = if first_done {
                    &envs.final_observations()[..obs_len]
                } else {
                    &envs.observations()[..obs_len]
                };
                recorder.push(frame);
            }
        },
    )?;
    if let (Some(recorder), Some(path)) = (&recorder, &options.record) {
        recorder.save(path, 15)?;
    }
    let scores: Vec<f64> = episodes.iter().map(episode_score).collect();
    let n = scores.len() as f64;
    let mean = scores.iter().sum::<f64>() / n.max(1.0);
    let var = scores.iter().map(|s| (s - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
    Ok(EvalReport {
        checkpoint,
        step,
        epsilon,
        lengths: episodes.iter().map(|e| e.episodic_length).collect(),
        scores,
        mean,
        std: var.sqrt(),
    })
}
