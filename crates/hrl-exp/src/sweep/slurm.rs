//! The Slurm backend: a sweep as one sbatch array job, `ROOT/NAME/slurm/sweep.sbatch`, whose task
//! `i` runs `hrl sweep run-one FILE --index i`, which runs, resumes or skips run `i` exactly as
//! the local backend would. A requeued task (`--requeue`: after a node failure or a preemption)
//! therefore picks its run up from its last checkpoint, and a task whose run is complete does
//! nothing.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::sweep::Sweep;
use crate::sweep::run::shell_quote;
use hrl_report::atomic;

/// Errors of the Slurm backend.
#[derive(Debug, thiserror::Error)]
pub enum SlurmError {
    /// A value that cannot go into an `#SBATCH` line.
    #[error("{what} `{value}` cannot go into an #SBATCH line: it must not contain whitespace")]
    Unsafe {
        /// Which option or path.
        what: &'static str,
        /// The value.
        value: String,
    },
    /// A `--time` in none of Slurm's formats.
    #[error(
        "--time `{0}` is not a Slurm time limit; valid forms: MINUTES, MINUTES:SECONDS, \
         HOURS:MINUTES:SECONDS, DAYS-HOURS, DAYS-HOURS:MINUTES, DAYS-HOURS:MINUTES:SECONDS, \
         UNLIMITED (e.g. 90, 2:00:00, 1-12)"
    )]
    BadTime(String),
    /// A file or folder could not be written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// `sbatch` is not installed.
    #[error(
        "`sbatch` was not found on PATH: --submit needs a Slurm client on this machine; the script is written, submit it with `sbatch {script}` where Slurm is"
    )]
    SbatchMissing {
        /// The script written.
        script: PathBuf,
    },
    /// `sbatch` failed.
    #[error("sbatch {script} failed ({status}): {stderr}")]
    Sbatch {
        /// The script.
        script: PathBuf,
        /// Its exit status.
        status: String,
        /// What it said.
        stderr: String,
    },
}

/// What the array job asks of Slurm, and where things are.
#[derive(Clone, Debug)]
pub struct SlurmOptions {
    /// The `hrl` binary the tasks run (an absolute path, normally the current executable).
    pub hrl: PathBuf,
    /// The sweep file (absolute).
    pub sweep_file: PathBuf,
    /// The root the sweep's folder is below (absolute).
    pub root: PathBuf,
    /// `--partition`.
    pub partition: Option<String>,
    /// `--time` (Slurm's formats, e.g. `2:00:00`).
    pub time: Option<String>,
    /// `--cpus-per-task`, also each run's `hrl train --threads`.
    pub cpus: usize,
    /// GPUs per task (`--gres=gpu:G`).
    pub gpus: Option<u32>,
}

/// The folder of the Slurm files of a sweep: `ROOT/NAME/slurm`.
pub fn slurm_dir(sweep: &Sweep, root: &Path) -> PathBuf {
    sweep.dir(root).join("slurm")
}

/// The sbatch script of `sweep`.
pub fn sbatch_script(sweep: &Sweep, options: &SlurmOptions) -> Result<String, SlurmError> {
    let log_dir = slurm_dir(sweep, &options.root);
    let checked = |what: &'static str, value: &str| {
        if value.contains(char::is_whitespace) {
            Err(SlurmError::Unsafe {
                what,
                value: value.to_string(),
            })
        } else {
            Ok(())
        }
    };
    checked("the sweep's folder", &log_dir.to_string_lossy())?;
    let mut directives = vec![
        format!("--job-name=hrl-{}", sweep.name),
        format!("--array=0-{}", sweep.len() - 1),
        "--requeue".to_string(),
        format!("--cpus-per-task={}", options.cpus),
        format!("--output={}/%A_%a.log", log_dir.display()),
    ];
    if let Some(partition) = &options.partition {
        checked("--partition", partition)?;
        directives.push(format!("--partition={partition}"));
    }
    if let Some(time) = &options.time {
        checked("--time", time)?;
        if !is_slurm_time(time) {
            return Err(SlurmError::BadTime(time.clone()));
        }
        directives.push(format!("--time={time}"));
    }
    if let Some(gpus) = options.gpus {
        directives.push(format!("--gres=gpu:{gpus}"));
    }
    let mut script = format!(
        "#!/bin/bash\n\
         # Sweep `{name}`: {runs} runs ({algos} x {envs} x {reprs} x {seeds}), one array task each.\n\
         # Written by `hrl sweep slurm`. Task i runs, resumes or skips run i of the sweep, so\n\
         # requeueing any task is safe. Status: hrl sweep status {file} --out {root}\n",
        name = sweep.name,
        runs = sweep.len(),
        algos = sweep
            .algos
            .iter()
            .map(|a| a.name())
            .collect::<Vec<_>>()
            .join("|"),
        envs = sweep.envs.join("|"),
        reprs = sweep
            .reprs
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("|"),
        seeds = sweep
            .seeds
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("|"),
        file = shell_quote(&options.sweep_file.to_string_lossy()),
        root = shell_quote(&options.root.to_string_lossy()),
    );
    for directive in directives {
        script.push_str(&format!("#SBATCH {directive}\n"));
    }
    script.push_str(&format!(
        "set -euo pipefail\nexec {hrl} sweep run-one {file} --index \"$SLURM_ARRAY_TASK_ID\" --out {root} --threads-per-job {cpus}\n",
        hrl = shell_quote(&options.hrl.to_string_lossy()),
        file = shell_quote(&options.sweep_file.to_string_lossy()),
        root = shell_quote(&options.root.to_string_lossy()),
        cpus = options.cpus,
    ));
    Ok(script)
}

/// Writes `ROOT/NAME/slurm/sweep.sbatch` (atomically, creating the folder that also receives
/// the tasks' logs) and returns its path.
pub fn write_script(sweep: &Sweep, options: &SlurmOptions) -> Result<PathBuf, SlurmError> {
    let script = sbatch_script(sweep, options)?;
    let dir = slurm_dir(sweep, &options.root);
    std::fs::create_dir_all(&dir).map_err(|source| SlurmError::Io {
        path: dir.clone(),
        source,
    })?;
    let path = dir.join("sweep.sbatch");
    atomic::write(&path, script.as_bytes()).map_err(|source| SlurmError::Io {
        path: path.clone(),
        source,
    })?;
    Ok(path)
}

/// Submits a script with `sbatch --parsable` and returns the job id.
pub fn submit(script: &Path) -> Result<String, SlurmError> {
    let output = Command::new("sbatch")
        .arg("--parsable")
        .arg(script)
        .output()
        .map_err(|source| match source.kind() {
            std::io::ErrorKind::NotFound => SlurmError::SbatchMissing {
                script: script.to_path_buf(),
            },
            _ => SlurmError::Io {
                path: PathBuf::from("sbatch"),
                source,
            },
        })?;
    if !output.status.success() {
        return Err(SlurmError::Sbatch {
            script: script.to_path_buf(),
            status: output.status.to_string(),
            stderr: String::from_utf8_lossy(&output.stderr).trim().to_string(),
        });
    }
    // `--parsable` prints `jobid` or `jobid;cluster`.
    let stdout = String::from_utf8_lossy(&output.stdout);
    let id = stdout.trim().split(';').next().unwrap_or_default();
    Ok(id.to_string())
}

/// Whether `text` is a time limit in one of Slurm's formats (`man sbatch`, `--time`).
fn is_slurm_time(text: &str) -> bool {
    if matches!(text, "UNLIMITED" | "INFINITE" | "unlimited" | "infinite") {
        return true;
    }
    let numbers = |part: &str, most: usize| {
        let fields: Vec<&str> = part.split(':').collect();
        fields.len() <= most
            && fields
                .iter()
                .all(|f| !f.is_empty() && f.chars().all(|c| c.is_ascii_digit()))
    };
    match text.split_once('-') {
        Some((days, rest)) => numbers(days, 1) && numbers(rest, 3),
        None => numbers(text, 3),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sweep() -> Sweep {
        let text = "name = \"grid\"\nalgos = [\"pqn\"]\nenvs = [\"cartpole\", \"minatar/breakout\"]\nreprs = [\"relu\", \"hr-tanh\"]\nseeds = [1, 2, 3]\nsteps = 4096\n";
        Sweep::parse(text, "grid.toml").unwrap()
    }

    fn options() -> SlurmOptions {
        SlurmOptions {
            hrl: PathBuf::from("/opt/hrl/bin/hrl"),
            sweep_file: PathBuf::from("/home/me/grid.toml"),
            root: PathBuf::from("/scratch/sweeps"),
            partition: None,
            time: None,
            cpus: 4,
            gpus: None,
        }
    }

    #[test]
    fn the_script_is_an_array_of_run_one_tasks() {
        let script = sbatch_script(&sweep(), &options()).unwrap();
        let directives: Vec<&str> = script
            .lines()
            .filter_map(|l| l.strip_prefix("#SBATCH "))
            .collect();
        assert_eq!(
            directives,
            [
                "--job-name=hrl-grid",
                "--array=0-11",
                "--requeue",
                "--cpus-per-task=4",
                "--output=/scratch/sweeps/grid/slurm/%A_%a.log",
            ]
        );
        assert!(script.starts_with("#!/bin/bash\n"));
        assert!(script.ends_with(
            "exec /opt/hrl/bin/hrl sweep run-one /home/me/grid.toml --index \"$SLURM_ARRAY_TASK_ID\" --out /scratch/sweeps --threads-per-job 4\n"
        ));
    }

    #[test]
    fn partition_time_and_gpus_are_optional_directives() {
        let options = SlurmOptions {
            partition: Some("gpu".into()),
            time: Some("2:00:00".into()),
            gpus: Some(1),
            ..options()
        };
        let script = sbatch_script(&sweep(), &options).unwrap();
        for line in [
            "#SBATCH --partition=gpu\n",
            "#SBATCH --time=2:00:00\n",
            "#SBATCH --gres=gpu:1\n",
        ] {
            assert!(script.contains(line), "{line} missing from {script}");
        }
        let bad = SlurmOptions {
            time: Some("2 hours".into()),
            ..options
        };
        let err = sbatch_script(&sweep(), &bad).unwrap_err();
        assert!(err.to_string().contains("--time `2 hours`"), "{err}");
    }

    #[test]
    fn time_limits_follow_slurms_formats() {
        for good in [
            "90",
            "90:30",
            "2:00:00",
            "1-12",
            "1-12:30",
            "1-12:30:00",
            "UNLIMITED",
        ] {
            assert!(is_slurm_time(good), "{good}");
        }
        for bad in [
            "abc", "", "1:2:3:4", "-5", "1-", "2h", "1-2-3", "1:-2", "1.5",
        ] {
            assert!(!is_slurm_time(bad), "{bad}");
        }
    }
}
