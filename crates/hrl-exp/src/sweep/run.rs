//! One run of a sweep, as every backend runs it: skipped if complete, resumed if started, started
//! otherwise, as a child `hrl train` process whose output goes to `RUN/train.log`; retried up to
//! a limit; recorded in `RUN/failed.json` while it fails.
//!
//! The child command lines are, exactly:
//!
//! ```text
//! hrl train --algo A --env E --repr R --seed S --steps N [--set k=v ...] --threads T --out RUN   (no config.toml yet)
//! hrl train --resume RUN --threads T                                                            (config.toml, no summary.json)
//! ```

use std::ffi::OsString;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use crate::file_tail::read_tail;
use crate::sweep::SweepRun;
use hrl_report::atomic;
use hrl_report::run_dir::{FAILURE_FILE, FailureRecord};
use hrl_report::run_dir::{RunDirError, RunLock, RunPaths};

/// The log of a run's child processes, appended across attempts.
pub const LOG_FILE: &str = "train.log";

/// Errors running a run (not the run failing, which is an outcome).
#[derive(Debug, thiserror::Error)]
pub enum SweepRunError {
    /// A file of the run folder could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
    /// The `hrl` binary could not be started.
    #[error("starting {program}: {source}")]
    Spawn {
        /// The binary.
        program: PathBuf,
        /// The cause.
        source: io::Error,
    },
    /// The run lock could not be probed.
    #[error(transparent)]
    RunDir(#[from] RunDirError),
}

/// How the children of a sweep run.
#[derive(Clone, Debug)]
pub struct RunnerOptions {
    /// The `hrl` binary the children run (normally the current executable).
    pub hrl: PathBuf,
    /// `hrl train --threads` of each child: worker threads stepping its environments.
    pub threads: usize,
    /// Attempts after a failed first one.
    pub retries: u32,
}

/// How a run that is not complete is started.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Launch {
    /// No `config.toml`: a new run.
    New,
    /// `config.toml` but no `summary.json`: resumed from its last checkpoint (or restarted in
    /// place if it has none).
    Resume,
}

/// How a run ended.
#[derive(Clone, Debug, PartialEq)]
pub enum RunOutcome {
    /// It was complete before anything ran.
    AlreadyComplete,
    /// Another process holds its lock (trains into its folder); nothing was run.
    Busy {
        /// The holder, as the lock file names it.
        holder: String,
    },
    /// It completed.
    Succeeded {
        /// Attempts it took.
        attempts: u32,
        /// How the last attempt started.
        launch: Launch,
    },
    /// Every attempt failed; the record is also in `failed.json`.
    Failed(FailureRecord),
}

/// What the folder of a run asks for: `None` if it is complete.
pub fn launch_for(paths: &RunPaths) -> Option<Launch> {
    if paths.summary().exists() {
        None
    } else if paths.config().exists() {
        Some(Launch::Resume)
    } else {
        Some(Launch::New)
    }
}

/// The arguments of the child `hrl` process (without the program).
pub fn train_args(run: &SweepRun, run_dir: &Path, launch: Launch, threads: usize) -> Vec<OsString> {
    let mut args: Vec<OsString> = vec!["train".into()];
    match launch {
        Launch::New => {
            for (flag, value) in [
                ("--algo", run.algo.to_string()),
                ("--env", run.env.clone()),
                ("--repr", run.repr.to_string()),
                ("--seed", run.seed.to_string()),
                ("--steps", run.steps.to_string()),
            ] {
                args.push(flag.into());
                args.push(value.into());
            }
            for assignment in &run.set {
                args.push("--set".into());
                args.push(assignment.into());
            }
            args.push("--threads".into());
            args.push(threads.to_string().into());
            args.push("--out".into());
            args.push(run_dir.into());
        }
        Launch::Resume => {
            args.push("--resume".into());
            args.push(run_dir.into());
            args.push("--threads".into());
            args.push(threads.to_string().into());
        }
    }
    args
}

/// Runs, resumes or skips `run` of the sweep in `sweep_dir`, retrying failed attempts.
pub fn run_one(
    run: &SweepRun,
    sweep_dir: &Path,
    options: &RunnerOptions,
) -> Result<RunOutcome, SweepRunError> {
    let dir = run.dir(sweep_dir);
    let paths = RunPaths::new(&dir);
    let name = run.name();
    let attempts = options.retries.saturating_add(1);
    let mut last_status = None;
    for attempt in 1..=attempts {
        // Only the first pass can find the run complete: later ones follow a failed attempt.
        let Some(launch) = launch_for(&paths) else {
            return Ok(RunOutcome::AlreadyComplete);
        };
        if let Some(holder) = RunLock::holder(&paths.lock())? {
            return Ok(RunOutcome::Busy { holder });
        }
        tracing::info!(
            "{name}: attempt {attempt} of {attempts} ({})",
            match launch {
                Launch::New => "new run",
                Launch::Resume => "resuming",
            }
        );
        let args = train_args(run, &dir, launch, options.threads);
        let status = run_child(&options.hrl, &args, &dir, attempt, attempts)?;
        // summary.json is what marks a run complete, whatever the exit status says.
        if paths.summary().exists() {
            remove_failure_record(&paths)?;
            return Ok(RunOutcome::Succeeded {
                attempts: attempt,
                launch,
            });
        }
        // A child refused because another process took the run meanwhile has not failed it.
        if let Some(holder) = RunLock::holder(&paths.lock())? {
            return Ok(RunOutcome::Busy { holder });
        }
        last_status = Some(status);
    }
    let record = FailureRecord {
        exit_code: last_status.and_then(|s| s.code()),
        signal: last_status.and_then(|s| std::os::unix::process::ExitStatusExt::signal(&s)),
        attempts,
        failed_at_unix_s: unix_seconds(),
    };
    write_failure_record(&paths, &record)?;
    Ok(RunOutcome::Failed(record))
}

/// The last `count` lines of a run's `train.log` (empty if there is none).
pub fn log_tail(run_dir: &Path, count: usize) -> Vec<String> {
    let text = read_tail(&run_dir.join(LOG_FILE), 16 * 1024).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(count)..]
        .iter()
        .map(|line| line.to_string())
        .collect()
}

/// Runs `hrl ARGS` with its stdout and stderr appended to `RUN/train.log` after a header line.
fn run_child(
    hrl: &Path,
    args: &[OsString],
    dir: &Path,
    attempt: u32,
    attempts: u32,
) -> Result<ExitStatus, SweepRunError> {
    let log_path = dir.join(LOG_FILE);
    let io_err = |path: &Path| {
        let path = path.to_path_buf();
        move |source| SweepRunError::Io { path, source }
    };
    fs::create_dir_all(dir).map_err(io_err(dir))?;
    let mut log = fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log_path)
        .map_err(io_err(&log_path))?;
    let command_line = std::iter::once(hrl.as_os_str())
        .chain(args.iter().map(OsString::as_os_str))
        .map(|arg| shell_quote(&arg.to_string_lossy()))
        .collect::<Vec<_>>()
        .join(" ");
    writeln!(
        log,
        "=== hrl sweep: attempt {attempt} of {attempts} at unix time {} s on host {}: {command_line}",
        unix_seconds(),
        host_name()
    )
    .map_err(io_err(&log_path))?;
    let stdout = log.try_clone().map_err(io_err(&log_path))?;
    let stderr = log.try_clone().map_err(io_err(&log_path))?;
    let start = Instant::now();
    let mut command = Command::new(hrl);
    command
        .args(args)
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr);
    die_with_parent(&mut command);
    let status = command.status().map_err(|source| SweepRunError::Spawn {
        program: hrl.to_path_buf(),
        source,
    })?;
    writeln!(
        log,
        "=== hrl sweep: attempt {attempt} ended after {:.1} s: {status}",
        start.elapsed().as_secs_f64()
    )
    .map_err(io_err(&log_path))?;
    Ok(status)
}

/// Has the kernel send the child SIGTERM when this process dies, however it dies (`kill -9`
/// included), so that no run goes on training unattended beside the runs of a later sweep. The
/// child, `hrl train`, takes SIGTERM as it takes Ctrl-C: it finishes its update, writes a
/// checkpoint and exits, and the next `sweep run` resumes it.
#[cfg(target_os = "linux")]
fn die_with_parent(command: &mut Command) {
    use std::os::unix::process::CommandExt;
    let parent = std::process::id() as libc::pid_t;
    // SAFETY: the closure runs in the child between fork and exec and calls only
    // async-signal-safe functions (prctl, getppid, raise); it allocates nothing.
    unsafe {
        command.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM) != 0 {
                return Err(io::Error::last_os_error());
            }
            // The parent died before the request took effect: stop now.
            if libc::getppid() != parent {
                libc::raise(libc::SIGTERM);
            }
            Ok(())
        });
    }
}

#[cfg(not(target_os = "linux"))]
fn die_with_parent(_command: &mut Command) {}

fn write_failure_record(paths: &RunPaths, record: &FailureRecord) -> Result<(), SweepRunError> {
    let path = paths.root().join(FAILURE_FILE);
    let mut json = serde_json::to_vec_pretty(record).unwrap_or_default();
    json.push(b'\n');
    atomic::write(&path, &json).map_err(|source| SweepRunError::Io { path, source })
}

fn remove_failure_record(paths: &RunPaths) -> Result<(), SweepRunError> {
    let path = paths.root().join(FAILURE_FILE);
    match fs::remove_file(&path) {
        Err(source) if source.kind() != io::ErrorKind::NotFound => {
            Err(SweepRunError::Io { path, source })
        }
        _ => Ok(()),
    }
}

fn unix_seconds() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn host_name() -> String {
    fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "unknown".to_string())
}

/// `arg` as one POSIX shell word: unchanged if it has only safe characters, single-quoted
/// otherwise.
pub fn shell_quote(arg: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "-_./=:@%+,".contains(c);
    if !arg.is_empty() && arg.chars().all(safe) {
        arg.to_string()
    } else {
        format!("'{}'", arg.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;
    use crate::sweep::Sweep;
    use hrl_report::run_dir::read_failure_record;

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("hrl-sweep-run-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        dir
    }

    fn run() -> SweepRun {
        let text = "name = \"t\"\nalgos = [\"pqn\"]\nenvs = [\"minatar/breakout\"]\nreprs = [\"hr-tanh\"]\nseeds = [3]\nsteps = 4096\n[set]\npqn.learning_rate = 1e-4\n";
        Sweep::parse(text, "t.toml").unwrap().runs().remove(0)
    }

    fn words(args: &[OsString]) -> Vec<String> {
        args.iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn child_command_lines_follow_the_contract() {
        let dir = Path::new("/s/t/pqn.minatar-breakout.hr-tanh.s3");
        assert_eq!(
            words(&train_args(&run(), dir, Launch::New, 2)).join(" "),
            "train --algo pqn --env minatar/breakout --repr hr-tanh --seed 3 --steps 4096 \
             --set pqn.learning_rate=0.0001 --threads 2 --out /s/t/pqn.minatar-breakout.hr-tanh.s3"
        );
        assert_eq!(
            words(&train_args(&run(), dir, Launch::Resume, 1)).join(" "),
            "train --resume /s/t/pqn.minatar-breakout.hr-tanh.s3 --threads 1"
        );
    }

    #[test]
    fn the_folder_decides_new_resume_or_nothing() {
        let root = temp_dir("launch");
        let paths = RunPaths::new(&root);
        assert_eq!(launch_for(&paths), Some(Launch::New));
        fs::create_dir_all(&root).unwrap();
        fs::write(root.join(LOG_FILE), "=== attempt 1\n").unwrap();
        assert_eq!(launch_for(&paths), Some(Launch::New));
        fs::write(paths.config(), "algo = \"pqn\"\n").unwrap();
        assert_eq!(launch_for(&paths), Some(Launch::Resume));
        fs::write(paths.summary(), "{}").unwrap();
        assert_eq!(launch_for(&paths), None);
        fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn a_failing_child_is_retried_logged_and_recorded_and_a_success_clears_the_record() {
        let sweep_dir = temp_dir("retry");
        let run = run();
        let options = RunnerOptions {
            hrl: PathBuf::from("false"),
            threads: 1,
            retries: 2,
        };
        let outcome = run_one(&run, &sweep_dir, &options).unwrap();
        let RunOutcome::Failed(record) = outcome else {
            panic!("{outcome:?}");
        };
        assert_eq!((record.exit_code, record.attempts), (Some(1), 3));
        assert_eq!(record.describe_exit(), "exit code 1");
        let dir = run.dir(&sweep_dir);
        assert_eq!(read_failure_record(&dir), Some(record));
        let log = fs::read_to_string(dir.join(LOG_FILE)).unwrap();
        assert_eq!(log.matches("=== hrl sweep: attempt").count(), 6, "{log}");
        assert!(log.contains("attempt 3 of 3 at unix time"), "{log}");
        assert_eq!(log_tail(&dir, 1).len(), 1);
        assert!(log_tail(&dir, 1)[0].contains("attempt 3 ended"), "{log}");

        // A "binary" that completes the run: writes summary.json into the folder it is given.
        let script = sweep_dir.join("fake-hrl");
        fs::write(
            &script,
            "#!/bin/sh\nfor a; do last=$a; done\necho '{}' > \"$last/summary.json\"\n",
        )
        .unwrap();
        fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).unwrap();
        let options = RunnerOptions {
            hrl: script,
            ..options
        };
        assert_eq!(
            run_one(&run, &sweep_dir, &options).unwrap(),
            RunOutcome::Succeeded {
                attempts: 1,
                launch: Launch::New
            }
        );
        assert_eq!(read_failure_record(&dir), None);
        assert_eq!(
            run_one(&run, &sweep_dir, &options).unwrap(),
            RunOutcome::AlreadyComplete
        );
        fs::remove_dir_all(&sweep_dir).unwrap();
    }

    #[test]
    fn a_locked_run_is_left_to_its_holder() {
        let sweep_dir = temp_dir("busy");
        let run = run();
        let dir = run.dir(&sweep_dir);
        fs::create_dir_all(&dir).unwrap();
        let _lock = RunLock::acquire(&RunPaths::new(&dir).lock()).unwrap();
        let options = RunnerOptions {
            hrl: PathBuf::from("false"),
            threads: 1,
            retries: 0,
        };
        let outcome = run_one(&run, &sweep_dir, &options).unwrap();
        assert!(
            matches!(&outcome, RunOutcome::Busy { holder } if holder.contains(&std::process::id().to_string())),
            "{outcome:?}"
        );
        assert!(!dir.join(LOG_FILE).exists());
        fs::remove_dir_all(&sweep_dir).unwrap();
    }

    #[test]
    fn shell_words() {
        assert_eq!(shell_quote("--set"), "--set");
        assert_eq!(shell_quote("device=\"cpu\""), "'device=\"cpu\"'");
        assert_eq!(shell_quote("it's"), "'it'\\''s'");
        assert_eq!(shell_quote(""), "''");
    }
}
