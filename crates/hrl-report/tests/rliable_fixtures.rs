//! Our statistics against the real rliable library: `fixtures/rliable_fixtures.json`, made by
//! `fixtures/gen_rliable_fixtures.py`. Point estimates must agree to 1e-12; bootstrap intervals
//! (our RNG is not numpy's) must contain the point estimate and lie within Monte Carlo error of
//! rliable's.

use hrl_report::stats::{self, Bootstrap, Interval, ScoreMatrix};
use serde_json::Value;

const EXACT: f64 = 1e-12;
/// Allowed distance of our interval ends from rliable's (both with 10000 resamples; scores are
/// of order 1).
const CI_TOLERANCE: f64 = 0.05;

/// A scalar statistic of a score matrix.
type Aggregate<'a> = &'a dyn Fn(&ScoreMatrix) -> f64;

fn fixtures() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/rliable_fixtures.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

fn matrix(v: &Value) -> ScoreMatrix {
    let rows: Vec<Vec<f64>> = v.as_array().unwrap().iter().map(floats).collect();
    ScoreMatrix::from_rows(&rows).unwrap()
}

fn bootstrap(f: &Value) -> Bootstrap {
    Bootstrap {
        reps: f["reps"].as_u64().unwrap() as usize,
        ..Bootstrap::default()
    }
}

fn check_interval(what: &str, ours: Interval, reference: &[f64], tolerance: f64) {
    assert!(
        ours.lower <= ours.point + EXACT && ours.point <= ours.upper + EXACT,
        "{what}: interval {ours:?} does not contain its point estimate"
    );
    assert!(
        (ours.lower - reference[0]).abs() <= tolerance
            && (ours.upper - reference[1]).abs() <= tolerance,
        "{what}: our interval [{}, {}], rliable's {reference:?}",
        ours.lower,
        ours.upper
    );
}

#[test]
fn aggregates_equal_rliable() {
    let f = fixtures();
    let gamma = f["gamma"].as_f64().unwrap();
    let boot = bootstrap(&f);
    let matrices = f["matrices"].as_object().unwrap();
    assert!(matrices.len() >= 4);
    for (name, m) in matrices {
        let scores = matrix(&m["scores"]);
        let aggregates: [(&str, Aggregate); 4] = [
            ("mean", &stats::mean),
            ("median", &stats::median),
            ("iqm", &stats::iqm),
            ("optimality_gap", &|s| stats::optimality_gap(s, gamma)),
        ];
        for (key, aggregate) in aggregates {
            let expected = m[key].as_f64().unwrap();
            let ours = aggregate(&scores);
            assert!(
                (ours - expected).abs() <= EXACT,
                "{name} {key}: ours {ours}, rliable {expected}"
            );
            let interval = boot.interval(&scores, aggregate).unwrap();
            assert_eq!(interval.point, ours);
            check_interval(
                &format!("{name} {key}"),
                interval,
                &floats(&m[format!("{key}_ci")]),
                CI_TOLERANCE,
            );
        }
    }
}

#[test]
fn performance_profiles_equal_rliable() {
    let f = fixtures();
    let taus = floats(&f["taus"]);
    let boot = bootstrap(&f);
    for (name, m) in f["matrices"].as_object().unwrap() {
        let scores = matrix(&m["scores"]);
        let expected = floats(&m["profile"]);
        let ours = stats::performance_profile(&scores, &taus);
        for (i, (o, e)) in ours.iter().zip(&expected).enumerate() {
            assert!(
                (o - e).abs() <= EXACT,
                "{name} profile at tau {}: ours {o}, rliable {e}",
                taus[i]
            );
        }
        let lower = floats(&m["profile_ci"][0]);
        let upper = floats(&m["profile_ci"][1]);
        // A profile moves in steps of 1 / (runs * tasks), so an interval end may sit one step
        // away from rliable's.
        let step = 1.0 / (scores.runs() * scores.tasks()) as f64;
        let tolerance = CI_TOLERANCE.max(step) + EXACT;
        let intervals = boot
            .intervals(&scores, |s| stats::performance_profile(s, &taus))
            .unwrap();
        for (i, interval) in intervals.into_iter().enumerate() {
            check_interval(
                &format!("{name} profile at tau {}", taus[i]),
                interval,
                &[lower[i], upper[i]],
                tolerance,
            );
        }
    }
}

#[test]
fn probability_of_improvement_equals_rliable() {
    let f = fixtures();
    let boot = bootstrap(&f);
    let matrices = &f["matrices"];
    let pairs = f["improvement"].as_array().unwrap();
    assert!(pairs.len() >= 4);
    for pair in pairs {
        let (x, y) = (pair["x"].as_str().unwrap(), pair["y"].as_str().unwrap());
        let (mx, my) = (
            matrix(&matrices[x]["scores"]),
            matrix(&matrices[y]["scores"]),
        );
        let expected = pair["probability"].as_f64().unwrap();
        let ours = stats::probability_of_improvement(&mx, &my).unwrap();
        assert!(
            (ours - expected).abs() <= EXACT,
            "P({x} > {y}): ours {ours}, rliable {expected}"
        );
        let interval = boot.improvement_interval(&mx, &my).unwrap();
        check_interval(
            &format!("P({x} > {y})"),
            interval,
            &floats(&pair["ci"]),
            CI_TOLERANCE,
        );
    }
}
