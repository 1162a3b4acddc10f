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

/// A resize from `src_height x src_width` to `dst_height x dst_width` (each no larger than the
/// source), with scratch rows so that [`AreaResize::apply`] allocates nothing.
#[derive(Clone, Debug)]
pub struct AreaResize {
    src_width: usize,
    src_height: usize,
    dst_width: usize,
    dst_height: usize,
    x_taps: Vec<Tap>,
    y_taps: Vec<Tap>,
    row: Vec<f32>,
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
            x_taps: axis_taps(src_width, dst_width),
            y_taps: axis_taps(src_height, dst_height),
            row: vec![0.0; dst_width],
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
            let src_row = &src[tap.src * self.src_width..][..self.src_width];
            self.row.fill(0.0);
            for x in &self.x_taps {
                self.row[x.dst] += f32::from(src_row[x.src]) * x.weight;
            }
            for (sum, value) in self.sums.iter_mut().zip(&self.row) {
                *sum += tap.weight * value;
            }
        }
        store(
            &self.sums,
            &mut dst[current * self.dst_width..][..self.dst_width],
        );
    }
}

/// Rounds one row of weighted sums to grey levels.
fn store(sums: &[f32], dst: &mut [u8]) {
    for (out, sum) in dst.iter_mut().zip(sums) {
        *out = sum.round_ties_even().clamp(0.0, 255.0) as u8;
    }
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
