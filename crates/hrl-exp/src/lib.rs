//! Experiments for hadamard-rl: run directories, metrics, checkpoints, sweeps, statistics, plots
//! and reports.

pub mod atomic;
pub mod evaluate;
pub mod features_csv;
pub mod file_tail;
pub mod metrics;
pub mod plot;
pub mod random_baseline;
pub mod recording;
pub mod report;
pub mod run_dir;
pub mod stats;
pub mod sweep;
pub mod sweep_archive;
pub mod sweep_local;
pub mod sweep_run;
pub mod sweep_slurm;
pub mod sweep_status;
pub mod tensorboard;
pub mod toy;
pub mod train;
pub mod train_config;
