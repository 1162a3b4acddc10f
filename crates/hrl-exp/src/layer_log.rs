//! A run's `diagnostics.csv`: the per-layer health ([`hrl_nn::health`]) of every diagnostics
//! point in long format, one row per `(step, layer, metric)`, and the same values in
//! TensorBoard as `layer/LAYER/METRIC`. It resumes as `metrics.csv` does: the rows after the
//! checkpoint's step are dropped.
//!
//! Dead persistence is computed here, from the dead units of the previous point, which the
//! training state carries across checkpoints.

use std::collections::BTreeMap;
use std::path::Path;

use hrl_nn::health::{LayerHealth, Metric, dead_persistence};
use hrl_report::run_dir::DIAGNOSTICS_FILE;

use crate::metrics::{MetricsCsv, MetricsError, ResumeReport};
use crate::tensorboard::EventWriter;

/// The columns of `diagnostics.csv`.
pub const DIAGNOSTICS_COLUMNS: [&str; 4] = ["step", "layer", "metric", "value"];

/// Writer of a run's `diagnostics.csv`.
pub struct LayerLog {
    csv: MetricsCsv,
}

impl LayerLog {
    /// Starts `dir/diagnostics.csv`, truncating any old one.
    pub fn create(dir: &Path) -> Result<LayerLog, MetricsError> {
        Ok(LayerLog {
            csv: MetricsCsv::create(&dir.join(DIAGNOSTICS_FILE), &DIAGNOSTICS_COLUMNS)?,
        })
    }

    /// Continues `dir/diagnostics.csv` after the checkpoint of `step`; a run folder written
    /// before the file existed gets a new one.
    pub fn resume(dir: &Path, step: u64) -> Result<(LayerLog, ResumeReport), MetricsError> {
        let path = dir.join(DIAGNOSTICS_FILE);
        if !path.is_file() {
            return Ok((LayerLog::create(dir)?, ResumeReport::default()));
        }
        let (csv, report) = MetricsCsv::resume(&path, &DIAGNOSTICS_COLUMNS, step)?;
        Ok((LayerLog { csv }, report))
    }

    /// Writes the health of every layer at `step`, with each layer's dead persistence against
    /// `previous_dead` (the last point's dead units, replaced by this point's).
    pub fn write(
        &mut self,
        step: u64,
        health: &[LayerHealth],
        previous_dead: &mut BTreeMap<String, Vec<bool>>,
        events: &mut EventWriter,
    ) -> Result<(), MetricsError> {
        let step_text = step.to_string();
        let mut scalars = Vec::new();
        for layer in health {
            let persistence = layer.dead_units.as_ref().and_then(|now| {
                previous_dead
                    .get(&layer.layer)
                    .and_then(|before| dead_persistence(now, before))
            });
            let values = layer
                .values
                .iter()
                .copied()
                .chain(persistence.map(|p| (Metric::DeadPersistence, p)));
            for (metric, value) in values {
                self.csv.write_fields(&[
                    &step_text,
                    &layer.layer,
                    metric.name(),
                    &value.to_string(),
                ])?;
                scalars.push((format!("layer/{}/{}", layer.layer, metric.name()), value));
            }
            match &layer.dead_units {
                Some(dead) => previous_dead.insert(layer.layer.clone(), dead.clone()),
                None => previous_dead.remove(&layer.layer),
            };
        }
        let tagged: Vec<(&str, f64)> = scalars.iter().map(|(t, v)| (t.as_str(), *v)).collect();
        if !tagged.is_empty() {
            events.add_scalars(&tagged, step as i64)?;
        }
        Ok(())
    }
}
