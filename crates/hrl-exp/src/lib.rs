//! Experiments for hadamard-rl: training runs and sweeps of them.
//!
//! | module | job |
//! |---|---|
//! | [`train`] | a run: its config ([`train::config`], presets and `--set`), the agent it builds, the loop, checkpoints and their manifests, resume |
//! | [`metrics`], [`tensorboard`] | what a run logs: `metrics.csv` and TensorBoard event files |
//! | [`sweep`] | grids of runs: the sweep file, local and Slurm execution, status, archives |
//! | [`evaluate`], [`recording`] | `hrl eval` and its GIF recordings |
//! | [`features_csv`] | `hrl diagnose`'s input: a features matrix from CSV |
//! | [`toy`] | the toy experiment: shallow networks fitting a 1-D function (the paper's expressivity figure) |
//! | [`file_tail`] | the last lines of a log, for status and failure reports |
//!
//! The run folder's layout and everything offline (reports, statistics, figures) live in
//! `hrl-report`, which builds without burn.

pub mod evaluate;
pub mod features_csv;
pub mod file_tail;
pub mod layer_log;
pub mod metrics;
pub mod recording;
pub mod sweep;
pub mod tensorboard;
pub mod toy;
pub mod train;
