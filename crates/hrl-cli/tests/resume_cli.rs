//! Reliability of `hrl train` through the real binary: a run killed with `kill -9` or stopped
//! with Ctrl-C and then resumed writes exactly the metrics and episodes of a run that was never
//! interrupted (all three algorithms), and a diverging run stops with a clear error keeping its
//! last good checkpoint.

mod common;

use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

use common::{fresh_dir, hrl, without_timing};
use std::time::{Duration, Instant};

fn spawn(args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_hrl"))
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the hrl binary starts")
}

fn checkpoint_count(dir: &Path) -> usize {
    std::fs::read_dir(dir.join("checkpoints")).map_or(0, |entries| {
        entries
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with("step-"))
            .count()
    })
}

/// Waits until `dir` has a checkpoint and the child is still running; false if it finished.
fn wait_for_checkpoint(child: &mut Child, dir: &Path) -> bool {
    let deadline = Instant::now() + Duration::from_secs(120);
    while Instant::now() < deadline {
        if checkpoint_count(dir) > 0 {
            return true;
        }
        if child.try_wait().unwrap().is_some() {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("no checkpoint in {} after 120 s", dir.display());
}

fn assert_success(out: &Output) {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Trains `args` once straight through and once interrupted by `signal` after its first
/// checkpoint and resumed; the two folders must hold the same metrics and episodes.
fn interrupted_run_equals_straight_run(name: &str, args: &[&str], signal: &str) {
    let straight = fresh_dir(&format!("{name}-straight"));
    let mut full = vec!["train", "--out", straight.to_str().unwrap()];
    full.extend_from_slice(args);
    assert_success(&hrl(&full));

    let interrupted = fresh_dir(&format!("{name}-interrupted"));
    let mut full = vec!["train", "--out", interrupted.to_str().unwrap()];
    full.extend_from_slice(args);
    let mut child = spawn(&full);
    assert!(
        wait_for_checkpoint(&mut child, &interrupted),
        "{name}: the run finished before it could be interrupted; give it more steps"
    );
    let status = Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = child.wait().unwrap();
    assert!(
        !exit.success(),
        "{name}: the interrupted run must not exit 0"
    );
    assert!(
        !interrupted.join("summary.json").exists(),
        "{name}: an interrupted run is not complete"
    );
    if signal == "-INT" {
        assert_eq!(exit.code(), Some(130), "{name}: Ctrl-C exits with 130");
    }
    let resumed = hrl(&["train", "--resume", interrupted.to_str().unwrap()]);
    assert_success(&resumed);
    for file in ["metrics.csv", "episodes.csv", "diagnostics.csv"] {
        assert_eq!(
            without_timing(&interrupted.join(file)),
            without_timing(&straight.join(file)),
            "{name}: {file} after resume differs from the uninterrupted run"
        );
    }
    let again = hrl(&["train", "--resume", interrupted.to_str().unwrap()]);
    assert_success(&again);
    assert!(String::from_utf8_lossy(&again.stdout).contains("already complete"));
    let _ = std::fs::remove_dir_all(&straight);
    let _ = std::fs::remove_dir_all(&interrupted);
}

#[test]
fn pqn_resumes_exactly_after_kill_9() {
    interrupted_run_equals_straight_run(
        "pqn",
        &[
            "--algo",
            "pqn",
            "--env",
            "minatar/breakout",
            "--repr",
            "hr-tanh",
            "--steps",
            "65536",
            "--set",
            "checkpoint.points=16",
        ],
        "-9",
    );
}

#[test]
fn ppo_with_interventions_resumes_exactly_after_ctrl_c() {
    interrupted_run_equals_straight_run(
        "ppo",
        &[
            "--algo",
            "ppo",
            "--env",
            "minatar/asterix",
            "--steps",
            "40960",
            "--set",
            "checkpoint.points=20",
            "--set",
            "log.diag_points=10",
            "--set",
            "redo.period=3",
            "--set",
            "shrink_perturb.period=7",
            "--set",
            "l2_init.coef=0.001",
        ],
        "-INT",
    );
}

#[test]
fn dqn_resumes_exactly_after_kill_9_with_its_replay() {
    interrupted_run_equals_straight_run(
        "dqn",
        &[
            "--algo",
            "dqn",
            "--env",
            "minatar/breakout",
            "--steps",
            "20000",
            "--set",
            "dqn.learning_starts=1000",
            "--set",
            "checkpoint.points=20",
        ],
        "-9",
    );
}

#[test]
fn a_diverging_run_stops_with_a_clear_error_and_keeps_its_checkpoints() {
    let dir = fresh_dir("diverge");
    let out = hrl(&[
        "train",
        "--algo",
        "dqn",
        "--env",
        "cartpole",
        "--set",
        "dqn.learning_rate=1e6",
        "--set",
        "checkpoint.points=80",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("not finite") && stderr.contains("last good checkpoint"),
        "{stderr}"
    );
    assert!(checkpoint_count(&dir) > 0, "the checkpoints before it stay");
    assert!(!dir.join("summary.json").exists());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_run_killed_after_its_last_checkpoint_finishes_with_the_same_summary() {
    let dir = fresh_dir("end-of-run");
    let out = dir.to_str().unwrap();
    let trained = hrl(&[
        "train", "--env", "cartpole", "--steps", "4096", "--out", out,
    ]);
    assert!(trained.status.success());
    let read = |path: &Path| -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
    };
    let first = read(&dir.join("summary.json"));
    assert!(first["eval_return"].is_number() && first["final_diagnostics"].is_object());
    // As if killed after the final checkpoint, while writing the summary and the plot.
    std::fs::remove_file(dir.join("summary.json")).unwrap();
    let stale = [".summary.json.tmp-999999", ".curves.png.tmp-999999.png"];
    for name in stale {
        std::fs::write(dir.join(name), "half-written").unwrap();
    }
    let resumed = hrl(&["train", "--resume", out]);
    assert!(
        resumed.status.success(),
        "{}",
        String::from_utf8_lossy(&resumed.stderr)
    );
    let second = read(&dir.join("summary.json"));
    for key in [
        "steps",
        "episodes",
        "final_return",
        "eval_return",
        "final_diagnostics",
    ] {
        assert_eq!(first[key], second[key], "{key}");
    }
    for name in stale {
        assert!(!dir.join(name).exists(), "{name} left behind");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn resume_refuses_an_edited_config_unless_it_only_extends_the_budget() {
    let dir = fresh_dir("edited");
    let out = dir.to_str().unwrap();
    let trained = hrl(&[
        "train", "--env", "cartpole", "--steps", "4096", "--out", out,
    ]);
    assert!(trained.status.success());
    // As if stopped after the last checkpoint: resumable.
    std::fs::remove_file(dir.join("summary.json")).unwrap();
    let config_path = dir.join("config.toml");
    let original = std::fs::read_to_string(&config_path).unwrap();
    let edit = |from: &str, to: &str| {
        assert!(original.contains(from), "{from} not in config.toml");
        std::fs::write(&config_path, original.replacen(from, to, 1)).unwrap();
    };
    let resume = |extra: &[&str]| {
        let mut args = vec!["train", "--resume", out];
        args.extend_from_slice(extra);
        hrl(&args)
    };
    let stderr = |output: &Output| String::from_utf8_lossy(&output.stderr).into_owned();

    edit("seed = 0", "seed = 5");
    let changed = resume(&[]);
    assert!(!changed.status.success());
    assert!(
        stderr(&changed).contains(
            "config.toml has changed since this checkpoint was written: seed (was 0, now 5)"
        ),
        "{}",
        stderr(&changed)
    );
    edit("repr = \"relu\"", "repr = \"hr-tanh\"");
    let repr = resume(&[]);
    assert!(
        stderr(&repr).contains("repr (was \"relu\", now \"hr-tanh\")"),
        "{}",
        stderr(&repr)
    );
    edit("total_timesteps = 4096", "total_timesteps = 8192");
    let without_flag = resume(&[]);
    assert!(
        stderr(&without_flag).contains("pqn.total_timesteps (was 4096, now 8192)")
            && stderr(&without_flag).contains("pass --extend"),
        "{}",
        stderr(&without_flag)
    );
    edit("total_timesteps = 4096", "total_timesteps = 2048");
    let shorter = resume(&["--extend"]);
    assert!(
        stderr(&shorter).contains("pqn.total_timesteps (was 4096, now 2048)"),
        "{}",
        stderr(&shorter)
    );
    edit("total_timesteps = 4096", "total_timesteps = 8192");
    let extended = resume(&["--extend"]);
    assert!(extended.status.success(), "{}", stderr(&extended));
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["steps"], 8192);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_damaged_checkpoint_is_set_aside_and_the_run_resumes_exactly_from_an_older_one() {
    let dir = fresh_dir("damaged");
    let out = dir.to_str().unwrap();
    let trained = hrl(&[
        "train",
        "--env",
        "cartpole",
        "--steps",
        "8192",
        "--set",
        "checkpoint.points=4",
        "--out",
        out,
    ]);
    assert!(trained.status.success());
    let original = without_timing(&dir.join("metrics.csv"));
    let flip = |checkpoint: &str| {
        let model = dir.join("checkpoints").join(checkpoint).join("model.bpk");
        let mut bytes = std::fs::read(&model).unwrap();
        let middle = bytes.len() / 2;
        for byte in &mut bytes[middle..middle + 8] {
            *byte ^= 0xff;
        }
        std::fs::write(&model, bytes).unwrap();
    };
    let stderr = |output: &Output| String::from_utf8_lossy(&output.stderr).into_owned();

    // Evaluation falls back on the older checkpoint, and refuses a damaged one named to it.
    flip("step-8192");
    let eval = hrl(&["eval", out, "--episodes", "1"]);
    assert!(eval.status.success(), "{}", stderr(&eval));
    assert!(
        stderr(&eval).contains("step-8192 is damaged (model.bpk: checksum mismatch)"),
        "{}",
        stderr(&eval)
    );
    let named = hrl(&["eval", out, "--episodes", "1", "--checkpoint", "8192"]);
    assert!(!named.status.success());
    assert!(
        stderr(&named).contains("checkpoint of step 8192 is damaged: model.bpk: checksum mismatch"),
        "{}",
        stderr(&named)
    );

    // As if stopped before its summary: the resume sets the damaged checkpoint aside, continues
    // from step 6144 and ends with the metrics of the run that never stopped.
    std::fs::remove_file(dir.join("summary.json")).unwrap();
    let resumed = hrl(&["train", "--resume", out]);
    assert!(resumed.status.success(), "{}", stderr(&resumed));
    assert!(
        stderr(&resumed).contains("resuming from the newest intact checkpoint, step 6144"),
        "{}",
        stderr(&resumed)
    );
    assert!(dir.join("checkpoints/damaged-step-8192").is_dir());
    assert!(dir.join("checkpoints/step-8192").is_dir());
    assert_eq!(without_timing(&dir.join("metrics.csv")), original);
    std::fs::remove_dir_all(&dir).unwrap();
}
