//! A sweep's archive: its finished runs packed into one compressed file that can be committed
//! (`results/NAME/runs.tar.gz`), so that a sweep of many hours outlives the machine it ran on.
//!
//! The archive is a gzip-compressed tar file with one entry per file, named `NAME/RUN/FILE`:
//! `NAME` the sweep's name, `RUN` a run folder's name, `FILE` one of [`ARCHIVED_FILES`] (the
//! files `hrl report` reads, and the run's log; no checkpoints, TensorBoard events or plots). It
//! holds complete runs only (those with `summary.json`). [`pack`] writes it reproducibly (sorted
//! entries, fixed owner, mode and time), atomically; [`restore`] unpacks its runs into a sweep
//! folder before the sweep starts, so that `hrl sweep run --archive FILE` on a fresh checkout
//! trains only the runs the archive lacks:
//!
//! ```text
//! hrl sweep run experiments/minatar-ppo-hr.toml --archive results/minatar-ppo-hr/runs.tar.gz
//! ```
//!
//! An extracted archive (`tar -xzf runs.tar.gz -C DIR`) is a sweep root: `--out DIR` continues
//! in it. `results/archive_runs.sh` writes the same layout from the shell (with incomplete runs
//! too), so archives it made restore as well.

use std::collections::BTreeMap;
use std::fs;
use std::io::{self, Read, Write};
use std::path::{Component, Path, PathBuf};

use flate2::Compression;
use flate2::read::GzDecoder;

use hrl_report::atomic;
use hrl_report::run_dir::{RunDirError, RunLock, RunPaths};

/// The files of a run that an archive holds, in the order they are restored (`summary.json`,
/// which marks a run complete, last).
pub const ARCHIVED_FILES: [&str; 6] = [
    "config.toml",
    "metrics.csv",
    "episodes.csv",
    "diagnostics.csv",
    "train.log",
    "summary.json",
];

/// The modification time written into every entry: 2026-01-01 00:00 UTC, as
/// `results/archive_runs.sh` writes it, so packing the same runs twice gives the same bytes.
const ENTRY_MTIME_UNIX_S: u64 = 1_767_225_600;

/// The largest file an archive may hold (a run's metrics of a 100M-step run are well below it).
const MAX_ENTRY_BYTES: u64 = 1 << 30;

/// Errors reading or writing a sweep's archive.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
    /// The archive is not a readable gzip-compressed tar file.
    #[error("{archive}: not a readable .tar.gz archive ({reason})")]
    Unreadable {
        /// The archive.
        archive: PathBuf,
        /// What the reader said.
        reason: String,
    },
    /// The archive holds something other than `NAME/RUN/FILE` entries of this sweep.
    #[error(
        "{archive}: entry `{entry}`: {problem} (an archive of sweep `{sweep}` holds only \
         `{sweep}/RUN/FILE` with FILE one of {files})",
        files = ARCHIVED_FILES.join(", ")
    )]
    BadEntry {
        /// The archive.
        archive: PathBuf,
        /// The entry's name as the archive spells it.
        entry: String,
        /// What is wrong with it.
        problem: String,
        /// The sweep's name.
        sweep: String,
    },
    /// A run's lock could not be probed.
    #[error(transparent)]
    RunDir(#[from] RunDirError),
}

/// What [`restore`] did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct RestoreReport {
    /// Runs unpacked into the sweep folder, by name.
    pub restored: Vec<String>,
    /// Complete runs of the archive left alone because the folder had them complete already.
    pub already_complete: Vec<String>,
    /// Runs of the archive left alone because a live process trains into their folder.
    pub busy: Vec<String>,
    /// Runs of the archive without `summary.json` (incomplete when packed), not restored.
    pub incomplete: Vec<String>,
}

/// Unpacks the complete runs of the archive `archive` of sweep `sweep_name` into `sweep_dir`
/// (`ROOT/NAME`). A run already complete there is kept as it is; an incomplete folder of the same
/// run (a partial local attempt) is replaced by the archived complete run. A missing archive
/// restores nothing. The archive is checked whole before anything is written.
pub fn restore(
    archive: &Path,
    sweep_name: &str,
    sweep_dir: &Path,
) -> Result<RestoreReport, ArchiveError> {
    let mut report = RestoreReport::default();
    let runs = match read_runs(archive, sweep_name)? {
        Some(runs) => runs,
        None => return Ok(report),
    };
    for (run, files) in runs {
        if !files.contains_key("summary.json") {
            report.incomplete.push(run);
            continue;
        }
        let dir = sweep_dir.join(&run);
        let paths = RunPaths::new(&dir);
        if paths.summary().exists() {
            report.already_complete.push(run);
            continue;
        }
        if RunLock::holder(&paths.lock())?.is_some() {
            report.busy.push(run);
            continue;
        }
        if dir.exists() {
            fs::remove_dir_all(&dir).map_err(|source| ArchiveError::Io {
                path: dir.clone(),
                source,
            })?;
        }
        fs::create_dir_all(&dir).map_err(|source| ArchiveError::Io {
            path: dir.clone(),
            source,
        })?;
        for name in ARCHIVED_FILES {
            if let Some(bytes) = files.get(name) {
                let path = dir.join(name);
                atomic::write(&path, bytes).map_err(|source| ArchiveError::Io { path, source })?;
            }
        }
        report.restored.push(run);
    }
    Ok(report)
}

/// The runs of an archive: run name -> file name -> bytes; `None` if the archive does not exist.
type ArchivedRuns = BTreeMap<String, BTreeMap<String, Vec<u8>>>;

fn read_runs(archive: &Path, sweep_name: &str) -> Result<Option<ArchivedRuns>, ArchiveError> {
    let file = match fs::File::open(archive) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(ArchiveError::Io {
                path: archive.to_path_buf(),
                source,
            });
        }
    };
    let io_err = |error: io::Error| ArchiveError::Unreadable {
        archive: archive.to_path_buf(),
        reason: error.to_string(),
    };
    let bad = |entry: &str, problem: String| ArchiveError::BadEntry {
        archive: archive.to_path_buf(),
        entry: entry.to_string(),
        problem,
        sweep: sweep_name.to_string(),
    };
    let mut runs = ArchivedRuns::new();
    let mut tar = tar::Archive::new(GzDecoder::new(file));
    for entry in tar.entries().map_err(io_err)? {
        let mut entry = entry.map_err(io_err)?;
        let raw_name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        match entry.header().entry_type() {
            tar::EntryType::Directory => continue,
            tar::EntryType::Regular => {}
            other => return Err(bad(&raw_name, format!("not a plain file ({other:?})"))),
        }
        let parts: Vec<String> = Path::new(&raw_name)
            .components()
            .map(|c| match c {
                Component::Normal(part) => Ok(part.to_string_lossy().into_owned()),
                _ => Err(bad(&raw_name, "not a relative path of plain names".into())),
            })
            .collect::<Result<_, _>>()?;
        let [sweep, run, file_name] = parts.as_slice() else {
            return Err(bad(&raw_name, "not of the form NAME/RUN/FILE".into()));
        };
        if sweep != sweep_name {
            return Err(bad(
                &raw_name,
                format!("it belongs to sweep `{sweep}`, not `{sweep_name}`"),
            ));
        }
        if !ARCHIVED_FILES.contains(&file_name.as_str()) {
            return Err(bad(&raw_name, format!("`{file_name}` is not a run file")));
        }
        let size = entry.header().size().map_err(io_err)?;
        if size > MAX_ENTRY_BYTES {
            return Err(bad(
                &raw_name,
                format!("{size} bytes, more than the {MAX_ENTRY_BYTES} a run file may have"),
            ));
        }
        let mut bytes = Vec::with_capacity(size as usize);
        entry.read_to_end(&mut bytes).map_err(io_err)?;
        runs.entry(run.clone())
            .or_default()
            .insert(file_name.clone(), bytes);
    }
    Ok(Some(runs))
}

/// Packs every complete run folder of `sweep_dir` (`ROOT/NAME`, its name the sweep's) into the
/// archive `archive`, replacing it atomically. Returns the number of runs packed.
pub fn pack(sweep_dir: &Path, archive: &Path) -> Result<usize, ArchiveError> {
    let sweep_name = sweep_dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let io_err = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ArchiveError::Io { path, source }
    };
    let mut runs: Vec<PathBuf> = fs::read_dir(sweep_dir)
        .map_err(io_err(sweep_dir))?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|dir| RunPaths::new(dir).summary().is_file())
        .collect();
    runs.sort();
    let mut entries: Vec<(String, PathBuf)> = Vec::new();
    for dir in &runs {
        let run = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        for name in ARCHIVED_FILES {
            let path = dir.join(name);
            if path.is_file() {
                entries.push((format!("{sweep_name}/{run}/{name}"), path));
            }
        }
    }
    entries.sort();
    if let Some(parent) = archive.parent().filter(|p| !p.as_os_str().is_empty()) {
        fs::create_dir_all(parent).map_err(io_err(parent))?;
    }
    atomic::write_with(archive, |file| {
        let gzip = flate2::GzBuilder::new()
            .mtime(0)
            .write(io::BufWriter::new(file), Compression::best());
        let mut tar = tar::Builder::new(gzip);
        for (name, path) in &entries {
            let bytes = fs::read(path)?;
            let mut header = tar::Header::new_gnu();
            header.set_size(bytes.len() as u64);
            header.set_mode(0o644);
            header.set_uid(0);
            header.set_gid(0);
            header.set_mtime(ENTRY_MTIME_UNIX_S);
            header.set_entry_type(tar::EntryType::Regular);
            tar.append_data(&mut header, name, bytes.as_slice())?;
        }
        tar.into_inner()?.finish()?.flush()
    })
    .map_err(io_err(archive))?;
    Ok(runs.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fresh_dir(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("hrl-archive-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn write_run(sweep_dir: &Path, run: &str, complete: bool) {
        let dir = sweep_dir.join(run);
        fs::create_dir_all(dir.join("checkpoints")).unwrap();
        fs::write(dir.join("config.toml"), format!("# {run}\n")).unwrap();
        fs::write(dir.join("metrics.csv"), format!("step\n{}\n", run.len())).unwrap();
        fs::write(dir.join("episodes.csv"), "step,episodic_return\n").unwrap();
        fs::write(dir.join("events.out.tfevents.1"), "not archived").unwrap();
        if complete {
            fs::write(dir.join("summary.json"), "{}").unwrap();
        }
    }

    /// The archive's entry names, read with the system's `tar` (an independent reader).
    fn system_tar_listing(archive: &Path) -> Vec<String> {
        let out = std::process::Command::new("tar")
            .arg("-tzf")
            .arg(archive)
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect()
    }

    #[test]
    fn packs_complete_runs_only_and_restores_them_into_a_fresh_folder() {
        let root = fresh_dir("round-trip");
        let sweep_dir = root.join("sw");
        write_run(&sweep_dir, "pqn.cartpole.relu.s1", true);
        write_run(&sweep_dir, "pqn.cartpole.tanh.s1", false);
        write_run(&sweep_dir, "pqn.cartpole.hr-tanh.s1", true);
        let archive = root.join("results/runs.tar.gz");
        assert_eq!(pack(&sweep_dir, &archive).unwrap(), 2);
        assert_eq!(
            system_tar_listing(&archive),
            [
                "sw/pqn.cartpole.hr-tanh.s1/config.toml",
                "sw/pqn.cartpole.hr-tanh.s1/episodes.csv",
                "sw/pqn.cartpole.hr-tanh.s1/metrics.csv",
                "sw/pqn.cartpole.hr-tanh.s1/summary.json",
                "sw/pqn.cartpole.relu.s1/config.toml",
                "sw/pqn.cartpole.relu.s1/episodes.csv",
                "sw/pqn.cartpole.relu.s1/metrics.csv",
                "sw/pqn.cartpole.relu.s1/summary.json",
            ]
        );
        let first = fs::read(&archive).unwrap();
        assert_eq!(pack(&sweep_dir, &archive).unwrap(), 2);
        assert_eq!(
            fs::read(&archive).unwrap(),
            first,
            "packing is reproducible"
        );

        let fresh = root.join("fresh/sw");
        let report = restore(&archive, "sw", &fresh).unwrap();
        assert_eq!(
            report.restored,
            ["pqn.cartpole.hr-tanh.s1", "pqn.cartpole.relu.s1"]
        );
        for name in ["config.toml", "metrics.csv", "episodes.csv", "summary.json"] {
            assert_eq!(
                fs::read(fresh.join("pqn.cartpole.relu.s1").join(name)).unwrap(),
                fs::read(sweep_dir.join("pqn.cartpole.relu.s1").join(name)).unwrap(),
                "{name}"
            );
        }
        assert!(!fresh.join("pqn.cartpole.tanh.s1").exists());
        fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn restore_replaces_a_partial_run_and_keeps_a_complete_one() {
        let root = fresh_dir("restore");
        let sweep_dir = root.join("sw");
        write_run(&sweep_dir, "a", true);
        write_run(&sweep_dir, "b", true);
        let archive = root.join("runs.tar.gz");
        pack(&sweep_dir, &archive).unwrap();

        let target = root.join("target/sw");
        write_run(&target, "a", false);
        write_run(&target, "b", true);
        fs::write(target.join("b/metrics.csv"), "local\n").unwrap();
        let report = restore(&archive, "sw", &target).unwrap();
        assert_eq!(report.restored, ["a"]);
        assert_eq!(report.already_complete, ["b"]);
        assert!(
            !target.join("a/checkpoints").exists(),
            "the partial attempt is replaced whole"
        );
        assert!(target.join("a/summary.json").exists());
        assert_eq!(
            fs::read_to_string(target.join("b/metrics.csv")).unwrap(),
            "local\n"
        );
        fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn a_missing_archive_restores_nothing() {
        let root = fresh_dir("missing");
        let report = restore(&root.join("none.tar.gz"), "sw", &root.join("sw")).unwrap();
        assert_eq!(report, RestoreReport::default());
        fs::remove_dir_all(&root).unwrap();
    }

    /// Writes an archive whose single entry is named `name`, with the system's `tar`.
    fn archive_with_entry(root: &Path, name: &str) -> PathBuf {
        let staging = root.join("staging");
        let path = staging.join(name);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, "x").unwrap();
        let archive = root.join(format!("{}.tar.gz", name.replace('/', "_")));
        let status = std::process::Command::new("tar")
            .arg("-czf")
            .arg(&archive)
            .arg("-C")
            .arg(&staging)
            .arg(name)
            .status()
            .unwrap();
        assert!(status.success());
        fs::remove_dir_all(&staging).unwrap();
        archive
    }

    #[test]
    fn foreign_or_malformed_entries_are_errors_naming_them() {
        let root = fresh_dir("bad");
        for (name, problem) in [
            ("other/run/metrics.csv", "belongs to sweep `other`"),
            ("sw/run/model.bpk", "`model.bpk` is not a run file"),
            ("sw/metrics.csv", "not of the form NAME/RUN/FILE"),
        ] {
            let archive = archive_with_entry(&root, name);
            let error = restore(&archive, "sw", &root.join("out/sw"))
                .unwrap_err()
                .to_string();
            assert!(error.contains(name), "{error}");
            assert!(error.contains(problem), "{error}");
            assert!(!root.join("out/sw").exists(), "nothing is written");
        }
        let garbage = root.join("garbage.tar.gz");
        fs::write(&garbage, b"not gzip at all").unwrap();
        let error = restore(&garbage, "sw", &root.join("out/sw"))
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("garbage.tar.gz: not a readable .tar.gz archive"),
            "{error}"
        );
        fs::remove_dir_all(&root).unwrap();
    }
}
