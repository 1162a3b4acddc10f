//! A training run's folder: where its files go, what state it is in, and a lock so that two
//! processes never train into the same folder.
//!
//! ```text
//! RUN/config.toml          resolved configuration (written atomically)
//! RUN/metrics.csv          one row per log point (crate::metrics)
//! RUN/events.out.tfevents.* TensorBoard scalars (crate::tensorboard)
//! RUN/checkpoints/step-N   checkpoint after agent step N (file or folder, with any extension)
//! RUN/summary.json         final summary; its presence marks the run complete (atomic)
//! RUN/run.lock             pid and host of the process training into the folder
//! RUN/failed.txt           the error a run stopped on, written by whoever ran it
//! ```

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::atomic;
use crate::metrics::METRICS_FILE;

/// Errors of run folders.
#[derive(Debug, thiserror::Error)]
pub enum RunDirError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("{root} holds a complete run (summary.json exists); pass overwrite to start it again")]
    Complete { root: PathBuf },
    #[error(
        "{root} holds a partial run with a checkpoint at step {step}; resume it, or pass overwrite to start again"
    )]
    Partial { root: PathBuf, step: u64 },
    #[error("{root} has no checkpoint to resume from")]
    NothingToResume { root: PathBuf },
    #[error("{root} is already complete; nothing to resume")]
    AlreadyComplete { root: PathBuf },
    #[error(
        "{lock} is held by pid {pid} on host {host}; if no such run is alive, delete the lock file"
    )]
    Locked {
        lock: PathBuf,
        pid: u32,
        host: String,
    },
    #[error("writing {path}: {source}")]
    Json {
        path: PathBuf,
        source: serde_json::Error,
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

    /// The failure marker: its presence means the run stopped on an error (its text says which).
    pub fn failed(&self) -> PathBuf {
        self.root.join("failed.txt")
    }

    /// The latest checkpoint: its step and path. Names must be `step-<N>` with an optional
    /// `.<extension>`; hidden files (unfinished atomic writes) and other names are ignored.
    pub fn last_checkpoint(&self) -> Result<Option<(u64, PathBuf)>, RunDirError> {
        let dir = self.checkpoints();
        let entries = match fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(RunDirError::Io { path: dir, source }),
        };
        let mut best: Option<(u64, PathBuf)> = None;
        for entry in entries {
            let entry = entry.map_err(|source| RunDirError::Io {
                path: dir.clone(),
                source,
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
            source,
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
        fs::create_dir_all(paths.root()).map_err(|source| RunDirError::Io {
            path: paths.root().to_path_buf(),
            source,
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
            source,
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
        atomic::write(&path, toml.as_bytes()).map_err(|source| RunDirError::Io { path, source })
    }

    /// Writes `summary.json` atomically (pretty-printed), which marks the run complete.
    pub fn write_summary(&self, summary: &impl Serialize) -> Result<(), RunDirError> {
        let path = self.paths.summary();
        let mut json = serde_json::to_vec_pretty(summary).map_err(|source| RunDirError::Json {
            path: path.clone(),
            source,
        })?;
        json.push(b'\n');
        atomic::write(&path, &json).map_err(|source| RunDirError::Io { path, source })
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
                Err(RunDirError::Io { path, source: e })
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
        source,
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

/// A lock file holding `<pid> <host>`, created atomically (written beside it, then hard-linked
/// into place, which fails if it exists). A lock left by a dead process on this host (no
/// `/proc/<pid>`) is stale and taken over; a lock from another host cannot be checked and is
/// reported. Removed on drop.
#[derive(Debug)]
pub struct RunLock {
    path: PathBuf,
}

impl RunLock {
    pub fn acquire(path: &Path) -> Result<Self, RunDirError> {
        let io_err = |source| RunDirError::Io {
            path: path.to_path_buf(),
            source,
        };
        let host = host_name();
        let pid = std::process::id();
        let temp = atomic::temp_path(path);
        fs::write(&temp, format!("{pid} {host}\n")).map_err(io_err)?;
        let result = (|| {
            for _ in 0..2 {
                match fs::hard_link(&temp, path) {
                    Ok(()) => {
                        return Ok(RunLock {
                            path: path.to_path_buf(),
                        });
                    }
                    Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                    Err(e) => return Err(io_err(e)),
                }
                let held = fs::read_to_string(path).unwrap_or_default();
                let mut words = held.split_whitespace();
                let holder_pid = words.next().and_then(|p| p.parse::<u32>().ok());
                let holder_host = words.next().unwrap_or("").to_string();
                match holder_pid {
                    Some(p) if holder_host != host || Path::new(&format!("/proc/{p}")).exists() => {
                        return Err(RunDirError::Locked {
                            lock: path.to_path_buf(),
                            pid: p,
                            host: holder_host,
                        });
                    }
                    // Stale (dead holder) or unreadable: take it over.
                    _ => match fs::remove_file(path) {
                        Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(io_err(e)),
                        _ => {}
                    },
                }
            }
            Err(io_err(io::Error::other("lock kept reappearing")))
        })();
        let _ = fs::remove_file(&temp);
        result
    }
}

impl Drop for RunLock {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.path);
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

    #[test]
    fn lock_excludes_a_live_holder_and_takes_over_a_dead_one() {
        let root = temp_root("lock");
        let run = RunDir::create(&root, false).unwrap();
        let lock = run.paths().lock();
        let err = RunDir::create(&root, false).unwrap_err();
        assert!(
            matches!(&err, RunDirError::Locked { pid, .. } if *pid == std::process::id()),
            "{err}"
        );
        drop(run);
        assert!(!lock.exists(), "dropping the run releases the lock");

        // A process that has exited: its pid has no /proc entry any more.
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let dead = child.id();
        child.wait().unwrap();
        assert!(!Path::new(&format!("/proc/{dead}")).exists());
        fs::write(&lock, format!("{dead} {}\n", host_name())).unwrap();
        let run = RunDir::create(&root, false).unwrap();
        let held = fs::read_to_string(&lock).unwrap();
        assert_eq!(held, format!("{} {}\n", std::process::id(), host_name()));
        drop(run);

        // A holder on another host cannot be checked: refuse.
        fs::write(&lock, "1 some-other-node\n").unwrap();
        let err = RunDir::create(&root, false).unwrap_err();
        assert!(err.to_string().contains("some-other-node"), "{err}");
        fs::remove_dir_all(&root).unwrap();
    }
}
