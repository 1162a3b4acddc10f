//! The replay buffer in a checkpoint: one little-endian binary file.
//!
//! ```text
//! magic "HRLREPLY", format version u32, element type u8 (0 = u8, 1 = f32),
//! num_envs u64, transition slots per stream u64, frame_len u64, frame_stack u64,
//! per stream: pushed u64, frames u64, oldest u64, segment_first u64, open u8,
//! per stream: its held transitions, oldest first: frame u64, first u64, action u32,
//!             reward f32, terminated u8,
//! per stream: its last min(frames, frame slots) frames, oldest first,
//! FNV-1a 64 checksum u64 of every byte before it.
//! ```
//!
//! Loading checks the magic, the version, that the element type and sizes are this buffer's,
//! that the counters are consistent and the checksum matches; on any failure the buffer is left
//! empty and the error says what did not fit.

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::Path;

use hrl_env::ObsDtype;

use super::{ReplayBuffer, Stored, Stream};
use crate::AgentError;

const MAGIC: &[u8; 8] = b"HRLREPLY";
const VERSION: u32 = 1;
const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

fn fnv1a(mut hash: u64, bytes: &[u8]) -> u64 {
    for &byte in bytes {
        hash = (hash ^ u64::from(byte)).wrapping_mul(FNV_PRIME);
    }
    hash
}

/// A writer that hashes what passes through it.
struct HashingWriter<W> {
    inner: W,
    hash: u64,
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        let written = self.inner.write(bytes)?;
        self.hash = fnv1a(self.hash, &bytes[..written]);
        Ok(written)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// A reader that hashes what passes through it.
struct HashingReader<R> {
    inner: R,
    hash: u64,
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, bytes: &mut [u8]) -> io::Result<usize> {
        let read = self.inner.read(bytes)?;
        self.hash = fnv1a(self.hash, &bytes[..read]);
        Ok(read)
    }
}

fn dtype_code(dtype: ObsDtype) -> u8 {
    match dtype {
        ObsDtype::U8 => 0,
        ObsDtype::F32 => 1,
    }
}

fn read_array<const N: usize>(input: &mut impl Read) -> io::Result<[u8; N]> {
    let mut bytes = [0u8; N];
    input.read_exact(&mut bytes)?;
    Ok(bytes)
}

fn read_u64(input: &mut impl Read) -> io::Result<u64> {
    read_array(input).map(u64::from_le_bytes)
}

fn read_u32(input: &mut impl Read) -> io::Result<u32> {
    read_array(input).map(u32::from_le_bytes)
}

fn read_u8(input: &mut impl Read) -> io::Result<u8> {
    read_array::<1>(input).map(|[b]| b)
}

/// Why a file was refused: a message for the user, or an I/O failure (a short file included).
enum LoadError {
    Invalid(String),
    Io(io::Error),
}

impl From<io::Error> for LoadError {
    fn from(e: io::Error) -> LoadError {
        LoadError::Io(e)
    }
}

impl ReplayBuffer {
    /// Writes the held transitions and their frames to `path` (replacing any file there).
    pub fn save(&self, path: &Path) -> Result<(), AgentError> {
        let file = File::create(path).map_err(|e| checkpoint_error(path, e))?;
        let mut out = HashingWriter {
            inner: BufWriter::new(file),
            hash: FNV_OFFSET,
        };
        self.write_body(&mut out)
            .and_then(|()| {
                let hash = out.hash;
                out.inner.write_all(&hash.to_le_bytes())?;
                out.inner.flush()
            })
            .map_err(|e| checkpoint_error(path, e))
    }

    /// Replaces the buffer's contents with the file [`save`](Self::save) wrote at `path`, which
    /// must come from a buffer of the same element type and sizes.
    pub fn load(&mut self, path: &Path) -> Result<(), AgentError> {
        let result = File::open(path)
            .map_err(LoadError::Io)
            .and_then(|file| self.read_file(file));
        result.map_err(|e| {
            self.clear();
            let message = match e {
                LoadError::Invalid(message) => message,
                LoadError::Io(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                    "the file ends early (truncated or corrupted)".to_string()
                }
                LoadError::Io(e) => e.to_string(),
            };
            checkpoint_error(path, format!("replay buffer refused: {message}"))
        })
    }

    fn geometry(&self) -> [(&'static str, u64); 4] {
        [
            ("num_envs", self.num_envs as u64),
            ("transition slots per stream", self.slots as u64),
            ("frame length", self.frame_len as u64),
            ("frame_stack", self.frame_stack as u64),
        ]
    }

    fn write_body(&self, out: &mut impl Write) -> io::Result<()> {
        out.write_all(MAGIC)?;
        out.write_all(&VERSION.to_le_bytes())?;
        out.write_all(&[dtype_code(self.frames.dtype())])?;
        for (_, value) in self.geometry() {
            out.write_all(&value.to_le_bytes())?;
        }
        for s in &self.streams {
            for value in [s.pushed, s.frames, s.oldest, s.segment_first] {
                out.write_all(&value.to_le_bytes())?;
            }
            out.write_all(&[u8::from(s.open)])?;
        }
        for (env, s) in self.streams.iter().enumerate() {
            for index in s.oldest..s.pushed {
                let t = &self.stored[self.slot(env, index)];
                out.write_all(&t.frame.to_le_bytes())?;
                out.write_all(&t.first.to_le_bytes())?;
                out.write_all(&t.action.to_le_bytes())?;
                out.write_all(&t.reward.to_le_bytes())?;
                out.write_all(&[u8::from(t.terminated)])?;
            }
        }
        for (env, s) in self.streams.iter().enumerate() {
            for frame in s.frames.saturating_sub(self.frame_slots as u64)..s.frames {
                let start = self.frame_offset(env, frame);
                self.frames.write_le(start..start + self.frame_len, out)?;
            }
        }
        Ok(())
    }

    fn read_file(&mut self, file: File) -> Result<(), LoadError> {
        let mut input = HashingReader {
            inner: BufReader::new(file),
            hash: FNV_OFFSET,
        };
        self.read_header(&mut input)?;
        for env in 0..self.num_envs {
            self.streams[env] = self.read_stream(&mut input, env)?;
        }
        for env in 0..self.num_envs {
            let s = self.streams[env];
            for index in s.oldest..s.pushed {
                let t = read_stored(&mut input)?;
                self.check_stored(env, &s, &t)?;
                let slot = self.slot(env, index);
                self.stored[slot] = t;
            }
        }
        for env in 0..self.num_envs {
            let frames = self.streams[env].frames;
            for frame in frames.saturating_sub(self.frame_slots as u64)..frames {
                let start = self.frame_offset(env, frame);
                self.frames
                    .read_le(start..start + self.frame_len, &mut input)?;
            }
        }
        let computed = input.hash;
        let stored = read_u64(&mut input.inner)?;
        if stored != computed {
            return Err(LoadError::Invalid(
                "checksum mismatch (the file is corrupted)".into(),
            ));
        }
        if input.inner.read(&mut [0u8; 1])? != 0 {
            return Err(LoadError::Invalid(
                "unexpected bytes after the checksum".into(),
            ));
        }
        Ok(())
    }

    fn read_header(&self, input: &mut impl Read) -> Result<(), LoadError> {
        if &read_array::<8>(input)? != MAGIC {
            return Err(LoadError::Invalid("not a replay buffer file".into()));
        }
        let version = read_u32(input)?;
        if version != VERSION {
            return Err(LoadError::Invalid(format!(
                "format version {version}, this build reads version {VERSION}"
            )));
        }
        let dtype = read_u8(input)?;
        let expected = dtype_code(self.frames.dtype());
        if dtype != expected {
            let name = |code| match code {
                0 => "u8",
                1 => "f32",
                _ => "an unknown type",
            };
            return Err(LoadError::Invalid(format!(
                "observations stored as {}, this run stores {}",
                name(dtype),
                name(expected)
            )));
        }
        for (what, value) in self.geometry() {
            let found = read_u64(input)?;
            if found != value {
                return Err(LoadError::Invalid(format!(
                    "written with {what} = {found}, this run has {value}; was it written by a \
                     run with another config?"
                )));
            }
        }
        Ok(())
    }

    fn read_stream(&self, input: &mut impl Read, env: usize) -> Result<Stream, LoadError> {
        let s = Stream {
            pushed: read_u64(input)?,
            frames: read_u64(input)?,
            oldest: read_u64(input)?,
            segment_first: read_u64(input)?,
            open: read_u8(input)? != 0,
        };
        let consistent = s.oldest <= s.pushed
            && s.pushed - s.oldest <= self.slots as u64
            && s.segment_first <= s.frames
            && (s.pushed == 0 || s.frames > s.segment_first)
            && (!s.open || s.pushed > 0);
        if consistent {
            Ok(s)
        } else {
            Err(LoadError::Invalid(format!(
                "inconsistent counters of stream {env} (the file is corrupted)"
            )))
        }
    }

    /// A held transition's frames must lie in the stream's frame ring.
    fn check_stored(&self, env: usize, s: &Stream, t: &Stored) -> Result<(), LoadError> {
        let back = (self.frame_stack - 1) as u64;
        let lowest = t.frame.saturating_sub(back).max(t.first);
        if t.first <= t.frame
            && t.frame + 1 < s.frames
            && lowest + self.frame_slots as u64 >= s.frames
        {
            Ok(())
        } else {
            Err(LoadError::Invalid(format!(
                "a transition of stream {env} points outside its frames (the file is corrupted)"
            )))
        }
    }
}

fn read_stored(input: &mut impl Read) -> io::Result<Stored> {
    Ok(Stored {
        frame: read_u64(input)?,
        first: read_u64(input)?,
        action: read_u32(input)?,
        reward: f32::from_le_bytes(read_array(input)?),
        terminated: read_u8(input)? != 0,
    })
}

fn checkpoint_error(path: &Path, message: impl ToString) -> AgentError {
    AgentError::Checkpoint {
        path: path.to_path_buf(),
        message: message.to_string(),
    }
}
