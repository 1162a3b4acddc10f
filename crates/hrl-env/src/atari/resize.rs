//! Area-averaging resize of a grayscale frame (OpenCV's `INTER_AREA` when shrinking), with
//! separable weights computed once.
//!
//! Each destination pixel is the mean of the source area it covers, partly covered source
//! pixels weighted by their overlap. The weights follow OpenCV's `computeResizeAreaTab`, so the
//! result is within one grey level of `cv2.resize(src, (w, h), interpolation=cv2.INTER_AREA)`.

/// One source index contributing `weight` to one destination index along one axis.
#[derive(Clone, Copy, Debug)]
struct Tap {
    src: usize,
    dst: usize,
    weight: f32,
}

/// The overlap weights of one axis shrunk from `src_len` to `dst_len` pixels, in source order.
fn axis_taps(src_len: usize, dst_len: usize) -> Vec<Tap> {
    let scale = src_len as f64 / dst_len as f64;
    let mut taps = Vec::with_capacity(2 * src_len);
    for dst in 0..dst_len {
        let start = dst as f64 * scale;
        let end = start + scale;
        let cell = scale.min(src_len as f64 - start);
        let last = (end.floor() as usize).min(src_len - 1);
        let first = (start.ceil() as usize).min(last);
        if first as f64 - start > 1e-3 {
            taps.push(Tap {
                src: first - 1,
                dst,
                weight: ((first as f64 - start) / cell) as f32,
            });
        }
        for src in first..last {
            taps.push(Tap {
                src,
                dst,
                weight: (1.0 / cell) as f32,
            });
        }
        if end - last as f64 > 1e-3 {
            taps.push(Tap {
                src: last,
                dst,
                weight: ((end - last as f64).min(1.0).min(cell) / cell) as f32,
            });
        }
    }
    taps
}

/// The horizontal weights in a fixed-width layout: destination column `d` sums
/// `weights[d * width + j] * row[first[d] + j]` over `j < width`, in source order, with zero
/// weights padding columns that have fewer taps. Adding those zero products (`+0.0` to a
/// non-negative sum) leaves every sum bit-identical to the tap-by-tap accumulation.
#[derive(Clone, Debug)]
struct ColumnTaps {
    width: usize,
    first: Vec<usize>,
    weights: Vec<f32>,
}

impl ColumnTaps {
    fn new(taps: &[Tap], src_len: usize, dst_len: usize) -> Self {
        let mut first = vec![usize::MAX; dst_len];
        let mut count = vec![0usize; dst_len];
        for tap in taps {
            first[tap.dst] = first[tap.dst].min(tap.src);
            count[tap.dst] += 1;
        }
        let width = count.into_iter().max().unwrap_or(0);
        // Shift short columns left so that every padded index stays inside the row.
        for start in &mut first {
            *start = (*start).min(src_len - width);
        }
        let mut weights = vec![0.0; dst_len * width];
        for tap in taps {
            weights[tap.dst * width + tap.src - first[tap.dst]] = tap.weight;
        }
        Self {
            width,
            first,
            weights,
        }
    }

    /// `out[d] = sum_j weights[d, j] * row[first[d] + j]`, accumulated from zero in source
    /// order.
    fn apply(&self, row: &[f32], out: &mut [f32]) {
        // Shrinking 160 or 210 pixels to 84 needs 3 or 4 taps: with the width a constant in
        // those calls, the compiler unrolls each column's sum.
        match self.width {
            3 => self.sum_columns(3, row, out),
            4 => self.sum_columns(4, row, out),
            width => self.sum_columns(width, row, out),
        }
    }

    #[inline(always)]
    fn sum_columns(&self, width: usize, row: &[f32], out: &mut [f32]) {
        for ((out, &start), weights) in out
            .iter_mut()
            .zip(&self.first)
            .zip(self.weights.chunks_exact(width))
        {
            *out = row[start..start + width]
                .iter()
                .zip(weights)
                .fold(0.0, |sum, (value, weight)| sum + value * weight);
        }
    }
}

/// A resize from `src_height x src_width` to `dst_height x dst_width` (each no larger than the
/// source), with scratch buffers so that [`AreaResize::apply`] allocates nothing.
///
/// The arithmetic is OpenCV's, operation for operation: each source row is first summed
/// horizontally into destination columns, then the rows are weighted and summed vertically,
/// both from zero in source order. Unlike OpenCV, each source row's horizontal sums are
/// computed once even when the row straddles two destination rows.
#[derive(Clone, Debug)]
pub struct AreaResize {
    src_width: usize,
    src_height: usize,
    dst_width: usize,
    dst_height: usize,
    columns: ColumnTaps,
    y_taps: Vec<Tap>,
    /// One source row as floats, `[src_width]`.
    row: Vec<f32>,
    /// Every source row summed horizontally, `[src_height][dst_width]`.
    row_sums: Vec<f32>,
    sums: Vec<f32>,
}

impl AreaResize {
    /// The weights for shrinking `[src_height][src_width]` to `[dst_height][dst_width]`.
    ///
    /// # Panics
    /// If a destination side is zero or larger than the source side.
    pub fn new(src_height: usize, src_width: usize, dst_height: usize, dst_width: usize) -> Self {
        assert!(
            (1..=src_height).contains(&dst_height) && (1..=src_width).contains(&dst_width),
            "area resize only shrinks: {src_height}x{src_width} to {dst_height}x{dst_width}"
        );
        Self {
            src_width,
            src_height,
            dst_width,
            dst_height,
            columns: ColumnTaps::new(&axis_taps(src_width, dst_width), src_width, dst_width),
            y_taps: axis_taps(src_height, dst_height),
            row: vec![0.0; src_width],
            row_sums: vec![0.0; src_height * dst_width],
            sums: vec![0.0; dst_width],
        }
    }

    /// Resizes `src` (`[src_height][src_width]` row-major) into `dst`
    /// (`[dst_height][dst_width]`), rounding to the nearest grey level.
    ///
    /// # Panics
    /// If a buffer has the wrong length.
    pub fn apply(&mut self, src: &[u8], dst: &mut [u8]) {
        assert_eq!(src.len(), self.src_width * self.src_height, "source length");
        assert_eq!(
            dst.len(),
            self.dst_width * self.dst_height,
            "destination length"
        );
        for (src_row, row_sums) in src
            .chunks_exact(self.src_width)
            .zip(self.row_sums.chunks_exact_mut(self.dst_width))
        {
            for (value, &byte) in self.row.iter_mut().zip(src_row) {
                *value = f32::from(byte);
            }
            self.columns.apply(&self.row, row_sums);
        }
        let mut current = 0;
        self.sums.fill(0.0);
        for tap in &self.y_taps {
            if tap.dst != current {
                store(
                    &self.sums,
                    &mut dst[current * self.dst_width..][..self.dst_width],
                );
                self.sums.fill(0.0);
                current = tap.dst;
            }
            let row = &self.row_sums[tap.src * self.dst_width..][..self.dst_width];
            for (sum, value) in self.sums.iter_mut().zip(row) {
                *sum += tap.weight * value;
            }
        }
        store(
            &self.sums,
            &mut dst[current * self.dst_width..][..self.dst_width],
        );
    }
}

/// Rounds one row of weighted sums (never negative) to grey levels, half to even as OpenCV's
/// `saturate_cast` does.
fn store(sums: &[f32], dst: &mut [u8]) {
    for (out, &sum) in dst.iter_mut().zip(sums) {
        *out = round_half_even(sum).clamp(0.0, 255.0) as u8;
    }
}

/// `x.round_ties_even()` for `0 <= x < 2^23`, without the libm call that baseline x86-64 makes
/// of it: `x + 2^23` has no fraction bits left, so the addition itself rounds half to even,
/// and subtracting `2^23` again is exact.
fn round_half_even(x: f32) -> f32 {
    const NO_FRACTION: f32 = 8_388_608.0;
    (x + NO_FRACTION) - NO_FRACTION
}

#[cfg(test)]
mod tests {
    use super::AreaResize;

    #[test]
    fn weights_of_each_destination_pixel_sum_to_one() {
        for (src, dst) in [(210, 84), (160, 84), (7, 3), (10, 10)] {
            let taps = super::axis_taps(src, dst);
            for d in 0..dst {
                let total: f32 = taps.iter().filter(|t| t.dst == d).map(|t| t.weight).sum();
                assert!((total - 1.0).abs() < 1e-5, "{src}->{dst} at {d}: {total}");
            }
        }
    }

    #[test]
    fn rounding_is_half_to_even() {
        for step in 0..=2 * 256 * 64 {
            let x = step as f32 / 128.0;
            assert_eq!(super::round_half_even(x), x.round_ties_even(), "{x}");
        }
        for (x, rounded) in [
            (0.5, 0.0),
            (1.5, 2.0),
            (2.5, 2.0),
            (254.5, 254.0),
            (0.49999997, 0.0),
        ] {
            assert_eq!(super::round_half_even(x), rounded, "{x}");
        }
    }

    #[test]
    fn halving_averages_two_by_two_blocks() {
        let src = [0, 2, 10, 20, 4, 6, 30, 40];
        let mut dst = [0u8; 2];
        AreaResize::new(2, 4, 1, 2).apply(&src, &mut dst);
        assert_eq!(dst, [3, 25]);
    }

    #[test]
    fn a_constant_frame_stays_constant() {
        let src = vec![137u8; 210 * 160];
        let mut dst = vec![0u8; 84 * 84];
        AreaResize::new(210, 160, 84, 84).apply(&src, &mut dst);
        assert!(dst.iter().all(|&v| v == 137));
    }
}
