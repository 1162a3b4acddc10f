//! A serialised emulator snapshot.

/// The bytes of one `ALEState` as ALE serialises it: the console, the
/// game's RAM-derived state, frame counters and, optionally, ALE's
/// generator. Restore it with [`crate::Ale::restore_state`] on an emulator
/// of the same game; it can also be stored and read back with
/// [`AleState::as_bytes`] and [`AleState::from_bytes`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AleState {
    bytes: Vec<u8>,
}

impl AleState {
    /// Wraps bytes produced by [`AleState::as_bytes`]; they are validated
    /// only when restored.
    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        AleState { bytes }
    }

    /// The serialised state.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }
}
