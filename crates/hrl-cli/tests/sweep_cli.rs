//! `hrl sweep` end to end through the real binary: invalid files, a local sweep that completes
//! and is then skipped, a failing run among good ones, status, and the Slurm script and its
//! array task.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn hrl(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hrl"))
        .args(args)
        .output()
        .expect("the hrl binary runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn fresh_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("hrl-sweep-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A sweep file in `dir`; 2048 agent steps is two updates of the cartpole preset (32 x 32).
fn sweep_file(dir: &Path, name: &str, envs: &str, reprs: &str, seeds: &str) -> PathBuf {
    let path = dir.join(format!("{name}.toml"));
    let text = format!(
        "name = \"{name}\"\nalgos = [\"pqn\"]\nenvs = {envs}\nreprs = {reprs}\nseeds = {seeds}\nsteps = 2048\n"
    );
    std::fs::write(&path, text).unwrap();
    path
}

fn s(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// Whether `condition` holds within a minute (polled every 100 ms).
fn wait_until(condition: impl Fn() -> bool) -> bool {
    let start = std::time::Instant::now();
    while start.elapsed() < std::time::Duration::from_secs(60) {
        if condition() {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    false
}

fn attempts_logged(run_dir: &Path) -> usize {
    std::fs::read_to_string(run_dir.join("train.log"))
        .unwrap()
        .matches("=== hrl sweep: attempt ")
        .count()
        / 2
}

#[test]
fn invalid_sweep_files_are_rejected_before_anything_runs() {
    let dir = fresh_dir("invalid");
    let out = dir.join("out");
    let good = "name = \"bad\"\nalgos = [\"pqn\"]\nenvs = [\"cartpole\"]\nreprs = [\"relu\"]\nseeds = [1]\nsteps = 2048\n";
    let cases = [
        (
            format!("{good}learning_rate = 1e-4\n"),
            "unknown field `learning_rate`",
        ),
        (
            good.replace("[\"relu\"]", "[]"),
            "key `reprs`: the list is empty",
        ),
        (
            good.replace("cartpole", "cartpol"),
            "key `envs`: unknown environment `cartpol`",
        ),
        (
            good.replace("\"relu\"", "\"hr-relux\""),
            "key `reprs`: representation spec `hr-relux`",
        ),
        (
            good.replace("[\"pqn\"]", "[\"sac\"]"),
            "key `algos`: unknown algorithm `sac`",
        ),
        (
            good.replace("[1]", "[1, 1]"),
            "key `seeds`: `1` appears twice",
        ),
        (
            format!("{good}[set]\npqn.learnng_rate = 1e-3\n"),
            "run pqn.cartpole.relu.s1: --set pqn.learnng_rate=0.001: unknown field `learnng_rate`",
        ),
        (
            format!("{good}[set]\npqn.learning_rate = \"fast\"\n"),
            "run pqn.cartpole.relu.s1: --set pqn.learning_rate=\"fast\": invalid type: string \"fast\", expected f64",
        ),
        (
            format!("{good}[set]\npqn.gamma = 2.0\n"),
            "run pqn.cartpole.relu.s1: config key `pqn.gamma`: must be in [0, 1]",
        ),
        (
            good.replace("2048", "10"),
            "run pqn.cartpole.relu.s1: config key `pqn.total_timesteps`: must be at least",
        ),
    ];
    for (text, expected) in cases {
        let file = dir.join("bad.toml");
        std::fs::write(&file, &text).unwrap();
        for command in ["run", "status", "slurm"] {
            let output = hrl(&["sweep", command, s(&file), "--out", s(&out)]);
            assert!(!output.status.success(), "{command} accepted:\n{text}");
            let message = stderr(&output);
            assert!(
                message.contains(&format!("sweep file {}", file.display())),
                "{message}"
            );
            assert!(message.contains(expected), "`{expected}` not in {message}");
        }
    }
    let missing = hrl(&["sweep", "run", s(&dir.join("nope.toml"))]);
    assert!(
        stderr(&missing).contains("reading sweep file"),
        "{}",
        stderr(&missing)
    );
    assert!(!out.exists(), "nothing may be written for an invalid sweep");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_local_sweep_completes_and_a_second_run_skips_it() {
    let dir = fresh_dir("local");
    let file = sweep_file(
        &dir,
        "local",
        "[\"cartpole\"]",
        "[\"relu\", \"hr-tanh\"]",
        "[1, 2]",
    );
    let out = dir.join("out");
    let args = ["sweep", "run", s(&file), "--jobs", "2", "--out", s(&out)];
    let first = hrl(&args);
    assert!(first.status.success(), "{}", stderr(&first));
    assert!(
        stdout(&first).contains("4 runs: 4 trained, 0 already complete"),
        "{}",
        stdout(&first)
    );
    let names = [
        "pqn.cartpole.relu.s1",
        "pqn.cartpole.relu.s2",
        "pqn.cartpole.hr-tanh.s1",
        "pqn.cartpole.hr-tanh.s2",
    ];
    for name in names {
        let run = out.join("local").join(name);
        for file in ["config.toml", "metrics.csv", "summary.json", "train.log"] {
            assert!(run.join(file).exists(), "{name}/{file} missing");
        }
        assert_eq!(attempts_logged(&run), 1);
        let summary: serde_json::Value =
            serde_json::from_slice(&std::fs::read(run.join("summary.json")).unwrap()).unwrap();
        assert_eq!(summary["steps"], 2048);
    }
    let config =
        std::fs::read_to_string(out.join("local/pqn.cartpole.hr-tanh.s2/config.toml")).unwrap();
    assert!(config.contains("repr = \"hr-tanh\"") && config.contains("seed = 2"));

    let second = hrl(&args);
    assert!(second.status.success(), "{}", stderr(&second));
    assert!(
        stdout(&second).contains("4 runs: 0 trained, 4 already complete"),
        "{}",
        stdout(&second)
    );
    for name in names {
        assert_eq!(
            attempts_logged(&out.join("local").join(name)),
            1,
            "{name} ran again"
        );
    }

    let status = hrl(&["sweep", "status", s(&file), "--out", s(&out)]);
    assert!(status.status.success(), "{}", stderr(&status));
    let table = stdout(&status);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 6, "{table}");
    assert!(
        lines[0].starts_with("run") && lines[0].contains("last return"),
        "{table}"
    );
    for (line, name) in lines[1..5].iter().zip(names) {
        assert!(line.starts_with(name), "{table}");
        assert!(
            line.contains(" done ") && line.contains("2048/2048"),
            "{table}"
        );
    }
    assert_eq!(
        lines[5],
        "4 runs: 4 done, 0 running, 0 failed, 0 partial, 0 pending"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_sweep_continues_on_a_fresh_machine_from_its_archive() {
    let dir = fresh_dir("archive");
    let file = sweep_file(&dir, "arch", "[\"cartpole\"]", "[\"relu\"]", "[1, 2]");
    let archive = dir.join("results/arch/runs.tar.gz");
    let first_machine = dir.join("first");
    let run = |out: &Path| {
        hrl(&[
            "sweep",
            "run",
            s(&file),
            "--out",
            s(out),
            "--archive",
            s(&archive),
        ])
    };
    let first = run(&first_machine);
    assert!(first.status.success(), "{}", stderr(&first));
    assert!(
        stdout(&first).contains("2 runs: 2 trained"),
        "{}",
        stdout(&first)
    );
    assert!(archive.exists());

    // A fresh machine: no sweep folder, only the committed archive, and the sweep file (rewritten
    // in place) grew by a seed.
    sweep_file(&dir, "arch", "[\"cartpole\"]", "[\"relu\"]", "[1, 2, 3]");
    let second_machine = dir.join("second");
    let second = run(&second_machine);
    assert!(second.status.success(), "{}", stderr(&second));
    assert!(
        stdout(&second).contains("3 runs: 1 trained, 2 already complete"),
        "{}",
        stdout(&second)
    );
    assert!(
        stdout(&second).contains("3 complete runs"),
        "{}",
        stdout(&second)
    );
    for name in ["pqn.cartpole.relu.s1", "pqn.cartpole.relu.s2"] {
        assert_eq!(
            std::fs::read(second_machine.join("arch").join(name).join("metrics.csv")).unwrap(),
            std::fs::read(first_machine.join("arch").join(name).join("metrics.csv")).unwrap(),
            "{name}"
        );
    }
    let listing = Command::new("tar")
        .arg("-tzf")
        .arg(&archive)
        .output()
        .unwrap();
    let listing = stdout(&listing);
    assert!(
        listing.contains("arch/pqn.cartpole.relu.s3/summary.json"),
        "{listing}"
    );
    assert!(!listing.contains("checkpoints"), "{listing}");

    std::fs::write(&archive, b"not an archive").unwrap();
    let bad = run(&dir.join("third"));
    assert!(!bad.status.success());
    assert!(stderr(&bad).contains("runs.tar.gz"), "{}", stderr(&bad));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_failing_run_is_reported_while_the_others_complete() {
    let dir = fresh_dir("failing");
    // Every run's config resolves (the sweep checks that first), but the tanh run's folder holds
    // a damaged config.toml: its child, resuming it, fails; the relu run is fine.
    let file = sweep_file(
        &dir,
        "mixed",
        "[\"cartpole\"]",
        "[\"relu\", \"tanh\"]",
        "[1]",
    );
    let out = dir.join("out");
    let pending = hrl(&["sweep", "status", s(&file), "--out", s(&out)]);
    assert!(
        stdout(&pending).ends_with("2 runs: 0 done, 0 running, 0 failed, 0 partial, 2 pending\n"),
        "{}",
        stdout(&pending)
    );
    let failed_dir = out.join("mixed/pqn.cartpole.tanh.s1");
    std::fs::create_dir_all(&failed_dir).unwrap();
    std::fs::write(failed_dir.join("config.toml"), "not = [toml").unwrap();
    let output = hrl(&[
        "sweep",
        "run",
        s(&file),
        "--jobs",
        "2",
        "--retries",
        "1",
        "--out",
        s(&out),
    ]);
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("some runs of sweep mixed failed"),
        "{}",
        stderr(&output)
    );
    let report = stdout(&output);
    assert!(
        report
            .contains("2 runs: 1 trained, 0 already complete, 0 held by another process, 1 failed"),
        "{report}"
    );
    assert!(report.contains("failed runs (1):"), "{report}");
    let failed_line = report
        .lines()
        .find(|l| l.starts_with("pqn.cartpole.tanh.s1"))
        .unwrap_or_else(|| panic!("{report}"));
    assert!(
        failed_line.contains("exit code 1") && failed_line.contains("train.log"),
        "{report}"
    );
    assert!(
        report.contains("line 1, column 12 (`not = [toml`): unclosed array, expected `]`"),
        "the log's tail is shown: {report}"
    );

    assert_eq!(attempts_logged(&failed_dir), 2, "one retry");
    let record: serde_json::Value =
        serde_json::from_slice(&std::fs::read(failed_dir.join("failed.json")).unwrap()).unwrap();
    assert_eq!(
        (record["exit_code"].as_i64(), record["attempts"].as_i64()),
        (Some(1), Some(2))
    );
    assert!(out.join("mixed/pqn.cartpole.relu.s1/summary.json").exists());

    let status = stdout(&hrl(&["sweep", "status", s(&file), "--out", s(&out)]));
    assert!(
        status.lines().any(|l| l.starts_with("pqn.cartpole.tanh.s1")
            && l.contains(" failed ")
            && l.ends_with("exit code 1, attempts: 2")),
        "{status}"
    );
    assert!(
        status.ends_with("2 runs: 1 done, 0 running, 1 failed, 0 partial, 0 pending\n"),
        "{status}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_slurm_script_runs_run_one_tasks() {
    let dir = fresh_dir("slurm");
    let file = sweep_file(
        &dir,
        "grid",
        "[\"cartpole\"]",
        "[\"relu\", \"tanh\"]",
        "[1, 2, 3]",
    );
    let out = dir.join("out");
    let written = hrl(&[
        "sweep",
        "slurm",
        s(&file),
        "--out",
        s(&out),
        "--cpus",
        "2",
        "--partition",
        "short",
        "--time",
        "0:10:00",
    ]);
    assert!(written.status.success(), "{}", stderr(&written));
    let script_path = out.join("grid/slurm/sweep.sbatch");
    assert_eq!(stdout(&written).trim(), s(&script_path));
    let script = std::fs::read_to_string(&script_path).unwrap();
    for line in [
        "#SBATCH --array=0-5\n".to_string(),
        "#SBATCH --requeue\n".to_string(),
        "#SBATCH --cpus-per-task=2\n".to_string(),
        "#SBATCH --partition=short\n".to_string(),
        "#SBATCH --time=0:10:00\n".to_string(),
        format!("#SBATCH --output={}/grid/slurm/%A_%a.log\n", out.display()),
        format!(
            "exec {} sweep run-one {} --index \"$SLURM_ARRAY_TASK_ID\" --out {} --threads-per-job 2\n",
            env!("CARGO_BIN_EXE_hrl"),
            file.display(),
            out.display()
        ),
    ] {
        assert!(script.contains(&line), "{line} missing from\n{script}");
    }

    let no_sbatch = Command::new(env!("CARGO_BIN_EXE_hrl"))
        .args(["sweep", "slurm", s(&file), "--out", s(&out), "--submit"])
        .env("PATH", dir.join("no-such-bin"))
        .output()
        .unwrap();
    assert!(!no_sbatch.status.success());
    assert!(
        stderr(&no_sbatch).contains("`sbatch` was not found on PATH"),
        "{}",
        stderr(&no_sbatch)
    );

    // What array task 5 runs: run 5 of the grid (pqn.cartpole.tanh.s3), then nothing.
    let task = [
        "sweep",
        "run-one",
        s(&file),
        "--index",
        "5",
        "--out",
        s(&out),
    ];
    let first = hrl(&task);
    assert!(first.status.success(), "{}", stderr(&first));
    assert_eq!(
        stdout(&first).trim(),
        "pqn.cartpole.tanh.s3: complete (attempts: 1)"
    );
    assert!(out.join("grid/pqn.cartpole.tanh.s3/summary.json").exists());
    let again = hrl(&task);
    assert_eq!(
        stdout(&again).trim(),
        "pqn.cartpole.tanh.s3: already complete"
    );
    let beyond = hrl(&[
        "sweep",
        "run-one",
        s(&file),
        "--index",
        "6",
        "--out",
        s(&out),
    ]);
    assert!(
        stderr(&beyond).contains("--index 6: sweep grid has runs 0 to 5"),
        "{}",
        stderr(&beyond)
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn killing_a_sweep_stops_its_runs_with_a_checkpoint() {
    let dir = fresh_dir("orphans");
    let file = dir.join("long.toml");
    std::fs::write(
        &file,
        "name = \"long\"\nalgos = [\"pqn\"]\nenvs = [\"cartpole\"]\nreprs = [\"relu\"]\nseeds = [1]\nsteps = 50000000\n",
    )
    .unwrap();
    let out = dir.join("out");
    let run = out.join("long/pqn.cartpole.relu.s1");
    let mut sweep = Command::new(env!("CARGO_BIN_EXE_hrl"))
        .args(["sweep", "run", s(&file), "--out", s(&out)])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let status = |out: &Path| stdout(&hrl(&["sweep", "status", s(&file), "--out", s(out)]));
    assert!(
        wait_until(|| std::fs::metadata(run.join("metrics.csv")).is_ok_and(|m| m.len() > 500)),
        "the run never started: {}",
        status(&out)
    );
    sweep.kill().unwrap();
    sweep.wait().unwrap();
    // The child gets SIGTERM from the kernel when its parent dies: it checkpoints and exits,
    // releasing the run, which is then partial (resumable), not running.
    assert!(
        wait_until(|| status(&out).contains(" partial ")),
        "the run outlived its sweep: {}",
        status(&out)
    );
    let log = std::fs::read_to_string(run.join("train.log")).unwrap();
    assert!(
        log.contains("interrupted: finishing the current update and writing a checkpoint"),
        "{log}"
    );
    assert!(!log.contains("exiting without a checkpoint"), "{log}");

    // `timeout` signals the whole process group: the child gets SIGTERM from it and again from
    // the kernel as its parent dies; the two are one interrupt, and it still checkpoints.
    let before = log.matches("stopped at step").count();
    let timed = Command::new("timeout")
        .args(["-s", "TERM", "3", env!("CARGO_BIN_EXE_hrl"), "sweep", "run"])
        .args([s(&file), "--out", s(&out)])
        .output()
        .unwrap();
    assert_eq!(timed.status.code(), Some(124), "timeout fired");
    assert!(
        wait_until(|| status(&out).contains(" partial ")),
        "{}",
        status(&out)
    );
    let log = std::fs::read_to_string(run.join("train.log")).unwrap();
    assert_eq!(log.matches("stopped at step").count(), before + 1, "{log}");
    assert!(!log.contains("exiting without a checkpoint"), "{log}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn slurm_values_and_the_output_folder_are_checked_once_before_anything() {
    let dir = fresh_dir("slurm-values");
    let file = sweep_file(&dir, "vals", "[\"cartpole\"]", "[\"relu\"]", "[1, 2]");
    let out = dir.join("out");
    let bad_time = hrl(&[
        "sweep",
        "slurm",
        s(&file),
        "--out",
        s(&out),
        "--time",
        "abc",
    ]);
    assert!(!bad_time.status.success());
    assert!(
        stderr(&bad_time).contains("--time `abc` is not a Slurm time limit"),
        "{}",
        stderr(&bad_time)
    );
    assert!(!out.join("vals/slurm/sweep.sbatch").exists());
    let cpus = hrl(&[
        "sweep",
        "slurm",
        s(&file),
        "--out",
        s(&out),
        "--cpus",
        "100000",
    ]);
    assert!(
        stderr(&cpus).contains("--cpus must be between 1 and 256"),
        "{}",
        stderr(&cpus)
    );

    let a_file = dir.join("a-file");
    std::fs::write(&a_file, "x").unwrap();
    let run = hrl(&["sweep", "run", s(&file), "--out", s(&a_file)]);
    assert!(!run.status.success());
    let message = stderr(&run);
    assert_eq!(
        message.matches("is a file").count(),
        1,
        "one error, not one per run: {message}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn runs_that_other_processes_train_count_against_jobs() {
    let dir = fresh_dir("shared-jobs");
    let file = dir.join("two.toml");
    std::fs::write(
        &file,
        "name = \"two\"\nalgos = [\"pqn\"]\nenvs = [\"cartpole\"]\nreprs = [\"relu\"]\nseeds = [1, 2]\nsteps = 50000000\n",
    )
    .unwrap();
    let out = dir.join("out");
    let spawn = || {
        Command::new(env!("CARGO_BIN_EXE_hrl"))
            .args(["sweep", "run", s(&file), "--jobs", "1", "--out", s(&out)])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap()
    };
    let started = |seed: u64| {
        let metrics = out.join(format!("two/pqn.cartpole.relu.s{seed}/metrics.csv"));
        std::fs::metadata(metrics).is_ok_and(|m| m.len() > 500)
    };
    let mut first = spawn();
    assert!(
        wait_until(|| started(1)),
        "the first sweep never started its run"
    );
    // A second sweep of the same grid with --jobs 1: the run the first one trains takes its only
    // slot, so it starts nothing beside it.
    let mut second = spawn();
    std::thread::sleep(std::time::Duration::from_secs(3));
    assert!(!started(2), "two runs at once under --jobs 1");
    first.kill().unwrap();
    first.wait().unwrap();
    assert!(
        wait_until(|| started(2)),
        "the second sweep never took the freed slot"
    );
    second.kill().unwrap();
    second.wait().unwrap();
    // Its child stops with it; wait for that before removing the folder.
    assert!(wait_until(|| {
        stdout(&hrl(&["sweep", "status", s(&file), "--out", s(&out)])).contains("0 running")
    }));
    std::fs::remove_dir_all(&dir).unwrap();
}
