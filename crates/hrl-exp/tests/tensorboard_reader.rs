//! Our event files read by TensorBoard's own Python reader (`fixtures/read_tb.py`, the
//! EventAccumulator behind `tensorboard --logdir`). Runs the interpreter named by
//! `HRL_TEST_PYTHON` (default `python3`); skipped with a message when it cannot import
//! tensorboard (`pip install -r crates/hrl-exp/tests/fixtures/requirements.txt`).

use std::path::{Path, PathBuf};
use std::process::Command;

use hrl_exp::metrics::MetricsLog;
use hrl_exp::tensorboard::EventWriter;
use serde_json::Value;

fn python_with_tensorboard() -> Option<String> {
    let python = std::env::var("HRL_TEST_PYTHON").unwrap_or_else(|_| "python3".to_string());
    let ok = Command::new(&python)
        .args(["-c", "import tensorboard"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if ok {
        Some(python)
    } else {
        println!(
            "SKIPPED: {python} cannot import tensorboard; set HRL_TEST_PYTHON to an interpreter \
             with crates/hrl-exp/tests/fixtures/requirements.txt installed"
        );
        None
    }
}

fn read_with_tensorboard(python: &str, dir: &Path) -> Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/read_tb.py");
    let out = Command::new(python).arg(script).arg(dir).output().unwrap();
    assert!(
        out.status.success(),
        "read_tb.py failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("hrl-tb-py-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The (step, value) points of one scalar tag, values as f32 (what both sides store).
fn points(read: &Value, tag: &str) -> Vec<(i64, f32)> {
    read["scalars"][tag]
        .as_array()
        .unwrap_or_else(|| panic!("no scalar tag {tag} in {read}"))
        .iter()
        .map(|p| (p[0].as_i64().unwrap(), p[1].as_f64().unwrap() as f32))
        .collect()
}

#[test]
fn tensorboard_reads_scalars_and_text_exactly() {
    let Some(python) = python_with_tensorboard() else {
        return;
    };
    let dir = temp_dir("exact");
    let values = [0.1, -3.25e-7, 12345.678, 1.0 / 3.0];
    {
        let mut w = EventWriter::create(&dir).unwrap();
        for (i, v) in values.iter().enumerate() {
            w.add_scalars(&[("loss", *v), ("sps", 1000.0 + i as f64)], 100 * i as i64)
                .unwrap();
        }
        w.add_text("config", "algo = \"pqn\"\nlr = 2.5e-4", 0)
            .unwrap();
    }
    let read = read_with_tensorboard(&python, &dir);
    let expected: Vec<(i64, f32)> = values
        .iter()
        .enumerate()
        .map(|(i, v)| (100 * i as i64, *v as f32))
        .collect();
    assert_eq!(points(&read, "loss"), expected);
    assert_eq!(points(&read, "sps")[3], (300, 1003.0));
    assert_eq!(
        read["text"]["config"][0],
        serde_json::json!([0, "algo = \"pqn\"\nlr = 2.5e-4"])
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn tensorboard_drops_events_after_a_restart_step() {
    let Some(python) = python_with_tensorboard() else {
        return;
    };
    let dir = temp_dir("restart");
    {
        let mut first = EventWriter::create(&dir).unwrap();
        for step in 1..=10 {
            first
                .add_scalar("episodic_return", step as f64, step)
                .unwrap();
        }
    }
    {
        // Resumed from a checkpoint at step 5: steps 6.. are logged again, with new values.
        let mut second = EventWriter::create(&dir).unwrap();
        second.add_session_start(6).unwrap();
        for step in 6..=12 {
            second
                .add_scalar("episodic_return", 100.0 + step as f64, step)
                .unwrap();
        }
    }
    let read = read_with_tensorboard(&python, &dir);
    let expected: Vec<(i64, f32)> = (1..=12)
        .map(|s| (s, if s <= 5 { s as f32 } else { 100.0 + s as f32 }))
        .collect();
    assert_eq!(points(&read, "episodic_return"), expected);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn resumed_metrics_log_shows_each_step_once_in_tensorboard() {
    let Some(python) = python_with_tensorboard() else {
        return;
    };
    let dir = temp_dir("metrics-resume");
    let columns = ["step", "loss"];
    {
        let mut log = MetricsLog::create(&dir, &columns).unwrap();
        for step in 1..=10 {
            log.write_named([("step", step as f64), ("loss", step as f64)])
                .unwrap();
        }
    }
    {
        let (mut log, report) = MetricsLog::resume(&dir, &columns, 5).unwrap();
        assert_eq!(report.dropped_rows, 5);
        for step in 6..=8 {
            log.write_named([("step", step as f64), ("loss", -(step as f64))])
                .unwrap();
        }
    }
    let expected: Vec<(i64, f32)> = (1..=8)
        .map(|s| (s, if s <= 5 { s as f32 } else { -(s as f32) }))
        .collect();
    assert_eq!(
        points(&read_with_tensorboard(&python, &dir), "loss"),
        expected
    );
    let csv = std::fs::read_to_string(dir.join("metrics.csv")).unwrap();
    assert_eq!(
        csv,
        "step,loss\n1,1\n2,2\n3,3\n4,4\n5,5\n6,-6\n7,-7\n8,-8\n"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn tensorboard_reads_a_training_run_folder_as_its_metrics_csv() {
    let Some(python) = python_with_tensorboard() else {
        return;
    };
    use hrl_exp::metrics::Table;
    use hrl_exp::train::config::{Overrides, TrainConfig};
    let dir = temp_dir("run");
    let run = dir.join("run");
    let config = TrainConfig::resolve(&Overrides {
        env: Some("cartpole".into()),
        steps: Some(10_240),
        ..Overrides::default()
    })
    .unwrap();
    let stop = std::sync::atomic::AtomicBool::new(false);
    hrl_exp::train::train(&config, &run, &stop).unwrap();
    let read = read_with_tensorboard(&python, &run);
    let table = Table::read(&run.join("metrics.csv")).unwrap();
    let steps = table.column("step").unwrap();
    for tag in ["loss", "episodic_return", "srank", "epsilon"] {
        let expected: Vec<(i64, f32)> = steps
            .iter()
            .zip(table.column(tag).unwrap())
            .filter_map(|(step, value)| Some(((*step)? as i64, value? as f32)))
            .collect();
        assert!(!expected.is_empty(), "{tag} has values");
        assert_eq!(points(&read, tag), expected, "{tag}");
    }
    // Every layer's health: each (layer, metric) of diagnostics.csv is the scalar
    // layer/LAYER/METRIC.
    let diagnostics = std::fs::read_to_string(run.join("diagnostics.csv")).unwrap();
    let mut from_csv: std::collections::BTreeMap<String, Vec<(i64, f32)>> = Default::default();
    for line in diagnostics.lines().skip(1) {
        let fields: Vec<&str> = line.split(',').collect();
        let tag = format!("layer/{}/{}", fields[1], fields[2]);
        let step: i64 = fields[0].parse().unwrap();
        let value: f64 = fields[3].parse().unwrap();
        from_csv.entry(tag).or_default().push((step, value as f32));
    }
    for tag in [
        "layer/fc1/dead_fraction",
        "layer/repr/erank",
        "layer/q/churn",
    ] {
        assert!(from_csv.contains_key(tag), "{tag} in diagnostics.csv");
    }
    for (tag, expected) in &from_csv {
        assert_eq!(&points(&read, tag), expected, "{tag}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
