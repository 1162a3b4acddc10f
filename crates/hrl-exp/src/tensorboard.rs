//! TensorBoard event files, written without TensorFlow: TFRecord framing around hand-written
//! `Event` protobuf messages (the subset of `tensorflow/core/util/event.proto` and
//! `summary.proto` that scalars and text need, same field numbers).
//!
//! A file is a sequence of records, each
//! `u64 length (LE) | u32 masked crc32c(length) | payload | u32 masked crc32c(payload)`,
//! where `mask(crc) = ((crc >> 15) | (crc << 17)) + 0xa282_ead8`. The first event carries
//! `file_version = "brain.Event:2"`.

use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use prost::Message;

/// `Event` of `event.proto` (the `what` oneof written as optional fields, which has the same
/// encoding).
#[derive(Clone, PartialEq, prost::Message)]
pub struct Event {
    /// Seconds since the Unix epoch.
    #[prost(double, tag = "1")]
    pub wall_time: f64,
    /// Global step the event belongs to (agent steps in this project).
    #[prost(int64, tag = "2")]
    pub step: i64,
    #[prost(string, optional, tag = "3")]
    pub file_version: Option<String>,
    #[prost(message, optional, tag = "5")]
    pub summary: Option<Summary>,
    #[prost(message, optional, tag = "7")]
    pub session_log: Option<SessionLog>,
}

/// `SessionLog` of `event.proto`; a `START` tells TensorBoard's reader that the run restarted at
/// the event's step, so it drops what an earlier file logged at that step or later.
#[derive(Clone, PartialEq, prost::Message)]
pub struct SessionLog {
    /// `SessionStatus`: 1 is `START`.
    #[prost(int32, tag = "1")]
    pub status: i32,
}

/// `SessionLog.SessionStatus.START`.
pub const SESSION_START: i32 = 1;

/// `Summary` of `summary.proto`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Summary {
    #[prost(message, repeated, tag = "1")]
    pub value: Vec<SummaryValue>,
}

/// `Summary.Value` (only the `simple_value` and `tensor` members of its `value` oneof).
#[derive(Clone, PartialEq, prost::Message)]
pub struct SummaryValue {
    #[prost(string, tag = "1")]
    pub tag: String,
    #[prost(float, optional, tag = "2")]
    pub simple_value: Option<f32>,
    #[prost(message, optional, tag = "8")]
    pub tensor: Option<TensorProto>,
    #[prost(message, optional, tag = "9")]
    pub metadata: Option<SummaryMetadata>,
}

/// `SummaryMetadata` of `summary.proto` (plugin data only).
#[derive(Clone, PartialEq, prost::Message)]
pub struct SummaryMetadata {
    #[prost(message, optional, tag = "1")]
    pub plugin_data: Option<PluginData>,
}

/// `SummaryMetadata.PluginData`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct PluginData {
    #[prost(string, tag = "1")]
    pub plugin_name: String,
    #[prost(bytes = "vec", tag = "2")]
    pub content: Vec<u8>,
}

/// `TensorProto` of `tensor.proto` (string tensors only).
#[derive(Clone, PartialEq, prost::Message)]
pub struct TensorProto {
    /// `DataType`: 7 is `DT_STRING`.
    #[prost(int32, tag = "1")]
    pub dtype: i32,
    #[prost(message, optional, tag = "2")]
    pub tensor_shape: Option<TensorShapeProto>,
    #[prost(bytes = "vec", repeated, tag = "8")]
    pub string_val: Vec<Vec<u8>>,
}

/// `TensorShapeProto` with no dimensions: a scalar.
#[derive(Clone, PartialEq, prost::Message)]
pub struct TensorShapeProto {}

/// `DataType.DT_STRING`.
pub const DT_STRING: i32 = 7;

/// Errors of writing or reading an event file.
#[derive(Debug, thiserror::Error)]
pub enum TensorboardError {
    #[error("creating TensorBoard event file in {dir}: {source}")]
    Create { dir: PathBuf, source: io::Error },
    #[error("writing TensorBoard event file {path}: {source}")]
    Write { path: PathBuf, source: io::Error },
    #[error("reading TensorBoard event file {path}: {source}")]
    Read { path: PathBuf, source: io::Error },
    #[error("TensorBoard event file {path}: record at byte {offset}: {problem}")]
    Corrupt {
        path: PathBuf,
        offset: u64,
        problem: String,
    },
}

/// The masked CRC-32C of TFRecord framing.
pub fn masked_crc32c(bytes: &[u8]) -> u32 {
    let crc = crc32c::crc32c(bytes);
    crc.rotate_right(15).wrapping_add(0xa282_ead8)
}

/// Appends events to one `events.out.tfevents.<unix seconds>.<hostname>` file in a run folder.
/// Buffered; flushed at least every `flush_every` (default 5 s) when events are added, by
/// [`EventWriter::flush`], and on drop.
pub struct EventWriter {
    path: PathBuf,
    out: BufWriter<File>,
    flush_every: Duration,
    last_flush: Instant,
}

impl EventWriter {
    /// Creates a new event file in `dir` (which must exist) and writes the `file_version` event.
    /// If a file of that name exists (two writers in the same second), a `.1`, `.2`, ... suffix
    /// is added, which sorts after it, as TensorBoard reads the files of a folder in name order.
    pub fn create(dir: &Path) -> Result<Self, TensorboardError> {
        let wall_time = now_seconds();
        let base = format!("events.out.tfevents.{}.{}", wall_time as u64, hostname());
        let mut suffix = 0u32;
        let (path, file) = loop {
            let name = match suffix {
                0 => base.clone(),
                n => format!("{base}.{n}"),
            };
            let path = dir.join(name);
            match OpenOptions::new().write(true).create_new(true).open(&path) {
                Ok(file) => break (path, file),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists && suffix < 1000 => suffix += 1,
                Err(source) => {
                    return Err(TensorboardError::Create {
                        dir: dir.to_path_buf(),
                        source,
                    });
                }
            }
        };
        let mut writer = EventWriter {
            path,
            out: BufWriter::new(file),
            flush_every: Duration::from_secs(5),
            last_flush: Instant::now(),
        };
        writer.write_event(&Event {
            wall_time,
            file_version: Some("brain.Event:2".to_string()),
            ..Event::default()
        })?;
        writer.flush()?;
        Ok(writer)
    }

    /// The event file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Sets how often buffered events are flushed at the latest.
    pub fn set_flush_every(&mut self, every: Duration) {
        self.flush_every = every;
    }

    /// Writes one scalar (stored as f32, as TensorBoard does) under `tag` at `step`.
    pub fn add_scalar(&mut self, tag: &str, value: f64, step: i64) -> Result<(), TensorboardError> {
        self.add_scalars(&[(tag, value)], step)
    }

    /// Writes several scalars at one `step` in a single event.
    pub fn add_scalars(
        &mut self,
        values: &[(&str, f64)],
        step: i64,
    ) -> Result<(), TensorboardError> {
        let value = values
            .iter()
            .map(|&(tag, v)| SummaryValue {
                tag: tag.to_string(),
                simple_value: Some(v as f32),
                ..SummaryValue::default()
            })
            .collect();
        self.add_summary(Summary { value }, step)
    }

    /// Writes `text` (shown as Markdown by TensorBoard's text plugin) under `tag` at `step`.
    pub fn add_text(&mut self, tag: &str, text: &str, step: i64) -> Result<(), TensorboardError> {
        let value = SummaryValue {
            tag: tag.to_string(),
            tensor: Some(TensorProto {
                dtype: DT_STRING,
                tensor_shape: Some(TensorShapeProto {}),
                string_val: vec![text.as_bytes().to_vec()],
            }),
            metadata: Some(SummaryMetadata {
                plugin_data: Some(PluginData {
                    plugin_name: "text".to_string(),
                    content: Vec::new(),
                }),
            }),
            ..SummaryValue::default()
        };
        self.add_summary(Summary { value: vec![value] }, step)
    }

    /// Marks a restart at `step`: TensorBoard's reader then drops the events that earlier files
    /// of this folder logged at `step` or later (the purge of orphaned data after a crash).
    pub fn add_session_start(&mut self, step: i64) -> Result<(), TensorboardError> {
        self.write_event(&Event {
            wall_time: now_seconds(),
            step,
            session_log: Some(SessionLog {
                status: SESSION_START,
            }),
            ..Event::default()
        })?;
        self.flush()
    }

    /// Writes buffered events to the file.
    pub fn flush(&mut self) -> Result<(), TensorboardError> {
        self.last_flush = Instant::now();
        self.out.flush().map_err(|source| TensorboardError::Write {
            path: self.path.clone(),
            source,
        })
    }

    fn add_summary(&mut self, summary: Summary, step: i64) -> Result<(), TensorboardError> {
        self.write_event(&Event {
            wall_time: now_seconds(),
            step,
            summary: Some(summary),
            ..Event::default()
        })?;
        if self.last_flush.elapsed() >= self.flush_every {
            self.flush()?;
        }
        Ok(())
    }

    fn write_event(&mut self, event: &Event) -> Result<(), TensorboardError> {
        let payload = event.encode_to_vec();
        let length = (payload.len() as u64).to_le_bytes();
        let mut record = Vec::with_capacity(payload.len() + 16);
        record.extend_from_slice(&length);
        record.extend_from_slice(&masked_crc32c(&length).to_le_bytes());
        record.extend_from_slice(&payload);
        record.extend_from_slice(&masked_crc32c(&payload).to_le_bytes());
        self.out
            .write_all(&record)
            .map_err(|source| TensorboardError::Write {
                path: self.path.clone(),
                source,
            })
    }
}

impl Drop for EventWriter {
    fn drop(&mut self) {
        let _ = self.out.flush();
    }
}

/// Reads every event of a file, checking both checksums of every record.
pub fn read_events(path: &Path) -> Result<Vec<Event>, TensorboardError> {
    let mut bytes = Vec::new();
    File::open(path)
        .and_then(|mut f| f.read_to_end(&mut bytes))
        .map_err(|source| TensorboardError::Read {
            path: path.to_path_buf(),
            source,
        })?;
    let corrupt = |offset: usize, problem: &str| TensorboardError::Corrupt {
        path: path.to_path_buf(),
        offset: offset as u64,
        problem: problem.to_string(),
    };
    let crc_at =
        |at: usize| u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]);
    let mut events = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        if bytes.len() - at < 12 {
            return Err(corrupt(at, "truncated header"));
        }
        let length_bytes = &bytes[at..at + 8];
        if masked_crc32c(length_bytes) != crc_at(at + 8) {
            return Err(corrupt(at, "length checksum mismatch"));
        }
        let length = u64::from_le_bytes(length_bytes.try_into().expect("8 bytes"));
        let start = at + 12;
        let end = usize::try_from(length)
            .ok()
            .and_then(|l| start.checked_add(l))
            .filter(|&end| end + 4 <= bytes.len())
            .ok_or_else(|| corrupt(at, "truncated payload"))?;
        let payload = &bytes[start..end];
        if masked_crc32c(payload) != crc_at(end) {
            return Err(corrupt(at, "payload checksum mismatch"));
        }
        let event = Event::decode(payload).map_err(|e| corrupt(at, &e.to_string()))?;
        events.push(event);
        at = end + 4;
    }
    Ok(events)
}

fn now_seconds() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// The machine's host name (from the kernel), with characters unsafe in file names replaced.
fn hostname() -> String {
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_default();
    let name: String = name
        .trim()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if name.is_empty() {
        "localhost".to_string()
    } else {
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("hrl-tb-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn masked_crc_matches_tensorboard() {
        // Values of `masked_crc32c` in TensorBoard's Python package
        // (tensorboard.compat.tensorflow_stub.pywrap_tensorflow).
        assert_eq!(masked_crc32c(b"123456789"), 0xc78a_b0e5);
        assert_eq!(masked_crc32c(&0u64.to_le_bytes()), 0x0798_0329);
        assert_eq!(masked_crc32c(b""), 0xa282_ead8);
    }

    #[test]
    fn round_trip_scalars_and_text() {
        let dir = temp_dir("round-trip");
        let path = {
            let mut w = EventWriter::create(&dir).unwrap();
            w.add_scalar("loss", 0.25, 10).unwrap();
            w.add_scalars(&[("episodic_return", 21.5), ("sps", 1234.0)], 20)
                .unwrap();
            w.add_text("config", "lr = 2.5e-4", 0).unwrap();
            w.path().to_path_buf()
        };
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        assert!(name.starts_with("events.out.tfevents."), "{name}");
        let events = read_events(&path).unwrap();
        assert_eq!(events.len(), 4);
        assert_eq!(events[0].file_version.as_deref(), Some("brain.Event:2"));
        let values = &events[2].summary.as_ref().unwrap().value;
        assert_eq!(events[2].step, 20);
        assert_eq!(values[0].tag, "episodic_return");
        assert_eq!(values[0].simple_value, Some(21.5));
        assert_eq!(values[1].simple_value, Some(1234.0));
        let text = &events[3].summary.as_ref().unwrap().value[0];
        assert_eq!(
            text.tensor.as_ref().unwrap().string_val,
            vec![b"lr = 2.5e-4".to_vec()]
        );
        assert_eq!(
            text.metadata
                .as_ref()
                .unwrap()
                .plugin_data
                .as_ref()
                .unwrap()
                .plugin_name,
            "text"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn flipped_byte_is_detected() {
        let dir = temp_dir("flip");
        let path = {
            let mut w = EventWriter::create(&dir).unwrap();
            w.add_scalar("loss", 0.5, 1).unwrap();
            w.path().to_path_buf()
        };
        let mut bytes = std::fs::read(&path).unwrap();
        let last = bytes.len() - 6;
        bytes[last] ^= 0x01;
        std::fs::write(&path, &bytes).unwrap();
        let err = read_events(&path).unwrap_err().to_string();
        assert!(err.contains("payload checksum mismatch"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn second_writer_in_same_second_gets_a_later_name() {
        let dir = temp_dir("names");
        let a = EventWriter::create(&dir).unwrap();
        let b = EventWriter::create(&dir).unwrap();
        assert_ne!(a.path(), b.path());
        let mut names = [a.path().to_path_buf(), b.path().to_path_buf()];
        names.sort();
        assert_eq!(names[1], b.path(), "the later file must sort last");
        drop((a, b));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
