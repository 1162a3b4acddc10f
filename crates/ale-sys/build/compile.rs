//! Compiling ALE's C++ core and our `extern "C"` shim into one static library.

use std::fs;
use std::path::{Path, PathBuf};

/// Folders of `src/ale` whose `.cpp`/`.cxx` files make up the emulator.
const SOURCE_DIRS: [&str; 5] = [
    "common",
    "emucore",
    "environment",
    "games",
    "games/supported",
];
/// Display, sound and dynamic-loading files that need SDL.
const SDL_FILES: [&str; 4] = [
    "SDL2.cpp",
    "ScreenSDL.cpp",
    "SoundSDL.cxx",
    "DynamicLoad.cpp",
];

/// Every C++ file of the emulator core, sorted for a stable build.
pub fn ale_sources(ale_dir: &Path) -> Result<Vec<PathBuf>, String> {
    let mut sources = vec![ale_dir.join("ale_interface.cpp")];
    for dir in SOURCE_DIRS {
        let dir = ale_dir.join(dir);
        let entries = fs::read_dir(&dir).map_err(|e| format!("listing {}: {e}", dir.display()))?;
        for entry in entries {
            let path = entry
                .map_err(|e| format!("listing {}: {e}", dir.display()))?
                .path();
            let is_cpp = matches!(
                path.extension().and_then(|e| e.to_str()),
                Some("cpp" | "cxx")
            );
            let is_sdl = path
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| SDL_FILES.contains(&n));
            if is_cpp && !is_sdl {
                sources.push(path);
            }
        }
    }
    sources.sort();
    Ok(sources)
}

/// Fills the `@ALE_VERSION...@` placeholders of `version.hpp.in` into
/// `out_dir/version.hpp`.
pub fn write_version_header(ale_dir: &Path, out_dir: &Path, version: &str) -> Result<(), String> {
    let template_path = ale_dir.join("version.hpp.in");
    let template = fs::read_to_string(&template_path)
        .map_err(|e| format!("reading {}: {e}", template_path.display()))?;
    let mut parts = version.split('.');
    let (major, minor, patch) = (
        parts.next().unwrap_or("0"),
        parts.next().unwrap_or("0"),
        parts.next().unwrap_or("0"),
    );
    let header = template
        .replace("@ALE_VERSION@", version)
        .replace("@ALE_VERSION_MAJOR@", major)
        .replace("@ALE_VERSION_MINOR@", minor)
        .replace("@ALE_VERSION_PATCH@", patch)
        .replace("@ALE_VERSION_GIT_SHA@", "sdist");
    let header_path = out_dir.join("version.hpp");
    fs::write(&header_path, header).map_err(|e| format!("writing {}: {e}", header_path.display()))
}

/// Compiles the emulator and the shim (C++17, `-O3 -DNDEBUG`, whatever the
/// Cargo profile) into `out_dir/libale.a`, or takes it from the library
/// cache under `cache_root`, and tells Cargo to link it with libstdc++.
pub fn build(
    sdist: &Path,
    shim_dir: &Path,
    out_dir: &Path,
    zlib_include: Option<&Path>,
    cache_root: Option<PathBuf>,
) -> Result<(), String> {
    let ale_dir = sdist.join("src").join("ale");
    write_version_header(&ale_dir, out_dir, super::sdist::ALE_VERSION)?;
    let mut build = cc::Build::new();
    build
        .cpp(true)
        .std("c++17")
        .opt_level(3)
        .debug(false)
        .define("NDEBUG", None)
        .warnings(false)
        .pic(true)
        .include(out_dir)
        .include(sdist.join("src"))
        .include(&ale_dir)
        .include(shim_dir)
        .files(ale_sources(&ale_dir)?)
        .file(shim_dir.join("ale_c.cpp"));
    if let Some(include) = zlib_include {
        build.include(include);
    }
    let compiler = build
        .try_get_compiler()
        .map_err(|e| format!("finding a C++ compiler: {e}"))?;
    let version_header = out_dir.join("version.hpp");
    let mut inputs: Vec<PathBuf> = vec![
        ale_dir.join("ale_interface.cpp"),
        ale_dir.join("ale_interface.hpp"),
        version_header,
        shim_dir.to_path_buf(),
    ];
    inputs.extend(SOURCE_DIRS.iter().map(|dir| ale_dir.join(dir)));
    inputs.extend(zlib_include.map(Path::to_path_buf));
    let input_refs: Vec<&Path> = inputs.iter().map(PathBuf::as_path).collect();
    let cache = super::cache::LibCache::new(cache_root, &compiler, &input_refs)?;
    if let Some(cache) = &cache
        && cache.fetch(out_dir)
    {
        println!("cargo:rustc-link-search=native={}", out_dir.display());
        println!("cargo:rustc-link-lib=static=ale");
        println!("cargo:rustc-link-lib=stdc++");
        return Ok(());
    }
    build
        .try_compile("ale")
        .map_err(|e| format!("compiling ALE's C++ sources from {}: {e}", sdist.display()))?;
    if let Some(cache) = &cache {
        cache.store(out_dir);
    }
    Ok(())
}
