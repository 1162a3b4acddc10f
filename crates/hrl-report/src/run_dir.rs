//! A training run's folder: where its files go, what state it is in, and a lock so that two
//! processes never train into the same folder.
//!
//! ```text
//! RUN/config.toml          resolved configuration (written atomically)
//! RUN/metrics.csv          one row per log point (crate::metrics)
//! RUN/events.out.tfevents.* TensorBoard scalars (crate::tensorboard)
//! RUN/checkpoints/step-N   checkpoint after agent step N (file or folder, with any extension)
//! RUN/summary.json         final summary; its presence marks the run complete (atomic)
//! RUN/run.lock             locked (flock) by the process training into the folder; pid and host inside
//! RUN/failed.json          how the last attempt failed, written by the sweep runner
//! ```

use std::fs;
use std::io::{self, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::atomic;

/// The metrics table of a run folder.
pub const METRICS_FILE: &str = "metrics.csv";

/// The per-layer health of a run folder, long format: `step, layer, metric, value`.
pub const DIAGNOSTICS_FILE: &str = "diagnostics.csv";

/// The record of a run's failure; removed when the run succeeds.
pub const FAILURE_FILE: &str = "failed.json";

/// What a failed run leaves in `failed.json`.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FailureRecord {
    /// The last attempt's exit code (`None` if a signal ended it; `0` if it exited cleanly
    /// without writing `summary.json`).
    pub exit_code: Option<i32>,
    /// The signal that ended the last attempt, if one did.
    pub signal: Option<i32>,
    /// Attempts made by the sweep invocation that gave up.
    pub attempts: u32,
    /// When it gave up, in seconds since the Unix epoch.
    pub failed_at_unix_s: u64,
}

impl FailureRecord {
    /// `exit code 1`, `signal 9`, or `exit code 0 without summary.json`.
    pub fn describe_exit(&self) -> String {
        match (self.exit_code, self.signal) {
            (Some(0), _) => "exit code 0 without summary.json".to_string(),
            (Some(code), _) => format!("exit code {code}"),
            (None, Some(signal)) => format!("signal {signal}"),
            (None, None) => "unknown exit".to_string(),
        }
    }
}

/// The failure record of a run folder, if there is a readable one.
pub fn read_failure_record(run_dir: &Path) -> Option<FailureRecord> {
    let text = fs::read_to_string(run_dir.join(FAILURE_FILE)).ok()?;
    serde_json::from_str(&text).ok()
}

/// Errors of run folders.
#[derive(Debug, thiserror::Error)]
pub enum RunDirError {
    #[error("{path}: {cause}")]
    Io { path: PathBuf, cause: io::Error },
    #[error("{root} is a file, not a folder; --out takes a folder for the run")]
    NotAFolder { root: PathBuf },
    #[error(
        "{root} holds a complete run (summary.json exists); choose another folder or remove it"
    )]
    Complete { root: PathBuf },
    #[error(
        "{root} holds a partial run with a checkpoint at step {step}; continue it with `hrl train --resume {root}`, or remove it"
    )]
    Partial { root: PathBuf, step: u64 },
    #[error("{root} has no checkpoint to resume from")]
    NothingToResume { root: PathBuf },
    #[error("{root} is already complete; nothing to resume")]
    AlreadyComplete { root: PathBuf },
    #[error(
        "{lock} is held by {holder}, which is training into this folder; wait for it or stop it"
    )]
    Locked { lock: PathBuf, holder: String },
    #[error("writing {path}: {cause}")]
    Json {
        path: PathBuf,
        cause: serde_json::Error,
    },
}

/// What a run folder holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunState {
    /// No folder, or an empty one.
    Missing,
    /// Files but no checkpoint and no summary: nothing to resume from.
    Fresh,
    /// At least one checkpoint and no summary: resumable.
    Partial { last_checkpoint_step: u64 },
    /// `summary.json` exists.
    Complete,
}

/// The paths of a run folder; no file is touched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunPaths {
    root: PathBuf,
}

impl RunPaths {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        RunPaths { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn config(&self) -> PathBuf {
        self.root.join("config.toml")
    }

    pub fn metrics(&self) -> PathBuf {
        self.root.join(METRICS_FILE)
    }

    pub fn checkpoints(&self) -> PathBuf {
        self.root.join("checkpoints")
    }

    /// Where the checkpoint after agent step `step` goes: `checkpoints/step-<step>` (add an
    /// extension if the format wants one).
    pub fn checkpoint(&self, step: u64) -> PathBuf {
        self.checkpoints().join(format!("step-{step}"))
    }

    pub fn summary(&self) -> PathBuf {
        self.root.join("summary.json")
    }

    pub fn lock(&self) -> PathBuf {
        self.root.join("run.lock")
    }

    /// The latest checkpoint: its step and path. Names must be `step-<N>` with an optional
    /// `.<extension>`; hidden files (unfinished atomic writes) and other names are ignored.
    pub fn last_checkpoint(&self) -> Result<Option<(u64, PathBuf)>, RunDirError> {
        let dir = self.checkpoints();
        let entries = match fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(source) => {
                return Err(RunDirError::Io {
                    path: dir,
                    cause: source,
                });
            }
        };
        let mut best: Option<(u64, PathBuf)> = None;
        for entry in entries {
            let entry = entry.map_err(|source| RunDirError::Io {
                path: dir.clone(),
                cause: source,
            })?;
            let name = entry.file_name();
            let Some(step) = name.to_str().and_then(checkpoint_step) else {
                continue;
            };
            if best.as_ref().is_none_or(|(b, _)| step > *b) {
                best = Some((step, entry.path()));
            }
        }
        Ok(best)
    }

    /// The folder's state (see [`RunState`]).
    pub fn state(&self) -> Result<RunState, RunDirError> {
        let io_err = |source| RunDirError::Io {
            path: self.root.clone(),
            cause: source,
        };
        let mut entries = match fs::read_dir(&self.root) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(RunState::Missing),
            Err(source) => return Err(io_err(source)),
        };
        if entries.next().transpose().map_err(io_err)?.is_none() {
            return Ok(RunState::Missing);
        }
        if self.summary().exists() {
            return Ok(RunState::Complete);
        }
        Ok(match self.last_checkpoint()? {
            Some((step, _)) => RunState::Partial {
                last_checkpoint_step: step,
            },
            None => RunState::Fresh,
        })
    }
}

/// `step-<N>` or `step-<N>.<ext>` -> N.
fn checkpoint_step(name: &str) -> Option<u64> {
    let rest = name.strip_prefix("step-")?;
    let digits = rest.split_once('.').map_or(rest, |(d, _)| d);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// A run folder this process holds the lock of; the lock is released on drop.
#[derive(Debug)]
pub struct RunDir {
    paths: RunPaths,
    _lock: RunLock,
}

impl RunDir {
    /// Takes the folder for a new run: creates it, locks it, and removes what an earlier run
    /// left there (`config.toml`, `metrics.csv`, event files, `checkpoints/`, `summary.json`;
    /// nothing else). Refuses a complete or a partial run unless `overwrite`.
    pub fn create(root: impl Into<PathBuf>, overwrite: bool) -> Result<Self, RunDirError> {
        let paths = RunPaths::new(root);
        if paths.root().exists() && !paths.root().is_dir() {
            return Err(RunDirError::NotAFolder {
                root: paths.root().to_path_buf(),
            });
        }
        fs::create_dir_all(paths.root()).map_err(|source| RunDirError::Io {
            path: paths.root().to_path_buf(),
            cause: source,
        })?;
        let lock = RunLock::acquire(&paths.lock())?;
        match paths.state()? {
            RunState::Complete if !overwrite => {
                return Err(RunDirError::Complete {
                    root: paths.root().to_path_buf(),
                });
            }
            RunState::Partial {
                last_checkpoint_step,
            } if !overwrite => {
                return Err(RunDirError::Partial {
                    root: paths.root().to_path_buf(),
                    step: last_checkpoint_step,
                });
            }
            _ => clear(&paths)?,
        }
        let checkpoints = paths.checkpoints();
        fs::create_dir_all(&checkpoints).map_err(|source| RunDirError::Io {
            path: checkpoints,
            cause: source,
        })?;
        Ok(RunDir { paths, _lock: lock })
    }

    /// Takes a partial run's folder to continue it; returns the step of its last checkpoint.
    pub fn resume(root: impl Into<PathBuf>) -> Result<(Self, u64), RunDirError> {
        let paths = RunPaths::new(root);
        let root = paths.root().to_path_buf();
        match paths.state()? {
            RunState::Missing | RunState::Fresh => {
                return Err(RunDirError::NothingToResume { root });
            }
            RunState::Complete => return Err(RunDirError::AlreadyComplete { root }),
            RunState::Partial { .. } => {}
        }
        let lock = RunLock::acquire(&paths.lock())?;
        // Read again under the lock: the holder we waited on may have moved on.
        match paths.state()? {
            RunState::Partial {
                last_checkpoint_step,
            } => Ok((RunDir { paths, _lock: lock }, last_checkpoint_step)),
            RunState::Complete => Err(RunDirError::AlreadyComplete { root }),
            RunState::Missing | RunState::Fresh => Err(RunDirError::NothingToResume { root }),
        }
    }

    pub fn paths(&self) -> &RunPaths {
        &self.paths
    }

    /// Writes `config.toml` atomically.
    pub fn write_config(&self, toml: &str) -> Result<(), RunDirError> {
        let path = self.paths.config();
        atomic::write(&path, toml.as_bytes()).map_err(|source| RunDirError::Io {
            path,
            cause: source,
        })
    }

    /// Writes `summary.json` atomically (pretty-printed), which marks the run complete.
    pub fn write_summary(&self, summary: &impl Serialize) -> Result<(), RunDirError> {
        let path = self.paths.summary();
        let mut json = serde_json::to_vec_pretty(summary).map_err(|source| RunDirError::Json {
            path: path.clone(),
            cause: source,
        })?;
        json.push(b'\n');
        atomic::write(&path, &json).map_err(|source| RunDirError::Io {
            path,
            cause: source,
        })
    }
}

/// Removes the files a run writes, and nothing else.
fn clear(paths: &RunPaths) -> Result<(), RunDirError> {
    let remove = |path: PathBuf, dir: bool| {
        let result = if dir {
            fs::remove_dir_all(&path)
        } else {
            fs::remove_file(&path)
        };
        match result {
            Err(e) if e.kind() != io::ErrorKind::NotFound => {
                Err(RunDirError::Io { path, cause: e })
            }
            _ => Ok(()),
        }
    };
    remove(paths.summary(), false)?;
    remove(paths.config(), false)?;
    remove(paths.metrics(), false)?;
    remove(paths.checkpoints(), true)?;
    let root = paths.root();
    let entries = fs::read_dir(root).map_err(|source| RunDirError::Io {
        path: root.to_path_buf(),
        cause: source,
    })?;
    for entry in entries.flatten() {
        if entry
            .file_name()
            .to_string_lossy()
            .starts_with("events.out.tfevents.")
        {
            remove(entry.path(), false)?;
        }
    }
    Ok(())
}

/// How long [`RunLock::acquire`] keeps trying before it reports the lock as held: long enough to
/// outlast a [`RunLock::holder`] probe (which holds a shared lock for microseconds), short enough
/// not to be noticed.
const ACQUIRE_PATIENCE: std::time::Duration = std::time::Duration::from_millis(200);

/// An OS advisory lock (`flock`, through [`fs::File::try_lock`]) on the file `run.lock`, with
/// `<pid> <host>` of the holder written inside for messages. The OS releases the lock when the
/// holder exits, however it exits, so a run killed on one node can be taken over at once by a
/// process on another node sharing the folder. The file is never removed (removing a lock file
/// lets two processes lock two different files); its text names the last holder. Released on
/// drop.
#[derive(Debug)]
pub struct RunLock {
    _file: fs::File,
}

impl RunLock {
    /// Takes the lock of `path`, creating the file if needed; refuses if another process (or
    /// another `RunLock` of this one) holds it.
    pub fn acquire(path: &Path) -> Result<Self, RunDirError> {
        let io_err = |source| RunDirError::Io {
            path: path.to_path_buf(),
            cause: source,
        };
        let mut file = fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(io_err)?;
        let start = std::time::Instant::now();
        loop {
            match file.try_lock() {
                Ok(()) => break,
                Err(fs::TryLockError::WouldBlock) if start.elapsed() < ACQUIRE_PATIENCE => {
                    std::thread::sleep(std::time::Duration::from_millis(10));
                }
                Err(fs::TryLockError::WouldBlock) => {
                    return Err(RunDirError::Locked {
                        lock: path.to_path_buf(),
                        holder: describe_holder(path),
                    });
                }
                Err(fs::TryLockError::Error(e)) => return Err(io_err(e)),
            }
        }
        let holder = format!("{} {}\n", std::process::id(), host_name());
        file.set_len(0).map_err(io_err)?;
        file.seek(SeekFrom::Start(0)).map_err(io_err)?;
        file.write_all(holder.as_bytes()).map_err(io_err)?;
        Ok(RunLock { _file: file })
    }

    /// Who holds the lock of `path`: `None` if nobody does (or the file does not exist), else
    /// the holder as the lock file names it (`pid 123 on host node7`). Probes with a shared
    /// lock, so probes never disturb each other.
    pub fn holder(path: &Path) -> Result<Option<String>, RunDirError> {
        let file = match fs::File::open(path) {
            Ok(file) => file,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(source) => {
                return Err(RunDirError::Io {
                    path: path.to_path_buf(),
                    cause: source,
                });
            }
        };
        match file.try_lock_shared() {
            Ok(()) => Ok(None),
            Err(fs::TryLockError::WouldBlock) => Ok(Some(describe_holder(path))),
            Err(fs::TryLockError::Error(source)) => Err(RunDirError::Io {
                path: path.to_path_buf(),
                cause: source,
            }),
        }
    }
}

/// `pid 123 on host node7` from the lock file's text, or `an unknown process` while the holder
/// has not written it yet.
fn describe_holder(path: &Path) -> String {
    let text = fs::read_to_string(path).unwrap_or_default();
    let mut words = text.split_whitespace();
    match (
        words.next().and_then(|p| p.parse::<u32>().ok()),
        words.next(),
    ) {
        (Some(pid), Some(host)) => format!("pid {pid} on host {host}"),
        _ => "an unknown process".to_string(),
    }
}

/// This machine's host name, as lock files record it.
pub(crate) fn host_name() -> String {
    fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty() && !h.contains(char::is_whitespace))
        .unwrap_or_else(|| "localhost".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_root(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("hrl-run-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn states_follow_the_files() {
        let root = temp_root("states");
        let paths = RunPaths::new(&root);
        assert_eq!(paths.state().unwrap(), RunState::Missing);
        fs::create_dir_all(&root).unwrap();
        assert_eq!(paths.state().unwrap(), RunState::Missing);
        fs::write(paths.config(), "seed = 1\n").unwrap();
        assert_eq!(paths.state().unwrap(), RunState::Fresh);
        fs::create_dir_all(paths.checkpoints()).unwrap();
        fs::write(paths.checkpoints().join(".step-900.tmp-1.bin"), "").unwrap();
        fs::write(paths.checkpoints().join("notes.txt"), "").unwrap();
        assert_eq!(paths.state().unwrap(), RunState::Fresh);
        fs::write(paths.checkpoint(200).with_extension("mpk"), "").unwrap();
        fs::create_dir_all(paths.checkpoint(1000)).unwrap();
        fs::write(paths.checkpoint(300), "").unwrap();
        assert_eq!(
            paths.state().unwrap(),
            RunState::Partial {
                last_checkpoint_step: 1000
            }
        );
        assert_eq!(
            paths.last_checkpoint().unwrap().unwrap().1,
            paths.checkpoint(1000)
        );
        fs::write(paths.summary(), "{}").unwrap();
        assert_eq!(paths.state().unwrap(), RunState::Complete);
        fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn checkpoint_names() {
        assert_eq!(checkpoint_step("step-42"), Some(42));
        assert_eq!(checkpoint_step("step-42.mpk"), Some(42));
        assert_eq!(checkpoint_step("step-"), None);
        assert_eq!(checkpoint_step("step-4x"), None);
        assert_eq!(checkpoint_step(".step-42.tmp-7"), None);
    }

    #[test]
    fn create_refuses_complete_and_partial_runs_unless_asked() {
        let root = temp_root("create");
        {
            let run = RunDir::create(&root, false).unwrap();
            run.write_config("seed = 1\n").unwrap();
            fs::write(run.paths().checkpoint(100), "").unwrap();
            fs::write(root.join("events.out.tfevents.1.host"), "").unwrap();
            fs::write(root.join("notes.md"), "mine").unwrap();
        }
        let err = RunDir::create(&root, false).unwrap_err();
        assert!(
            matches!(err, RunDirError::Partial { step: 100, .. }),
            "{err}"
        );
        {
            let (run, step) = RunDir::resume(&root).unwrap();
            assert_eq!(step, 100);
            run.write_summary(&serde_json::json!({"final_return": 21.5}))
                .unwrap();
        }
        let summary = fs::read_to_string(RunPaths::new(&root).summary()).unwrap();
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&summary).unwrap()["final_return"],
            21.5
        );
        assert!(matches!(
            RunDir::create(&root, false).unwrap_err(),
            RunDirError::Complete { .. }
        ));
        assert!(matches!(
            RunDir::resume(&root).unwrap_err(),
            RunDirError::AlreadyComplete { .. }
        ));
        let run = RunDir::create(&root, true).unwrap();
        let mut left: Vec<String> = fs::read_dir(&root)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(left, ["checkpoints", "notes.md", "run.lock"]);
        assert_eq!(run.paths().state().unwrap(), RunState::Fresh);
        drop(run);
        fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn resume_needs_a_checkpoint() {
        let root = temp_root("resume-none");
        assert!(matches!(
            RunDir::resume(&root).unwrap_err(),
            RunDirError::NothingToResume { .. }
        ));
        drop(RunDir::create(&root, false).unwrap());
        assert!(matches!(
            RunDir::resume(&root).unwrap_err(),
            RunDirError::NothingToResume { .. }
        ));
        fs::remove_dir_all(&root).unwrap();
    }

    /// Set in the child process of [`lock_excludes_other_processes_until_the_holder_dies`]:
    /// the lock file to hold.
    const HOLDER_ENV: &str = "HRL_TEST_RUN_LOCK_HOLDER";

    /// Not a test on its own: the holder process of the lock test (the test binary run again
    /// with [`HOLDER_ENV`] set). Takes the lock, says so in `<lock>.ready`, and waits to be
    /// killed.
    #[test]
    fn lock_holder_process() {
        let Some(path) = std::env::var_os(HOLDER_ENV) else {
            return;
        };
        let path = PathBuf::from(path);
        let _lock = RunLock::acquire(&path).unwrap();
        fs::write(path.with_extension("ready"), "").unwrap();
        std::thread::sleep(std::time::Duration::from_secs(120));
    }

    #[test]
    fn lock_excludes_other_processes_until_the_holder_dies() {
        let root = temp_root("lock");
        let run = RunDir::create(&root, false).unwrap();
        let lock = run.paths().lock();
        let me = format!("pid {} on host {}", std::process::id(), host_name());
        assert_eq!(
            RunLock::holder(&lock).unwrap().as_deref(),
            Some(me.as_str())
        );
        let err = RunDir::create(&root, false).unwrap_err();
        assert!(
            matches!(&err, RunDirError::Locked { holder, .. } if *holder == me),
            "{err}"
        );
        drop(run);
        assert_eq!(
            RunLock::holder(&lock).unwrap(),
            None,
            "drop releases the lock"
        );

        let mut holder = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "run_dir::tests::lock_holder_process", "--quiet"])
            .env(HOLDER_ENV, &lock)
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let ready = lock.with_extension("ready");
        let start = std::time::Instant::now();
        while !ready.exists() {
            assert!(
                start.elapsed().as_secs() < 30,
                "the holder never took the lock"
            );
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        let other = format!("pid {} on host {}", holder.id(), host_name());
        assert_eq!(RunLock::holder(&lock).unwrap(), Some(other.clone()));
        let err = RunDir::create(&root, false).unwrap_err();
        assert!(
            matches!(&err, RunDirError::Locked { holder, .. } if *holder == other),
            "{err}"
        );
        assert!(err.to_string().contains(&other), "{err}");

        // The OS drops the lock of a killed process: no stale lock to clean up.
        holder.kill().unwrap();
        holder.wait().unwrap();
        assert_eq!(RunLock::holder(&lock).unwrap(), None);
        let run = RunDir::create(&root, false).unwrap();
        assert_eq!(
            fs::read_to_string(&lock).unwrap(),
            format!("{} {}\n", std::process::id(), host_name())
        );
        drop(run);
        fs::remove_dir_all(&root).unwrap();
    }
}
