//! `hrl report` and `hrl baseline random` through the real binary: a small report on synthetic
//! run folders, and the errors a user meets (no runs, the same run twice, a broken metrics.csv).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn hrl(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hrl"))
        .args(args)
        .output()
        .expect("the hrl binary runs")
}

fn fresh_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("hrl-report-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn succeeded(output: &Output) -> String {
    assert!(output.status.success(), "{}", stderr(output));
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// How a synthetic run ends.
#[derive(Clone, Copy, PartialEq)]
enum Ending {
    Complete,
    /// Stopped after `rows` of 20 rows, with a checkpoint.
    Partial {
        rows: u64,
    },
    Failed,
}

/// A run folder as `hrl train` writes it: 20 metrics rows of 1024 steps, returns rising towards
/// `level` (plus a seed-dependent wiggle), diagnostics on every row.
fn write_run(root: &Path, env: &str, repr: &str, seed: u64, level: f64, ending: Ending) -> PathBuf {
    let dir = root.join(format!("pqn.{}.{repr}.s{seed}", env.replace('/', "-")));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("config.toml"),
        format!(
            "algo = \"pqn\"\nenv = \"{env}\"\nrepr = \"{repr}\"\nseed = {seed}\ndevice = \"cpu\"\n\n[pqn]\ntotal_timesteps = 20480\nnum_envs = 32\n"
        ),
    )
    .unwrap();
    let rows = match ending {
        Ending::Partial { rows } => rows,
        _ => 20,
    };
    let mut metrics = String::from(
        "step,frames,episodes,episodic_return,episodic_length,sps,loss,dead_fraction,dormant_fraction,srank,erank,dead_fraction_first,dead_fraction_second,branch_correlation,epsilon,learning_rate,grad_norm,wall_time\n",
    );
    let mut episodes = 0;
    for row in 1..=rows {
        let progress = row as f64 / 20.0;
        let finished = 3 + row % 2;
        episodes += finished;
        let wiggle = 0.1 * ((seed * 7 + row) % 5) as f64;
        let episodic_return = level * progress + wiggle;
        let dead = if repr.starts_with("hr-") { 0.05 } else { 0.3 } * progress;
        metrics += &format!(
            "{},{},{episodes},{episodic_return},40,5000,0.01,{dead},0.1,{},{},,,,0.1,0.0005,1.0,{}\n",
            row * 1024,
            row * 1024,
            60.0 + 40.0 * progress,
            40.0 + 20.0 * progress,
            row as f64 * 0.2
        );
    }
    std::fs::write(dir.join("metrics.csv"), metrics).unwrap();
    match ending {
        Ending::Complete => {
            let eval = if env == "minatar/breakout" {
                format!(", \"eval_return\": {}", level + 1.0)
            } else {
                String::new()
            };
            std::fs::write(
                dir.join("summary.json"),
                format!("{{\"algo\": \"pqn\", \"env\": \"{env}\", \"repr\": \"{repr}\", \"seed\": {seed}, \"steps\": 20480{eval}}}\n"),
            )
            .unwrap();
        }
        Ending::Partial { rows } => {
            std::fs::create_dir_all(dir.join("checkpoints")).unwrap();
            std::fs::write(
                dir.join("checkpoints")
                    .join(format!("step-{}", rows * 1024)),
                "",
            )
            .unwrap();
        }
        Ending::Failed => {
            std::fs::write(
                dir.join("failed.json"),
                r#"{"exit_code": 1, "signal": null, "attempts": 1, "failed_at_unix_s": 0}"#,
            )
            .unwrap();
        }
    }
    dir
}

/// 2 games x 2 representations x 3 seeds, complete; one partial and one failed run.
fn synthetic_grid(root: &Path) -> (PathBuf, PathBuf) {
    for (env, scale) in [("minatar/breakout", 10.0), ("minatar/asterix", 4.0)] {
        for (repr, factor) in [("relu", 0.6), ("hr-tanh", 1.0)] {
            for seed in 0..3 {
                let level = scale * factor + seed as f64 * 0.3;
                write_run(root, env, repr, seed, level, Ending::Complete);
            }
        }
    }
    let partial = write_run(
        &root.join("later"),
        "minatar/breakout",
        "relu",
        7,
        50.0,
        Ending::Partial { rows: 8 },
    );
    let failed = write_run(
        &root.join("later"),
        "minatar/asterix",
        "hr-tanh",
        9,
        50.0,
        Ending::Failed,
    );
    (partial, failed)
}

#[test]
fn a_report_on_synthetic_runs_writes_tables_figures_and_lists_incomplete_runs() {
    let root = fresh_dir("e2e");
    let runs = root.join("runs");
    let (partial, failed) = synthetic_grid(&runs);
    let out = root.join("out");
    let stdout = succeeded(&hrl(&[
        "report",
        runs.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--resamples",
        "300",
        "--baseline-episodes",
        "30",
    ]));
    assert!(
        stdout.contains("12 complete runs, 2 incomplete"),
        "{stdout}"
    );
    assert!(
        stdout.contains("measured the random policy on minatar/asterix, minatar/breakout"),
        "{stdout}"
    );

    for file in [
        "report.md",
        "aggregates.csv",
        "scores.csv",
        "improvement.csv",
        "baselines.json",
        "figures/curves-minatar-breakout.png",
        "figures/curves-minatar-asterix.svg",
        "figures/diagnostics-minatar.png",
        "figures/iqm-minatar-final.png",
        "figures/iqm-minatar-eval.svg",
        "figures/profiles-minatar-final.png",
    ] {
        let path = out.join(file);
        assert!(
            std::fs::metadata(&path).is_ok_and(|m| m.len() > 0),
            "{file} missing or empty"
        );
    }
    let png = std::fs::read(out.join("figures/curves-minatar-breakout.png")).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");

    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    for expected in [
        "## Incomplete runs",
        &partial.display().to_string(),
        "partial (checkpoint at step 8192)",
        "8192 of 20480 steps (40%)",
        &failed.display().to_string(),
        "failed: exit code 1",
        "## minatar (normalised score)",
        "minatar/breakout: hadamard-rl PQN",
        "experiments/minatar-reference.toml",
        "### Probability of improvement (final scores)",
        "### Final scores per game",
        "![minatar/breakout: training return",
        "figures/diagnostics-minatar.png",
    ] {
        assert!(md.contains(expected), "report.md lacks `{expected}`:\n{md}");
    }

    let aggregates = std::fs::read_to_string(out.join("aggregates.csv")).unwrap();
    let header = aggregates.lines().next().unwrap();
    assert_eq!(
        header,
        "suite,score,algo,repr,metric,point,ci_low,ci_high,games,runs"
    );
    // MinAtar normalised by the shipped references: median, IQM, mean and optimality gap. 2
    // reprs x 4 metrics for the final scores (2 games x 3 seeds each: the incomplete runs are
    // left out), the same for the eval scores (breakout only).
    assert_eq!(aggregates.lines().count(), 1 + 16, "{aggregates}");
    assert!(aggregates.contains("minatar,final,pqn,relu,optimality_gap,"));

    // Final health: the mean of the diagnostics rows at step >= 0.9 * 20480 (rows 18 to 20, at
    // progress 0.9, 0.95 and 1), the same in every run, so the interval is that point too.
    let health = std::fs::read_to_string(out.join("health.csv")).unwrap();
    assert_eq!(
        health.lines().next().unwrap(),
        "suite,algo,repr,metric,mean,ci_low,ci_high,games,runs"
    );
    for (repr, metric, expected) in [
        ("relu", "dead_fraction", 0.3 * 0.95),
        ("hr-tanh", "dead_fraction", 0.05 * 0.95),
        ("relu", "dormant_fraction", 0.1),
        ("hr-tanh", "srank", 60.0 + 40.0 * 0.95),
        ("relu", "erank", 40.0 + 20.0 * 0.95),
    ] {
        let prefix = format!("minatar,pqn,{repr},{metric},");
        let line = health
            .lines()
            .find(|l| l.starts_with(&prefix))
            .unwrap_or_else(|| panic!("no {prefix} row:\n{health}"));
        let fields: Vec<&str> = line.split(',').collect();
        for value in &fields[4..7] {
            let value: f64 = value.parse().unwrap();
            assert!(
                (value - expected).abs() < 1e-9,
                "{line}: expected {expected}"
            );
        }
        assert_eq!(&fields[7..], ["2", "3"], "{line}");
    }
    assert!(
        !health.contains("branch_correlation"),
        "no run logs branch values:\n{health}"
    );
    assert!(md.contains("Every representation:"), "{md}");
    assert!(aggregates.contains("minatar,final,pqn,relu,iqm,"));
    assert!(
        aggregates
            .lines()
            .filter(|l| l.contains(",final,"))
            .all(|l| l.ends_with(",2,3")),
        "{aggregates}"
    );
    assert!(
        aggregates
            .lines()
            .filter(|l| l.contains(",eval,"))
            .all(|l| l.ends_with(",1,3")),
        "{aggregates}"
    );

    let scores = std::fs::read_to_string(out.join("scores.csv")).unwrap();
    assert_eq!(scores.lines().count(), 1 + 14);
    assert!(
        scores.lines().any(|l| l.contains(",partial,8192,20480,")),
        "{scores}"
    );
    assert!(scores.lines().any(|l| l.contains(",failed,")));

    // The same report again is identical (seeded bootstrap, seeded baselines).
    let again = root.join("again");
    succeeded(&hrl(&[
        "report",
        runs.to_str().unwrap(),
        "--out",
        again.to_str().unwrap(),
        "--resamples",
        "300",
        "--baseline-episodes",
        "30",
    ]));
    assert_eq!(
        std::fs::read_to_string(again.join("aggregates.csv")).unwrap(),
        aggregates
    );

    // Reusing the baselines with other reference scores normalises by those.
    let mut baselines: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("baselines.json")).unwrap()).unwrap();
    assert_eq!(baselines["minatar/breakout"]["random"]["episodes"], 30);
    assert_eq!(
        baselines["minatar/breakout"]["reference"].as_f64(),
        hrl_report::minatar_scores::minatar_reference("minatar/breakout")
    );
    baselines["minatar/breakout"]["reference"] = 20.0.into();
    baselines["minatar/asterix"]["reference"] = 8.0.into();
    baselines["minatar/asterix"]["reference_source"] = "a test value".into();
    let file = root.join("with-references.json");
    std::fs::write(&file, baselines.to_string()).unwrap();
    let normalised = root.join("normalised");
    let stdout = succeeded(&hrl(&[
        "report",
        runs.to_str().unwrap(),
        "--out",
        normalised.to_str().unwrap(),
        "--baselines",
        file.to_str().unwrap(),
        "--resamples",
        "300",
    ]));
    assert!(!stdout.contains("measured the random policy"), "{stdout}");
    let renormalised = std::fs::read_to_string(normalised.join("aggregates.csv")).unwrap();
    assert!(renormalised.contains(",optimality_gap,"), "{renormalised}");
    assert_ne!(renormalised, aggregates);
    let md = std::fs::read_to_string(normalised.join("report.md")).unwrap();
    assert!(
        md.contains("## minatar (normalised score)") && md.contains("a test value"),
        "{md}"
    );
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn no_runs_is_an_error_naming_the_folder() {
    let root = fresh_dir("empty");
    let out = hrl(&[
        "report",
        root.to_str().unwrap(),
        "--out",
        root.join("out").to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    let message = stderr(&out);
    assert!(
        message.contains("no run folders") && message.contains(root.to_str().unwrap()),
        "{message}"
    );
    let missing = hrl(&["report", root.join("nope").to_str().unwrap(), "--out", "x"]);
    assert!(!missing.status.success());
    assert!(stderr(&missing).contains("nope"), "{}", stderr(&missing));
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn the_same_run_twice_names_both_folders() {
    let root = fresh_dir("duplicate");
    let first = write_run(
        &root.join("a"),
        "cartpole",
        "tanh",
        1,
        100.0,
        Ending::Complete,
    );
    let second = write_run(
        &root.join("b"),
        "cartpole",
        "tanh",
        1,
        100.0,
        Ending::Complete,
    );
    let out = hrl(&[
        "report",
        root.to_str().unwrap(),
        "--out",
        root.join("out").to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    let message = stderr(&out);
    for folder in [&first, &second] {
        assert!(message.contains(folder.to_str().unwrap()), "{message}");
    }
    assert!(!root.join("out").exists(), "nothing is written on an error");
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn an_unreadable_metrics_file_names_the_file_and_line() {
    let root = fresh_dir("metrics");
    let run = write_run(&root, "cartpole", "relu", 0, 100.0, Ending::Complete);
    let metrics = run.join("metrics.csv");
    let mut text = std::fs::read_to_string(&metrics).unwrap();
    text = text.replacen("\n1024,", "\n1024x,", 1);
    std::fs::write(&metrics, text).unwrap();
    let out = hrl(&[
        "report",
        root.to_str().unwrap(),
        "--out",
        root.join("out").to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    let message = stderr(&out);
    assert!(
        message.contains(metrics.to_str().unwrap())
            && message.contains("line 2")
            && message.contains("`step`"),
        "{message}"
    );
    std::fs::write(&metrics, "").unwrap();
    let out = hrl(&[
        "report",
        root.to_str().unwrap(),
        "--out",
        root.join("out").to_str().unwrap(),
    ]);
    assert!(stderr(&out).contains("empty file"), "{}", stderr(&out));
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn baseline_random_prints_a_seeded_score() {
    let json = |seed: &str| -> serde_json::Value {
        let out = hrl(&[
            "baseline",
            "random",
            "--env",
            "minatar/breakout",
            "--episodes",
            "200",
            "--seed",
            seed,
            "--json",
        ]);
        serde_json::from_str(&succeeded(&out)).expect("one JSON object")
    };
    let first = json("3");
    assert_eq!(first, json("3"));
    assert_eq!(first["env"], "minatar/breakout");
    assert_eq!(first["episodes"], 200);
    let mean = first["mean"].as_f64().unwrap();
    assert!((0.3..0.7).contains(&mean), "{first}");
    let text = succeeded(&hrl(&[
        "baseline",
        "random",
        "--env",
        "cartpole",
        "--episodes",
        "5",
    ]));
    assert!(text.starts_with("cartpole: random policy"), "{text}");
    let bad = hrl(&["baseline", "random", "--env", "minatar/pong"]);
    assert!(!bad.status.success());
    assert!(stderr(&bad).contains("minatar/pong"), "{}", stderr(&bad));
}
