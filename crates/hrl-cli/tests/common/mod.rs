//! What the `hrl train` tests share: running the binary, a fresh folder, and tables compared
//! without their timing columns.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Runs the `hrl` binary with `args` and waits for it.
pub fn hrl(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hrl"))
        .args(args)
        .output()
        .expect("the hrl binary runs")
}

/// A temporary folder path for this test process, removed if it exists.
pub fn fresh_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("hrl-train-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// A CSV file's lines without the timing columns (`sps`, `wall_time`), which differ between
/// runs.
pub fn without_timing(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let keep: Vec<usize> = (0..header.len())
        .filter(|&i| header[i] != "sps" && header[i] != "wall_time")
        .collect();
    std::iter::once(header.join(","))
        .chain(lines.map(str::to_string))
        .map(|line| {
            let fields: Vec<&str> = line.split(',').collect();
            keep.iter()
                .map(|&i| fields[i])
                .collect::<Vec<_>>()
                .join(",")
        })
        .collect()
}
