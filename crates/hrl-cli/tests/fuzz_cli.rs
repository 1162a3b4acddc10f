//! Garbage in, a clear error out: `hrl diagnose` features files, `hrl env trace` actions files,
//! sweep files, run config files and checkpoint files (resumed with and without their manifest,
//! so that damaged bytes reach the loaders), fed random bytes, truncations and byte flips of valid files
//! (seeded, so a failure reproduces). Every case must end in a clean exit: no panic, no signal, a
//! one-line `error:` message when it fails, and random bytes must always fail. `HRL_FUZZ_CASES` sets the
//! cases per input kind (default 200; a longer run: `HRL_FUZZ_CASES=2000 cargo test --release
//! --test fuzz_cli`).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// xorshift64*: a small seeded generator, enough to vary the bytes.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn cases() -> usize {
    std::env::var("HRL_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200)
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("hrl-fuzz-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Case `i` of an input kind: random bytes (a third of the cases), a truncation or a few flipped
/// bytes of `valid`. Returns the bytes and whether they are pure garbage.
fn input(rng: &mut Rng, i: usize, valid: &[u8]) -> (Vec<u8>, bool) {
    match i % 3 {
        0 => {
            let len = rng.below(600);
            let bytes = (0..len).map(|_| rng.next() as u8).collect();
            (bytes, true)
        }
        1 => (valid[..rng.below(valid.len())].to_vec(), false),
        _ => {
            let mut bytes = valid.to_vec();
            for _ in 0..1 + rng.below(4) {
                let at = rng.below(bytes.len());
                bytes[at] = rng.next() as u8;
            }
            (bytes, false)
        }
    }
}

/// Checks one run of the binary on one input.
fn check(output: &Output, garbage: bool, what: &str, bytes: &[u8]) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    let shown = String::from_utf8_lossy(&bytes[..bytes.len().min(80)]).into_owned();
    assert!(
        output.status.code().is_some(),
        "{what}: ended by a signal on {shown:?}: {stderr}"
    );
    assert!(
        !stderr.contains("panicked"),
        "{what}: panic on {shown:?}: {stderr}"
    );
    if garbage {
        assert!(
            !output.status.success(),
            "{what}: exit 0 on random bytes {shown:?}"
        );
    }
    if !output.status.success() {
        // One line, `error: ...`, besides the log's timestamped lines.
        let message: Vec<&str> = stderr
            .lines()
            .filter(|l| !l.starts_with(|c: char| c.is_ascii_digit()))
            .collect();
        assert!(
            message.len() == 1 && message[0].starts_with("error: "),
            "{what}: not a one-line error on {shown:?}: {stderr}"
        );
    }
}

fn fuzz(name: &str, seed: u64, valid: &[u8], run: impl Fn(&Path) -> Output) {
    let dir = scratch(name);
    let mut rng = Rng(seed);
    for i in 0..cases() {
        let (bytes, garbage) = input(&mut rng, i, valid);
        let path = dir.join(format!("case-{i}"));
        std::fs::write(&path, &bytes).unwrap();
        check(&run(&path), garbage, &format!("{name} case {i}"), &bytes);
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

fn hrl(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hrl"))
        .args(args)
        .output()
        .expect("the hrl binary runs")
}

#[test]
fn diagnose_features_files() {
    let valid = b"0.5,-0.25,0.0\n1.0,0.75,-1.0\n0.1,0.2,0.3\n";
    fuzz("diagnose", 1, valid, |path| {
        hrl(&[
            "diagnose",
            "--features",
            path.to_str().unwrap(),
            "--activation",
            "tanh",
        ])
    });
}

#[test]
fn env_trace_actions_files() {
    let valid = b"0\n1\n2\n0\n1\n";
    fuzz("trace", 2, valid, |path| {
        hrl(&[
            "env",
            "trace",
            "--env",
            "minatar/breakout",
            "--seed",
            "0",
            "--actions",
            path.to_str().unwrap(),
        ])
    });
}

#[test]
fn sweep_files() {
    let valid = b"name = \"f\"\nalgos = [\"pqn\"]\nenvs = [\"cartpole\"]\nreprs = [\"relu\"]\nseeds = [1]\nsteps = 2048\n";
    let out = scratch("sweep-out");
    fuzz("sweep", 3, valid, |path| {
        hrl(&[
            "sweep",
            "status",
            path.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ])
    });
    std::fs::remove_dir_all(&out).unwrap();
}

#[test]
fn run_config_files() {
    let dir = scratch("config-source");
    let run = dir.join("run");
    let trained = hrl(&[
        "train",
        "--env",
        "cartpole",
        "--steps",
        "1024",
        "--out",
        run.to_str().unwrap(),
    ]);
    assert!(trained.status.success());
    let valid = std::fs::read(run.join("config.toml")).unwrap();
    let out = dir.join("out");
    fuzz("config", 4, &valid, |path| {
        let _ = std::fs::remove_dir_all(&out);
        hrl(&[
            "train",
            "--config",
            path.to_str().unwrap(),
            "--set",
            "eval.points=0",
            "--out",
            out.to_str().unwrap(),
        ])
    });
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Copies the files of `from` into `to` (one level of folders, as a run folder has).
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

#[test]
fn checkpoint_files() {
    let dir = scratch("checkpoint");
    let source = dir.join("source");
    let trained = hrl(&[
        "train",
        "--env",
        "cartpole",
        "--steps",
        "2048",
        "--set",
        "checkpoint.points=1",
        "--set",
        "eval.points=0",
        "--out",
        source.to_str().unwrap(),
    ]);
    assert!(trained.status.success());
    // Resumable: as if stopped after its checkpoint, before its summary.
    std::fs::remove_file(source.join("summary.json")).unwrap();
    let checkpoint = std::fs::read_dir(source.join("checkpoints"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .find(|name| name.starts_with("step-"))
        .unwrap();
    let files = [
        "model.bpk",
        "optimizer.bpk",
        "envs.bin",
        "agent.json",
        "train.json",
    ];
    let mut rng = Rng(5);
    for i in 0..cases() {
        let file = files[i % files.len()];
        let run = dir.join(format!("case-{i}"));
        copy_tree(&source, &run);
        let path = run.join("checkpoints").join(&checkpoint).join(file);
        let valid = std::fs::read(&path).unwrap();
        let (bytes, _) = input(&mut rng, i / files.len(), &valid);
        std::fs::write(&path, &bytes).unwrap();
        // Without its manifest the damaged file reaches the loaders themselves.
        if i % 2 == 0 {
            let manifest = run
                .join("checkpoints")
                .join(&checkpoint)
                .join("manifest.json");
            std::fs::remove_file(manifest).unwrap();
        }
        let output = hrl(&["train", "--resume", run.to_str().unwrap()]);
        check(
            &output,
            false,
            &format!("checkpoint case {i} ({file})"),
            &bytes,
        );
        std::fs::remove_dir_all(&run).unwrap();
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
