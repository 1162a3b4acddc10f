//! `hrl report` against the real rliable library: `fixtures/report_fixtures.json`, made by
//! `fixtures/gen_report_fixtures.py`, holds the final scores of a fake grid of Atari runs and
//! rliable's aggregates of their human-normalised scores. This test writes one run folder per
//! score (half of them with `episodes.csv`, half with only `metrics.csv`), builds and writes the
//! report, and checks that its point estimates, read back from `aggregates.csv` and
//! `improvement.csv`, equal rliable's.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use hrl_report::stats::{self, Bootstrap};
use hrl_report::{self as report, ReportOptions};
use serde_json::Value;

const EXACT: f64 = 1e-12;

fn fixtures() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/report_fixtures.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// A complete run folder whose last 10% of training episodes score `score`.
fn write_run(dir: &Path, run: &Value, with_episodes_csv: bool) {
    std::fs::create_dir_all(dir).unwrap();
    let (algo, env, repr) = (
        run["algo"].as_str().unwrap(),
        run["env"].as_str().unwrap(),
        run["repr"].as_str().unwrap(),
    );
    let seed = run["seed"].as_u64().unwrap();
    let score = run["score"].as_f64().unwrap();
    std::fs::write(
        dir.join("config.toml"),
        format!(
            "algo = \"{algo}\"\nenv = \"{env}\"\nrepr = \"{repr}\"\nseed = {seed}\n\n[{algo}]\ntotal_timesteps = 2000\n"
        ),
    )
    .unwrap();
    // 45 early episodes far from the score, then 5 (the last 10%) at it.
    let early = score * 0.5 - 7.0;
    let mut metrics = String::from(
        "step,frames,episodes,episodic_return,episodic_length,sps,loss,dead_fraction,srank,erank\n",
    );
    metrics += &format!("1000,4000,45,{early},20,500,0.1,0.2,100,80\n");
    metrics += &format!("2000,8000,50,{score},20,500,0.1,0.1,110,90\n");
    std::fs::write(dir.join("metrics.csv"), metrics).unwrap();
    if with_episodes_csv {
        let mut episodes = String::from("step,episodic_return,episodic_length,game_score\n");
        for i in 0..50 {
            let value = if i < 45 { early } else { score };
            // Per-life clipped returns differ from game scores; the report must use the latter.
            episodes += &format!("{},1,20,{value}\n", 40 * (i + 1));
        }
        std::fs::write(dir.join("episodes.csv"), episodes).unwrap();
    }
    std::fs::write(
        dir.join("summary.json"),
        format!("{{\"algo\": \"{algo}\", \"env\": \"{env}\", \"steps\": 2000}}"),
    )
    .unwrap();
}

/// Rows of a CSV written by the report, as header-name maps.
fn read_csv(path: &Path) -> Vec<BTreeMap<String, String>> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let header: Vec<String> = lines
        .next()
        .unwrap()
        .split(',')
        .map(str::to_string)
        .collect();
    lines
        .map(|l| {
            header
                .iter()
                .cloned()
                .zip(l.split(',').map(str::to_string))
                .collect()
        })
        .collect()
}

fn close(what: &str, ours: f64, rliable: f64) {
    assert!(
        (ours - rliable).abs() <= EXACT,
        "{what}: ours {ours}, rliable {rliable}"
    );
}

#[test]
fn report_point_estimates_equal_rliable() {
    let f = fixtures();
    let root = std::env::temp_dir().join(format!("hrl-report-rliable-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    for (i, run) in f["runs"].as_array().unwrap().iter().enumerate() {
        let name = format!(
            "{}.{}.{}.s{}",
            run["algo"].as_str().unwrap(),
            run["env"].as_str().unwrap().replace('/', "-"),
            run["repr"].as_str().unwrap(),
            run["seed"]
        );
        write_run(&root.join("runs").join(name), run, i % 2 == 0);
    }
    let options = ReportOptions {
        bootstrap: Bootstrap {
            reps: 200,
            ..Bootstrap::default()
        },
        ..ReportOptions::default()
    };
    let built = report::build(&[root.join("runs")], options).unwrap();
    for (env, pair) in f["games"].as_object().unwrap() {
        let normalisation = &built.normalisations[env];
        let (random, human) = (pair[0].as_f64().unwrap(), pair[1].as_f64().unwrap());
        assert_eq!(normalisation.apply(random), 0.0, "{env}");
        close(env, normalisation.apply(human), 1.0);
    }
    let out: PathBuf = root.join("out");
    report::write(&built, &out).unwrap();

    let aggregates = read_csv(&out.join("aggregates.csv"));
    let expected = f["aggregates"].as_object().unwrap();
    assert_eq!(aggregates.len(), 4 * expected.len());
    for row in &aggregates {
        assert_eq!(
            (row["suite"].as_str(), row["score"].as_str()),
            ("atari", "final")
        );
        let reference = expected[&row["repr"]][&row["metric"]].as_f64().unwrap();
        let ours: f64 = row["point"].parse().unwrap();
        close(
            &format!("{} {}", row["repr"], row["metric"]),
            ours,
            reference,
        );
        let (lo, hi): (f64, f64) = (
            row["ci_low"].parse().unwrap(),
            row["ci_high"].parse().unwrap(),
        );
        assert!(lo <= ours + EXACT && ours <= hi + EXACT, "{row:?}");
    }

    let improvement = read_csv(&out.join("improvement.csv"));
    let expected_improvement = f["improvement"].as_array().unwrap();
    assert_eq!(improvement.len(), expected_improvement.len());
    for (row, reference) in improvement.iter().zip(expected_improvement) {
        assert_eq!(row["x"], reference["x"].as_str().unwrap());
        assert_eq!(row["y"], reference["y"].as_str().unwrap());
        close(
            &format!("P({} > {})", row["x"], row["y"]),
            row["probability"].parse().unwrap(),
            reference["probability"].as_f64().unwrap(),
        );
    }

    let taus: Vec<f64> = f["taus"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_f64().unwrap())
        .collect();
    for group in &built.aggregates.groups {
        let reference = &expected[&group.key.repr];
        let rows = reference["scores"].as_array().unwrap();
        assert_eq!(group.matrix.runs(), rows.len());
        for (seed, row) in rows.iter().enumerate() {
            for (game, value) in row.as_array().unwrap().iter().enumerate() {
                close(
                    &format!("{} s{seed} game {game}", group.key.repr),
                    group.matrix.get(seed, game),
                    value.as_f64().unwrap(),
                );
            }
        }
        let profile = stats::performance_profile(&group.matrix, &taus);
        for (ours, theirs) in profile
            .iter()
            .zip(f["profiles"][&group.key.repr].as_array().unwrap())
        {
            close(
                &format!("{} profile", group.key.repr),
                *ours,
                theirs.as_f64().unwrap(),
            );
        }
    }
    let scores = read_csv(&out.join("scores.csv"));
    assert_eq!(scores.len(), f["runs"].as_array().unwrap().len());
    assert!(
        scores
            .iter()
            .any(|r| r["return_source"] == "episodes.csv game_score")
    );
    assert!(
        scores
            .iter()
            .any(|r| r["return_source"] == "metrics.csv episodic_return")
    );
    std::fs::remove_dir_all(&root).unwrap();
}
