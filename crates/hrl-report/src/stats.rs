//! Aggregate statistics of a suite of tasks run with several seeds, as the rliable library
//! computes them (Agarwal et al. 2021, "Deep RL at the Edge of the Statistical Precipice"):
//! mean, median, interquartile mean (IQM) and optimality gap of normalised scores, probability
//! of improvement, performance profiles, and stratified-bootstrap percentile confidence
//! intervals. Point estimates follow rliable's definitions exactly; the bootstrap uses our own
//! seeded ChaCha8 stream, so intervals match rliable's only up to Monte Carlo error.

use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{RngCore, SeedableRng};

/// Errors of the statistics.
#[derive(Debug, thiserror::Error)]
pub enum StatsError {
    #[error("score matrix [runs={runs}, tasks={tasks}] needs runs * tasks = {} values, got {len}", runs * tasks)]
    Shape {
        runs: usize,
        tasks: usize,
        len: usize,
    },
    #[error("score matrix needs at least one run and one task")]
    Empty,
    #[error("score matrix row {row} has {got} tasks, row 0 has {expected}")]
    Ragged {
        row: usize,
        got: usize,
        expected: usize,
    },
    #[error("score of run {run}, task {task} is {value}; scores must be finite")]
    NotFinite { run: usize, task: usize, value: f64 },
    #[error("comparing algorithms on {x} and {y} tasks; both need the same tasks")]
    TaskMismatch { x: usize, y: usize },
    #[error(
        "bootstrap needs reps >= 1 and 0 < confidence < 1; got reps {reps}, confidence {confidence}"
    )]
    BadBootstrap { reps: usize, confidence: f64 },
}

/// Normalised scores of one algorithm, `[runs, tasks]`, row-major (rliable's layout: one row per
/// seed, one column per game).
#[derive(Debug, Clone, PartialEq)]
pub struct ScoreMatrix {
    runs: usize,
    tasks: usize,
    data: Vec<f64>,
}

impl ScoreMatrix {
    /// A matrix from row-major values; every value must be finite.
    pub fn new(runs: usize, tasks: usize, data: Vec<f64>) -> Result<Self, StatsError> {
        if runs == 0 || tasks == 0 {
            return Err(StatsError::Empty);
        }
        if data.len() != runs * tasks {
            return Err(StatsError::Shape {
                runs,
                tasks,
                len: data.len(),
            });
        }
        if let Some(i) = data.iter().position(|v| !v.is_finite()) {
            return Err(StatsError::NotFinite {
                run: i / tasks,
                task: i % tasks,
                value: data[i],
            });
        }
        Ok(ScoreMatrix { runs, tasks, data })
    }

    /// A matrix from one row per run.
    pub fn from_rows(rows: &[Vec<f64>]) -> Result<Self, StatsError> {
        let tasks = rows.first().map_or(0, Vec::len);
        if let Some((row, r)) = rows.iter().enumerate().find(|(_, r)| r.len() != tasks) {
            return Err(StatsError::Ragged {
                row,
                got: r.len(),
                expected: tasks,
            });
        }
        ScoreMatrix::new(rows.len(), tasks, rows.concat())
    }

    /// Number of runs (seeds).
    pub fn runs(&self) -> usize {
        self.runs
    }

    /// Number of tasks (games).
    pub fn tasks(&self) -> usize {
        self.tasks
    }

    /// Score of `run` on `task`.
    pub fn get(&self, run: usize, task: usize) -> f64 {
        self.data[run * self.tasks + task]
    }

    /// The scores of all runs on `task`.
    pub fn task_scores(&self, task: usize) -> Vec<f64> {
        (0..self.runs).map(|r| self.get(r, task)).collect()
    }

    /// Mean over runs of each task.
    pub fn task_means(&self) -> Vec<f64> {
        (0..self.tasks)
            .map(|t| (0..self.runs).map(|r| self.get(r, t)).sum::<f64>() / self.runs as f64)
            .collect()
    }

    /// A stratified bootstrap resample: for every task independently, `runs` runs drawn with
    /// replacement (rliable's `StratifiedBootstrap` without task bootstrap).
    fn resample(&self, rng: &mut ChaCha8Rng) -> ScoreMatrix {
        let mut data = vec![0.0; self.data.len()];
        for run in 0..self.runs {
            for task in 0..self.tasks {
                data[run * self.tasks + task] = self.get(uniform_index(rng, self.runs), task);
            }
        }
        ScoreMatrix {
            runs: self.runs,
            tasks: self.tasks,
            data,
        }
    }
}

/// rliable's `aggregate_mean`: the mean over tasks of the mean over runs.
pub fn mean(scores: &ScoreMatrix) -> f64 {
    let means = scores.task_means();
    means.iter().sum::<f64>() / means.len() as f64
}

/// rliable's `aggregate_median`: the median over tasks of the mean over runs.
pub fn median(scores: &ScoreMatrix) -> f64 {
    let mut means = scores.task_means();
    means.sort_by(f64::total_cmp);
    let n = means.len();
    if n % 2 == 1 {
        means[n / 2]
    } else {
        (means[n / 2 - 1] + means[n / 2]) / 2.0
    }
}

/// rliable's `aggregate_iqm`, `scipy.stats.trim_mean(scores, 0.25, axis=None)`: the mean of all
/// runs x tasks scores after cutting `floor(0.25 n)` from each end of the sorted `n` scores.
pub fn iqm(scores: &ScoreMatrix) -> f64 {
    let mut all = scores.data.clone();
    all.sort_by(f64::total_cmp);
    let cut = all.len() / 4;
    let kept = &all[cut..all.len() - cut];
    kept.iter().sum::<f64>() / kept.len() as f64
}

/// rliable's `aggregate_optimality_gap`: `gamma - mean(min(score, gamma))` over all runs and
/// tasks, how far the scores fall short of `gamma` (1 for human-normalised scores).
pub fn optimality_gap(scores: &ScoreMatrix, gamma: f64) -> f64 {
    let clipped: f64 = scores.data.iter().map(|&s| s.min(gamma)).sum();
    gamma - clipped / scores.data.len() as f64
}

/// rliable's `probability_of_improvement`: the probability that a run of `x` beats a run of `y`
/// on the same task (ties count one half; the Mann-Whitney U statistic divided by
/// `runs_x * runs_y`; exactly 0.5 where the two columns are equal), averaged over tasks.
pub fn probability_of_improvement(x: &ScoreMatrix, y: &ScoreMatrix) -> Result<f64, StatsError> {
    if x.tasks != y.tasks {
        return Err(StatsError::TaskMismatch {
            x: x.tasks,
            y: y.tasks,
        });
    }
    Ok(probability_of_improvement_unchecked(x, y))
}

fn probability_of_improvement_unchecked(x: &ScoreMatrix, y: &ScoreMatrix) -> f64 {
    let total: f64 = (0..x.tasks)
        .map(|task| {
            let xs = x.task_scores(task);
            let ys = y.task_scores(task);
            if xs == ys {
                return 0.5;
            }
            let wins: f64 = xs
                .iter()
                .flat_map(|a| ys.iter().map(move |b| (a, b)))
                .map(|(a, b)| match a.total_cmp(b) {
                    std::cmp::Ordering::Greater => 1.0,
                    std::cmp::Ordering::Equal => 0.5,
                    std::cmp::Ordering::Less => 0.0,
                })
                .sum();
            wins / (xs.len() * ys.len()) as f64
        })
        .sum();
    total / x.tasks as f64
}

/// rliable's performance profile with the run-score distribution (its default): for each `tau`,
/// the fraction of all runs x tasks scores strictly greater than `tau`.
pub fn performance_profile(scores: &ScoreMatrix, taus: &[f64]) -> Vec<f64> {
    let n = scores.data.len() as f64;
    taus.iter()
        .map(|&tau| scores.data.iter().filter(|&&s| s > tau).count() as f64 / n)
        .collect()
}

/// A point estimate with its confidence interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Interval {
    pub point: f64,
    pub lower: f64,
    pub upper: f64,
}

/// Stratified bootstrap percentile confidence intervals (rliable's `get_interval_estimates`
/// with `method="percentile"`, `task_bootstrap=False`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bootstrap {
    /// Number of bootstrap resamples.
    pub reps: usize,
    /// Coverage of the interval (0.95: the 2.5th to 97.5th percentiles).
    pub confidence: f64,
    /// Seed of the ChaCha8 stream that draws the resamples.
    pub seed: u64,
}

impl Default for Bootstrap {
    fn default() -> Self {
        Bootstrap {
            reps: 2000,
            confidence: 0.95,
            seed: 0,
        }
    }
}

impl Bootstrap {
    fn check(&self) -> Result<(), StatsError> {
        if self.reps == 0 || !(self.confidence > 0.0 && self.confidence < 1.0) {
            return Err(StatsError::BadBootstrap {
                reps: self.reps,
                confidence: self.confidence,
            });
        }
        Ok(())
    }

    /// The interval of a scalar statistic, e.g. `|s| stats::iqm(s)`.
    pub fn interval(
        &self,
        scores: &ScoreMatrix,
        statistic: impl Fn(&ScoreMatrix) -> f64,
    ) -> Result<Interval, StatsError> {
        let intervals = self.intervals(scores, |s| vec![statistic(s)])?;
        Ok(intervals[0])
    }

    /// Intervals of a vector statistic, each component on its own (e.g. a performance profile
    /// over a grid of taus).
    pub fn intervals(
        &self,
        scores: &ScoreMatrix,
        statistic: impl Fn(&ScoreMatrix) -> Vec<f64>,
    ) -> Result<Vec<Interval>, StatsError> {
        self.check()?;
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        let point = statistic(scores);
        let samples: Vec<Vec<f64>> = (0..self.reps)
            .map(|_| statistic(&scores.resample(&mut rng)))
            .collect();
        Ok(self.percentiles(&point, &samples))
    }

    /// The interval of the probability of improvement of `x` over `y`, resampling the runs of
    /// the two independently (rliable's `StratifiedIndependentBootstrap`).
    pub fn improvement_interval(
        &self,
        x: &ScoreMatrix,
        y: &ScoreMatrix,
    ) -> Result<Interval, StatsError> {
        self.check()?;
        let point = probability_of_improvement(x, y)?;
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        let samples: Vec<Vec<f64>> = (0..self.reps)
            .map(|_| {
                let rx = x.resample(&mut rng);
                let ry = y.resample(&mut rng);
                vec![probability_of_improvement_unchecked(&rx, &ry)]
            })
            .collect();
        Ok(self.percentiles(&[point], &samples)[0])
    }

    fn percentiles(&self, point: &[f64], samples: &[Vec<f64>]) -> Vec<Interval> {
        let tail = (1.0 - self.confidence) / 2.0;
        point
            .iter()
            .enumerate()
            .map(|(i, &point)| {
                let mut values: Vec<f64> = samples.iter().map(|s| s[i]).collect();
                values.sort_by(f64::total_cmp);
                Interval {
                    point,
                    lower: percentile(&values, tail),
                    upper: percentile(&values, 1.0 - tail),
                }
            })
            .collect()
    }
}

/// numpy's default (linear) percentile of sorted values, `q` in [0, 1].
fn percentile(sorted: &[f64], q: f64) -> f64 {
    let h = (sorted.len() - 1) as f64 * q;
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(sorted.len() - 1);
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

/// A uniform index in `0..n` without modulo bias (Lemire's multiply-and-reject).
pub(crate) fn uniform_index(rng: &mut ChaCha8Rng, n: usize) -> usize {
    let n = n as u64;
    let threshold = n.wrapping_neg() % n;
    loop {
        let product = u128::from(rng.next_u64()) * u128::from(n);
        if (product as u64) >= threshold {
            return (product >> 64) as usize;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matrix(rows: &[&[f64]]) -> ScoreMatrix {
        ScoreMatrix::from_rows(&rows.iter().map(|r| r.to_vec()).collect::<Vec<_>>()).unwrap()
    }

    #[test]
    fn hand_computed_aggregates() {
        // Task means 0.5, 2.0, 0.25; 6 scores sorted 0, 0, 0.5, 1, 1.5, 2.5.
        let s = matrix(&[&[0.0, 1.5, 0.5], &[1.0, 2.5, 0.0]]);
        assert!((mean(&s) - 2.75 / 3.0).abs() < 1e-15);
        assert_eq!(median(&s), 0.5);
        // floor(6 / 4) = 1 cut from each end: mean of 0, 0.5, 1, 1.5.
        assert_eq!(iqm(&s), 0.75);
        // min(s, 1) sums to 0 + 1 + 0.5 + 1 + 1 + 0 = 3.5.
        assert!((optimality_gap(&s, 1.0) - (1.0 - 3.5 / 6.0)).abs() < 1e-15);
        assert_eq!(
            performance_profile(&s, &[-1.0, 0.5, 3.0]),
            vec![1.0, 0.5, 0.0]
        );
    }

    #[test]
    fn improvement_counts_ties_as_half() {
        let x = matrix(&[&[1.0, 5.0], &[3.0, 5.0]]);
        let y = matrix(&[&[2.0, 5.0], &[3.0, 6.0], &[0.0, 4.0]]);
        // Task 0: pairs (1,2) (1,3) (1,0) (3,2) (3,3) (3,0) -> 0+0+1+1+0.5+1 = 3.5 of 6.
        // Task 1: (5,5) (5,6) (5,4) twice -> 2 * 1.5 = 3 of 6.
        let p = probability_of_improvement(&x, &y).unwrap();
        assert!((p - (3.5 / 6.0 + 0.5) / 2.0).abs() < 1e-15);
        assert_eq!(probability_of_improvement(&x, &x).unwrap(), 0.5);
        let z = matrix(&[&[1.0]]);
        assert!(matches!(
            probability_of_improvement(&x, &z),
            Err(StatsError::TaskMismatch { x: 2, y: 1 })
        ));
    }

    #[test]
    fn rejects_bad_matrices() {
        assert!(matches!(
            ScoreMatrix::new(2, 2, vec![0.0; 3]),
            Err(StatsError::Shape { .. })
        ));
        assert!(matches!(
            ScoreMatrix::new(0, 2, vec![]),
            Err(StatsError::Empty)
        ));
        assert!(matches!(
            ScoreMatrix::new(1, 2, vec![0.0, f64::NAN]),
            Err(StatsError::NotFinite {
                run: 0,
                task: 1,
                ..
            })
        ));
        assert!(matches!(
            ScoreMatrix::from_rows(&[vec![1.0, 2.0], vec![1.0]]),
            Err(StatsError::Ragged { row: 1, .. })
        ));
    }

    #[test]
    fn resamples_stay_within_each_task() {
        // Task t only holds values 10 t + run; a resample may only reorder within a column.
        let s = ScoreMatrix::new(
            4,
            3,
            (0..12).map(|i| (10 * (i % 3) + i / 3) as f64).collect(),
        )
        .unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let r = s.resample(&mut rng);
        for task in 0..3 {
            for run in 0..4 {
                let v = r.get(run, task);
                assert!(
                    (10.0 * task as f64..10.0 * task as f64 + 4.0).contains(&v),
                    "{v}"
                );
            }
        }
        assert_ne!(
            r, s,
            "a resample of 12 cells is almost surely not the identity"
        );
    }

    #[test]
    fn bootstrap_is_seeded_and_brackets_the_point() {
        let s = matrix(&[&[0.1, 0.9, 1.4], &[0.3, 1.1, 0.7], &[0.2, 0.8, 1.9]]);
        let b = Bootstrap::default();
        let first = b.interval(&s, iqm).unwrap();
        assert_eq!(first, b.interval(&s, iqm).unwrap());
        assert!(first.lower <= first.point && first.point <= first.upper);
        let other = Bootstrap { seed: 1, ..b }.interval(&s, iqm).unwrap();
        assert_ne!((first.lower, first.upper), (other.lower, other.upper));
        assert!(Bootstrap { reps: 0, ..b }.interval(&s, iqm).is_err());
    }

    #[test]
    fn linear_percentile_matches_numpy() {
        // np.percentile([1, 2, 4, 8], [2.5, 50, 97.5]) = [1.075, 3.0, 7.7].
        let v = [1.0, 2.0, 4.0, 8.0];
        assert!((percentile(&v, 0.025) - 1.075).abs() < 1e-12);
        assert_eq!(percentile(&v, 0.5), 3.0);
        assert!((percentile(&v, 0.975) - 7.7).abs() < 1e-12);
    }

    #[test]
    fn uniform_index_covers_the_range_evenly() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let mut counts = [0usize; 5];
        for _ in 0..50_000 {
            counts[uniform_index(&mut rng, 5)] += 1;
        }
        for c in counts {
            assert!((9_500..10_500).contains(&c), "{counts:?}");
        }
    }
}
