//! The replay buffer's frame slots, in the environment's native element type: bytes for Atari
//! and MinAtar, floats for CartPole. Frames go in and come out as f32, the network's input.

use std::io::{self, Read, Write};

use hrl_env::ObsDtype;

/// `slots` frames of `frame_len` elements each, slot-major.
#[derive(Clone, Debug)]
pub(crate) enum FrameStore {
    /// Whole numbers in `0..=255`, stored as bytes.
    U8(Vec<u8>),
    /// Any floats.
    F32(Vec<f32>),
}

impl FrameStore {
    /// Zeroed slots.
    pub fn new(dtype: ObsDtype, len: usize) -> FrameStore {
        match dtype {
            ObsDtype::U8 => FrameStore::U8(vec![0; len]),
            ObsDtype::F32 => FrameStore::F32(vec![0.0; len]),
        }
    }

    /// The element type.
    pub fn dtype(&self) -> ObsDtype {
        match self {
            FrameStore::U8(_) => ObsDtype::U8,
            FrameStore::F32(_) => ObsDtype::F32,
        }
    }

    /// Writes `frame` at element offset `start`; for bytes each value is rounded and saturated
    /// to `0..=255`.
    pub fn write(&mut self, start: usize, frame: &[f32]) {
        match self {
            FrameStore::U8(store) => {
                for (slot, &value) in store[start..start + frame.len()].iter_mut().zip(frame) {
                    *slot = value.round() as u8;
                }
            }
            FrameStore::F32(store) => store[start..start + frame.len()].copy_from_slice(frame),
        }
    }

    /// Reads the frame at element offset `start` into `out`.
    pub fn read(&self, start: usize, out: &mut [f32]) {
        match self {
            FrameStore::U8(store) => {
                let end = start + out.len();
                for (value, &byte) in out.iter_mut().zip(&store[start..end]) {
                    *value = f32::from(byte);
                }
            }
            FrameStore::F32(store) => out.copy_from_slice(&store[start..start + out.len()]),
        }
    }

    /// Whether the frame at element offset `start` is exactly `frame` (after the conversion
    /// [`write`](Self::write) would apply).
    pub fn equals(&self, start: usize, frame: &[f32]) -> bool {
        match self {
            FrameStore::U8(store) => store[start..start + frame.len()]
                .iter()
                .zip(frame)
                .all(|(&byte, &value)| byte == value.round() as u8),
            FrameStore::F32(store) => store[start..start + frame.len()]
                .iter()
                .zip(frame)
                .all(|(a, b)| a.to_bits() == b.to_bits()),
        }
    }

    /// Writes elements `range` little-endian.
    pub fn write_le(&self, range: std::ops::Range<usize>, out: &mut impl Write) -> io::Result<()> {
        match self {
            FrameStore::U8(store) => out.write_all(&store[range]),
            FrameStore::F32(store) => {
                for chunk in store[range].chunks(1024) {
                    let mut bytes = [0u8; 4096];
                    for (dst, value) in bytes.chunks_exact_mut(4).zip(chunk) {
                        dst.copy_from_slice(&value.to_le_bytes());
                    }
                    out.write_all(&bytes[..chunk.len() * 4])?;
                }
                Ok(())
            }
        }
    }

    /// Reads elements `range` little-endian, as [`write_le`](Self::write_le) wrote them.
    pub fn read_le(
        &mut self,
        range: std::ops::Range<usize>,
        input: &mut impl Read,
    ) -> io::Result<()> {
        match self {
            FrameStore::U8(store) => input.read_exact(&mut store[range]),
            FrameStore::F32(store) => {
                for chunk in store[range].chunks_mut(1024) {
                    let mut bytes = [0u8; 4096];
                    let bytes = &mut bytes[..chunk.len() * 4];
                    input.read_exact(bytes)?;
                    for (value, src) in chunk.iter_mut().zip(bytes.chunks_exact(4)) {
                        *value = f32::from_le_bytes([src[0], src[1], src[2], src[3]]);
                    }
                }
                Ok(())
            }
        }
    }
}
