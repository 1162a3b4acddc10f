//! Little-endian encoding of saved environment state: what [`crate::Env::save_state`] writes
//! and [`crate::Env::restore_state`] reads, and the checksum of [`crate::VecEnv`]'s format.
//!
//! Writers append to a `Vec<u8>`; readers take from the front of a `&[u8]` and fail with
//! [`EnvError::StateTruncated`] when it is too short and [`EnvError::StateCorrupt`] on a value
//! no environment could have saved, naming the field either way.

use crate::{EnvError, EpisodeStats, RandomState};

/// Appends fixed-width little-endian values.
pub(crate) trait Put {
    fn put_u8(&mut self, value: u8);
    fn put_u32(&mut self, value: u32);
    fn put_u64(&mut self, value: u64);

    fn put_bool(&mut self, value: bool) {
        self.put_u8(u8::from(value));
    }

    fn put_i32(&mut self, value: i32) {
        self.put_u32(value as u32);
    }

    fn put_usize(&mut self, value: usize) {
        self.put_u64(value as u64);
    }

    fn put_f32(&mut self, value: f32) {
        self.put_u32(value.to_bits());
    }

    fn put_f64(&mut self, value: f64) {
        self.put_u64(value.to_bits());
    }
}

impl Put for Vec<u8> {
    fn put_u8(&mut self, value: u8) {
        self.push(value);
    }

    fn put_u32(&mut self, value: u32) {
        self.extend_from_slice(&value.to_le_bytes());
    }

    fn put_u64(&mut self, value: u64) {
        self.extend_from_slice(&value.to_le_bytes());
    }
}

/// Takes fixed-width little-endian values from the front of a byte slice; `what` names the
/// field in errors.
pub(crate) trait Take<'a> {
    fn take_bytes(&mut self, len: usize, what: &'static str) -> Result<&'a [u8], EnvError>;

    fn take_array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], EnvError> {
        let mut array = [0; N];
        array.copy_from_slice(self.take_bytes(N, what)?);
        Ok(array)
    }

    fn take_u8(&mut self, what: &'static str) -> Result<u8, EnvError> {
        Ok(self.take_array::<1>(what)?[0])
    }

    fn take_u32(&mut self, what: &'static str) -> Result<u32, EnvError> {
        Ok(u32::from_le_bytes(self.take_array(what)?))
    }

    fn take_u64(&mut self, what: &'static str) -> Result<u64, EnvError> {
        Ok(u64::from_le_bytes(self.take_array(what)?))
    }

    fn take_i32(&mut self, what: &'static str) -> Result<i32, EnvError> {
        Ok(self.take_u32(what)? as i32)
    }

    fn take_f32(&mut self, what: &'static str) -> Result<f32, EnvError> {
        Ok(f32::from_bits(self.take_u32(what)?))
    }

    fn take_f64(&mut self, what: &'static str) -> Result<f64, EnvError> {
        Ok(f64::from_bits(self.take_u64(what)?))
    }

    /// A flag saved as 0 or 1; anything else is corrupt.
    fn take_bool(&mut self, what: &'static str) -> Result<bool, EnvError> {
        match self.take_u8(what)? {
            0 => Ok(false),
            1 => Ok(true),
            other => Err(corrupt(what, other, "0 or 1")),
        }
    }

    /// A `u64` that must be below `bound` (an index or a count).
    fn take_index(&mut self, bound: usize, what: &'static str) -> Result<usize, EnvError> {
        let value = self.take_u64(what)?;
        match usize::try_from(value) {
            Ok(index) if index < bound => Ok(index),
            _ => Err(corrupt(what, value, &format!("below {bound}"))),
        }
    }

    /// An `i32` that must lie in `range` (a grid coordinate, a direction).
    fn take_i32_in(
        &mut self,
        range: std::ops::RangeInclusive<i32>,
        what: &'static str,
    ) -> Result<i32, EnvError> {
        let value = self.take_i32(what)?;
        if range.contains(&value) {
            Ok(value)
        } else {
            Err(corrupt(
                what,
                value,
                &format!("in {}..={}", range.start(), range.end()),
            ))
        }
    }

    /// The length of a list of elements of `element_len` bytes each, checked against the
    /// bytes left so that a corrupt length cannot ask for a huge allocation.
    fn take_len(&mut self, element_len: usize, what: &'static str) -> Result<usize, EnvError>;
}

impl<'a> Take<'a> for &'a [u8] {
    fn take_bytes(&mut self, len: usize, what: &'static str) -> Result<&'a [u8], EnvError> {
        if self.len() < len {
            return Err(EnvError::StateTruncated {
                what,
                needed: len as u64,
                available: self.len() as u64,
            });
        }
        let (head, tail) = self.split_at(len);
        *self = tail;
        Ok(head)
    }

    fn take_len(&mut self, element_len: usize, what: &'static str) -> Result<usize, EnvError> {
        let len = self.take_u64(what)?;
        let needed = len.saturating_mul(element_len as u64);
        if needed > self.len() as u64 {
            return Err(EnvError::StateTruncated {
                what,
                needed,
                available: self.len() as u64,
            });
        }
        Ok(len as usize)
    }
}

/// [`EnvError::StateCorrupt`] for a field whose saved value is impossible.
pub(crate) fn corrupt(what: &str, value: impl std::fmt::Display, expected: &str) -> EnvError {
    EnvError::StateCorrupt(format!("{what} is {value}, it must be {expected}"))
}

/// Fails with [`EnvError::StateMismatch`] unless the saved and current values agree.
pub(crate) fn expect_same<T: PartialEq + std::fmt::Debug>(
    what: &'static str,
    saved: T,
    current: T,
) -> Result<(), EnvError> {
    if saved == current {
        Ok(())
    } else {
        Err(EnvError::StateMismatch {
            what,
            saved: format!("{saved:?}"),
            current: format!("{current:?}"),
        })
    }
}

/// Fails with [`EnvError::StateCorrupt`] if `input` is not used up.
pub(crate) fn expect_end(input: &[u8], what: &str) -> Result<(), EnvError> {
    if input.is_empty() {
        Ok(())
    } else {
        Err(EnvError::StateCorrupt(format!(
            "{} bytes are left over after {what}",
            input.len()
        )))
    }
}

/// Appends a length-prefixed UTF-8 string (a game's name).
pub(crate) fn put_str(out: &mut Vec<u8>, value: &str) {
    out.put_usize(value.len());
    out.extend_from_slice(value.as_bytes());
}

/// Reads what [`put_str`] wrote.
pub(crate) fn take_str(input: &mut &[u8], what: &'static str) -> Result<String, EnvError> {
    let len = input.take_len(1, what)?;
    String::from_utf8(input.take_bytes(len, what)?.to_vec())
        .map_err(|_| EnvError::StateCorrupt(format!("{what} is not UTF-8")))
}

pub(crate) fn put_episode(out: &mut Vec<u8>, episode: &EpisodeStats) {
    out.put_f64(episode.episodic_return);
    out.put_u64(episode.episodic_length);
    out.put_bool(episode.game_score.is_some());
    out.put_f64(episode.game_score.unwrap_or(0.0));
    out.put_bool(episode.continues_game);
}

pub(crate) fn take_episode(input: &mut &[u8]) -> Result<EpisodeStats, EnvError> {
    let episodic_return = input.take_f64("episodic return")?;
    let episodic_length = input.take_u64("episodic length")?;
    let has_game_score = input.take_bool("game score flag")?;
    let game_score = input.take_f64("game score")?;
    Ok(EpisodeStats {
        episodic_return,
        episodic_length,
        game_score: has_game_score.then_some(game_score),
        continues_game: input.take_bool("continues-game flag")?,
    })
}

pub(crate) fn put_rng(out: &mut Vec<u8>, rng: &RandomState) {
    let (key, pos) = rng.state();
    for &word in key {
        out.put_u32(word);
    }
    out.put_usize(pos);
}

pub(crate) fn take_rng(input: &mut &[u8]) -> Result<RandomState, EnvError> {
    let mut key = [0u32; RandomState::STATE_LEN];
    for word in &mut key {
        *word = input.take_u32("random state")?;
    }
    let pos = input.take_index(RandomState::STATE_LEN + 1, "random state position")?;
    Ok(RandomState::from_state(key, pos))
}

/// 64-bit FNV-1a of `bytes`: the checksum of a saved [`crate::VecEnv`]'s payload, against
/// accidental damage (not against tampering).
pub(crate) fn fnv1a_64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip_and_short_input_names_the_field() {
        let mut out = Vec::new();
        out.put_u8(7);
        out.put_i32(-3);
        out.put_f64(-0.5);
        out.put_bool(true);
        let mut input = &out[..];
        assert_eq!(input.take_u8("a").unwrap(), 7);
        assert_eq!(input.take_i32_in(-5..=5, "b").unwrap(), -3);
        assert_eq!(input.take_f64("c").unwrap(), -0.5);
        assert!(input.take_bool("d").unwrap());
        assert_eq!(
            input.take_u32("e"),
            Err(EnvError::StateTruncated {
                what: "e",
                needed: 4,
                available: 0
            })
        );
    }

    #[test]
    fn impossible_values_are_corrupt() {
        let mut out = Vec::new();
        out.put_u8(2);
        out.put_i32(10);
        out.put_u64(u64::MAX);
        let mut input = &out[..];
        assert!(matches!(
            input.take_bool("flag"),
            Err(EnvError::StateCorrupt(m)) if m == "flag is 2, it must be 0 or 1"
        ));
        assert!(input.take_i32_in(0..=9, "x").is_err());
        assert!(matches!(
            input.take_len(1, "list"),
            Err(EnvError::StateTruncated { what: "list", .. })
        ));
    }

    #[test]
    fn the_random_state_continues_where_it_was() {
        let mut rng = RandomState::new(5);
        for _ in 0..700 {
            rng.next_u32();
        }
        let mut out = Vec::new();
        put_rng(&mut out, &rng);
        let mut restored = take_rng(&mut &out[..]).unwrap();
        for _ in 0..1000 {
            assert_eq!(restored.next_u32(), rng.next_u32());
        }
    }

    /// The published FNV-1a 64 test vectors.
    #[test]
    fn fnv1a_matches_the_reference_values() {
        assert_eq!(fnv1a_64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a_64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a_64(b"foobar"), 0x8594_4171_f739_67e8);
    }
}
