//! What a report reads from one run folder: the finished training episodes, the representation
//! diagnostics over training, the agent steps done and the evaluation return.
//!
//! Episodes come from `episodes.csv` (one row per finished training episode: `step`,
//! `episodic_return`, `episodic_length`, `game_score`) when the run has one. Where any row has a
//! `game_score` (the score of the whole game that episode ended, e.g. an Atari game over all its
//! lives, unclipped), only those rows count, with that score; otherwise every row's
//! `episodic_return`. Runs without `episodes.csv` fall back on `metrics.csv`: each row's
//! `episodic_return` is the mean over the episodes finished in that row, and the increase of the
//! cumulative `episodes` column is their count (1 where the column is absent or does not grow).
//! Columns are found by their header names.

use std::path::Path;

use super::ReportError;
use super::csv_table::CsvTable;
use super::health::HealthMetric;
use crate::run_dir::{DIAGNOSTICS_FILE, RunPaths};

/// File name of the per-episode table in a run folder.
pub const EPISODES_FILE: &str = "episodes.csv";

/// Episodes that finished by one point of training.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EpisodeBatch {
    /// Agent steps done when they were logged.
    pub step: f64,
    /// Their mean return (game score where the run logs one).
    pub mean_return: f64,
    /// How many episodes.
    pub count: f64,
}

/// Where a run's episode returns came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReturnSource {
    /// `episodes.csv`, `game_score` of the rows that have one.
    GameScores,
    /// `episodes.csv`, `episodic_return` of every row.
    EpisodeReturns,
    /// `metrics.csv`, each row's mean `episodic_return` weighted by its episode count.
    MetricsRows,
}

impl ReturnSource {
    /// How the report names the source.
    pub fn describe(&self) -> &'static str {
        match self {
            ReturnSource::GameScores => "episodes.csv game_score",
            ReturnSource::EpisodeReturns => "episodes.csv episodic_return",
            ReturnSource::MetricsRows => "metrics.csv episodic_return",
        }
    }
}

/// The representation diagnostics of one `metrics.csv` row that has any.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DiagnosticsPoint {
    /// Agent steps.
    pub step: f64,
    /// Each [`HealthMetric`] read from its column, by [`HealthMetric::index`].
    values: [Option<f64>; HealthMetric::ALL.len()],
}

impl DiagnosticsPoint {
    /// A point with no values yet.
    pub fn new(step: f64) -> Self {
        DiagnosticsPoint {
            step,
            values: [None; HealthMetric::ALL.len()],
        }
    }

    /// The value of `metric` read at this point (`None` for the derived
    /// [`HealthMetric::DeadIfIndependent`], which [`super::health::final_value`] computes).
    pub fn get(&self, metric: HealthMetric) -> Option<f64> {
        self.values[metric.index()]
    }

    /// Sets the value of a metric read from `metrics.csv`.
    pub fn set(&mut self, metric: HealthMetric, value: Option<f64>) {
        self.values[metric.index()] = value;
    }

    fn is_empty(&self) -> bool {
        self.values.iter().all(Option::is_none)
    }
}

/// Everything a report reads from one run folder.
#[derive(Debug, Clone, PartialEq)]
pub struct RunData {
    /// Finished training episodes, in training order.
    pub episodes: Vec<EpisodeBatch>,
    /// Where they came from.
    pub return_source: ReturnSource,
    /// Diagnostics over training, in training order.
    pub diagnostics: Vec<DiagnosticsPoint>,
    /// Every layer's health over training (`diagnostics.csv`; empty where the run has none).
    pub layers: Vec<crate::layers::LayerPoint>,
    /// Agent steps done: `summary.json`'s `steps` for a complete run, else the last `step` of
    /// `metrics.csv`.
    pub steps: Option<u64>,
    /// The evaluation return: `summary.json`'s `eval_return`, else the last `eval_return` of
    /// `metrics.csv`.
    pub eval_return: Option<f64>,
}

/// Reads a run folder. A complete run must have a well-formed `metrics.csv`; an incomplete one
/// may lack it or be in the middle of writing its last line.
pub fn read_run_data(paths: &RunPaths, complete: bool) -> Result<RunData, ReportError> {
    let metrics_path = paths.metrics();
    let metrics = if complete || metrics_path.exists() {
        Some(CsvTable::read(&metrics_path, !complete)?)
    } else {
        None
    };
    let episodes_path = paths.root().join(EPISODES_FILE);
    let (episodes, return_source) = if episodes_path.exists() {
        episodes_from_table(&CsvTable::read(&episodes_path, !complete)?)?
    } else {
        match &metrics {
            Some(table) if !table.is_empty() => episodes_from_metrics(table)?,
            _ => (Vec::new(), ReturnSource::MetricsRows),
        }
    };
    let mut data = RunData {
        episodes,
        return_source,
        diagnostics: Vec::new(),
        layers: crate::layers::read_points(&paths.root().join(DIAGNOSTICS_FILE), !complete)?,
        steps: None,
        eval_return: None,
    };
    if let Some(table) = metrics.as_ref().filter(|t| !t.is_empty()) {
        read_metrics_extras(table, &mut data)?;
    }
    if complete {
        read_summary(&paths.summary(), &mut data)?;
    }
    Ok(data)
}

fn finite(table: &CsvTable, line: usize, column: &str, value: f64) -> Result<f64, ReportError> {
    if value.is_finite() {
        Ok(value)
    } else {
        Err(ReportError::Table {
            path: table.path().to_path_buf(),
            line,
            message: format!("column `{column}` is {value}; returns must be finite"),
        })
    }
}

fn episodes_from_table(table: &CsvTable) -> Result<(Vec<EpisodeBatch>, ReturnSource), ReportError> {
    if table.is_empty() {
        return Ok((Vec::new(), ReturnSource::EpisodeReturns));
    }
    let step = table.require("step")?;
    let episodic_return = table.require("episodic_return")?;
    let game_score = table.column("game_score");
    let has_game_scores =
        game_score.is_some_and(|g| table.rows().iter().any(|r| r.get(g).is_some()));
    let (column, name, source) = match game_score {
        Some(g) if has_game_scores => (g, "game_score", ReturnSource::GameScores),
        _ => (
            episodic_return,
            "episodic_return",
            ReturnSource::EpisodeReturns,
        ),
    };
    let mut episodes = Vec::new();
    for row in table.rows() {
        let Some(value) = row.get(column) else {
            continue;
        };
        let step = row.get(step).ok_or_else(|| ReportError::Table {
            path: table.path().to_path_buf(),
            line: row.line,
            message: "empty `step`".into(),
        })?;
        episodes.push(EpisodeBatch {
            step,
            mean_return: finite(table, row.line, name, value)?,
            count: 1.0,
        });
    }
    Ok((episodes, source))
}

fn episodes_from_metrics(
    table: &CsvTable,
) -> Result<(Vec<EpisodeBatch>, ReturnSource), ReportError> {
    let step = table.require("step")?;
    let Some(episodic_return) = table.column("episodic_return") else {
        return Ok((Vec::new(), ReturnSource::MetricsRows));
    };
    let cumulative = table.column("episodes");
    let mut previous = 0.0;
    let mut episodes = Vec::new();
    for row in table.rows() {
        let total = cumulative.and_then(|c| row.get(c));
        let grown = total.map(|t| t - previous);
        if let Some(t) = total {
            previous = t;
        }
        let (Some(mean), Some(step)) = (row.get(episodic_return), row.get(step)) else {
            continue;
        };
        episodes.push(EpisodeBatch {
            step,
            mean_return: finite(table, row.line, "episodic_return", mean)?,
            count: grown.filter(|&g| g > 0.0).unwrap_or(1.0),
        });
    }
    Ok((episodes, ReturnSource::MetricsRows))
}

fn read_metrics_extras(table: &CsvTable, data: &mut RunData) -> Result<(), ReportError> {
    let step = table.require("step")?;
    let columns: Vec<(HealthMetric, usize)> = HealthMetric::ALL
        .iter()
        .filter_map(|&m| Some((m, table.column(m.column()?)?)))
        .collect();
    let eval = table.column("eval_return");
    for row in table.rows() {
        let Some(at) = row.get(step) else {
            continue;
        };
        data.steps = Some(at.max(0.0) as u64);
        let mut point = DiagnosticsPoint::new(at);
        for &(metric, column) in &columns {
            point.set(metric, row.get(column).filter(|v| v.is_finite()));
        }
        if !point.is_empty() {
            data.diagnostics.push(point);
        }
        if let Some(value) = eval.and_then(|c| row.get(c)).filter(|v| v.is_finite()) {
            data.eval_return = Some(value);
        }
    }
    Ok(())
}

fn read_summary(path: &Path, data: &mut RunData) -> Result<(), ReportError> {
    let text = std::fs::read_to_string(path).map_err(ReportError::io(path))?;
    let summary: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| ReportError::Json {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
    if let Some(steps) = summary.get("steps").and_then(serde_json::Value::as_u64) {
        data.steps = Some(steps);
    }
    if let Some(eval) = summary
        .get("eval_return")
        .and_then(serde_json::Value::as_f64)
    {
        data.eval_return = Some(eval);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::path::PathBuf;

    fn folder(name: &str, files: &[(&str, &str)]) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("hrl-run-data-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        for (file, text) in files {
            fs::write(dir.join(file), text).unwrap();
        }
        dir
    }

    #[test]
    fn metrics_rows_weigh_returns_by_the_growth_of_episodes() {
        let dir = folder(
            "metrics",
            &[
                (
                    "metrics.csv",
                    "srank,step,episodes,episodic_return,dead_fraction,eval_return\n\
                     ,100,0,,,\n9,200,3,1.5,0.25,\n,300,3,,,\n8,400,4,2.0,,7.5\n",
                ),
                ("summary.json", "{\"steps\": 400, \"eval_return\": 8.0}"),
            ],
        );
        let data = read_run_data(&RunPaths::new(&dir), true).unwrap();
        assert_eq!(data.return_source, ReturnSource::MetricsRows);
        let batches: Vec<(f64, f64, f64)> = data
            .episodes
            .iter()
            .map(|e| (e.step, e.mean_return, e.count))
            .collect();
        assert_eq!(batches, [(200.0, 1.5, 3.0), (400.0, 2.0, 1.0)]);
        assert_eq!(data.diagnostics.len(), 2);
        assert_eq!(
            data.diagnostics[0].get(HealthMetric::DeadFraction),
            Some(0.25)
        );
        assert_eq!(data.diagnostics[1].get(HealthMetric::Srank), Some(8.0));
        assert_eq!(data.steps, Some(400));
        assert_eq!(data.eval_return, Some(8.0), "summary.json wins");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn episodes_csv_prefers_game_scores() {
        let dir = folder(
            "episodes",
            &[
                ("metrics.csv", "step,episodes,episodic_return\n10,2,99\n"),
                (
                    EPISODES_FILE,
                    "step,episodic_return,episodic_length,game_score\n\
                     5,1,10,\n8,1,12,40\n10,0,3,25\n",
                ),
            ],
        );
        let data = read_run_data(&RunPaths::new(&dir), false).unwrap();
        assert_eq!(data.return_source, ReturnSource::GameScores);
        let scores: Vec<f64> = data.episodes.iter().map(|e| e.mean_return).collect();
        assert_eq!(scores, [40.0, 25.0]);
        assert_eq!(data.steps, Some(10));
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn incomplete_runs_may_lack_metrics_but_complete_ones_may_not() {
        let dir = folder("missing", &[]);
        let data = read_run_data(&RunPaths::new(&dir), false).unwrap();
        assert!(data.episodes.is_empty() && data.steps.is_none());
        let err = read_run_data(&RunPaths::new(&dir), true).unwrap_err();
        assert!(err.to_string().contains("metrics.csv"), "{err}");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn non_finite_returns_name_the_line() {
        let dir = folder(
            "nan",
            &[(
                "metrics.csv",
                "step,episodes,episodic_return\n1,1,2\n2,2,NaN\n",
            )],
        );
        let err = read_run_data(&RunPaths::new(&dir), false)
            .unwrap_err()
            .to_string();
        assert!(err.contains("line 3") && err.contains("finite"), "{err}");
        fs::remove_dir_all(&dir).unwrap();
    }
}
