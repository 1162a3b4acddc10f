//! `hrl train` end to end: the run folder, reproducing a run from its config.toml, config errors
//! before any work starts, and runs that diverge: a learning rate far too large makes PQN's
//! gradient norm infinite and PPO's loss astronomically large while everything else stays finite;
//! both must stop with an error naming the step and what diverged, write no `summary.json`, and
//! be listed by `hrl report` as incomplete.

mod common;

use common::{fresh_dir, hrl, without_timing};

#[test]
fn a_run_writes_its_folder_and_its_config_reproduces_it() {
    let first = fresh_dir("first");
    let out = hrl(&[
        "train",
        "--env",
        "cartpole",
        "--repr",
        "hr-tanh",
        "--steps",
        "20480",
        "--seed",
        "3",
        "--out",
        first.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for file in ["config.toml", "metrics.csv", "summary.json", "curves.png"] {
        assert!(first.join(file).exists(), "{file} missing");
    }
    assert!(std::fs::read_dir(&first).unwrap().any(|e| {
        e.unwrap()
            .file_name()
            .to_string_lossy()
            .starts_with("events.out.tfevents.")
    }));
    let metrics = without_timing(&first.join("metrics.csv"));
    let header = &metrics[0];
    for column in [
        "step",
        "frames",
        "episodes",
        "episodic_return",
        "episodic_length",
        "loss",
        "dead_fraction",
        "dormant_fraction",
        "srank",
        "erank",
        "branch_correlation",
    ] {
        assert!(
            header.split(',').any(|c| c == column),
            "{column} missing from {header:?}"
        );
    }
    assert_eq!(metrics.len(), 1 + 20); // 20 updates of 32 envs x 32 steps.
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(first.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["steps"], 20480);
    assert!(summary["final_diagnostics"]["branch_correlation"].is_number());

    let again = fresh_dir("again");
    let config = first.join("config.toml");
    let out = hrl(&[
        "train",
        "--config",
        config.to_str().unwrap(),
        "--out",
        again.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        without_timing(&again.join("metrics.csv")),
        metrics,
        "same config, same metrics"
    );

    let out = hrl(&[
        "train",
        "--config",
        config.to_str().unwrap(),
        "--out",
        again.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("holds a complete run"));
    let _ = std::fs::remove_dir_all(&first);
    let _ = std::fs::remove_dir_all(&again);
}

#[test]
fn config_errors_name_the_key_and_start_nothing() {
    for (args, expected) in [
        (
            vec!["--set", "pqn.learning_rat=0.1"],
            "error: --set pqn.learning_rat=0.1: unknown field `learning_rat`",
        ),
        (
            vec!["--set", "pqn.num_envs=\"many\""],
            "error: --set pqn.num_envs=\"many\": invalid type: string \"many\", expected usize",
        ),
        (
            vec!["--set", "pqn.gamma=0.9", "--set", "pqn.learning_rate=abc"],
            "error: --set pqn.learning_rate=abc: invalid type: string \"abc\", expected f64",
        ),
        (
            vec!["--set", "pqn.num_minibatches=7"],
            "pqn.num_minibatches",
        ),
        (vec!["--env", "minatar/pong"], "minatar/breakout"),
        (vec!["--repr", "hr-swish"], "unknown activation"),
        (
            vec!["--algo", "sac"],
            "unknown algorithm `sac`; valid: dqn, ppo, pqn",
        ),
        (
            vec!["--algo", "dqn", "--set", "pqn.learning_rate=1e-4"],
            "key `pqn`: belongs to algo = \"pqn\", but this run's algo is \"dqn\"",
        ),
    ] {
        let dir = fresh_dir("bad");
        let mut full = vec!["train", "--out", dir.to_str().unwrap()];
        full.extend(args.iter().copied());
        let out = hrl(&full);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} should fail");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
        assert!(
            !dir.exists(),
            "{args:?}: nothing may be written on a config error"
        );
    }
}

#[test]
fn eval_plays_a_trained_checkpoint_and_records_a_gif() {
    let dir = fresh_dir("eval");
    let out = hrl(&[
        "train",
        "--env",
        "minatar/breakout",
        "--steps",
        "16384",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let gif = dir.join("episode.gif");
    let out = hrl(&[
        "eval",
        dir.to_str().unwrap(),
        "--episodes",
        "3",
        "--json",
        "--record",
        gif.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["step"], 16384);
    assert_eq!(report["scores"].as_array().unwrap().len(), 3);
    let lengths = report["lengths"].as_array().unwrap();
    assert!(lengths.iter().all(|l| l.as_u64().unwrap() > 0));
    let bytes = std::fs::read(&gif).unwrap();
    assert_eq!(&bytes[..6], b"GIF89a");

    // The same seed plays the same episodes.
    let again = hrl(&["eval", dir.to_str().unwrap(), "--episodes", "3", "--json"]);
    let again: serde_json::Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!(again["scores"], report["scores"]);

    for (args, expected) in [
        (vec!["--checkpoint", "7"], "no checkpoint of step 7"),
        (vec!["--epsilon", "2"], "--epsilon must be in [0, 1]"),
    ] {
        let mut full = vec!["eval", dir.to_str().unwrap()];
        full.extend(args.iter().copied());
        let out = hrl(&full);
        assert!(!out.status.success());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(expected), "{stderr}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_run_that_diverges_stops_without_a_summary_and_is_never_counted_complete() {
    let root = fresh_dir("diverge");
    for (algo, lr, found) in [
        ("pqn", "pqn.learning_rate=1e6", "grad_norm = inf"),
        ("ppo", "ppo.learning_rate=1e6", "beyond 1e10"),
    ] {
        let out = root.join(format!("{algo}.cartpole.relu.s0"));
        let output = hrl(&[
            "train",
            "--algo",
            algo,
            "--env",
            "cartpole",
            "--steps",
            "8192",
            "--set",
            lr,
            "--out",
            out.to_str().unwrap(),
        ]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{algo}: {stderr}");
        assert!(
            stderr.contains("error: training diverged at agent step ") && stderr.contains(found),
            "{algo}: {stderr}"
        );
        assert!(!out.join("summary.json").exists(), "{algo} wrote a summary");
    }
    let healthy = root.join("pqn.cartpole.relu.s1");
    let trained = hrl(&[
        "train",
        "--env",
        "cartpole",
        "--steps",
        "8192",
        "--seed",
        "1",
        "--out",
        healthy.to_str().unwrap(),
    ]);
    assert!(trained.status.success());
    let report = hrl(&[
        "report",
        root.to_str().unwrap(),
        "--out",
        root.join("report").to_str().unwrap(),
        "--baseline-episodes",
        "2",
    ]);
    let stdout = String::from_utf8_lossy(&report.stdout);
    let stderr = String::from_utf8_lossy(&report.stderr);
    assert!(
        stdout.contains("1 complete runs, 2 incomplete"),
        "{stdout}{stderr}"
    );
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn an_infinite_learning_rate_is_a_config_error() {
    for (algo, key) in [
        ("pqn", "pqn.learning_rate"),
        ("ppo", "ppo.learning_rate"),
        ("dqn", "dqn.learning_rate"),
    ] {
        let out = fresh_dir(&format!("inf-{algo}"));
        let output = hrl(&[
            "train",
            "--algo",
            algo,
            "--env",
            "cartpole",
            "--set",
            &format!("{key}=inf"),
            "--out",
            out.to_str().unwrap(),
        ]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{algo}");
        assert!(
            stderr.contains(&format!("config key `{key}`: must be positive and finite")),
            "{algo}: {stderr}"
        );
        assert!(!out.exists(), "{algo}: nothing may be written");
    }
}

#[test]
fn sizes_and_ranges_are_checked_before_anything_runs() {
    let cases: [(&[&str], &str); 9] = [
        (
            &["--algo", "dqn", "--set", "dqn.buffer_size=10000000000"],
            "config key `dqn.buffer_size`: 10000000000 transitions need 447.0 GiB for the replay buffer, more than the",
        ),
        (
            &["--set", "eval.episodes=100000000"],
            "config key `eval.episodes`: must be at most 4096",
        ),
        (
            &["--repr", "tanh@1000000000"],
            "width 1000000000 is more than the 65536 units a layer may have",
        ),
        (
            &["--repr", "relu@18446744073709551615"],
            "width 18446744073709551615 is more than the 65536 units",
        ),
        (
            &["--threads", "100000"],
            "--threads must be between 1 and 256, got 100000",
        ),
        (
            &["--set", "pqn.eps_start=-1"],
            "config key `pqn.eps_start`: must be in [0, 1]",
        ),
        (
            &["--steps", "-1"],
            "must be a positive integer (agent steps over all environments), got `-1`",
        ),
        (&["--steps", "0"], "must be a positive integer"),
        (
            &["--set", "num_threads=100000"],
            "config key `num_threads`: must be between 1 and 256",
        ),
    ];
    for (extra, expected) in cases {
        let out = fresh_dir("ranges");
        let mut args = vec!["train", "--env", "cartpole", "--out", out.to_str().unwrap()];
        args.extend_from_slice(extra);
        let output = hrl(&args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{extra:?} accepted");
        assert!(stderr.contains(expected), "{extra:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{extra:?}: {stderr}");
        assert!(!out.exists(), "{extra:?}: nothing may be written");
    }
}

#[test]
fn no_intermediate_checkpoints_still_checkpoint_the_end() {
    let out = fresh_dir("end-checkpoint");
    let output = hrl(&[
        "train",
        "--env",
        "cartpole",
        "--steps",
        "4096",
        "--set",
        "checkpoint.points=0",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(output.status.success());
    let checkpoints: Vec<String> = std::fs::read_dir(out.join("checkpoints"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(checkpoints, ["step-4096"]);
    let eval = hrl(&["eval", out.to_str().unwrap(), "--episodes", "1"]);
    assert!(
        eval.status.success(),
        "{}",
        String::from_utf8_lossy(&eval.stderr)
    );
    std::fs::remove_dir_all(&out).unwrap();
}

#[test]
fn an_out_path_that_is_a_file_is_one_clear_error() {
    let dir = fresh_dir("out-file");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("not-a-folder");
    std::fs::write(&file, "x").unwrap();
    let output = hrl(&[
        "train",
        "--env",
        "cartpole",
        "--out",
        file.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    let expected = format!(
        "error: {} is a file, not a folder; --out takes a folder for the run\n",
        file.display()
    );
    assert!(stderr.ends_with(&expected), "{stderr}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "x");
    std::fs::remove_dir_all(&dir).unwrap();
}
