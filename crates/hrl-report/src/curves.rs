//! Curves over training averaged across runs: each run's points are binned onto a common grid
//! of agent steps (a weighted mean per bin), then each bin gets the mean over the runs with data
//! there and a 95% band, `mean ± 1.96 s / sqrt(n)` (normal approximation of the interval of the
//! mean; `s` the sample standard deviation over the `n` runs; no width for one run).

/// Equal-width bins `(lo, hi]` of agent steps from 0 to the largest step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepGrid {
    /// Width of a bin, agent steps.
    width: f64,
    /// Number of bins.
    bins: usize,
}

impl StepGrid {
    /// `bins` (at least 1) bins up to `max_step` agent steps.
    pub fn new(max_step: f64, bins: usize) -> StepGrid {
        let bins = bins.max(1);
        StepGrid {
            width: max_step.max(1.0) / bins as f64,
            bins,
        }
    }

    /// Number of bins.
    pub fn bins(&self) -> usize {
        self.bins
    }

    /// The bin of `step` (step 0 falls in the first).
    pub fn bin_of(&self, step: f64) -> usize {
        let index = (step / self.width).ceil() as usize;
        index.saturating_sub(1).min(self.bins - 1)
    }

    /// The middle of bin `index`, agent steps.
    pub fn centre(&self, index: usize) -> f64 {
        (index as f64 + 0.5) * self.width
    }

    /// One run's curve on the grid: per bin, the `weight`-weighted mean of the `value`s of its
    /// `(step, value, weight)` points; `None` where it has none.
    pub fn bin_run(&self, points: impl IntoIterator<Item = (f64, f64, f64)>) -> Vec<Option<f64>> {
        let mut sums = vec![(0.0, 0.0); self.bins];
        for (step, value, weight) in points {
            let bin = &mut sums[self.bin_of(step)];
            bin.0 += value * weight;
            bin.1 += weight;
        }
        sums.into_iter()
            .map(|(sum, weight)| (weight > 0.0).then(|| sum / weight))
            .collect()
    }
}

/// One bin of a curve averaged over runs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BandPoint {
    /// Middle of the bin, agent steps.
    pub step: f64,
    /// Mean over the runs with data in the bin.
    pub mean: f64,
    /// Lower end of the 95% band.
    pub low: f64,
    /// Upper end of the 95% band.
    pub high: f64,
    /// Runs with data in the bin.
    pub runs: usize,
}

/// The mean over `runs` (each from [`StepGrid::bin_run`]) with its band, in the bins where at
/// least one run has data.
pub fn band(grid: &StepGrid, runs: &[Vec<Option<f64>>]) -> Vec<BandPoint> {
    (0..grid.bins())
        .filter_map(|bin| {
            let values: Vec<f64> = runs.iter().filter_map(|r| r[bin]).collect();
            if values.is_empty() {
                return None;
            }
            let n = values.len() as f64;
            let mean = values.iter().sum::<f64>() / n;
            let half = if values.len() > 1 {
                let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
                1.96 * (var / n).sqrt()
            } else {
                0.0
            };
            Some(BandPoint {
                step: grid.centre(bin),
                mean,
                low: mean - half,
                high: mean + half,
                runs: values.len(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bins_are_half_open_on_the_left() {
        let grid = StepGrid::new(100.0, 4);
        assert_eq!(grid.bin_of(0.0), 0);
        assert_eq!(grid.bin_of(25.0), 0);
        assert_eq!(grid.bin_of(25.5), 1);
        assert_eq!(grid.bin_of(100.0), 3);
        assert_eq!(grid.bin_of(1e9), 3);
        assert_eq!(grid.centre(1), 37.5);
    }

    #[test]
    fn weighted_bins_and_bands_over_runs() {
        let grid = StepGrid::new(100.0, 2);
        let a = grid.bin_run([(10.0, 1.0, 3.0), (20.0, 5.0, 1.0), (90.0, 4.0, 1.0)]);
        assert_eq!(a, [Some(2.0), Some(4.0)]);
        let b = grid.bin_run([(80.0, 6.0, 1.0)]);
        assert_eq!(b, [None, Some(6.0)]);
        let curve = band(&grid, &[a, b]);
        assert_eq!(curve[0].runs, 1);
        assert_eq!((curve[0].low, curve[0].high), (2.0, 2.0));
        assert_eq!(curve[1].mean, 5.0);
        // s = sqrt(2), n = 2: half-width 1.96.
        assert!((curve[1].high - 6.96).abs() < 1e-12);
    }
}
