//! The report's figures, each as PNG and SVG under `OUT/figures/`: learning curves per game,
//! representation diagnostics per suite, IQM bars and performance profiles per suite and score.
//! Complete runs only; one colour per algorithm x representation, the same in every figure.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::prelude::*;

use super::aggregates::{Metric, ScoreKind};
use super::curves::{BandPoint, StepGrid, band};
use super::health::HealthMetric;
use super::run_data::DiagnosticsPoint;
use super::{Report, ReportError, ReportRun};
use crate::stats::Interval;
use crate::{atomic, plot};

/// Folder of the figures inside the output folder.
pub const FIGURES_DIR: &str = "figures";

/// What a figure shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FigureKind {
    /// Training return of one game over agent steps.
    LearningCurves {
        /// Environment id.
        env: String,
    },
    /// Dead fraction, srank and erank over agent steps, averaged over the games of a suite.
    Diagnostics {
        /// Environment family.
        suite: String,
    },
    /// One per-layer metric over agent steps, a panel per hidden layer and Hadamard branch,
    /// averaged over the games of a suite.
    Layers {
        /// Environment family.
        suite: String,
        /// The metric of `diagnostics.csv`.
        metric: String,
    },
    /// IQM with its interval per algorithm x representation.
    Iqm {
        /// Environment family.
        suite: String,
        /// Which score.
        kind: ScoreKind,
    },
    /// Performance profiles.
    Profiles {
        /// Environment family.
        suite: String,
        /// Which score.
        kind: ScoreKind,
    },
}

/// A figure written to disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrittenFigure {
    /// What it shows.
    pub kind: FigureKind,
    /// Its path inside the output folder, without extension (`figures/iqm-minatar-final`).
    pub stem: String,
    /// One line saying what it shows.
    pub caption: String,
}

impl WrittenFigure {
    /// The PNG's path inside the output folder.
    pub fn png(&self) -> String {
        format!("{}.png", self.stem)
    }

    /// The files, below `out`.
    pub fn files(&self, out: &Path) -> Vec<PathBuf> {
        ["png", "svg"]
            .iter()
            .map(|ext| out.join(format!("{}.{ext}", self.stem)))
            .collect()
    }
}

/// Draws every figure of `report` into `out/figures`.
pub fn write_figures(report: &Report, out: &Path) -> Result<Vec<WrittenFigure>, ReportError> {
    let colours = Colours::new(report);
    let mut written = Vec::new();
    let envs: BTreeSet<&str> = report
        .complete()
        .map(|r| r.run.identity.env.as_str())
        .collect();
    for env in envs {
        let runs: Vec<&ReportRun> = report
            .complete()
            .filter(|r| r.run.identity.env == env)
            .collect();
        let grid = StepGrid::new(
            max_of(
                runs.iter()
                    .flat_map(|r| r.data.episodes.iter().map(|e| e.step)),
            ),
            report.options.curve_bins,
        );
        let series = colours.series(
            &runs,
            |run| {
                grid.bin_run(
                    run.data
                        .episodes
                        .iter()
                        .map(|e| (e.step, e.mean_return, e.count)),
                )
            },
            &grid,
        );
        let chart = BandChart {
            title: format!("{env}: training return"),
            x_label: "agent steps".into(),
            y_label: "episodic return".into(),
            steps_axis: true,
            series,
        };
        let figure = WrittenFigure {
            kind: FigureKind::LearningCurves {
                env: env.to_string(),
            },
            stem: format!("{FIGURES_DIR}/curves-{}", slug(env)),
            caption: format!(
                "{env}: training return over agent steps, mean over seeds with a 95% band"
            ),
        };
        save(&Panels(vec![chart]), (900, 560), out, &figure.stem)?;
        written.push(figure);
    }
    for suite in report.suites() {
        let runs: Vec<&ReportRun> = report.complete().filter(|r| r.suite == suite).collect();
        let grid = StepGrid::new(
            max_of(
                runs.iter()
                    .flat_map(|r| r.data.diagnostics.iter().map(|d| d.step)),
            ),
            report.options.curve_bins,
        );
        type Pick = fn(&DiagnosticsPoint) -> Option<f64>;
        let panels: [(&str, Pick); 3] = [
            ("dead fraction", |d| d.get(HealthMetric::DeadFraction)),
            ("srank", |d| d.get(HealthMetric::Srank)),
            ("erank", |d| d.get(HealthMetric::Erank)),
        ];
        let charts = panels
            .iter()
            .map(|(name, pick)| BandChart {
                title: format!("{suite}: {name}"),
                x_label: "agent steps".into(),
                y_label: name.to_string(),
                steps_axis: true,
                series: colours.series(
                    &runs,
                    |run| {
                        grid.bin_run(
                            run.data
                                .diagnostics
                                .iter()
                                .filter_map(|d| pick(d).map(|v| (d.step, v, 1.0))),
                        )
                    },
                    &grid,
                ),
            })
            .collect();
        let figure = WrittenFigure {
            kind: FigureKind::Diagnostics {
                suite: suite.clone(),
            },
            stem: format!("{FIGURES_DIR}/diagnostics-{}", slug(&suite)),
            caption: format!(
                "{suite}: representation diagnostics over agent steps, mean over games and seeds with a 95% band"
            ),
        };
        save(&Panels(charts), (1500, 460), out, &figure.stem)?;
        written.push(figure);
    }
    written.extend(layer_figures(report, &colours, out)?);
    written.extend(aggregate_figures(report, &colours, out)?);
    Ok(written)
}

/// The per-layer metrics drawn over agent steps (every metric is in `layers.csv`).
pub const LAYER_FIGURE_METRICS: [&str; 3] =
    ["dead_fraction", "dormant_fraction", "distance_from_init"];

fn layer_figures(
    report: &Report,
    colours: &Colours,
    out: &Path,
) -> Result<Vec<WrittenFigure>, ReportError> {
    let mut written = Vec::new();
    for suite in report.suites() {
        let runs: Vec<&ReportRun> = report
            .complete()
            .filter(|r| r.suite == suite && !r.data.layers.is_empty())
            .collect();
        if runs.is_empty() {
            continue;
        }
        let layers: BTreeSet<&str> = runs
            .iter()
            .flat_map(|r| r.data.layers.iter().map(|p| p.layer.as_str()))
            .collect();
        let grid = StepGrid::new(
            max_of(
                runs.iter()
                    .flat_map(|r| r.data.layers.iter().map(|p| p.step)),
            ),
            report.options.curve_bins,
        );
        for metric in LAYER_FIGURE_METRICS {
            let charts: Vec<BandChart> = layers
                .iter()
                .map(|&layer| BandChart {
                    title: format!("{suite}: {layer}"),
                    x_label: "agent steps".into(),
                    y_label: metric.replace('_', " "),
                    steps_axis: true,
                    series: colours.series(
                        &runs,
                        |run| {
                            grid.bin_run(
                                run.data
                                    .layers
                                    .iter()
                                    .filter(|p| p.layer == layer && p.metric == metric)
                                    .map(|p| (p.step, p.value, 1.0)),
                            )
                        },
                        &grid,
                    ),
                })
                .filter(|chart| !chart.series.is_empty())
                .collect();
            if charts.is_empty() {
                continue;
            }
            let figure = WrittenFigure {
                kind: FigureKind::Layers {
                    suite: suite.clone(),
                    metric: metric.to_string(),
                },
                stem: format!("{FIGURES_DIR}/layers-{}-{metric}", slug(&suite)),
                caption: format!(
                    "{suite}: {} of every hidden layer and Hadamard branch over agent steps, mean over games and seeds with a 95% band",
                    metric.replace('_', " ")
                ),
            };
            let width = 420 * charts.len() as u32 + 120;
            save(&Panels(charts), (width, 460), out, &figure.stem)?;
            written.push(figure);
        }
    }
    Ok(written)
}

fn aggregate_figures(
    report: &Report,
    colours: &Colours,
    out: &Path,
) -> Result<Vec<WrittenFigure>, ReportError> {
    let mut written = Vec::new();
    let keys: BTreeSet<(String, ScoreKind)> = report
        .aggregates
        .groups
        .iter()
        .map(|g| (g.key.suite.clone(), g.key.kind))
        .collect();
    for (suite, kind) in keys {
        let unit = unit(report, &suite);
        let bars: Vec<(String, RGBColor, Interval)> = report
            .aggregates
            .aggregates
            .iter()
            .filter(|a| a.key.suite == suite && a.key.kind == kind && a.metric == Metric::Iqm)
            .map(|a| {
                let (label, colour) = colours.of(&a.key.algo, &a.key.repr);
                (label, colour, a.interval)
            })
            .collect();
        let figure = WrittenFigure {
            kind: FigureKind::Iqm {
                suite: suite.clone(),
                kind,
            },
            stem: format!("{FIGURES_DIR}/iqm-{}-{}", slug(&suite), kind.name()),
            caption: format!(
                "{suite}: IQM of the {} scores ({unit}) with 95% stratified-bootstrap intervals",
                kind.name()
            ),
        };
        let bars = IntervalBars {
            title: format!("{suite}: IQM of {} scores", kind.name()),
            y_label: format!("IQM ({unit})"),
            bars,
        };
        save(&bars, (900, 560), out, &figure.stem)?;
        written.push(figure);

        let series: Vec<Series> = report
            .aggregates
            .profiles
            .iter()
            .filter(|p| p.key.suite == suite && p.key.kind == kind)
            .map(|p| {
                let (label, colour) = colours.of(&p.key.algo, &p.key.repr);
                let points = p
                    .taus
                    .iter()
                    .zip(&p.fractions)
                    .map(|(&tau, f)| BandPoint {
                        step: tau,
                        mean: f.point,
                        low: f.lower,
                        high: f.upper,
                        runs: 0,
                    })
                    .collect();
                Series {
                    label,
                    colour,
                    points,
                }
            })
            .collect();
        let figure = WrittenFigure {
            kind: FigureKind::Profiles {
                suite: suite.clone(),
                kind,
            },
            stem: format!("{FIGURES_DIR}/profiles-{}-{}", slug(&suite), kind.name()),
            caption: format!(
                "{suite}: performance profiles of the {} scores, fraction of runs above each threshold with 95% intervals",
                kind.name()
            ),
        };
        let chart = BandChart {
            title: format!("{suite}: performance profiles ({} scores)", kind.name()),
            x_label: format!("threshold τ ({unit})"),
            y_label: "fraction of runs with score > τ".into(),
            steps_axis: false,
            series,
        };
        save(&Panels(vec![chart]), (900, 560), out, &figure.stem)?;
        written.push(figure);
    }
    Ok(written)
}

/// The unit of a suite's normalised scores, for axis labels.
pub fn unit(report: &Report, suite: &str) -> &'static str {
    let mut normalisations = report
        .normalisations
        .iter()
        .filter(|(env, _)| super::env_family(env) == suite)
        .map(|(_, n)| n);
    if normalisations.any(|n| n.is_raw()) {
        "raw score"
    } else if suite == "atari" {
        "human-normalised"
    } else {
        "normalised score"
    }
}

/// `minatar/space_invaders` -> `minatar-space_invaders`.
fn slug(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

fn max_of(values: impl Iterator<Item = f64>) -> f64 {
    values.fold(1.0, f64::max)
}

/// One colour and label per algorithm x representation of the complete runs.
struct Colours {
    index: BTreeMap<(String, String), usize>,
    one_algo: bool,
}

impl Colours {
    fn new(report: &Report) -> Colours {
        let keys: BTreeSet<(String, String)> = report
            .complete()
            .map(|r| (r.run.identity.algo.clone(), r.run.identity.repr.clone()))
            .collect();
        let one_algo = keys.iter().map(|(a, _)| a).collect::<BTreeSet<_>>().len() <= 1;
        Colours {
            index: keys.into_iter().enumerate().map(|(i, k)| (k, i)).collect(),
            one_algo,
        }
    }

    fn of(&self, algo: &str, repr: &str) -> (String, RGBColor) {
        let index = self
            .index
            .get(&(algo.to_string(), repr.to_string()))
            .copied()
            .unwrap_or(0);
        let label = if self.one_algo {
            repr.to_string()
        } else {
            format!("{algo} {repr}")
        };
        (label, plot::colour(index))
    }

    /// One series per algorithm x representation of `runs`: each run binned by `bin`, then
    /// averaged with a band.
    fn series(
        &self,
        runs: &[&ReportRun],
        bin: impl Fn(&ReportRun) -> Vec<Option<f64>>,
        grid: &StepGrid,
    ) -> Vec<Series> {
        let mut grouped: BTreeMap<(String, String), Vec<Vec<Option<f64>>>> = BTreeMap::new();
        for run in runs {
            let key = (run.run.identity.algo.clone(), run.run.identity.repr.clone());
            grouped.entry(key).or_default().push(bin(run));
        }
        grouped
            .into_iter()
            .map(|((algo, repr), binned)| {
                let (label, colour) = self.of(&algo, &repr);
                Series {
                    label,
                    colour,
                    points: band(grid, &binned),
                }
            })
            .filter(|s| !s.points.is_empty())
            .collect()
    }
}

/// A line with its band.
struct Series {
    label: String,
    colour: RGBColor,
    points: Vec<BandPoint>,
}

/// Lines with bands on one set of axes.
struct BandChart {
    title: String,
    x_label: String,
    y_label: String,
    /// Whether x counts agent steps (labels `200k`, `1.5M`, axis from 0, legend upper left
    /// where rising curves leave room); otherwise the legend goes upper right.
    steps_axis: bool,
    series: Vec<Series>,
}

/// Charts side by side.
struct Panels(Vec<BandChart>);

/// Bars with interval whiskers.
struct IntervalBars {
    title: String,
    y_label: String,
    bars: Vec<(String, RGBColor, Interval)>,
}

/// Something that draws on any plotters backend.
trait Figure {
    fn draw<B: DrawingBackend>(&self, area: &DrawingArea<B, Shift>) -> Result<(), String>
    where
        B::ErrorType: 'static;
}

/// Draws `figure` to `out/STEM.png` and `out/STEM.svg`, each atomically.
fn save(figure: &impl Figure, size: (u32, u32), out: &Path, stem: &str) -> Result<(), ReportError> {
    plot::ensure_font();
    for ext in ["png", "svg"] {
        let path = out.join(format!("{stem}.{ext}"));
        let temp = atomic::temp_path(&path);
        let drawn = if ext == "svg" {
            figure.draw(&SVGBackend::new(&temp, size).into_drawing_area())
        } else {
            figure.draw(&BitMapBackend::new(&temp, size).into_drawing_area())
        };
        if let Err(message) = drawn {
            let _ = std::fs::remove_file(&temp);
            return Err(ReportError::Plot { path, message });
        }
        std::fs::rename(&temp, &path).map_err(ReportError::io(&path))?;
    }
    Ok(())
}

fn padded(lo: f64, hi: f64) -> (f64, f64) {
    if !(lo.is_finite() && hi.is_finite()) {
        return (0.0, 1.0);
    }
    if hi - lo < 1e-12 {
        return (lo - 0.5, hi + 0.5);
    }
    let pad = (hi - lo) * 0.05;
    (lo - pad, hi + pad)
}

impl Figure for Panels {
    fn draw<B: DrawingBackend>(&self, area: &DrawingArea<B, Shift>) -> Result<(), String>
    where
        B::ErrorType: 'static,
    {
        area.fill(&WHITE).map_err(|e| e.to_string())?;
        let panels = area.split_evenly((1, self.0.len().max(1)));
        for (chart, panel) in self.0.iter().zip(&panels) {
            chart.draw_on(panel)?;
        }
        area.present().map_err(|e| e.to_string())
    }
}

impl BandChart {
    fn draw_on<B: DrawingBackend>(&self, area: &DrawingArea<B, Shift>) -> Result<(), String>
    where
        B::ErrorType: 'static,
    {
        let text = |e: DrawingAreaErrorKind<B::ErrorType>| e.to_string();
        let points = || self.series.iter().flat_map(|s| s.points.iter());
        let x_lo = if self.steps_axis {
            0.0
        } else {
            points().map(|p| p.step).fold(f64::INFINITY, f64::min)
        };
        let x_hi = points().map(|p| p.step).fold(f64::NEG_INFINITY, f64::max);
        let (x_lo, x_hi) = if x_hi > x_lo {
            (x_lo, x_hi)
        } else {
            (0.0, 1.0)
        };
        let (y_lo, y_hi) = padded(
            points().map(|p| p.low).fold(f64::INFINITY, f64::min),
            points().map(|p| p.high).fold(f64::NEG_INFINITY, f64::max),
        );
        let mut chart = ChartBuilder::on(area)
            .caption(&self.title, ("sans-serif", 18))
            .margin(14)
            .x_label_area_size(42)
            .y_label_area_size(58)
            .build_cartesian_2d(x_lo..x_hi, y_lo..y_hi)
            .map_err(text)?;
        let steps_axis = self.steps_axis;
        let x_format = move |x: &f64| {
            if steps_axis {
                crate::plot::human_count(*x)
            } else {
                format!("{x:.2}")
            }
        };
        chart
            .configure_mesh()
            .x_desc(&self.x_label)
            .y_desc(&self.y_label)
            .x_labels(6)
            .x_label_formatter(&x_format)
            .label_style(("sans-serif", 13))
            .axis_desc_style(("sans-serif", 14))
            .draw()
            .map_err(text)?;
        for series in &self.series {
            let colour = series.colour;
            if series.points.len() > 1 {
                let outline: Vec<(f64, f64)> = series
                    .points
                    .iter()
                    .map(|p| (p.step, p.high))
                    .chain(series.points.iter().rev().map(|p| (p.step, p.low)))
                    .collect();
                chart
                    .draw_series(std::iter::once(Polygon::new(
                        outline,
                        colour.mix(0.18).filled(),
                    )))
                    .map_err(text)?;
            }
            chart
                .draw_series(LineSeries::new(
                    series.points.iter().map(|p| (p.step, p.mean)),
                    colour.stroke_width(2),
                ))
                .map_err(text)?
                .label(&series.label)
                .legend(move |(x, y)| {
                    PathElement::new([(x, y), (x + 20, y)], colour.stroke_width(2))
                });
            if series.points.len() == 1 {
                chart
                    .draw_series(
                        series
                            .points
                            .iter()
                            .map(|p| Circle::new((p.step, p.mean), 4, colour.filled())),
                    )
                    .map_err(text)?;
            }
        }
        if !self.series.is_empty() {
            chart
                .configure_series_labels()
                .label_font(("sans-serif", 13))
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK)
                .position(if self.steps_axis {
                    SeriesLabelPosition::UpperLeft
                } else {
                    SeriesLabelPosition::UpperRight
                })
                .draw()
                .map_err(text)?;
        }
        Ok(())
    }
}

impl Figure for IntervalBars {
    fn draw<B: DrawingBackend>(&self, area: &DrawingArea<B, Shift>) -> Result<(), String>
    where
        B::ErrorType: 'static,
    {
        let text = |e: DrawingAreaErrorKind<B::ErrorType>| e.to_string();
        area.fill(&WHITE).map_err(text)?;
        let n = self.bars.len().max(1);
        let lo = self
            .bars
            .iter()
            .map(|b| b.2.lower.min(b.2.point))
            .fold(0.0, f64::min);
        let hi = self
            .bars
            .iter()
            .map(|b| b.2.upper.max(b.2.point))
            .fold(0.0, f64::max);
        let (y_lo, y_hi) = padded(lo, hi);
        let y_lo = if lo >= 0.0 { 0.0 } else { y_lo };
        let mut chart = ChartBuilder::on(area)
            .caption(&self.title, ("sans-serif", 20))
            .margin(16)
            .x_label_area_size(42)
            .y_label_area_size(62)
            .build_cartesian_2d((0i32..n as i32 - 1).into_segmented(), y_lo..y_hi)
            .map_err(text)?;
        let labels: Vec<String> = self.bars.iter().map(|b| b.0.clone()).collect();
        let x_format = move |x: &SegmentValue<i32>| match x {
            SegmentValue::CenterOf(i) => usize::try_from(*i)
                .ok()
                .and_then(|i| labels.get(i).cloned())
                .unwrap_or_default(),
            _ => String::new(),
        };
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_label_formatter(&x_format)
            .y_desc(&self.y_label)
            .label_style(("sans-serif", 14))
            .axis_desc_style(("sans-serif", 15))
            .draw()
            .map_err(text)?;
        for (i, (_, colour, interval)) in (0i32..).zip(&self.bars) {
            let mut bar = Rectangle::new(
                [
                    (SegmentValue::Exact(i), 0.0),
                    (SegmentValue::Exact(i + 1), interval.point),
                ],
                colour.mix(0.75).filled(),
            );
            bar.set_margin(0, 0, 30, 30);
            chart.draw_series(std::iter::once(bar)).map_err(text)?;
            let centre = || SegmentValue::CenterOf(i);
            let whisker = BLACK.stroke_width(2);
            chart
                .draw_series([PathElement::new(
                    [(centre(), interval.lower), (centre(), interval.upper)],
                    whisker,
                )])
                .map_err(text)?;
            chart
                .draw_series([interval.lower, interval.upper].map(|end| {
                    EmptyElement::at((centre(), end)) + PathElement::new([(-8, 0), (8, 0)], whisker)
                }))
                .map_err(text)?;
        }
        area.present().map_err(text)
    }
}
