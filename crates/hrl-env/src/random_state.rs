//! A numpy-`RandomState`-compatible MT19937 stream: the draws MinAtar makes, bit for bit.
//!
//! numpy's legacy `RandomState(seed)` seeds the Mersenne Twister with `init_genrand(seed)`;
//! `rand()` builds a 53-bit double from two 32-bit outputs; `randint` draws 32-bit outputs,
//! masks them to the smallest covering power of two minus one and rejects values past the range.

const STATE_LEN: usize = 624;
const SHIFT: usize = 397;
const MATRIX_A: u32 = 0x9908_b0df;
const UPPER_MASK: u32 = 0x8000_0000;
const LOWER_MASK: u32 = 0x7fff_ffff;

/// The MT19937 generator behind numpy's `np.random.RandomState`.
#[derive(Clone)]
pub struct RandomState {
    key: [u32; STATE_LEN],
    pos: usize,
}

impl RandomState {
    /// Words of generator state.
    pub(crate) const STATE_LEN: usize = STATE_LEN;

    /// The generator's words and the index of the next one to temper (`STATE_LEN`: all are
    /// used up), for saving it.
    pub(crate) fn state(&self) -> (&[u32; STATE_LEN], usize) {
        (&self.key, self.pos)
    }

    /// The generator [`RandomState::state`] described; `pos` is at most `STATE_LEN`.
    pub(crate) fn from_state(key: [u32; STATE_LEN], pos: usize) -> Self {
        debug_assert!(pos <= STATE_LEN, "position {pos}");
        Self { key, pos }
    }

    /// `np.random.RandomState(seed)`: seeds with `init_genrand(seed)`.
    pub fn new(seed: u32) -> Self {
        let mut key = [0u32; STATE_LEN];
        key[0] = seed;
        for i in 1..STATE_LEN {
            let prev = key[i - 1];
            key[i] = 1_812_433_253u32
                .wrapping_mul(prev ^ (prev >> 30))
                .wrapping_add(i as u32);
        }
        Self {
            key,
            pos: STATE_LEN,
        }
    }

    /// Regenerates the 624 words of state once they are used up.
    fn twist(&mut self) {
        for i in 0..STATE_LEN {
            let y = (self.key[i] & UPPER_MASK) | (self.key[(i + 1) % STATE_LEN] & LOWER_MASK);
            let mag = if y & 1 == 1 { MATRIX_A } else { 0 };
            self.key[i] = self.key[(i + SHIFT) % STATE_LEN] ^ (y >> 1) ^ mag;
        }
        self.pos = 0;
    }

    /// One tempered 32-bit output (`genrand_int32`).
    pub fn next_u32(&mut self) -> u32 {
        if self.pos == STATE_LEN {
            self.twist();
        }
        let mut y = self.key[self.pos];
        self.pos += 1;
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c_5680;
        y ^= (y << 15) & 0xefc6_0000;
        y ^ (y >> 18)
    }

    /// `rand()`: a uniform double in [0, 1) with 53 random bits.
    pub fn rand(&mut self) -> f64 {
        let a = self.next_u32() >> 5;
        let b = self.next_u32() >> 6;
        (f64::from(a) * 67_108_864.0 + f64::from(b)) / 9_007_199_254_740_992.0
    }

    /// `randint(high)`: uniform in `0..high` for `high >= 1`. A range of one consumes nothing.
    pub fn randint(&mut self, high: u32) -> u32 {
        self.randint_range(0, high)
    }

    /// `randint(low, high)`: uniform in `low..high` for `high > low`, by masked rejection.
    pub fn randint_range(&mut self, low: u32, high: u32) -> u32 {
        debug_assert!(high > low, "randint needs high > low");
        let range = high - low - 1;
        if range == 0 {
            return low;
        }
        let mask = u32::MAX >> range.leading_zeros();
        loop {
            let value = self.next_u32() & mask;
            if value <= range {
                return low + value;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The C++ standard's check of MT19937: seed 5489 gives 3499211612 first, 4123659995 10000th.
    #[test]
    fn raw_outputs_match_the_reference_generator() {
        let mut rng = RandomState::new(5489);
        assert_eq!(rng.next_u32(), 3_499_211_612);
        for _ in 1..9999 {
            rng.next_u32();
        }
        assert_eq!(rng.next_u32(), 4_123_659_995);
    }

    /// `np.random.RandomState(0).rand()` twice, printed by numpy 2.4.
    #[test]
    fn rand_matches_numpy() {
        let mut rng = RandomState::new(0);
        assert_eq!(rng.rand(), 0.548_813_503_927_324_8);
        assert_eq!(rng.rand(), 0.715_189_366_372_419_5);
        assert_eq!(RandomState::new(u32::MAX).rand(), 0.097_632_028_994_013_8);
    }

    /// `[RandomState(42).randint(2) for _ in range(10)]`, then `randint(1, 6, 8)` and `rand()`.
    #[test]
    fn randint_matches_numpy() {
        let mut rng = RandomState::new(42);
        let coins: Vec<u32> = (0..10).map(|_| rng.randint(2)).collect();
        assert_eq!(coins, [0, 1, 0, 0, 0, 1, 0, 0, 0, 1]);

        let mut rng = RandomState::new(42);
        let speeds: Vec<u32> = (0..8).map(|_| rng.randint_range(1, 6)).collect();
        assert_eq!(speeds, [4, 5, 3, 5, 5, 2, 3, 3]);
        assert_eq!(rng.rand(), 0.459_248_891_965_867_16);

        let mut rng = RandomState::new(123);
        let rows: Vec<u32> = (0..10).map(|_| rng.randint_range(1, 9)).collect();
        assert_eq!(rows, [7, 6, 7, 3, 5, 3, 7, 2, 4, 3]);
        let thirds: Vec<u32> = (0..10).map(|_| rng.randint(3)).collect();
        assert_eq!(thirds, [1, 2, 1, 0, 1, 2, 1, 0, 2, 0]);
        let fifths: Vec<u32> = (0..5).map(|_| rng.randint(5)).collect();
        assert_eq!(fifths, [1, 3, 4, 0, 0]);
    }

    /// `randint(1)` consumes no randomness: `RandomState(7)` then gives the same `rand()`.
    #[test]
    fn randint_of_one_consumes_nothing() {
        let mut rng = RandomState::new(7);
        assert_eq!(rng.randint(1), 0);
        assert_eq!(rng.rand(), 0.076_308_289_373_957_17);
    }
}
