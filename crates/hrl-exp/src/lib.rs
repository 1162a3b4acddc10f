//! Experiments for hadamard-rl: run directories, metrics, checkpoints, sweeps, statistics, plots and reports.
