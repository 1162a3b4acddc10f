//! The end of a file that may be large (a run's log, its metrics table), read without reading
//! the rest.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::Path;

/// The text of the last `max_bytes` bytes of `path` (at most), starting at a line boundary: when
/// the read starts inside the file, the partial first line is dropped. Invalid UTF-8 is replaced.
pub fn read_tail(path: &Path, max_bytes: u64) -> io::Result<String> {
    let mut file = File::open(path)?;
    let len = file.metadata()?.len();
    let start = len.saturating_sub(max_bytes);
    // From one byte earlier: if that byte ends a line, the first line read is whole.
    file.seek(SeekFrom::Start(start.saturating_sub(1)))?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)?;
    let text = String::from_utf8_lossy(&bytes);
    Ok(match (start, text.split_once('\n')) {
        (0, _) => text.into_owned(),
        (_, Some((_, rest))) => rest.to_string(),
        (_, None) => String::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starts_at_a_line_boundary() {
        let path = std::env::temp_dir().join(format!("hrl-tail-{}.txt", std::process::id()));
        std::fs::write(&path, "first line\nsecond\nthird").unwrap();
        assert_eq!(read_tail(&path, 100).unwrap(), "first line\nsecond\nthird");
        // 23 bytes; "second" starts at byte 11.
        assert_eq!(read_tail(&path, 13).unwrap(), "second\nthird");
        assert_eq!(read_tail(&path, 12).unwrap(), "second\nthird");
        assert_eq!(read_tail(&path, 11).unwrap(), "third");
        assert_eq!(read_tail(&path, 3).unwrap(), "");
        std::fs::remove_file(&path).unwrap();
    }
}
