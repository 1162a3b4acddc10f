//! Training runs: build the agent from a resolved config, train it, log every update to
//! `metrics.csv` and TensorBoard, run the representation diagnostics on a probe batch about
//! `log.diag_points` times, and finish with `summary.json` and a plot of the curves.
//!
//! A run folder holds `config.toml` (the resolved config; `hrl train --config` on it reproduces
//! the run), `metrics.csv`, `events.out.tfevents.*`, `curves.png` and, once the run is complete,
//! `summary.json`.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Instant;

use burn::tensor::Device;
use hrl_agents::pqn::Pqn;
use hrl_env::VecEnvConfig;
use hrl_nn::probe::ReprDiagnostics;

use crate::atomic;
use crate::metrics::{MetricsError, MetricsLog, STANDARD_COLUMNS};
use crate::train_config::TrainConfig;

/// Columns a training run logs beyond [`STANDARD_COLUMNS`]: the Hadamard branches, the
/// schedules, the gradient norm before clipping and wall-clock seconds.
pub const EXTRA_COLUMNS: [&str; 7] = [
    "dead_fraction_first",
    "dead_fraction_second",
    "branch_correlation",
    "epsilon",
    "learning_rate",
    "grad_norm",
    "wall_time",
];

/// Every column of a training run's `metrics.csv`.
pub fn columns() -> Vec<&'static str> {
    STANDARD_COLUMNS
        .iter()
        .chain(&EXTRA_COLUMNS)
        .copied()
        .collect()
}

/// Errors of a training run.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// The run folder already holds a run.
    #[error("{path} already holds a {state} run; choose another --out folder or remove it")]
    Occupied {
        /// The folder.
        path: PathBuf,
        /// `complete` or `partial`.
        state: &'static str,
    },
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
    /// Episodes finished.
    pub episodes: u64,
    /// Mean return of the last 10% of the episodes (at least one).
    pub final_return: Option<f64>,
    /// Wall-clock seconds.
    pub wall_seconds: f64,
    /// Agent steps per second.
    pub sps: f64,
    /// The last diagnostics.
    pub final_diagnostics: Option<ReprDiagnostics>,
}

/// Emulator frames per agent step of an environment family.
pub fn frames_per_step(env: &str) -> u64 {
    if env.starts_with("atari/") { 4 } else { 1 }
}

/// Trains `config` into the folder `out`, showing progress on a terminal.
pub fn train(config: &TrainConfig, out: &Path) -> Result<Summary, TrainError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| TrainError::Io { path, source }
    };
    for (file, state) in [("summary.json", "complete"), ("metrics.csv", "partial")] {
        if out.join(file).exists() {
            return Err(TrainError::Occupied {
                path: out.to_path_buf(),
                state,
            });
        }
    }
    std::fs::create_dir_all(out).map_err(io(out))?;
    let config_path = out.join("config.toml");
    atomic::write(&config_path, config.to_toml().as_bytes()).map_err(io(&config_path))?;

    let device: Device = config
        .device
        .parse::<hrl_nn::device::DeviceSpec>()?
        .device()?;
    let pqn_config = config
        .pqn
        .clone()
        .ok_or_else(|| hrl_agents::AgentError::config("pqn", "missing [pqn] table"))?;
    let spec = hrl_env::make(&config.env, &config.env_options())
        .map_err(hrl_agents::AgentError::from)?
        .spec()
        .clone();
    let network = config.network_config(&spec.observation_shape, spec.num_actions);
    let envs = VecEnvConfig {
        env_id: config.env.clone(),
        options: config.env_options(),
        num_envs: pqn_config.num_envs,
        seed: config.seed,
        num_threads: config.num_threads,
    };
    let total_steps = pqn_config.num_updates() * pqn_config.batch_size() as u64;
    let mut agent = Pqn::new(pqn_config, network, envs, &device, config.seed)?;
    let mut log = MetricsLog::create(out, &columns())?;
    log.events().add_text("config", &config.to_toml(), 0)?;

    let frames_per_step = frames_per_step(&config.env);
    let diag_interval = (total_steps / config.log.diag_points).max(1);
    let mut next_diag = 0u64;
    let progress = Progress::new(total_steps);
    let start = Instant::now();
    let mut returns: Vec<f64> = Vec::new();
    let mut curves = Curves::default();
    let mut last_diag = None;
    while agent.updates_done() < agent.config().num_updates() {
        let update = agent.update()?;
        let step = agent.steps_done();
        let wall = start.elapsed().as_secs_f64();
        let mut row: Vec<(&str, f64)> = vec![
            ("step", step as f64),
            ("frames", (step * frames_per_step) as f64),
            ("sps", step as f64 / wall.max(1e-9)),
            ("loss", update.loss),
            ("epsilon", update.epsilon),
            ("learning_rate", update.learning_rate),
            ("grad_norm", update.grad_norm),
            ("wall_time", wall),
        ];
        if !update.episodes.is_empty() {
            let n = update.episodes.len() as f64;
            let mean_return = update
                .episodes
                .iter()
                .map(|e| e.episodic_return)
                .sum::<f64>()
                / n;
            let mean_length = update
                .episodes
                .iter()
                .map(|e| e.episodic_length as f64)
                .sum::<f64>()
                / n;
            returns.extend(update.episodes.iter().map(|e| e.episodic_return));
            row.push(("episodic_return", mean_return));
            row.push(("episodic_length", mean_length));
            curves.returns.push((step as f64, mean_return));
        }
        row.push(("episodes", returns.len() as f64));
        if step >= next_diag || agent.updates_done() == agent.config().num_updates() {
            let diag = agent.probe(config.log.probe_size, &config.log.diag)?;
            push_diagnostics(&mut row, &diag);
            if let Some(dead) = diag.output.dead_fraction {
                curves.dead.push((step as f64, dead));
            }
            curves.srank.push((step as f64, diag.output.srank as f64));
            last_diag = Some(diag);
            next_diag = step + diag_interval;
        }
        log.write_named(&row)?;
        progress.update(step, recent_mean(&returns, 20));
    }
    log.flush()?;
    progress.finish();

    let steps = agent.steps_done();
    let wall_seconds = start.elapsed().as_secs_f64();
    let tail = (returns.len() / 10).max(1);
    let summary = Summary {
        algo: config.algo.clone(),
        env: config.env.clone(),
        repr: config.repr.to_string(),
        seed: config.seed,
        steps,
        frames: steps * frames_per_step,
        episodes: returns.len() as u64,
        final_return: (!returns.is_empty()).then(|| recent_mean(&returns, tail)),
        wall_seconds,
        sps: steps as f64 / wall_seconds.max(1e-9),
        final_diagnostics: last_diag,
    };
    let curves_path = out.join("curves.png");
    curves
        .draw(
            &curves_path,
            &format!("{} {} {}", config.algo, config.env, config.repr),
        )
        .map_err(|message| TrainError::Plot {
            path: curves_path.clone(),
            message,
        })?;
    let summary_path = out.join("summary.json");
    let json = serde_json::to_string_pretty(&summary).unwrap_or_default();
    atomic::write(&summary_path, json.as_bytes()).map_err(io(&summary_path))?;
    Ok(summary)
}

fn push_diagnostics(row: &mut Vec<(&str, f64)>, diag: &ReprDiagnostics) {
    row.push(("dormant_fraction", diag.output.dormant_fraction));
    row.push(("srank", diag.output.srank as f64));
    row.push(("erank", diag.output.erank));
    let optional = [
        ("dead_fraction", diag.output.dead_fraction),
        ("dead_fraction_first", diag.first_dead_fraction),
        ("dead_fraction_second", diag.second_dead_fraction),
        ("branch_correlation", diag.branch_correlation),
    ];
    row.extend(optional.into_iter().filter_map(|(k, v)| v.map(|v| (k, v))));
}

fn recent_mean(values: &[f64], count: usize) -> f64 {
    let tail = &values[values.len().saturating_sub(count)..];
    if tail.is_empty() {
        f64::NAN
    } else {
        tail.iter().sum::<f64>() / tail.len() as f64
    }
}

/// A progress bar on a terminal, a log line every 5% otherwise.
struct Progress {
    bar: Option<indicatif::ProgressBar>,
    total: u64,
    start: Instant,
    next_line: std::cell::Cell<u64>,
}

impl Progress {
    fn new(total: u64) -> Progress {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = indicatif::ProgressBar::new(total);
            let style = indicatif::ProgressStyle::with_template(
                "{bar:30} {pos}/{len} steps  {msg}  eta {eta}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
            bar.set_style(style);
            bar
        });
        Progress {
            bar,
            total,
            start: Instant::now(),
            next_line: std::cell::Cell::new(0),
        }
    }

    fn update(&self, step: u64, recent_return: f64) {
        let sps = step as f64 / self.start.elapsed().as_secs_f64().max(1e-9);
        match &self.bar {
            Some(bar) => {
                bar.set_position(step);
                bar.set_message(format!("{sps:.0} sps  return {recent_return:.2}"));
            }
            None if step >= self.next_line.get() => {
                tracing::info!(
                    "step {step}/{} ({:.0}%), {sps:.0} sps, recent return {recent_return:.2}",
                    self.total,
                    100.0 * step as f64 / self.total as f64
                );
                self.next_line.set(step + self.total / 20);
            }
            None => {}
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// `1.5M`, `200k`, `950`.
pub(crate) fn human_count(x: f64) -> String {
    match x.abs() {
        v if v >= 1e6 => format!("{:.1}M", x / 1e6),
        v if v >= 1e3 => format!("{:.0}k", x / 1e3),
        _ => format!("{x:.0}"),
    }
}

/// The curves drawn at the end of a run.
#[derive(Default)]
struct Curves {
    returns: Vec<(f64, f64)>,
    dead: Vec<(f64, f64)>,
    srank: Vec<(f64, f64)>,
}

impl Curves {
    fn draw(&self, path: &Path, title: &str) -> Result<(), String> {
        use plotters::prelude::*;
        crate::plot::ensure_font();
        let temp = atomic::temp_path(path);
        {
            let root = BitMapBackend::new(&temp, (1200, 400)).into_drawing_area();
            root.fill(&WHITE).map_err(|e| e.to_string())?;
            let panels = root.split_evenly((1, 3));
            let series = [
                ("episodic return", &self.returns),
                ("dead fraction", &self.dead),
                ("srank", &self.srank),
            ];
            for (index, (panel, (name, points))) in panels.iter().zip(series).enumerate() {
                let x_max = points.iter().map(|p| p.0).fold(1.0, f64::max);
                let (y_min, y_max) = points
                    .iter()
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
                let mut chart = ChartBuilder::on(panel)
                    .caption(
                        if index == 0 {
                            format!("{title}: {name}")
                        } else {
                            name.to_string()
                        },
                        ("sans-serif", 16),
                    )
                    .margin(10)
                    .x_label_area_size(30)
                    .y_label_area_size(45)
                    .build_cartesian_2d(0.0..x_max, y_min..y_max)
                    .map_err(|e| e.to_string())?;
                chart
                    .configure_mesh()
                    .x_desc("agent steps")
                    .x_labels(5)
                    .x_label_formatter(&|x| human_count(*x))
                    .label_style(("sans-serif", 12))
                    .draw()
                    .map_err(|e| e.to_string())?;
                chart
                    .draw_series(LineSeries::new(
                        points.iter().copied(),
                        crate::plot::colour(index).stroke_width(2),
                    ))
                    .map_err(|e| e.to_string())?;
            }
            root.present().map_err(|e| e.to_string())?;
        }
        std::fs::rename(&temp, path).map_err(|e| e.to_string())
    }
}
