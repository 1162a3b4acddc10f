//! Errors of a report; each names the folder or file, and the line where one applies.

use std::path::PathBuf;

/// Errors of `hrl report`.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// A file or folder could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// No run folder below the folders given.
    #[error(
        "no run folders (folders with a config.toml) found below {roots}; give the folders `hrl train --out` wrote into"
    )]
    NoRuns {
        /// The folders searched, comma-separated.
        roots: String,
    },
    /// Two folders hold the same run.
    #[error("{first} and {second} both hold the run {run}; remove one or report them separately")]
    DuplicateRun {
        /// The run: `algo A, env E, repr R, seed S`.
        run: String,
        /// The folder found first.
        first: PathBuf,
        /// The folder found second.
        second: PathBuf,
    },
    /// A run's `config.toml` lacks a field or does not parse.
    #[error("{path}: {message}")]
    Config {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A CSV table (`metrics.csv`, `episodes.csv`, a baselines file) is malformed.
    #[error("{path}: line {line}: {message}")]
    Table {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// A JSON file (`summary.json`, a baselines file) is malformed.
    #[error("{path}: {message}")]
    Json {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// An option out of its range.
    #[error("{option}: {message}")]
    Option {
        /// The option, as the command line spells it.
        option: &'static str,
        /// What is wrong.
        message: String,
    },
    /// The random-policy baseline could not be measured.
    #[error(transparent)]
    RandomBaseline(#[from] crate::random_baseline::RandomBaselineError),
    /// The statistics refused a score matrix.
    #[error(transparent)]
    Stats(#[from] crate::stats::StatsError),
    /// A figure could not be drawn.
    #[error("drawing {path}: {message}")]
    Plot {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
}

impl ReportError {
    /// An [`ReportError::Io`] builder for `map_err`.
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> ReportError {
        let path = path.into();
        move |source| ReportError::Io { path, source }
    }
}
