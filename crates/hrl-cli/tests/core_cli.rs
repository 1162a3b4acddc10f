//! The machine-readable contracts of `hrl model`, `hrl diagnose` and `hrl bench net`, run through
//! the real binary.

use std::path::PathBuf;
use std::process::{Command, Output};

fn hrl(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hrl"))
        .args(args)
        .output()
        .expect("the hrl binary runs")
}

fn json(output: &Output) -> serde_json::Value {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("stdout is one JSON object")
}

fn temp_file(name: &str, contents: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("hrl-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, contents).unwrap();
    path
}

#[test]
fn model_reports_parameter_counts() {
    let single = json(&hrl(&[
        "model",
        "--torso",
        "nature",
        "--repr",
        "relu",
        "--actions",
        "6",
        "--json",
    ]));
    assert_eq!(single["params"], 1_687_206);
    let hadamard = json(&hrl(&[
        "model",
        "--torso",
        "nature",
        "--repr",
        "hr-tanh",
        "--actions",
        "6",
        "--json",
    ]));
    assert_eq!(hadamard["params"], 1_687_206 + 1_606_144);
    let layers = hadamard["layers"].as_array().unwrap();
    let names: Vec<&str> = layers.iter().map(|l| l["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["conv1", "conv2", "conv3", "repr", "q"]);
    assert_eq!(layers[3]["params"], 2 * 1_606_144);
    let summed: u64 = layers.iter().map(|l| l["params"].as_u64().unwrap()).sum();
    assert_eq!(summed, 1_687_206 + 1_606_144);

    let minatar = json(&hrl(&[
        "model",
        "--torso",
        "minatar",
        "--repr",
        "tanh@matched",
        "--actions",
        "6",
        "--obs",
        "10,10,10",
        "--json",
    ]));
    assert_eq!(
        minatar["layers"][0]["input"],
        serde_json::json!([10, 10, 10])
    );
    let actor_critic = json(&hrl(&[
        "model",
        "--torso",
        "mlp",
        "--repr",
        "tanh",
        "--actions",
        "2",
        "--head",
        "actor-critic",
        "--json",
    ]));
    // 4 -> 64 -> 64 -> (2 + 1).
    assert_eq!(
        actor_critic["params"],
        (4 * 64 + 64) + (64 * 64 + 64) + 65 * 3
    );
}

#[test]
fn model_rejects_bad_specs() {
    let out = hrl(&[
        "model",
        "--torso",
        "nature",
        "--repr",
        "hr-swish",
        "--actions",
        "6",
        "--json",
    ]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("unknown activation `swish`") && stderr.contains("valid forms"),
        "{stderr}"
    );
    let out = hrl(&[
        "model",
        "--torso",
        "nature",
        "--repr",
        "relu",
        "--actions",
        "6",
        "--obs",
        "4,84",
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("[C, H, W]"));
    // Parameter counts that would overflow are refused, not wrapped around.
    for (torso, obs, repr) in [
        ("mlp", "18446744073709551615", "relu"),
        ("mlp", "1000000000000", "relu@65536"),
    ] {
        let out = hrl(&[
            "model",
            "--torso",
            torso,
            "--repr",
            repr,
            "--actions",
            "6",
            "--obs",
            obs,
        ]);
        assert!(!out.status.success(), "{obs}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("has more than 268435456 values"),
            "{stderr}"
        );
    }
    let wide = hrl(&[
        "model",
        "--torso",
        "mlp",
        "--repr",
        "relu@18446744073709551615",
        "--actions",
        "6",
    ]);
    assert!(!wide.status.success());
    assert!(String::from_utf8_lossy(&wide.stderr).contains("more than the 65536 units"));
}

#[test]
fn diagnose_reports_known_answers() {
    // diag(1, 2, 0): singular values 2, 1, 0; the third neuron is zero everywhere.
    let path = temp_file("relu.csv", "1,0,0\n0,2,0\n0,0,0\n");
    let report = json(&hrl(&[
        "diagnose",
        "--features",
        path.to_str().unwrap(),
        "--activation",
        "relu",
        "--json",
    ]));
    assert_eq!(report["srank"], 2);
    assert!((report["dead_fraction"].as_f64().unwrap() - 1.0 / 3.0).abs() < 1e-12);
    let p: [f64; 2] = [2.0 / 3.0, 1.0 / 3.0];
    let erank = (-p.iter().map(|x| x * x.ln()).sum::<f64>()).exp();
    assert!((report["erank"].as_f64().unwrap() - erank).abs() < 1e-9);
    // Rows' norms 1, 2, 0; columns' std sqrt(2)/3, 2 sqrt(2)/3, 0; singular values 2, 1, 0.
    assert!((report["feature_norm"].as_f64().unwrap() - 1.0).abs() < 1e-12);
    let std = 2f64.sqrt() / 3.0;
    assert!((report["feature_std"].as_f64().unwrap() - std).abs() < 1e-12);
    assert_eq!(report["feature_rank"], 2);
    assert!((report["active_fraction"].as_f64().unwrap() - 2.0 / 3.0).abs() < 1e-12);

    let saturated = temp_file("tanh.csv", "0.999,0.1\n-0.995,0.2\n");
    let tanh = json(&hrl(&[
        "diagnose",
        "--features",
        saturated.to_str().unwrap(),
        "--activation",
        "tanh",
        "--json",
    ]));
    assert_eq!(tanh["dead_fraction"], 0.5);
    let strict = json(&hrl(&[
        "diagnose",
        "--features",
        saturated.to_str().unwrap(),
        "--activation",
        "tanh",
        "--eps",
        "0.001",
        "--json",
    ]));
    assert_eq!(strict["dead_fraction"], 0.0);
    let linear = json(&hrl(&[
        "diagnose",
        "--features",
        path.to_str().unwrap(),
        "--activation",
        "linear",
        "--json",
    ]));
    assert!(linear["dead_fraction"].is_null());
}

#[test]
fn diagnose_errors_name_the_line() {
    let path = temp_file("bad.csv", "1,2\n3,oops\n");
    let out = hrl(&[
        "diagnose",
        "--features",
        path.to_str().unwrap(),
        "--activation",
        "relu",
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("line 2, column 2: `oops` is not a finite number"),
        "{stderr}"
    );
    let huge = temp_file("huge.csv", "1,2\n3,1e308\n");
    let out = hrl(&[
        "diagnose",
        "--features",
        huge.to_str().unwrap(),
        "--activation",
        "tanh",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("line 2, column 2: `1e308` does not fit single precision"),
        "{stderr}"
    );
    let out = hrl(&[
        "diagnose",
        "--features",
        "/nonexistent.csv",
        "--activation",
        "relu",
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent.csv"));
}

#[test]
fn bench_net_prints_one_case_per_network_mode_and_batch() {
    let report = json(&hrl(&[
        "bench",
        "net",
        "--network",
        "minatar",
        "--mode",
        "forward,train,train-autodiff",
        "--batch",
        "2",
        "--warmup",
        "0",
        "--repeats",
        "1",
        "--round-ms",
        "0",
        "--matmul",
        "8",
        "--threads",
        "1",
        "--json",
    ]));
    let cases = report["cases"].as_array().expect("a list of cases");
    let modes: Vec<&str> = cases.iter().map(|c| c["mode"].as_str().unwrap()).collect();
    assert_eq!(modes, ["forward", "train", "train-autodiff"]);
    for case in cases {
        assert_eq!(case["network"], "minatar");
        assert_eq!(case["batch"], 2);
        assert!(case["median_ms"].as_f64().unwrap() > 0.0);
        assert!(case["flops"].as_f64().unwrap() > 0.0);
    }
    assert_eq!(report["matmul"]["size"], 8);
    let bad = hrl(&["bench", "net", "--round-ms", "-1"]);
    assert!(!bad.status.success());
}
