//! Where each run of a sweep stands, read from its folder alone (so it works for local and
//! Slurm sweeps alike, from any machine that sees the folders): done, running, failed, partial
//! or pending, its progress in agent steps and its last episodic return.

use std::fmt;
use std::io::BufRead;
use std::path::Path;

use crate::file_tail::read_tail;
use crate::sweep::{Sweep, SweepRun};
use crate::train::columns;
use hrl_report::run_dir::read_failure_record;
use hrl_report::run_dir::{RunDirError, RunLock, RunPaths};

/// Bytes read from the end of `metrics.csv` to find its last rows.
const METRICS_TAIL_BYTES: u64 = 64 * 1024;

/// The state of a run of a sweep, in the order it is decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SweepRunState {
    /// `summary.json` exists.
    Done,
    /// A live process holds `run.lock`.
    Running,
    /// The sweep runner recorded a failure (`failed.json`).
    Failed,
    /// Started (`config.toml`) but neither done nor running.
    Partial,
    /// Not started.
    Pending,
}

impl SweepRunState {
    /// Every state, in table order.
    pub const ALL: [SweepRunState; 5] = [
        SweepRunState::Done,
        SweepRunState::Running,
        SweepRunState::Failed,
        SweepRunState::Partial,
        SweepRunState::Pending,
    ];

    /// `done`, `running`, `failed`, `partial`, `pending`.
    pub fn name(self) -> &'static str {
        match self {
            SweepRunState::Done => "done",
            SweepRunState::Running => "running",
            SweepRunState::Failed => "failed",
            SweepRunState::Partial => "partial",
            SweepRunState::Pending => "pending",
        }
    }
}

impl fmt::Display for SweepRunState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One row of `hrl sweep status`.
#[derive(Clone, Debug, PartialEq)]
pub struct RunStatus {
    /// The run's name.
    pub name: String,
    /// Its state.
    pub state: SweepRunState,
    /// Agent steps logged: `step` of the last row of `metrics.csv`.
    pub step: Option<u64>,
    /// The run's budget in agent steps: `<algo>.total_timesteps` of its `config.toml`, or the
    /// sweep's `steps` before it has one.
    pub total_steps: u64,
    /// The last `episodic_return` logged.
    pub last_return: Option<f64>,
    /// The lock holder (running) or how the run failed (failed).
    pub detail: String,
}

/// The status of `run` of the sweep in `sweep_dir`.
pub fn run_status(run: &SweepRun, sweep_dir: &Path) -> Result<RunStatus, RunDirError> {
    let dir = run.dir(sweep_dir);
    let paths = RunPaths::new(&dir);
    let holder = RunLock::holder(&paths.lock())?;
    let failure = read_failure_record(&dir);
    let (state, detail) = if paths.summary().exists() {
        (SweepRunState::Done, String::new())
    } else if let Some(holder) = holder {
        (SweepRunState::Running, holder)
    } else if let Some(record) = failure {
        (
            SweepRunState::Failed,
            format!("{}, attempts: {}", record.describe_exit(), record.attempts),
        )
    } else if paths.config().exists() {
        (SweepRunState::Partial, String::new())
    } else {
        (SweepRunState::Pending, String::new())
    };
    let (step, last_return) = last_progress(&paths.metrics());
    Ok(RunStatus {
        name: run.name(),
        state,
        step,
        total_steps: total_steps(&paths.config()).unwrap_or(run.steps),
        last_return,
        detail,
    })
}

/// The status of every run of `sweep` below `root/NAME`, in grid order.
pub fn sweep_status(sweep: &Sweep, root: &Path) -> Result<Vec<RunStatus>, RunDirError> {
    let sweep_dir = sweep.dir(root);
    sweep
        .runs()
        .iter()
        .map(|run| run_status(run, &sweep_dir))
        .collect()
}

/// The table of `hrl sweep status`: one row per run, then the count of each state.
pub fn render_status(rows: &[RunStatus]) -> String {
    let width = rows.iter().map(|r| r.name.len()).max().unwrap_or(0).max(3);
    let mut text = format!(
        "{:width$}  {:7}  {:>19}  {:>11}  detail\n",
        "run", "state", "progress (steps)", "last return"
    );
    for row in rows {
        let progress = format!(
            "{}/{}",
            row.step.map_or("-".to_string(), |s| s.to_string()),
            row.total_steps
        );
        let last_return = row
            .last_return
            .map_or("-".to_string(), |r| format!("{r:.2}"));
        let line = format!(
            "{:width$}  {:7}  {progress:>19}  {last_return:>11}  {}",
            row.name, row.state, row.detail
        );
        text.push_str(line.trim_end());
        text.push('\n');
    }
    let counts: Vec<String> = SweepRunState::ALL
        .iter()
        .map(|state| {
            let n = rows.iter().filter(|r| r.state == *state).count();
            format!("{n} {state}")
        })
        .collect();
    text.push_str(&format!("{} runs: {}\n", rows.len(), counts.join(", ")));
    text
}

/// `step` of the last whole row of `metrics.csv` and the last `episodic_return` in its tail.
fn last_progress(metrics: &Path) -> (Option<u64>, Option<f64>) {
    let Some(header) = std::fs::File::open(metrics).ok().and_then(|file| {
        let mut line = String::new();
        std::io::BufReader::new(file).read_line(&mut line).ok()?;
        Some(line)
    }) else {
        return (None, None);
    };
    let columns: Vec<&str> = header.trim_end().split(',').collect();
    let column = |name: &str| columns.iter().position(|c| *c == name);
    let (Some(step_index), return_index) = (
        column(columns::STEP.name),
        column(columns::EPISODIC_RETURN.name),
    ) else {
        return (None, None);
    };
    let tail = read_tail(metrics, METRICS_TAIL_BYTES).unwrap_or_default();
    // A line without its newline is a row being written.
    let whole = tail.rsplit_once('\n').map_or("", |(whole, _)| whole);
    let rows: Vec<Vec<&str>> = whole
        .lines()
        .map(|line| line.split(',').collect::<Vec<_>>())
        .filter(|fields| fields.len() == columns.len() && fields[0] != columns[0])
        .collect();
    let step = rows
        .last()
        .and_then(|fields| fields[step_index].parse::<f64>().ok())
        .map(|s| s as u64);
    let last_return = return_index.and_then(|i| {
        rows.iter()
            .rev()
            .find_map(|fields| fields[i].parse::<f64>().ok())
    });
    (step, last_return)
}

/// `<algo>.total_timesteps` of a `config.toml`.
fn total_steps(config: &Path) -> Option<u64> {
    let table: toml::Table = std::fs::read_to_string(config).ok()?.parse().ok()?;
    let algo = table.get("algo")?.as_str()?;
    let steps = table.get(algo)?.get("total_timesteps")?.as_integer()?;
    u64::try_from(steps).ok()
}

#[cfg(test)]
mod tests {
    use std::fs;

    use super::*;
    use hrl_report::run_dir::{FAILURE_FILE, FailureRecord};

    #[test]
    fn states_progress_and_returns_come_from_the_run_folders() {
        let root = std::env::temp_dir().join(format!("hrl-sweep-status-{}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        let text = "name = \"t\"\nalgos = [\"pqn\"]\nenvs = [\"cartpole\"]\nreprs = [\"relu\"]\nseeds = [1, 2, 3, 4, 5]\nsteps = 4096\n";
        let sweep = Sweep::parse(text, "t.toml").unwrap();
        let runs = sweep.runs();
        let sweep_dir = sweep.dir(&root);
        let write = |index: usize, file: &str, text: &str| {
            let dir = runs[index].dir(&sweep_dir);
            fs::create_dir_all(&dir).unwrap();
            fs::write(dir.join(file), text).unwrap();
        };
        let config = "algo = \"pqn\"\n[pqn]\ntotal_timesteps = 3000\n";
        let metrics = "step,episodic_return,loss\n1024,9.5,1\n2048,,0.5\n3072,12.25,0.4\n4096,13";
        // 0: done.
        write(0, "config.toml", config);
        write(0, "metrics.csv", metrics);
        write(0, "summary.json", "{}");
        // 1: running (this process holds its lock).
        write(1, "config.toml", config);
        write(1, "metrics.csv", &metrics[..metrics.find("3072").unwrap()]);
        let _lock = RunLock::acquire(&runs[1].dir(&sweep_dir).join("run.lock")).unwrap();
        // 2: failed.
        let record = FailureRecord {
            exit_code: Some(1),
            signal: None,
            attempts: 2,
            failed_at_unix_s: 0,
        };
        write(2, FAILURE_FILE, &serde_json::to_string(&record).unwrap());
        // 3: partial (a config and nothing else); 4: pending.
        write(3, "config.toml", config);
        let rows = sweep_status(&sweep, &root).unwrap();
        let states: Vec<SweepRunState> = rows.iter().map(|r| r.state).collect();
        assert_eq!(
            states,
            [
                SweepRunState::Done,
                SweepRunState::Running,
                SweepRunState::Failed,
                SweepRunState::Partial,
                SweepRunState::Pending
            ]
        );
        assert_eq!(
            (rows[0].step, rows[0].total_steps, rows[0].last_return),
            (Some(3072), 3000, Some(12.25))
        );
        assert_eq!((rows[1].step, rows[1].last_return), (Some(2048), Some(9.5)));
        assert!(rows[1].detail.contains(&std::process::id().to_string()));
        assert_eq!(rows[2].detail, "exit code 1, attempts: 2");
        assert_eq!((rows[4].step, rows[4].total_steps), (None, 4096));
        let table = render_status(&rows);
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), 7, "{table}");
        assert!(
            lines[1].starts_with("pqn.cartpole.relu.s1  done"),
            "{table}"
        );
        assert!(
            lines[1].contains("3072/3000") && lines[1].ends_with("12.25"),
            "{table}"
        );
        assert!(lines[3].contains("failed") && lines[3].ends_with("exit code 1, attempts: 2"));
        assert!(
            lines[5].contains("pending") && lines[5].contains("-/4096"),
            "{table}"
        );
        assert_eq!(
            lines[6],
            "5 runs: 1 done, 1 running, 1 failed, 1 partial, 1 pending"
        );
        fs::remove_dir_all(&root).unwrap();
    }
}
