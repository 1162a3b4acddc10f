//! Offline analysis for hadamard-rl, without burn: `hrl report`'s aggregate statistics, tables
//! and figures over every run folder below some folders, for grids of games x representations x
//! seeds (Agarwal et al. 2021's protocol). A sweep can be re-plotted by building this crate
//! alone; training lives in `hrl-exp`.
//!
//! Besides the report itself: the layout of a run folder as written by training and read here
//! ([`run_dir`]), atomic file writes ([`atomic`]), rliable-style statistics ([`stats`]), the
//! plotting style shared with training's curves ([`plot`]) and the measured random-policy
//! scores ([`random_baseline`]).
//!
//! [`build`] finds the runs ([`discovery`]), reads their episodes and diagnostics
//! ([`run_data`]), scores each complete run by the mean return of the last fraction of its
//! training episodes ([`scores`]) and by its evaluation return where it has one, normalises the
//! scores per game ([`normalise`], with [`atari_scores`], [`minatar_scores`] and the measured
//! random scores of [`baselines`]), and computes the aggregates of each suite x algorithm x representation
//! ([`aggregates`]) and the final representation health of each with intervals ([`health`]). Runs that are not complete (no `summary.json`, a lock or a failure marker)
//! are listed with their progress and never enter an aggregate. [`fn@write`] puts
//! `aggregates.csv`, `scores.csv`, `improvement.csv`, `health.csv`, `baselines.json`, `report.md` and the
//! figures (PNG and SVG) in the output folder, each file written atomically.

pub mod aggregates;
pub mod atari_scores;
pub mod atomic;
pub mod baselines;
#[cfg(feature = "cli")]
pub mod cli;
pub mod csv_table;
pub mod curves;
pub mod discovery;
mod error;
pub mod figures;
pub mod health;
pub mod layers;
pub mod markdown;
pub mod minatar_scores;
pub mod normalise;
pub mod plot;
pub mod random_baseline;
pub mod run_data;
pub mod run_dir;
pub mod scores;
pub mod stats;
pub mod tables;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

pub use error::ReportError;

use crate::stats::Bootstrap;
use aggregates::{Aggregates, ScoreKind, ScoredCell};
use baselines::Baselines;
use discovery::DiscoveredRun;
use health::{HealthCell, HealthMetric, HealthRow};
use hrl_env::env_family;
use layers::{LayerCell, LayerRow};
use normalise::Normalisation;
use run_data::RunData;

/// Settings of a report.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportOptions {
    /// The final score is the mean return of this last fraction of the training episodes, in
    /// (0, 1] (default 0.1).
    pub final_fraction: f64,
    /// Bootstrap of the confidence intervals (default 2000 resamples, 95%, seed 0).
    pub bootstrap: Bootstrap,
    /// A baselines file to start from (`--baselines`).
    pub baselines: Option<PathBuf>,
    /// Games the random policy plays where a random score is measured (default 100).
    pub baseline_episodes: usize,
    /// Seed of those games (default 0).
    pub baseline_seed: u32,
    /// Bins of the step grid of the curves (default 50).
    pub curve_bins: usize,
}

impl Default for ReportOptions {
    fn default() -> Self {
        ReportOptions {
            final_fraction: 0.1,
            bootstrap: Bootstrap::default(),
            baselines: None,
            baseline_episodes: 100,
            baseline_seed: 0,
            curve_bins: 50,
        }
    }
}

/// One run in a report.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportRun {
    /// The folder, its run and state.
    pub run: DiscoveredRun,
    /// What was read from it.
    pub data: RunData,
    /// Its environment family (`atari`, `minatar`, `cartpole`, ...).
    pub suite: String,
    /// Final score (game points); `None` without finished episodes.
    pub final_score: Option<f64>,
    /// Evaluation score (game points), where the run has one.
    pub eval_score: Option<f64>,
    /// `final_score` normalised.
    pub final_normalised: Option<f64>,
    /// `eval_score` normalised.
    pub eval_normalised: Option<f64>,
}

impl ReportRun {
    /// The group of the run's final values: its suite, algorithm and arm.
    fn final_key(&self) -> aggregates::GroupKey {
        aggregates::GroupKey {
            suite: self.suite.clone(),
            kind: ScoreKind::Final,
            algo: self.run.identity.algo.clone(),
            repr: self.run.identity.repr.clone(),
        }
    }
}

/// A built report.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// The settings it was built with.
    pub options: ReportOptions,
    /// Every run found, complete or not, in path order.
    pub runs: Vec<ReportRun>,
    /// The normalisation of every environment of a run.
    pub normalisations: BTreeMap<String, Normalisation>,
    /// The baselines used (read, then completed by measurement).
    pub baselines: Baselines,
    /// The environments whose random score this report measured.
    pub measured_baselines: Vec<String>,
    /// The aggregates of the complete runs.
    pub aggregates: Aggregates,
    /// Final representation health of the complete runs, per suite x algorithm x representation.
    pub health: Vec<HealthRow>,
    /// Final health of every layer of the complete runs that logged it, per suite x algorithm x
    /// arm x layer x metric.
    pub layers: Vec<LayerRow>,
    /// Runs left out of the aggregates and other caveats.
    pub notes: Vec<String>,
}

impl Report {
    /// The complete runs.
    pub fn complete(&self) -> impl Iterator<Item = &ReportRun> {
        self.runs.iter().filter(|r| r.run.status.is_complete())
    }

    /// The runs that are not complete.
    pub fn incomplete(&self) -> impl Iterator<Item = &ReportRun> {
        self.runs.iter().filter(|r| !r.run.status.is_complete())
    }

    /// The suites of the complete runs, sorted.
    pub fn suites(&self) -> BTreeSet<String> {
        self.complete().map(|r| r.suite.clone()).collect()
    }
}

/// Builds the report of every run folder below `roots` (see the module doc).
pub fn build(roots: &[PathBuf], options: ReportOptions) -> Result<Report, ReportError> {
    if !(options.final_fraction > 0.0 && options.final_fraction <= 1.0) {
        return Err(ReportError::Option {
            option: "--final-fraction",
            message: format!("must be in (0, 1], got {}", options.final_fraction),
        });
    }
    if options.baseline_episodes == 0 {
        return Err(ReportError::Option {
            option: "--baseline-episodes",
            message: "must be at least 1".into(),
        });
    }
    let discovered = discovery::discover(roots)?;
    let mut baselines = match &options.baselines {
        Some(path) => Baselines::read(path)?,
        None => Baselines::default(),
    };
    let envs: BTreeSet<String> = discovered.iter().map(|r| r.identity.env.clone()).collect();
    baselines.fill_minatar_references(envs.iter().map(String::as_str));
    let measured = baselines.fill_random(
        envs.iter().map(String::as_str),
        options.baseline_episodes,
        options.baseline_seed,
    )?;
    let normalisations: BTreeMap<String, Normalisation> = envs
        .iter()
        .map(|env| (env.clone(), Normalisation::for_env(env, &baselines)))
        .collect();

    let mut runs = Vec::with_capacity(discovered.len());
    let mut notes = Vec::new();
    for run in discovered {
        let complete = run.status.is_complete();
        let data = run_data::read_run_data(&run.paths, complete)?;
        let normalisation = &normalisations[&run.identity.env];
        let final_score = scores::final_score(&data.episodes, options.final_fraction);
        if complete && final_score.is_none() {
            notes.push(format!(
                "{} ({}) finished no training episode; it has no final score",
                run.paths.root().display(),
                run.identity
            ));
        }
        let eval_score = data.eval_return;
        runs.push(ReportRun {
            suite: env_family(&run.identity.env).to_string(),
            final_normalised: final_score.map(|s| normalisation.apply(s)),
            eval_normalised: eval_score.map(|s| normalisation.apply(s)),
            final_score,
            eval_score,
            data,
            run,
        });
    }

    let mut cells = Vec::new();
    let mut raw_suites = BTreeSet::new();
    for run in runs.iter().filter(|r| r.run.status.is_complete()) {
        if normalisations[&run.run.identity.env].is_raw() {
            raw_suites.insert(run.suite.clone());
        }
        let scored = [
            (ScoreKind::Final, run.final_normalised),
            (ScoreKind::Eval, run.eval_normalised),
        ];
        for (kind, score) in scored {
            if let Some(score) = score {
                cells.push(ScoredCell {
                    suite: run.suite.clone(),
                    kind,
                    identity: run.run.identity.clone(),
                    score,
                });
            }
        }
    }
    let aggregates = aggregates::compute(&cells, &raw_suites, &options.bootstrap)?;
    let health_cells: Vec<HealthCell> = runs
        .iter()
        .filter(|r| r.run.status.is_complete())
        .flat_map(|run| {
            let key = run.final_key();
            HealthMetric::ALL.into_iter().filter_map(move |metric| {
                Some(HealthCell {
                    key: key.clone(),
                    metric,
                    game: run.run.identity.env.clone(),
                    seed: run.run.identity.seed,
                    value: health::final_value(
                        &run.data.diagnostics,
                        metric,
                        &run.run.identity.repr,
                        options.final_fraction,
                    )?,
                })
            })
        })
        .collect();
    let health = health::compute(&health_cells, &options.bootstrap)?;
    let layer_cells: Vec<LayerCell> = runs
        .iter()
        .filter(|r| r.run.status.is_complete())
        .flat_map(|run| {
            let key = run.final_key();
            layers::final_values(&run.data.layers, options.final_fraction)
                .into_iter()
                .map(move |((layer, metric), value)| LayerCell {
                    key: key.clone(),
                    layer,
                    metric,
                    game: run.run.identity.env.clone(),
                    seed: run.run.identity.seed,
                    value,
                })
        })
        .collect();
    let layers = layers::compute(&layer_cells, &options.bootstrap)?;
    Ok(Report {
        options,
        runs,
        normalisations,
        baselines,
        measured_baselines: measured,
        aggregates,
        health,
        layers,
        notes,
    })
}

/// Writes the report into `out` (created if needed); returns the files written.
pub fn write(report: &Report, out: &Path) -> Result<Vec<PathBuf>, ReportError> {
    let figures_dir = out.join(figures::FIGURES_DIR);
    std::fs::create_dir_all(&figures_dir).map_err(ReportError::io(&figures_dir))?;
    let mut written = Vec::new();
    let baselines = out.join("baselines.json");
    report.baselines.write(&baselines)?;
    written.push(baselines);
    written.extend(tables::write_tables(report, out)?);
    let figures = figures::write_figures(report, out)?;
    let markdown = out.join("report.md");
    let text = markdown::render(report, &figures);
    crate::atomic::write(&markdown, text.as_bytes()).map_err(ReportError::io(&markdown))?;
    written.push(markdown);
    written.extend(figures.into_iter().flat_map(|f| f.files(out)));
    Ok(written)
}
