//! Locating, downloading, verifying and unpacking the ale-py 0.12.1 source
//! distribution that holds ALE's C++ sources and ROMs.

use sha2::{Digest, Sha256};
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The ale-py release whose C++ core is compiled.
pub const ALE_VERSION: &str = "0.12.1";
/// File name pip gives the source distribution.
const SDIST_FILE: &str = "ale_py-0.12.1.tar.gz";
/// Top folder inside the archive.
const SDIST_ROOT: &str = "ale_py-0.12.1";
/// sha256 of `ale_py-0.12.1.tar.gz` as published on PyPI.
const SDIST_SHA256: &str = "c503d574c5983e1063b451201ccb779d935919c0f6bf116fb0f4f8aa4c86d249";
/// Written into the extracted folder once extraction finished.
const COMPLETE_MARKER: &str = ".hadamard-rl-complete";

/// Finds the extracted sdist (the folder that holds `src/ale`):
/// `ALE_SRC_DIR` if set, else the user cache, downloading and unpacking it
/// there with pip on first use.
pub fn locate() -> Result<PathBuf, String> {
    if let Some(dir) = std::env::var_os("ALE_SRC_DIR") {
        let root = PathBuf::from(dir);
        check_layout(&root).map_err(|e| {
            format!(
                "ALE_SRC_DIR={} is not an extracted ale-py {ALE_VERSION} source distribution: {e}.\n\
                 It must be the folder that holds `src/ale/ale_interface.cpp` (the `{SDIST_ROOT}` \
                 folder of `{SDIST_FILE}`).",
                root.display()
            )
        })?;
        return Ok(root);
    }
    let cache = cache_dir()?;
    let root = cache.join(SDIST_ROOT);
    if root.join(COMPLETE_MARKER).is_file() && check_layout(&root).is_ok() {
        return Ok(root);
    }
    let download = cache.join("download");
    let tarball = download.join(SDIST_FILE);
    if !tarball.is_file() {
        pip_download(&download)?;
    }
    verify_sha256(&tarball)?;
    extract(&tarball, &cache)?;
    check_layout(&root)?;
    Ok(root)
}

/// `$XDG_CACHE_HOME/hadamard-rl/ale-py-0.12.1`, else `$HOME/.cache/...`.
pub fn cache_dir() -> Result<PathBuf, String> {
    let base = match std::env::var_os("XDG_CACHE_HOME").filter(|v| !v.is_empty()) {
        Some(xdg) => PathBuf::from(xdg),
        None => match std::env::var_os("HOME").filter(|v| !v.is_empty()) {
            Some(home) => PathBuf::from(home).join(".cache"),
            None => {
                return Err(format!(
                    "neither XDG_CACHE_HOME nor HOME is set, so there is no cache folder for the \
                     ale-py {ALE_VERSION} sources.\n{}",
                    manual_instructions(Path::new("DIR"))
                ));
            }
        },
    };
    Ok(base
        .join("hadamard-rl")
        .join(format!("ale-py-{ALE_VERSION}")))
}

fn check_layout(root: &Path) -> Result<(), String> {
    for needed in ["src/ale/ale_interface.cpp", "src/ale/version.hpp.in"] {
        if !root.join(needed).is_file() {
            return Err(format!("{} is missing", root.join(needed).display()));
        }
    }
    Ok(())
}

/// The exact commands a user can run by hand when the automatic path fails.
fn manual_instructions(download: &Path) -> String {
    format!(
        "To fetch it by hand, run:\n\
         \x20   pip download --no-deps --no-binary ale-py ale-py=={ALE_VERSION} -d {dl}\n\
         and build again (the build looks for {dl}/{SDIST_FILE}). Or, offline, extract \
         {SDIST_FILE} anywhere and point the build at it:\n\
         \x20   tar xzf {SDIST_FILE} -C /some/dir && ALE_SRC_DIR=/some/dir/{SDIST_ROOT} cargo build",
        dl = download.display()
    )
}

/// Runs `pip download` for the pinned sdist into `download`.
fn pip_download(download: &Path) -> Result<(), String> {
    fs::create_dir_all(download).map_err(|e| {
        format!(
            "creating {}: {e}\n{}",
            download.display(),
            manual_instructions(download)
        )
    })?;
    let args = [
        "download",
        "--no-deps",
        "--no-binary",
        "ale-py",
        &format!("ale-py=={ALE_VERSION}"),
        "-d",
    ];
    let mut failures = Vec::new();
    for (program, prefix) in [
        ("python3", &["-m", "pip"][..]),
        ("pip3", &[][..]),
        ("pip", &[][..]),
    ] {
        let output = Command::new(program)
            .args(prefix)
            .args(args)
            .arg(download)
            .output();
        match output {
            Ok(out) if out.status.success() && download.join(SDIST_FILE).is_file() => return Ok(()),
            Ok(out) => failures.push(format!(
                "`{program} {}` failed ({}): {}",
                prefix
                    .iter()
                    .chain(args.iter())
                    .map(|s| s.to_string())
                    .collect::<Vec<_>>()
                    .join(" "),
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            )),
            Err(e) => failures.push(format!("`{program}` could not be started: {e}")),
        }
    }
    Err(format!(
        "could not download the ale-py {ALE_VERSION} source distribution (ALE's C++ sources) \
         from PyPI with pip:\n  {}\n{}",
        failures.join("\n  "),
        manual_instructions(download)
    ))
}

fn verify_sha256(tarball: &Path) -> Result<(), String> {
    let mut file =
        fs::File::open(tarball).map_err(|e| format!("opening {}: {e}", tarball.display()))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = file
            .read(&mut buf)
            .map_err(|e| format!("reading {}: {e}", tarball.display()))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    let digest: String = hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    if digest != SDIST_SHA256 {
        return Err(format!(
            "{} has sha256 {digest}, expected {SDIST_SHA256} (ale-py {ALE_VERSION} from PyPI). \
             Delete it and build again to download it afresh.",
            tarball.display()
        ));
    }
    Ok(())
}

/// Unpacks into a private folder first and renames it into place, so a
/// concurrent or interrupted build never sees half an extraction.
fn extract(tarball: &Path, cache: &Path) -> Result<(), String> {
    let staging = cache.join(format!("extract-{}", std::process::id()));
    let _ = fs::remove_dir_all(&staging);
    fs::create_dir_all(&staging).map_err(|e| format!("creating {}: {e}", staging.display()))?;
    let file =
        fs::File::open(tarball).map_err(|e| format!("opening {}: {e}", tarball.display()))?;
    tar::Archive::new(flate2::read::GzDecoder::new(file))
        .unpack(&staging)
        .map_err(|e| {
            format!(
                "extracting {} into {}: {e}",
                tarball.display(),
                staging.display()
            )
        })?;
    let unpacked = staging.join(SDIST_ROOT);
    fs::write(unpacked.join(COMPLETE_MARKER), SDIST_SHA256)
        .map_err(|e| format!("writing into {}: {e}", unpacked.display()))?;
    let target = cache.join(SDIST_ROOT);
    if target.join(COMPLETE_MARKER).is_file() {
        // Another build finished first; its copy is identical.
        let _ = fs::remove_dir_all(&staging);
        return Ok(());
    }
    let _ = fs::remove_dir_all(&target);
    fs::rename(&unpacked, &target)
        .map_err(|e| format!("moving {} to {}: {e}", unpacked.display(), target.display()))?;
    let _ = fs::remove_dir_all(&staging);
    Ok(())
}
