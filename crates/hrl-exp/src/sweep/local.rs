//! The local backend: a sweep's runs as child `hrl train` processes on this machine, a given
//! number at a time, each run as [`crate::sweep::run::run_one`] runs it (skipped if complete,
//! resumed if started, retried, its failure recorded), then a report with a table of the
//! failures and the tail of their logs. With an archive, every run that completes is packed into
//! it at once ([`crate::sweep::archive`]), so finished runs survive the machine.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::sweep::archive;
use crate::sweep::run::{
    LOG_FILE, Launch, RunOutcome, RunnerOptions, SweepRunError, log_tail, run_one,
};
use crate::sweep::{Sweep, SweepRun};
use hrl_report::run_dir::{RunLock, RunPaths};

/// Lines of a failed run's log shown in the report.
pub const LOG_TAIL_LINES: usize = 8;

/// How the local backend runs a sweep.
#[derive(Clone, Debug)]
pub struct LocalOptions {
    /// Runs at a time (child processes).
    pub jobs: usize,
    /// How each run's children run.
    pub runner: RunnerOptions,
    /// The archive that every completed run is packed into as it completes, if any.
    pub archive: Option<PathBuf>,
}

/// How each run of a sweep ended, in grid order.
#[derive(Debug)]
pub struct SweepReport {
    /// The sweep's name.
    pub name: String,
    /// Each run and its outcome (an error when the runner itself could not run it, e.g. its
    /// folder could not be written).
    pub results: Vec<(SweepRun, Result<RunOutcome, SweepRunError>)>,
}

impl SweepReport {
    /// Whether any run failed.
    pub fn any_failed(&self) -> bool {
        self.results
            .iter()
            .any(|(_, r)| matches!(r, Err(_) | Ok(RunOutcome::Failed(_))))
    }

    /// One line of counts: `sweep NAME: 4 runs: 2 trained, 1 already complete, 0 held by another process, 1 failed`.
    pub fn summary_line(&self) -> String {
        let count = |f: fn(&Result<RunOutcome, SweepRunError>) -> bool| {
            self.results.iter().filter(|(_, r)| f(r)).count()
        };
        format!(
            "sweep {}: {} runs: {} trained, {} already complete, {} held by another process, {} failed",
            self.name,
            self.results.len(),
            count(|r| matches!(r, Ok(RunOutcome::Succeeded { .. }))),
            count(|r| matches!(r, Ok(RunOutcome::AlreadyComplete))),
            count(|r| matches!(r, Ok(RunOutcome::Busy { .. }))),
            count(|r| matches!(r, Err(_) | Ok(RunOutcome::Failed(_)))),
        )
    }

    /// The failed runs: name, how the last attempt ended, attempts and log, each followed by
    /// the last lines of its log. Empty if none failed.
    pub fn failure_table(&self, sweep_dir: &Path) -> String {
        let failed: Vec<(&SweepRun, String, String)> = self
            .results
            .iter()
            .filter_map(|(run, result)| match result {
                Ok(RunOutcome::Failed(record)) => {
                    Some((run, record.describe_exit(), record.attempts.to_string()))
                }
                Err(error) => Some((run, error.to_string(), "-".to_string())),
                Ok(_) => None,
            })
            .collect();
        if failed.is_empty() {
            return String::new();
        }
        let width = failed
            .iter()
            .map(|(run, ..)| run.name().len())
            .max()
            .unwrap_or(0)
            .max(3);
        let result_width = failed.iter().map(|(_, r, _)| r.len()).max().unwrap_or(0);
        let mut table = format!(
            "failed runs ({}):\n{:width$}  {:result_width$}  attempts  log\n",
            failed.len(),
            "run",
            "result",
        );
        for (run, result, attempts) in failed {
            let dir = run.dir(sweep_dir);
            table.push_str(&format!(
                "{:width$}  {result:result_width$}  {attempts:8}  {}\n",
                run.name(),
                dir.join(LOG_FILE).display()
            ));
            for line in log_tail(&dir, LOG_TAIL_LINES) {
                table.push_str(&format!("    | {line}\n"));
            }
        }
        table
    }
}

/// Runs every run of `sweep` below `root/NAME`, `options.jobs` at a time. A failed run does not
/// stop the others.
pub fn run_local(sweep: &Sweep, root: &Path, options: &LocalOptions) -> SweepReport {
    let sweep_dir = sweep.dir(root);
    let runs = sweep.runs();
    let total = runs.len();
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Result<RunOutcome, SweepRunError>>>> =
        Mutex::new((0..total).map(|_| None).collect());
    let archive_lock = Mutex::new(());
    let mine: Mutex<HashSet<usize>> = Mutex::new(HashSet::new());
    std::thread::scope(|scope| {
        for _ in 0..options.jobs.clamp(1, total.max(1)) {
            scope.spawn(|| {
                loop {
                    let index = next.fetch_add(1, Ordering::SeqCst);
                    let Some(run) = runs.get(index) else {
                        break;
                    };
                    wait_for_a_slot(&runs, &sweep_dir, &mine, options.jobs, index);
                    lock_ignoring_poison(&mine).insert(index);
                    let start = Instant::now();
                    let result = run_one(run, &sweep_dir, &options.runner);
                    lock_ignoring_poison(&mine).remove(&index);
                    log_outcome(run, total, &result, start.elapsed().as_secs_f64());
                    if let (Some(archive), Ok(RunOutcome::Succeeded { .. })) =
                        (&options.archive, &result)
                    {
                        let _packing = archive_lock.lock();
                        match archive::pack(&sweep_dir, archive) {
                            Ok(count) => tracing::info!(
                                "{}: {count} complete runs archived",
                                archive.display()
                            ),
                            Err(error) => tracing::warn!("archiving the runs: {error}"),
                        }
                    }
                    if let Ok(mut slots) = results.lock() {
                        slots[index] = Some(result);
                    }
                }
            });
        }
    });
    let slots = results
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    SweepReport {
        name: sweep.name.clone(),
        results: runs
            .into_iter()
            .zip(slots)
            .filter_map(|(run, slot)| slot.map(|result| (run, result)))
            .collect(),
    }
}

/// How often a sweep waiting for other processes' runs looks again.
const SLOT_POLL: Duration = Duration::from_secs(1);

fn lock_ignoring_poison<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Waits until the runs of this grid that other live processes train (another `sweep run` of the
/// same file, or runs left by one) and this sweep's own running ones together leave one of the
/// `jobs` slots free, so that two sweeps of one grid never train more than `jobs` runs at once.
/// Run `index` itself does not count: if another process holds it, [`run_one`] says so at once.
fn wait_for_a_slot(
    runs: &[SweepRun],
    sweep_dir: &Path,
    mine: &Mutex<HashSet<usize>>,
    jobs: usize,
    index: usize,
) {
    let mut told = false;
    loop {
        let held_elsewhere = runs
            .iter()
            .filter(|run| run.index != index && !lock_ignoring_poison(mine).contains(&run.index))
            .filter(|run| {
                matches!(
                    RunLock::holder(&RunPaths::new(run.dir(sweep_dir)).lock()),
                    Ok(Some(_))
                )
            })
            .count();
        let running_here = lock_ignoring_poison(mine).len();
        if held_elsewhere + running_here < jobs {
            return;
        }
        if !told {
            tracing::info!(
                "{held_elsewhere} runs of this sweep are trained by other processes and count \
                 against --jobs {jobs}: waiting for a slot"
            );
            told = true;
        }
        std::thread::sleep(SLOT_POLL);
    }
}

fn log_outcome(
    run: &SweepRun,
    total: usize,
    result: &Result<RunOutcome, SweepRunError>,
    seconds: f64,
) {
    let position = format!("[{}/{total}] {}", run.index + 1, run.name());
    match result {
        Ok(RunOutcome::AlreadyComplete) => tracing::info!("{position}: already complete"),
        Ok(RunOutcome::Busy { holder }) => {
            tracing::warn!("{position}: left alone, {holder} is training it")
        }
        Ok(RunOutcome::Succeeded { attempts, launch }) => tracing::info!(
            "{position}: complete after {seconds:.1} s ({}{})",
            match launch {
                Launch::New => "new run",
                Launch::Resume => "resumed",
            },
            if *attempts > 1 {
                format!(", attempt {attempts}")
            } else {
                String::new()
            }
        ),
        Ok(RunOutcome::Failed(record)) => tracing::warn!(
            "{position}: failed ({}, attempts: {})",
            record.describe_exit(),
            record.attempts
        ),
        Err(error) => tracing::warn!("{position}: could not run: {error}"),
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    #[test]
    fn every_run_is_attempted_and_failures_are_tabulated() {
        let root = std::env::temp_dir().join(format!("hrl-sweep-local-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let text = "name = \"t\"\nalgos = [\"pqn\"]\nenvs = [\"cartpole\"]\nreprs = [\"relu\", \"tanh\"]\nseeds = [1, 2, 3]\nsteps = 2048\n";
        let sweep = Sweep::parse(text, "t.toml").unwrap();
        let options = LocalOptions {
            jobs: 4,
            runner: RunnerOptions {
                hrl: PathBuf::from("false"),
                threads: 1,
                retries: 1,
            },
            archive: None,
        };
        let report = run_local(&sweep, &root, &options);
        assert_eq!(report.results.len(), 6);
        assert!(report.any_failed());
        assert!(
            report
                .results
                .iter()
                .enumerate()
                .all(|(i, (run, _))| run.index == i)
        );
        assert_eq!(
            report.summary_line(),
            "sweep t: 6 runs: 0 trained, 0 already complete, 0 held by another process, 6 failed"
        );
        let table = report.failure_table(&sweep.dir(&root));
        assert!(table.starts_with("failed runs (6):\n"), "{table}");
        assert!(table.contains("pqn.cartpole.tanh.s3"), "{table}");
        assert!(table.contains("exit code 1"), "{table}");
        assert!(
            table.contains("    | === hrl sweep: attempt 2 ended"),
            "{table}"
        );
        std::fs::remove_dir_all(&root).unwrap();
    }
}
