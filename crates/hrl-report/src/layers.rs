//! Per-layer health as numbers: for each suite x algorithm x arm (representation and
//! interventions), each hidden layer and each metric of the runs' `diagnostics.csv`, the final
//! value with a 95% stratified-bootstrap interval over runs.
//!
//! A run's final value is the mean over its points in the last `final_fraction` of training,
//! as for the representation health ([`crate::health`]); runs without `diagnostics.csv`
//! (written before it existed) add nothing.

use std::collections::BTreeMap;
use std::path::Path;

use super::ReportError;
use crate::aggregates::GroupKey;
use crate::health::aggregate;
use crate::stats::{Bootstrap, Interval};

/// One value of a run's `diagnostics.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct LayerPoint {
    /// Agent steps.
    pub step: f64,
    /// `conv1`, `repr`, `repr.first`, ...
    pub layer: String,
    /// `dead_fraction`, ...
    pub metric: String,
    /// The value.
    pub value: f64,
}

/// Reads `diagnostics.csv` at `path`: `step,layer,metric,value` rows. A missing file is no
/// points; with `partial_last_line`, an unfinished last line (a run still writing) is skipped.
pub fn read_points(path: &Path, partial_last_line: bool) -> Result<Vec<LayerPoint>, ReportError> {
    if !path.is_file() {
        return Ok(Vec::new());
    }
    let text = std::fs::read_to_string(path).map_err(ReportError::io(path))?;
    let complete = if partial_last_line && !text.ends_with('\n') {
        text.rfind('\n').map_or("", |end| &text[..=end])
    } else {
        text.as_str()
    };
    let bad = |line: usize, message: String| ReportError::Table {
        path: path.to_path_buf(),
        line,
        message,
    };
    let mut lines = complete.lines();
    match lines.next() {
        Some("step,layer,metric,value") | None => {}
        Some(other) => {
            return Err(bad(
                1,
                format!("header `{other}`, expected `step,layer,metric,value`"),
            ));
        }
    }
    lines
        .enumerate()
        .map(|(i, line)| {
            let fields: Vec<&str> = line.split(',').collect();
            let [step, layer, metric, value] = fields.as_slice() else {
                return Err(bad(i + 2, format!("{} fields, expected 4", fields.len())));
            };
            let number = |text: &str, what: &str| {
                text.parse::<f64>()
                    .map_err(|_| bad(i + 2, format!("{what} `{text}` is not a number")))
            };
            Ok(LayerPoint {
                step: number(step, "step")?,
                layer: layer.to_string(),
                metric: metric.to_string(),
                value: number(value, "value")?,
            })
        })
        .collect()
}

/// Per `(layer, metric)`, the mean of the values at `step >= (1 - final_fraction) * last step`,
/// the last step being that layer and metric's own.
pub fn final_values(points: &[LayerPoint], final_fraction: f64) -> BTreeMap<(String, String), f64> {
    let mut series: BTreeMap<(String, String), Vec<(f64, f64)>> = BTreeMap::new();
    for p in points {
        series
            .entry((p.layer.clone(), p.metric.clone()))
            .or_default()
            .push((p.step, p.value));
    }
    series
        .into_iter()
        .filter_map(|(key, values)| {
            let last = values.iter().map(|(s, _)| *s).fold(f64::MIN, f64::max);
            let from = (1.0 - final_fraction) * last;
            let tail: Vec<f64> = values
                .iter()
                .filter(|(s, _)| *s >= from)
                .map(|(_, v)| *v)
                .collect();
            (!tail.is_empty()).then(|| (key, tail.iter().sum::<f64>() / tail.len() as f64))
        })
        .collect()
}

/// One complete run's final value of one layer's metric.
#[derive(Debug, Clone, PartialEq)]
pub struct LayerCell {
    /// Suite, algorithm and arm.
    pub key: GroupKey,
    /// The layer.
    pub layer: String,
    /// The metric.
    pub metric: String,
    /// The run's game.
    pub game: String,
    /// The run's seed.
    pub seed: u64,
    /// Its final value.
    pub value: f64,
}

/// One row of the per-layer table.
#[derive(Debug, Clone, PartialEq)]
pub struct LayerRow {
    /// Suite, algorithm and arm.
    pub key: GroupKey,
    /// The layer.
    pub layer: String,
    /// The metric.
    pub metric: String,
    /// Mean over runs and its bootstrap interval.
    pub interval: Interval,
    /// Games in the matrix.
    pub games: usize,
    /// Runs per game.
    pub runs: usize,
}

/// The table of `cells`, in key, layer, then metric order.
pub fn compute(cells: &[LayerCell], bootstrap: &Bootstrap) -> Result<Vec<LayerRow>, ReportError> {
    let rows = aggregate(
        cells.iter().map(|c| {
            (
                c.key.clone(),
                (c.layer.clone(), c.metric.clone()),
                c.game.clone(),
                c.seed,
                c.value,
            )
        }),
        bootstrap,
    )?;
    Ok(rows
        .into_iter()
        .map(|row| LayerRow {
            key: row.key,
            layer: row.metric.0,
            metric: row.metric.1,
            interval: row.interval,
            games: row.games,
            runs: row.runs,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(step: f64, layer: &str, metric: &str, value: f64) -> LayerPoint {
        LayerPoint {
            step,
            layer: layer.into(),
            metric: metric.into(),
            value,
        }
    }

    #[test]
    fn final_values_are_per_layer_and_metric_means_of_the_last_tenth() {
        let mut points = Vec::new();
        for i in 1..=20 {
            let step = f64::from(i) * 100.0;
            points.push(point(step, "conv1", "dead_fraction", f64::from(i)));
            points.push(point(step, "repr", "dead_fraction", 2.0 * f64::from(i)));
        }
        // Persistence is logged only where units are dead: its own last step counts.
        points.push(point(500.0, "repr", "dead_persistence", 0.5));
        points.push(point(600.0, "repr", "dead_persistence", 1.0));
        let finals = final_values(&points, 0.1);
        let get = |l: &str, m: &str| finals[&(l.to_string(), m.to_string())];
        assert_eq!(get("conv1", "dead_fraction"), (18.0 + 19.0 + 20.0) / 3.0);
        assert_eq!(get("repr", "dead_fraction"), 2.0 * 19.0);
        assert_eq!(get("repr", "dead_persistence"), 1.0);
    }

    #[test]
    fn the_file_is_read_with_its_errors_named() {
        let dir = std::env::temp_dir().join(format!("hrl-layers-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("diagnostics.csv");
        std::fs::write(
            &path,
            "step,layer,metric,value\n10,repr,srank,5\n20,repr,sr",
        )
        .unwrap();
        let points = read_points(&path, true).unwrap();
        assert_eq!(points, [point(10.0, "repr", "srank", 5.0)]);
        let err = read_points(&path, false).unwrap_err().to_string();
        assert!(err.contains("line 3"), "{err}");
        assert!(
            read_points(&dir.join("absent.csv"), false)
                .unwrap()
                .is_empty()
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
