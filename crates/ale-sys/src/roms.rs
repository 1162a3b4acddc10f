//! Finding a game's ROM file.

use crate::AleError;
use crate::games::{GAMES, is_game};
use std::path::{Path, PathBuf};

/// The extracted ale-py sdist the build compiled ALE from, if known.
const BUILD_SDIST_DIR: Option<&str> = option_env!("ALE_SDIST_DIR");

/// The ROM folder inside the ale-py 0.12.1 source distribution the build
/// used (`<sdist>/src/ale/python/roms`).
pub fn sdist_rom_dir() -> Option<PathBuf> {
    BUILD_SDIST_DIR.map(|dir| {
        Path::new(dir)
            .join("src")
            .join("ale")
            .join("python")
            .join("roms")
    })
}

/// The folders searched for ROMs, in order:
/// 1. `rom_dir` (a `--rom-dir` flag), if given;
/// 2. `$HRL_ROM_DIR`, if set;
/// 3. `$ALE_ROMS_DIR`, if set (ale-py's own override);
/// 4. the roms folder of the sdist this crate was built from;
/// 5. the `ale_py/roms` folder of an ale-py installed in the active virtual
///    or conda environment (`$VIRTUAL_ENV`, `$CONDA_PREFIX`) or in the user's
///    site-packages (`~/.local/lib/python3.*`).
pub fn rom_search_dirs(rom_dir: Option<&Path>) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = rom_dir.map(Path::to_path_buf).into_iter().collect();
    for var in ["HRL_ROM_DIR", "ALE_ROMS_DIR"] {
        if let Some(dir) = std::env::var_os(var).filter(|v| !v.is_empty()) {
            dirs.push(PathBuf::from(dir));
        }
    }
    dirs.extend(sdist_rom_dir());
    let mut prefixes: Vec<PathBuf> = ["VIRTUAL_ENV", "CONDA_PREFIX"]
        .iter()
        .filter_map(|var| std::env::var_os(var).filter(|v| !v.is_empty()))
        .map(PathBuf::from)
        .collect();
    if let Some(home) = std::env::var_os("HOME").filter(|v| !v.is_empty()) {
        prefixes.push(Path::new(&home).join(".local"));
    }
    for prefix in prefixes {
        dirs.extend(installed_ale_py_rom_dirs(&prefix));
    }
    dirs
}

/// `prefix/lib/python3.*/site-packages/ale_py/roms` folders that exist.
fn installed_ale_py_rom_dirs(prefix: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(prefix.join("lib")) else {
        return Vec::new();
    };
    let mut dirs: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with("python3"))
        .map(|e| e.path().join("site-packages").join("ale_py").join("roms"))
        .filter(|d| d.is_dir())
        .collect();
    dirs.sort();
    dirs
}

/// The path of `game`'s ROM (`GAME.bin`), from the first of
/// [`rom_search_dirs`] that has it.
///
/// Errors name the valid games for an unknown `game`, and every folder
/// looked in for a missing ROM.
pub fn rom_path(game: &str, rom_dir: Option<&Path>) -> Result<PathBuf, AleError> {
    if !is_game(game) {
        return Err(AleError::UnknownGame {
            game: game.to_string(),
            valid: GAMES.to_vec(),
        });
    }
    let file = format!("{game}.bin");
    let looked_in = rom_search_dirs(rom_dir);
    match looked_in
        .iter()
        .map(|dir| dir.join(&file))
        .find(|p| p.is_file())
    {
        Some(path) => Ok(path),
        None => Err(AleError::MissingRom {
            game: game.to_string(),
            file,
            looked_in,
        }),
    }
}
