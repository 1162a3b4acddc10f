//! Build script of `ale-sys`: obtains the ale-py 0.12.1 sources (see
//! `sdist.rs`) and compiles ALE with our C shim (see `compile.rs`), once per
//! machine (see `cache.rs`).
//!
//! Exports `ALE_SDIST_DIR` (the extracted sdist, whose `src/ale/python/roms`
//! holds the ROMs) to the crate as a compile-time environment variable.

mod cache;
mod compile;
mod sdist;

use std::path::PathBuf;

fn main() {
    if let Err(message) = run() {
        eprintln!("error: ale-sys: {message}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), String> {
    println!("cargo:rerun-if-env-changed=ALE_SRC_DIR");
    println!("cargo:rerun-if-env-changed=XDG_CACHE_HOME");
    println!("cargo:rerun-if-env-changed=HOME");
    println!("cargo:rerun-if-changed=shim");
    let manifest_dir = PathBuf::from(env("CARGO_MANIFEST_DIR")?);
    let out_dir = PathBuf::from(env("OUT_DIR")?);
    let sdist = sdist::locate()?;
    println!(
        "cargo:rerun-if-changed={}",
        sdist.join("src").join("ale").display()
    );
    let zlib_include = std::env::var_os("DEP_Z_INCLUDE").map(PathBuf::from);
    compile::build(
        &sdist,
        &manifest_dir.join("shim"),
        &out_dir,
        zlib_include.as_deref(),
        sdist::cache_dir().ok(),
    )?;
    println!("cargo:rustc-env=ALE_SDIST_DIR={}", sdist.display());
    println!("cargo:sdist={}", sdist.display());
    Ok(())
}

fn env(key: &str) -> Result<String, String> {
    std::env::var(key).map_err(|_| format!("Cargo did not set {key}"))
}
