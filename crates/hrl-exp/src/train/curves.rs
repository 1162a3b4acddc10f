//! The plot at the end of a run, drawn from its `metrics.csv` (so a resumed run plots its whole
//! history): returns (training and evaluation), dead fraction and srank against agent steps.

use std::path::Path;

use hrl_agents::Column;

use super::columns;
use crate::metrics::Table;
use hrl_report::atomic;

/// One line: its legend and `(agent step, value)` points.
type Series = (&'static str, Vec<(f64, f64)>);

/// The curves drawn at the end of a run: one panel each of returns, dead fraction and srank.
pub(super) struct Curves {
    panels: [(&'static str, Vec<Series>); 3],
}

impl Curves {
    /// The curves of a metrics table; rows without a value are skipped.
    pub(super) fn from_table(table: &Table) -> Curves {
        let points = |column: Column| -> Vec<(f64, f64)> {
            let (Some(steps), Some(values)) =
                (table.column(columns::STEP.name), table.column(column.name))
            else {
                return Vec::new();
            };
            steps
                .iter()
                .zip(values)
                .filter_map(|(step, value)| Some(((*step)?, value?)))
                .collect()
        };
        Curves {
            panels: [
                (
                    "return",
                    vec![
                        ("training", points(columns::EPISODIC_RETURN)),
                        ("evaluation", points(columns::EVAL_RETURN)),
                    ],
                ),
                ("dead fraction", vec![("", points(columns::DEAD_FRACTION))]),
                ("srank", vec![("", points(columns::SRANK))]),
            ],
        }
    }

    /// Draws the three panels into a 1200x400 PNG at `path` (written atomically).
    pub(super) fn draw(&self, path: &Path, title: &str) -> Result<(), String> {
        use plotters::prelude::*;
        hrl_report::plot::ensure_font();
        let temp = atomic::temp_path(path);
        {
            let root = BitMapBackend::new(&temp, (1200, 400)).into_drawing_area();
            root.fill(&WHITE).map_err(|e| e.to_string())?;
            let areas = root.split_evenly((1, 3));
            for (index, (area, (name, series))) in areas.iter().zip(&self.panels).enumerate() {
                let all = || series.iter().flat_map(|(_, points)| points.iter());
                let x_max = all().map(|p| p.0).fold(1.0, f64::max);
                let (y_min, y_max) = all()
                    .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), p| {
                        (lo.min(p.1), hi.max(p.1))
                    });
                let (y_min, y_max) = if y_min.is_finite() {
                    (
                        y_min.min(0.0),
                        (y_max + (y_max - y_min).abs() * 0.05).max(y_min + 1e-3),
                    )
                } else {
                    (0.0, 1.0)
                };
                let caption = if index == 0 {
                    format!("{title}: {name}")
                } else {
                    name.to_string()
                };
                let mut chart = ChartBuilder::on(area)
                    .caption(caption, ("sans-serif", 16))
                    .margin(10)
                    .x_label_area_size(30)
                    .y_label_area_size(45)
                    .build_cartesian_2d(0.0..x_max, y_min..y_max)
                    .map_err(|e| e.to_string())?;
                chart
                    .configure_mesh()
                    .x_desc("agent steps")
                    .x_labels(5)
                    .x_label_formatter(&|x| hrl_report::plot::human_count(*x))
                    .label_style(("sans-serif", 12))
                    .draw()
                    .map_err(|e| e.to_string())?;
                for (line, (legend, points)) in series.iter().enumerate() {
                    let colour = hrl_report::plot::colour(index + line);
                    let drawn = chart
                        .draw_series(LineSeries::new(
                            points.iter().copied(),
                            colour.stroke_width(2),
                        ))
                        .map_err(|e| e.to_string())?;
                    if !legend.is_empty() && !points.is_empty() {
                        drawn.label(*legend).legend(move |(x, y)| {
                            PathElement::new(vec![(x, y), (x + 15, y)], colour.stroke_width(2))
                        });
                    }
                }
                if series
                    .iter()
                    .filter(|(l, p)| !l.is_empty() && !p.is_empty())
                    .count()
                    > 1
                {
                    chart
                        .configure_series_labels()
                        .background_style(WHITE.mix(0.8))
                        .border_style(BLACK)
                        .label_font(("sans-serif", 12))
                        .draw()
                        .map_err(|e| e.to_string())?;
                }
            }
            root.present().map_err(|e| e.to_string())?;
        }
        std::fs::rename(&temp, path).map_err(|e| e.to_string())
    }
}
