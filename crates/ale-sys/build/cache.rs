//! A cache of the compiled `libale.a` outside the target folder, shared by
//! every target folder and Cargo profile (the C++ flags do not depend on the
//! profile), so that ALE is compiled once per machine rather than once per
//! checkout and profile. The key hashes everything that goes into the
//! library: compiler and version, flags, target, and the content of every
//! source and header of ALE, the shim, the generated `version.hpp` and zlib.
//! Set `ALE_SYS_NO_LIB_CACHE=1` to bypass it.

use sha2::{Digest, Sha256};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Bumped whenever the way the library is built changes in a way the key
/// does not see.
const CACHE_VERSION: &str = "ale-sys libale cache v1";

/// The cache entry for one key: `<root>/lib-<key>/libale.a`.
pub struct LibCache {
    entry: PathBuf,
}

impl LibCache {
    /// The entry for this build, or `None` when caching is off or impossible.
    pub fn new(
        root: Option<PathBuf>,
        compiler: &cc::Tool,
        inputs: &[&Path],
    ) -> Result<Option<LibCache>, String> {
        println!("cargo:rerun-if-env-changed=ALE_SYS_NO_LIB_CACHE");
        if std::env::var_os("ALE_SYS_NO_LIB_CACHE").is_some_and(|v| !v.is_empty() && v != "0") {
            return Ok(None);
        }
        let Some(root) = root else {
            return Ok(None);
        };
        let key = key(compiler, inputs)?;
        Ok(Some(LibCache {
            entry: root.join(format!("lib-{key}")),
        }))
    }

    /// Copies a cached library to `out_dir/libale.a`; false if there is none.
    pub fn fetch(&self, out_dir: &Path) -> bool {
        let cached = self.entry.join("libale.a");
        cached.is_file() && fs::copy(&cached, out_dir.join("libale.a")).is_ok()
    }

    /// Stores `out_dir/libale.a`, atomically; failures only cost a rebuild
    /// next time, so they are ignored.
    pub fn store(&self, out_dir: &Path) {
        let staging = self
            .entry
            .with_extension(format!("tmp-{}", std::process::id()));
        let stored = fs::create_dir_all(&staging).is_ok()
            && fs::copy(out_dir.join("libale.a"), staging.join("libale.a")).is_ok()
            && fs::rename(&staging, &self.entry).is_ok();
        if !stored {
            let _ = fs::remove_dir_all(&staging);
        }
    }
}

fn key(compiler: &cc::Tool, inputs: &[&Path]) -> Result<String, String> {
    let mut hasher = Sha256::new();
    let mut put = |bytes: &[u8]| {
        hasher.update((bytes.len() as u64).to_le_bytes());
        hasher.update(bytes);
    };
    put(CACHE_VERSION.as_bytes());
    put(std::env::var("TARGET").unwrap_or_default().as_bytes());
    put(compiler.path().as_os_str().as_encoded_bytes());
    let version = Command::new(compiler.path())
        .arg("--version")
        .output()
        .map_err(|e| format!("running {} --version: {e}", compiler.path().display()))?;
    put(&version.stdout);
    // Include folders differ between target folders; their files are hashed
    // below instead.
    let mut args = compiler.args().iter();
    while let Some(arg) = args.next() {
        if arg == "-I" {
            args.next();
        } else if !arg.as_encoded_bytes().starts_with(b"-I") {
            put(arg.as_encoded_bytes());
        }
    }
    for input in inputs {
        for file in files_under(input)? {
            let content =
                fs::read(&file).map_err(|e| format!("reading {}: {e}", file.display()))?;
            put(file
                .strip_prefix(input)
                .unwrap_or(&file)
                .as_os_str()
                .as_encoded_bytes());
            put(&content);
        }
    }
    Ok(hasher
        .finalize()
        .iter()
        .take(16)
        .map(|b| format!("{b:02x}"))
        .collect())
}

/// C and C++ sources and headers at or below `path`, sorted.
fn files_under(path: &Path) -> Result<Vec<PathBuf>, String> {
    if path.is_file() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut files = Vec::new();
    let mut pending = vec![path.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in fs::read_dir(&dir).map_err(|e| format!("listing {}: {e}", dir.display()))? {
            let path = entry
                .map_err(|e| format!("listing {}: {e}", dir.display()))?
                .path();
            if path.is_dir() {
                pending.push(path);
            } else if matches!(
                path.extension().and_then(|e| e.to_str()),
                Some("c" | "h" | "cpp" | "cxx" | "hpp" | "hxx" | "in")
            ) {
                files.push(path);
            }
        }
    }
    files.sort();
    Ok(files)
}
