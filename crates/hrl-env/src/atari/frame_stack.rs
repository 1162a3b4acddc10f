//! The last `depth` preprocessed frames in a ring, written out oldest first.

use crate::EnvError;
use crate::state::{Put, Take};

/// A ring of `depth` frames of `frame_len` bytes; the newest frame is written in place.
#[derive(Clone, Debug)]
pub(crate) struct FrameStack {
    frames: Vec<u8>,
    frame_len: usize,
    depth: usize,
    newest: usize,
}

impl FrameStack {
    pub(crate) fn new(depth: usize, frame_len: usize) -> Self {
        Self {
            frames: vec![0; depth * frame_len],
            frame_len,
            depth,
            newest: 0,
        }
    }

    /// Drops the oldest frame and returns the slot of the new newest one, to be written.
    pub(crate) fn push_slot(&mut self) -> &mut [u8] {
        self.newest = (self.newest + 1) % self.depth;
        &mut self.frames[self.newest * self.frame_len..][..self.frame_len]
    }

    /// The newest frame.
    pub(crate) fn newest(&self) -> &[u8] {
        &self.frames[self.newest * self.frame_len..][..self.frame_len]
    }

    /// Copies the newest frame into every other slot (the stack right after a reset).
    pub(crate) fn fill_with_newest(&mut self) {
        let start = self.newest * self.frame_len;
        for slot in (0..self.depth).filter(|&s| s != self.newest) {
            self.frames
                .copy_within(start..start + self.frame_len, slot * self.frame_len);
        }
    }

    /// Saves the ring as it is: its frames and which one is the newest.
    pub(crate) fn save(&self, out: &mut Vec<u8>) {
        out.put_usize(self.newest);
        out.extend_from_slice(&self.frames);
    }

    /// Reads what `save` wrote for a stack of the same shape; unchanged on error.
    pub(crate) fn restore(&mut self, input: &mut &[u8]) -> Result<(), EnvError> {
        let newest = input.take_index(self.depth, "newest stacked frame")?;
        let frames = input.take_bytes(self.frames.len(), "stacked frames")?;
        self.frames.copy_from_slice(frames);
        self.newest = newest;
        Ok(())
    }

    /// The frames in order, oldest first, each as a slice.
    pub(crate) fn ordered(&self) -> impl Iterator<Item = &[u8]> {
        (1..=self.depth).map(move |k| {
            let slot = (self.newest + k) % self.depth;
            &self.frames[slot * self.frame_len..][..self.frame_len]
        })
    }
}

#[cfg(test)]
mod tests {
    use super::FrameStack;

    #[test]
    fn frames_come_out_oldest_first() {
        let mut stack = FrameStack::new(3, 2);
        stack.push_slot().copy_from_slice(&[1, 1]);
        stack.fill_with_newest();
        stack.push_slot().copy_from_slice(&[2, 2]);
        stack.push_slot().copy_from_slice(&[3, 3]);
        let flat: Vec<u8> = stack.ordered().flatten().copied().collect();
        assert_eq!(flat, [1, 1, 2, 2, 3, 3]);
        stack.push_slot().copy_from_slice(&[4, 4]);
        let flat: Vec<u8> = stack.ordered().flatten().copied().collect();
        assert_eq!(flat, [2, 2, 3, 3, 4, 4]);
        assert_eq!(stack.newest(), [4, 4]);
    }

    #[test]
    fn a_restored_stack_comes_out_the_same_and_goes_on_the_same() {
        let mut stack = FrameStack::new(3, 2);
        for k in 1..=4 {
            stack.push_slot().copy_from_slice(&[k, k]);
        }
        let mut saved = Vec::new();
        stack.save(&mut saved);
        let mut other = FrameStack::new(3, 2);
        other.restore(&mut &saved[..]).unwrap();
        for s in [&mut stack, &mut other] {
            s.push_slot().copy_from_slice(&[9, 9]);
        }
        let flat = |s: &FrameStack| s.ordered().flatten().copied().collect::<Vec<u8>>();
        assert_eq!(flat(&other), flat(&stack));
        assert_eq!(flat(&other), [3, 3, 4, 4, 9, 9]);
        assert!(other.restore(&mut &saved[..saved.len() - 1]).is_err());
    }
}
