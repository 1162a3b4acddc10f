//! Training runs: build the agent from a resolved config, train it, log every update to
//! `metrics.csv` and TensorBoard and every finished game to `episodes.csv`, run the
//! representation diagnostics on a probe batch about `log.diag_points` times and greedy
//! evaluations `eval.points` times, write a checkpoint `checkpoint.points` times, and finish
//! with `summary.json` and a plot of the curves.
//!
//! A run folder holds `config.toml` (the resolved config; `hrl train --config` on it reproduces
//! the run), `metrics.csv`, `episodes.csv`, `events.out.tfevents.*`, `checkpoints/step-N/`,
//! `curves.png` and, once the run is complete, `summary.json`. [`resume`] continues a run from
//! its last checkpoint exactly: the rows after the checkpoint are dropped and written again by
//! the resumed run, the same as if it had never stopped.

mod build;
pub(crate) mod checkpoints;
pub mod columns;
pub mod config;
mod curves;
pub mod evaluation;
mod games;
pub mod manifest;
mod progress;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use hrl_agents::{Agent, Report};
use hrl_nn::probe::ReprDiagnostics;

pub use build::{agent as build_agent, device};
pub use checkpoints::{TRAIN_STATE_FILE, TrainState};
pub use games::{Game, GameTally};

use crate::layer_log::LayerLog;
use crate::metrics::{MetricsCsv, MetricsError, MetricsLog, Table};
use crate::train::config::{ConfigError, Overrides, TrainConfig};
use columns::Row;
use curves::Curves;
use hrl_report::atomic;
use hrl_report::run_dir::{RunDir, RunDirError, RunPaths, RunState};
use progress::Progress;

/// File of the finished games of a run, one row each.
pub const EPISODES_FILE: &str = "episodes.csv";

/// Columns of `episodes.csv`: the agent step at the end of the update the game finished in,
/// the return learned from (clipped on Atari) and the length in agent steps of the whole game,
/// and Atari's unclipped game score (empty elsewhere).
pub const EPISODE_COLUMNS: [&str; 4] = ["step", "episodic_return", "episodic_length", "game_score"];

/// Errors of a training run.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// The run folder cannot be used.
    #[error(transparent)]
    RunDir(#[from] RunDirError),
    /// The run folder's config cannot be read.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The agent failed.
    #[error(transparent)]
    Agent(#[from] hrl_agents::AgentError),
    /// Metrics could not be written.
    #[error(transparent)]
    Metrics(#[from] MetricsError),
    /// TensorBoard events could not be written.
    #[error(transparent)]
    Tensorboard(#[from] crate::tensorboard::TensorboardError),
    /// The device could not be opened.
    #[error(transparent)]
    Device(#[from] hrl_nn::device::DeviceError),
    /// Training diverged: a value that must stay finite did not, or a loss grew past
    /// [`DIVERGED_LOSS`]. The run stops with its last good checkpoint and no `summary.json`, so
    /// no report counts it complete.
    #[error(
        "training diverged at agent step {step}: {what}; the run stops without a summary (its \
         checkpoints, if any, are from before)"
    )]
    Diverged {
        /// Agent steps done.
        step: u64,
        /// What was found, e.g. `grad_norm = inf`.
        what: String,
    },
    /// A checkpoint does not belong to this run.
    #[error("checkpoint {path}: {message}")]
    Checkpoint {
        /// The checkpoint folder.
        path: PathBuf,
        /// What does not fit.
        message: String,
    },
    /// A file could not be written.
    #[error("writing {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The curves could not be drawn.
    #[error("drawing {path}: {message}")]
    Plot {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
}

/// What a finished run reports (also written as `summary.json`).
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Summary {
    /// Algorithm.
    pub algo: String,
    /// Environment id.
    pub env: String,
    /// Representation spec.
    pub repr: String,
    /// Seed.
    pub seed: u64,
    /// Agent steps taken.
    pub steps: u64,
    /// Emulator frames.
    pub frames: u64,
    /// Games finished.
    pub episodes: u64,
    /// Mean score of the last 10% of the games (at least one).
    pub final_return: Option<f64>,
    /// Mean score of the last evaluation.
    pub eval_return: Option<f64>,
    /// Wall-clock seconds over all the processes of the run.
    pub wall_seconds: f64,
    /// Agent steps per second over the whole run.
    pub sps: f64,
    /// The last diagnostics.
    pub final_diagnostics: Option<ReprDiagnostics>,
}

/// How a call of [`train`] or [`resume`] ended.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// The run is complete.
    Complete(Box<Summary>),
    /// `stop` was raised; a checkpoint of `step` was written and the run can be resumed.
    Interrupted {
        /// Agent steps done.
        step: u64,
        /// The checkpoint written.
        checkpoint: PathBuf,
    },
}

/// Trains `config` into the new run folder `out`. Refuses a folder that holds a complete or a
/// resumable run. When `stop` is raised (Ctrl-C), the current update finishes, a checkpoint is
/// written and [`Outcome::Interrupted`] is returned.
pub fn train(config: &TrainConfig, out: &Path, stop: &AtomicBool) -> Result<Outcome, TrainError> {
    let run = RunDir::create(out, false)?;
    run.write_config(&config.to_toml())?;
    let agent = build::agent(config)?;
    let columns = columns::header(agent.columns());
    let mut log = MetricsLog::create(out, &columns)?;
    log.events().add_text("config", &config.to_toml(), 0)?;
    let episodes = MetricsCsv::create(&out.join(EPISODES_FILE), &EPISODE_COLUMNS)?;
    let layers = LayerLog::create(out)?;
    let state = TrainState {
        step: 0,
        wall_seconds: 0.0,
        games: 0,
        tally: GameTally::default(),
        last_eval: None,
        last_diagnostics: None,
        dead_units: Default::default(),
        config: None,
    };
    Session {
        config,
        run,
        agent,
        log,
        layers,
        episodes,
        state,
        scores: Vec::new(),
    }
    .run(stop)
}

/// Continues the run in `out` from its last checkpoint, with `num_threads` worker threads if
/// given (the thread count does not change results). A run folder with a config but no
/// checkpoint yet starts over in place; a complete run is an error
/// ([`RunDirError::AlreadyComplete`]).
pub fn resume(
    out: &Path,
    num_threads: Option<usize>,
    extend: bool,
    stop: &AtomicBool,
) -> Result<Outcome, TrainError> {
    let paths = RunPaths::new(out);
    let mut config = TrainConfig::load(&paths.config(), &Overrides::default())?;
    if let Some(threads) = num_threads {
        config.num_threads = threads;
    }
    match paths.state()? {
        RunState::Complete => {
            return Err(RunDirError::AlreadyComplete {
                root: out.to_path_buf(),
            }
            .into());
        }
        RunState::Fresh => return train(&config, out, stop),
        RunState::Missing | RunState::Partial { .. } => {}
    }
    let (run, _) = RunDir::resume(out)?;
    let search = checkpoints::newest_intact(&paths)?;
    for (damaged, why) in &search.damaged {
        let moved = checkpoints::set_aside(damaged)?;
        tracing::warn!(
            "checkpoint {} is damaged ({why}); set aside as {}",
            damaged.display(),
            moved.display()
        );
    }
    let Some((step, _)) = search.intact else {
        return Err(TrainError::Checkpoint {
            path: paths.checkpoints(),
            message: "no intact checkpoint to resume from".into(),
        });
    };
    if !search.damaged.is_empty() {
        tracing::warn!("resuming from the newest intact checkpoint, step {step}");
    }
    let removed = atomic::remove_stale_temporaries(out).map_err(|source| TrainError::Io {
        path: out.to_path_buf(),
        source,
    })?;
    if removed > 0 {
        tracing::info!(
            "removed {removed} temporary files of an earlier process that died writing them"
        );
    }
    let checkpoint = paths.checkpoint(step);
    let state = checkpoints::read_state(&checkpoint)?;
    check_config_unchanged(&state, &config, &checkpoint, extend)?;
    let mut agent = build::agent(&config)?;
    agent.load(&checkpoint)?;
    if state.step != step || agent.steps_done() != step {
        return Err(TrainError::Checkpoint {
            path: checkpoint,
            message: format!(
                "named step {step}, but holds step {} (agent at {})",
                state.step,
                agent.steps_done()
            ),
        });
    }
    let columns = columns::header(agent.columns());
    let (log, report) = MetricsLog::resume(out, &columns, step)?;
    let (episodes, _) = MetricsCsv::resume(&out.join(EPISODES_FILE), &EPISODE_COLUMNS, step)?;
    let (layers, _) = LayerLog::resume(out, step)?;
    tracing::info!(
        "resuming {} at step {step} ({} metric rows kept, {} dropped)",
        out.display(),
        report.kept_rows,
        report.dropped_rows
    );
    let scores = game_scores(&Table::read(&out.join(EPISODES_FILE))?);
    Session {
        config: &config,
        run,
        agent,
        log,
        layers,
        episodes,
        state,
        scores,
    }
    .run(stop)
}

/// Refuses to resume from `checkpoint` when `config` (the run folder's `config.toml` now) differs
/// from the config the checkpoint was written with, naming the keys that changed. With `extend`,
/// a larger `total_timesteps` of the algorithm is the one change allowed ("train this run
/// longer"). The thread count may change (`--threads`). Checkpoints written before the config
/// was stored in them cannot be checked and resume as before.
fn check_config_unchanged(
    state: &TrainState,
    config: &TrainConfig,
    checkpoint: &Path,
    extend: bool,
) -> Result<(), TrainError> {
    let Some(saved) = &state.config else {
        tracing::warn!(
            "{} predates stored configs; config.toml cannot be checked against it",
            checkpoint.display()
        );
        return Ok(());
    };
    let flat = |text: &str| -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        if let Ok(table) = text.parse::<toml::Table>() {
            flatten_toml("", &table, &mut out);
        }
        out
    };
    let (before, now) = (flat(saved), flat(&config.to_toml()));
    let budget_key = format!("{}.total_timesteps", config.algo());
    let mut changed = Vec::new();
    let mut extended = false;
    for key in before.keys().chain(now.keys()).collect::<BTreeSet<_>>() {
        let (was, is) = (before.get(key), now.get(key));
        if was == is || key == "num_threads" {
            continue;
        }
        let steps = |value: Option<&String>| value.and_then(|v| v.parse::<u64>().ok());
        let longer = *key == budget_key && steps(is) > steps(was).max(Some(state.step));
        if longer && extend {
            extended = true;
            continue;
        }
        changed.push(format!(
            "{key} (was {}, now {})",
            was.map_or("absent", String::as_str),
            is.map_or("absent", String::as_str)
        ));
    }
    if !changed.is_empty() {
        return Err(TrainError::Checkpoint {
            path: checkpoint.to_path_buf(),
            message: format!(
                "config.toml has changed since this checkpoint was written: {}. Restore those \
                 values, or start a new run; to train this run longer, raise only \
                 {budget_key} above {} and pass --extend",
                changed.join(", "),
                state.step
            ),
        });
    }
    if extended {
        tracing::info!(
            "extending the run: {budget_key} is now {}",
            now[&budget_key]
        );
    }
    Ok(())
}

/// Dotted keys of every value of a TOML table, with their values as TOML text.
fn flatten_toml(prefix: &str, table: &toml::Table, out: &mut BTreeMap<String, String>) {
    for (key, value) in table {
        let key = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        match value {
            toml::Value::Table(inner) => flatten_toml(&key, inner, out),
            other => {
                out.insert(key, other.to_string());
            }
        }
    }
}

/// The score of every game in an `episodes.csv` table: the game score where there is one,
/// else the return.
fn game_scores(table: &Table) -> Vec<f64> {
    let returns = table.column("episodic_return").unwrap_or_default();
    let games = table.column("game_score").unwrap_or_default();
    returns
        .iter()
        .enumerate()
        .filter_map(|(i, ret)| games.get(i).copied().flatten().or(*ret))
        .collect()
}

/// A run being trained by this process.
struct Session<'a> {
    config: &'a TrainConfig,
    run: RunDir,
    agent: Box<dyn Agent>,
    log: MetricsLog,
    /// `diagnostics.csv`, the per-layer health.
    layers: LayerLog,
    episodes: MetricsCsv,
    state: TrainState,
    /// Scores of every game so far.
    scores: Vec<f64>,
}

/// A loss whose magnitude exceeds this has diverged. RL losses of this project's algorithms on
/// clipped or small rewards stay many orders of magnitude below it; a learning rate too large for
/// the network drives them to 1e14 and beyond while they stay finite.
pub const DIVERGED_LOSS: f64 = 1e10;

/// What in an update's report shows divergence, if anything: a loss, gradient norm or
/// algorithm-specific value that is not finite, or a loss beyond [`DIVERGED_LOSS`].
fn divergence(report: &Report) -> Option<String> {
    let values = [
        (columns::LOSS, report.loss),
        (columns::GRAD_NORM, report.grad_norm),
    ]
    .into_iter()
    .chain(
        report
            .extra
            .iter()
            .map(|&(column, value)| (column, Some(value))),
    );
    for (column, value) in values {
        match value {
            Some(value) if !value.is_finite() => {
                return Some(format!("{} = {value}", column.name));
            }
            _ => {}
        }
    }
    report
        .loss
        .filter(|loss| loss.abs() > DIVERGED_LOSS)
        .map(|loss| format!("loss = {loss:e}, beyond {DIVERGED_LOSS:e}"))
}

/// Whether a schedule of `points` evenly spaced events over `total` steps has one in
/// `(before, after]`; the last event is at `total`.
fn due(points: u64, total: u64, before: u64, after: u64) -> bool {
    if points == 0 {
        return false;
    }
    let index = |step: u64| (u128::from(step) * u128::from(points)) / u128::from(total.max(1));
    index(after) > index(before) || after >= total
}

impl Session<'_> {
    fn run(mut self, stop: &AtomicBool) -> Result<Outcome, TrainError> {
        let config = self.config;
        let total = self.agent.total_steps();
        let frames_per_step = u64::from(self.agent.env_spec().frames_per_step);
        let progress = Progress::new(total, self.state.step);
        let start = Instant::now();
        let wall_before = self.state.wall_seconds;
        let first_step = self.state.step;
        let mut last_diag = self.state.last_diagnostics.clone();
        let mut last_eval = self.state.last_eval;
        while self.agent.steps_done() < total {
            let before = self.agent.steps_done();
            let report = self.agent.advance()?;
            let step = self.agent.steps_done();
            for (update, applied) in &report.interventions {
                tracing::info!("step {step}, after update {update}: {applied}");
            }
            if let Some(what) = divergence(&report) {
                return Err(TrainError::Diverged { step, what });
            }
            let wall = wall_before + start.elapsed().as_secs_f64();
            let sps = (step - first_step) as f64 / start.elapsed().as_secs_f64().max(1e-9);
            let mut row = Self::base_row(&report, step, frames_per_step, sps, wall);
            self.record_games(&report, step, &mut row)?;
            if due(config.log.diag_points, total, before, step) {
                let (probe_size, diag_config) = (config.log.probe_size, &config.log.diag);
                let diag = if config.log.layer_health {
                    let mut health = self.agent.layer_health(probe_size, diag_config)?;
                    health.layers.extend(self.agent.churn(probe_size)?);
                    self.layers.write(
                        step,
                        &health.layers,
                        &mut self.state.dead_units,
                        self.log.events(),
                    )?;
                    health.repr
                } else {
                    self.agent.probe(probe_size, diag_config)?
                };
                columns::push_diagnostics(&mut row, &diag);
                self.state.last_diagnostics = Some(diag.clone());
                last_diag = Some(diag);
            }
            if due(config.eval.points, total, before, step) {
                let index = (u128::from(step) * u128::from(config.eval.points)
                    / u128::from(total.max(1))) as u64;
                let eval = evaluation::evaluate(config, &self.agent.policy(), index)?;
                row.push((columns::EVAL_RETURN, eval.mean_return));
                row.push((columns::EVAL_LENGTH, eval.mean_length));
                last_eval = Some(eval.mean_return);
                self.state.last_eval = last_eval;
            }
            self.log
                .write_named(row.iter().map(|(column, value)| (column.name, *value)))?;
            self.state.step = step;
            self.state.wall_seconds = wall;
            let interrupted = stop.load(Ordering::SeqCst);
            let last = step >= total;
            if interrupted || last || due(config.checkpoint.points, total, before, step) {
                if !self.agent.policy().parameters_finite() {
                    return Err(TrainError::Diverged {
                        step,
                        what: "a network parameter is not finite".into(),
                    });
                }
                self.log.flush()?;
                self.state.config = Some(config.to_toml());
                let path = checkpoints::write(
                    self.run.paths(),
                    self.agent.as_ref(),
                    &self.state,
                    config.checkpoint.keep,
                )?;
                if interrupted && step < total {
                    progress.finish();
                    return Ok(Outcome::Interrupted {
                        step,
                        checkpoint: path,
                    });
                }
            }
            progress.update(step, recent_mean(&self.scores, 20));
        }
        self.log.flush()?;
        progress.finish();
        self.finish(last_diag, last_eval)
    }

    /// The values every row has.
    fn base_row(report: &Report, step: u64, frames_per_step: u64, sps: f64, wall: f64) -> Row {
        let mut row = vec![
            (columns::STEP, step as f64),
            (columns::FRAMES, (step * frames_per_step) as f64),
            (columns::SPS, sps),
            (columns::LEARNING_RATE, report.learning_rate),
            (columns::WALL_TIME, wall),
        ];
        let optional = [
            (columns::LOSS, report.loss),
            (columns::GRAD_NORM, report.grad_norm),
            (columns::EPSILON, report.epsilon),
        ];
        row.extend(optional.into_iter().filter_map(|(k, v)| v.map(|v| (k, v))));
        row.extend(report.extra.iter().copied());
        row
    }

    /// Writes the games the update finished to `episodes.csv` and their means to `row`.
    fn record_games(
        &mut self,
        report: &Report,
        step: u64,
        row: &mut Row,
    ) -> Result<(), TrainError> {
        let games = self.state.tally.add(&report.episodes);
        for game in &games {
            self.episodes.write_row(&[
                Some(step as f64),
                Some(game.episodic_return),
                Some(game.episodic_length as f64),
                game.game_score,
            ])?;
            self.scores.push(game.score);
        }
        self.state.games += games.len() as u64;
        row.push((columns::EPISODES, self.state.games as f64));
        if !games.is_empty() {
            let n = games.len() as f64;
            row.push((
                columns::EPISODIC_RETURN,
                games.iter().map(|g| g.score).sum::<f64>() / n,
            ));
            row.push((
                columns::EPISODIC_LENGTH,
                games.iter().map(|g| g.episodic_length as f64).sum::<f64>() / n,
            ));
        }
        Ok(())
    }

    /// Writes the plot and `summary.json`, which marks the run complete.
    fn finish(
        self,
        final_diagnostics: Option<ReprDiagnostics>,
        eval_return: Option<f64>,
    ) -> Result<Outcome, TrainError> {
        let config = self.config;
        let paths = self.run.paths();
        let steps = self.agent.steps_done();
        let table = Table::read(&paths.metrics())?;
        let curves_path = paths.root().join("curves.png");
        Curves::from_table(&table)
            .draw(
                &curves_path,
                &format!("{} {} {}", config.algo(), config.env, config.repr),
            )
            .map_err(|message| TrainError::Plot {
                path: curves_path.clone(),
                message,
            })?;
        let tail = (self.scores.len() / 10).max(1);
        let summary = Summary {
            algo: config.algo().to_string(),
            env: config.env.clone(),
            repr: config.repr.to_string(),
            seed: config.seed,
            steps,
            frames: steps * u64::from(self.agent.env_spec().frames_per_step),
            episodes: self.state.games,
            final_return: (!self.scores.is_empty()).then(|| recent_mean(&self.scores, tail)),
            eval_return,
            wall_seconds: self.state.wall_seconds,
            sps: steps as f64 / self.state.wall_seconds.max(1e-9),
            final_diagnostics,
        };
        self.run.write_summary(&summary)?;
        Ok(Outcome::Complete(Box::new(summary)))
    }
}

/// Mean of the last `count` values; NaN if there are none.
fn recent_mean(values: &[f64], count: usize) -> f64 {
    let tail = &values[values.len().saturating_sub(count)..];
    if tail.is_empty() {
        f64::NAN
    } else {
        tail.iter().sum::<f64>() / tail.len() as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn due_spaces_points_evenly_and_always_fires_at_the_end() {
        let fired: Vec<u64> = (1..=10u64)
            .filter(|&i| due(4, 1000, (i - 1) * 100, i * 100))
            .map(|i| i * 100)
            .collect();
        assert_eq!(fired, vec![300, 500, 800, 1000]);
        assert!(!due(0, 1000, 900, 1000));
        assert!(due(1, 1000, 900, 1000));
        assert!(!due(1, 1000, 0, 900));
    }
}
