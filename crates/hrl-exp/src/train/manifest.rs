//! Checkpoint manifests: the size and CRC-32C of every file of a checkpoint folder, written last
//! into the folder before it is renamed into place, and checked before a checkpoint is loaded
//! (`hrl train --resume`, `hrl eval`). A damaged file (a flipped byte, a truncation, a file gone)
//! is found before it can resume a run silently wrong.
//!
//! ```json
//! {"files": {"model.bpk": {"bytes": 20488, "crc32c": 1234567890}, ...}}
//! ```

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::Path;

/// The manifest's file name inside a checkpoint folder.
pub const MANIFEST_FILE: &str = "manifest.json";

/// The checksums of a checkpoint's files.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
struct Manifest {
    /// Path relative to the checkpoint folder (`/`-separated) -> its size and checksum.
    files: BTreeMap<String, FileSum>,
}

#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
struct FileSum {
    bytes: u64,
    crc32c: u32,
}

/// What [`verify`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Integrity {
    /// Every file listed has its size and checksum.
    Intact,
    /// No manifest: written before manifests existed; nothing can be checked.
    Unverified,
    /// What is wrong, naming the file.
    Damaged(String),
}

/// Writes the manifest of every file below `dir`.
pub fn write(dir: &Path) -> io::Result<()> {
    let mut files = BTreeMap::new();
    collect(dir, "", &mut files)?;
    let json = serde_json::to_vec_pretty(&Manifest { files }).map_err(io::Error::other)?;
    fs::write(dir.join(MANIFEST_FILE), json)
}

fn collect(dir: &Path, prefix: &str, files: &mut BTreeMap<String, FileSum>) -> io::Result<()> {
    let mut entries: Vec<_> = fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(fs::DirEntry::file_name);
    for entry in entries {
        let name = format!("{prefix}{}", entry.file_name().to_string_lossy());
        if name == MANIFEST_FILE {
            continue;
        }
        if entry.file_type()?.is_dir() {
            collect(&entry.path(), &format!("{name}/"), files)?;
        } else {
            let bytes = fs::read(entry.path())?;
            files.insert(
                name,
                FileSum {
                    bytes: bytes.len() as u64,
                    crc32c: crc32c::crc32c(&bytes),
                },
            );
        }
    }
    Ok(())
}

/// Checks the files of the checkpoint folder `dir` against its manifest.
pub fn verify(dir: &Path) -> Integrity {
    let text = match fs::read(dir.join(MANIFEST_FILE)) {
        Ok(text) => text,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Integrity::Unverified,
        Err(e) => return Integrity::Damaged(format!("{MANIFEST_FILE}: {e}")),
    };
    let manifest: Manifest = match serde_json::from_slice(&text) {
        Ok(manifest) => manifest,
        Err(e) => return Integrity::Damaged(format!("{MANIFEST_FILE}: {e}")),
    };
    for (name, expected) in &manifest.files {
        let found = match fs::read(dir.join(name)) {
            Ok(bytes) => bytes,
            Err(e) => return Integrity::Damaged(format!("{name}: {e}")),
        };
        if found.len() as u64 != expected.bytes {
            return Integrity::Damaged(format!(
                "{name}: {} bytes, the manifest says {}",
                found.len(),
                expected.bytes
            ));
        }
        if crc32c::crc32c(&found) != expected.crc32c {
            return Integrity::Damaged(format!("{name}: checksum mismatch"));
        }
    }
    Integrity::Intact
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_flipped_truncated_and_missing_files() {
        let dir = std::env::temp_dir().join(format!("hrl-manifest-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(dir.join("replay")).unwrap();
        fs::write(dir.join("model.bpk"), vec![7u8; 1000]).unwrap();
        fs::write(dir.join("replay/part-0.bin"), b"frames").unwrap();
        assert_eq!(verify(&dir), Integrity::Unverified);
        write(&dir).unwrap();
        assert_eq!(verify(&dir), Integrity::Intact);

        let mut model = fs::read(dir.join("model.bpk")).unwrap();
        model[500] ^= 1;
        fs::write(dir.join("model.bpk"), &model).unwrap();
        assert_eq!(
            verify(&dir),
            Integrity::Damaged("model.bpk: checksum mismatch".into())
        );
        model[500] ^= 1;
        fs::write(dir.join("model.bpk"), &model[..999]).unwrap();
        assert_eq!(
            verify(&dir),
            Integrity::Damaged("model.bpk: 999 bytes, the manifest says 1000".into())
        );
        fs::write(dir.join("model.bpk"), &model).unwrap();
        fs::remove_file(dir.join("replay/part-0.bin")).unwrap();
        assert!(
            matches!(verify(&dir), Integrity::Damaged(why) if why.starts_with("replay/part-0.bin: "))
        );
        fs::remove_dir_all(&dir).unwrap();
    }
}
