//! The last `depth` preprocessed frames in a ring, written out oldest first.

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
}
