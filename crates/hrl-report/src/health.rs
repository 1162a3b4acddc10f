//! Representation health as numbers: for each suite x algorithm x representation, the final value
//! of every diagnostic of `metrics.csv` with a 95% stratified-bootstrap interval over runs.
//!
//! A run's final value of a metric is the mean over its diagnostics points in the last
//! `final_fraction` of training (the same fraction as the final score: by default points at
//! `step >= 0.9 * last step`, about 10 of the default 100 points), which is steadier than the
//! last point alone. The runs of a representation form a `[seeds, games]` matrix as in
//! [`super::aggregates`] (lowest common number of seeds per game); the table gives the mean over
//! all its runs and the stratified bootstrap interval of that mean.
//!
//! For Hadamard representations it also gives each branch's dead fraction and their correlation,
//! and [`HealthMetric::DeadIfIndependent`]: the dead fraction the branches' dead fractions `p1`,
//! `p2` predict if units died independently in the two branches ([`BranchDeath`]). For tanh a
//! product unit is saturated only where both factors are, `p1 p2` (the paper's `p²` argument);
//! for ReLU it is zero where either factor is, `1 - (1 - p1)(1 - p2)`. Set beside the measured
//! `dead_fraction`, it shows whether the branches die together or apart.

use std::collections::BTreeMap;

use super::ReportError;
use super::aggregates::GroupKey;
use super::run_data::DiagnosticsPoint;
use crate::stats::{self, Bootstrap, Interval, ScoreMatrix};
use hrl_nn::repr::{Activation, ReprSpec};

/// A diagnostic of the representation layer, as `metrics.csv` logs it (or derived from its
/// columns).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum HealthMetric {
    /// `dead_fraction`: units saturated on every probe state.
    DeadFraction,
    /// `dormant_fraction`: τ-dormant units (Sokar et al. 2023).
    DormantFraction,
    /// `srank`: singular values reaching 99% of their sum (Kumar et al. 2020).
    Srank,
    /// `erank`: entropy effective rank (Roy and Vetterli 2007).
    Erank,
    /// `dead_fraction_first`: dead units of a Hadamard layer's first branch.
    DeadFractionFirst,
    /// `dead_fraction_second`: dead units of its second branch.
    DeadFractionSecond,
    /// The dead fraction predicted from the two branches' if they died independently
    /// ([`BranchDeath`]).
    DeadIfIndependent,
    /// `branch_correlation`: mean |Pearson correlation| of the two branches' units.
    BranchCorrelation,
}

impl HealthMetric {
    /// Every metric, in table order.
    pub const ALL: [HealthMetric; 8] = [
        HealthMetric::DeadFraction,
        HealthMetric::DormantFraction,
        HealthMetric::Srank,
        HealthMetric::Erank,
        HealthMetric::DeadFractionFirst,
        HealthMetric::DeadFractionSecond,
        HealthMetric::DeadIfIndependent,
        HealthMetric::BranchCorrelation,
    ];

    /// The metrics every representation has.
    pub const COMMON: [HealthMetric; 4] = [
        HealthMetric::DeadFraction,
        HealthMetric::DormantFraction,
        HealthMetric::Srank,
        HealthMetric::Erank,
    ];

    /// The metrics of Hadamard representations only.
    pub const HADAMARD: [HealthMetric; 4] = [
        HealthMetric::DeadFractionFirst,
        HealthMetric::DeadFractionSecond,
        HealthMetric::DeadIfIndependent,
        HealthMetric::BranchCorrelation,
    ];

    /// The metric's name: its `metrics.csv` column, or for the derived one the expression.
    pub fn name(&self) -> &'static str {
        match self {
            HealthMetric::DeadFraction => "dead_fraction",
            HealthMetric::DormantFraction => "dormant_fraction",
            HealthMetric::Srank => "srank",
            HealthMetric::Erank => "erank",
            HealthMetric::DeadFractionFirst => "dead_fraction_first",
            HealthMetric::DeadFractionSecond => "dead_fraction_second",
            HealthMetric::DeadIfIndependent => "dead_if_independent",
            HealthMetric::BranchCorrelation => "branch_correlation",
        }
    }

    /// The `metrics.csv` column it is read from; `None` for the derived one.
    pub fn column(&self) -> Option<&'static str> {
        match self {
            HealthMetric::DeadIfIndependent => None,
            other => Some(other.name()),
        }
    }

    /// Its position in `DiagnosticsPoint::values`.
    pub fn index(&self) -> usize {
        *self as usize
    }
}

/// How a Hadamard unit dies with its branches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BranchDeath {
    /// Saturating branches (tanh): the product saturates only where both do, `p1 p2`.
    Both,
    /// Zero-floored branches (ReLU): the product is zero where either is, `1 - (1 - p1)(1 - p2)`.
    Either,
}

impl BranchDeath {
    /// The rule of a representation spec: tanh on both branches dies together, ReLU on both
    /// apart; other and mixed activations have no prediction.
    pub fn of(repr: &str) -> Option<BranchDeath> {
        let spec: ReprSpec = crate::discovery::arm_repr(repr).parse().ok()?;
        match (spec.branches.first(), spec.branches.second()?) {
            (Activation::Tanh, Activation::Tanh) => Some(BranchDeath::Both),
            (Activation::Relu, Activation::Relu) => Some(BranchDeath::Either),
            _ => None,
        }
    }

    /// The predicted dead fraction from the branches' `p1`, `p2`.
    pub fn predict(self, p1: f64, p2: f64) -> f64 {
        match self {
            BranchDeath::Both => p1 * p2,
            BranchDeath::Either => 1.0 - (1.0 - p1) * (1.0 - p2),
        }
    }
}

/// The final value of `metric` in the diagnostics of a run of representation `repr`: the mean
/// over the points with a value at `step >= (1 - final_fraction) * last step` (see the module
/// doc); `None` if no point has one.
pub fn final_value(
    points: &[DiagnosticsPoint],
    metric: HealthMetric,
    repr: &str,
    final_fraction: f64,
) -> Option<f64> {
    let rule = BranchDeath::of(repr);
    let value_at = |p: &DiagnosticsPoint| match metric {
        HealthMetric::DeadIfIndependent => Some(rule?.predict(
            p.get(HealthMetric::DeadFractionFirst)?,
            p.get(HealthMetric::DeadFractionSecond)?,
        )),
        metric => p.get(metric),
    };
    let valued: Vec<(f64, f64)> = points
        .iter()
        .filter_map(|p| value_at(p).map(|v| (p.step, v)))
        .collect();
    let last = valued.last()?.0;
    let from = (1.0 - final_fraction) * last;
    let tail: Vec<f64> = valued
        .iter()
        .filter(|(step, _)| *step >= from)
        .map(|&(_, v)| v)
        .collect();
    Some(tail.iter().sum::<f64>() / tail.len() as f64)
}

/// One row of the health table.
#[derive(Debug, Clone, PartialEq)]
pub struct HealthRow {
    /// Suite, algorithm and representation (the score kind is always the final one).
    pub key: GroupKey,
    /// Which metric.
    pub metric: HealthMetric,
    /// Mean over runs and its bootstrap interval.
    pub interval: Interval,
    /// Games in the matrix.
    pub games: usize,
    /// Runs per game.
    pub runs: usize,
}

/// The final value of one metric in one complete run.
#[derive(Debug, Clone, PartialEq)]
pub struct HealthCell {
    /// Suite, algorithm and representation of the run.
    pub key: GroupKey,
    /// Which metric.
    pub metric: HealthMetric,
    /// The run's game.
    pub game: String,
    /// The run's seed.
    pub seed: u64,
    /// Its final value.
    pub value: f64,
}

/// The table of `cells`, in key then metric order.
pub fn compute(cells: &[HealthCell], bootstrap: &Bootstrap) -> Result<Vec<HealthRow>, ReportError> {
    let rows = aggregate(
        cells
            .iter()
            .map(|c| (c.key.clone(), c.metric, c.game.clone(), c.seed, c.value)),
        bootstrap,
    )?;
    Ok(rows
        .into_iter()
        .map(|row| HealthRow {
            key: row.key,
            metric: row.metric,
            interval: row.interval,
            games: row.games,
            runs: row.runs,
        })
        .collect())
}

/// The mean over runs of one group's final values and its interval.
pub(crate) struct Aggregated<K> {
    pub key: GroupKey,
    pub metric: K,
    pub interval: Interval,
    pub games: usize,
    pub runs: usize,
}

/// Groups `(key, metric, game, seed, value)` final values by key and metric, each group a
/// `[seeds, games]` matrix (the lowest common number of seeds per game), and gives each its
/// mean with a stratified bootstrap interval; in key then metric order.
pub(crate) fn aggregate<K: Ord>(
    cells: impl IntoIterator<Item = (GroupKey, K, String, u64, f64)>,
    bootstrap: &Bootstrap,
) -> Result<Vec<Aggregated<K>>, ReportError> {
    type Seeds = BTreeMap<u64, f64>;
    let mut grouped: BTreeMap<(GroupKey, K), BTreeMap<String, Seeds>> = BTreeMap::new();
    for (key, metric, game, seed, value) in cells {
        grouped
            .entry((key, metric))
            .or_default()
            .entry(game)
            .or_default()
            .insert(seed, value);
    }
    let mut rows = Vec::new();
    for ((key, metric), games) in grouped {
        let runs = games.values().map(BTreeMap::len).min().unwrap_or(0);
        let matrix_rows: Vec<Vec<f64>> = (0..runs)
            .map(|r| {
                games
                    .values()
                    .map(|seeds| seeds.values().nth(r).copied().unwrap_or(f64::NAN))
                    .collect()
            })
            .collect();
        let matrix = ScoreMatrix::from_rows(&matrix_rows)?;
        rows.push(Aggregated {
            interval: bootstrap.interval(&matrix, stats::mean)?,
            games: matrix.tasks(),
            runs: matrix.runs(),
            key,
            metric,
        });
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aggregates::ScoreKind;

    fn point(step: f64, dead: f64, first: Option<f64>, second: Option<f64>) -> DiagnosticsPoint {
        let mut point = DiagnosticsPoint::new(step);
        point.set(HealthMetric::DeadFraction, Some(dead));
        point.set(HealthMetric::DeadFractionFirst, first);
        point.set(HealthMetric::DeadFractionSecond, second);
        point
    }

    #[test]
    fn the_final_value_is_the_mean_of_the_last_tenth_of_training() {
        let points: Vec<DiagnosticsPoint> = (1..=20)
            .map(|i| point(f64::from(i) * 100.0, f64::from(i), None, None))
            .collect();
        // Points at steps 1800, 1900 and 2000 are at or past 0.9 * 2000.
        assert_eq!(
            final_value(&points, HealthMetric::DeadFraction, "relu", 0.1),
            Some((18.0 + 19.0 + 20.0) / 3.0)
        );
        assert_eq!(
            final_value(&points, HealthMetric::DeadFraction, "relu", 1.0),
            Some(10.5)
        );
        assert_eq!(final_value(&points, HealthMetric::Srank, "relu", 0.1), None);
    }

    #[test]
    fn tanh_branches_die_together_and_relu_branches_apart() {
        let points = [point(1.0, 0.1, Some(0.5), Some(0.2))];
        let predicted = |repr| final_value(&points, HealthMetric::DeadIfIndependent, repr, 1.0);
        assert_eq!(predicted("hr-tanh"), Some(0.5 * 0.2));
        assert_eq!(predicted("hr-tanh+ln@64"), Some(0.5 * 0.2));
        assert_eq!(predicted("hr-relu"), Some(1.0 - 0.5 * 0.8));
        assert_eq!(predicted("hr-tanh*relu"), None);
        assert_eq!(predicted("tanh"), None);
        let one_branch = [point(1.0, 0.1, Some(0.5), None)];
        assert_eq!(
            final_value(&one_branch, HealthMetric::DeadIfIndependent, "hr-tanh", 1.0),
            None
        );
    }

    #[test]
    fn rows_are_the_mean_over_runs_with_a_bootstrap_interval() {
        let key = GroupKey {
            suite: "minatar".into(),
            kind: ScoreKind::Final,
            algo: "ppo".into(),
            repr: "tanh".into(),
        };
        let values = [("a", 0, 0.1), ("a", 1, 0.3), ("b", 0, 0.5), ("b", 1, 0.7)];
        let cells: Vec<HealthCell> = values
            .iter()
            .map(|&(game, seed, value)| HealthCell {
                key: key.clone(),
                metric: HealthMetric::DeadFraction,
                game: game.into(),
                seed,
                value,
            })
            .collect();
        let rows = compute(&cells, &Bootstrap::default()).unwrap();
        assert_eq!(rows.len(), 1);
        let row = &rows[0];
        assert!((row.interval.point - 0.4).abs() < 1e-12);
        assert_eq!((row.games, row.runs), (2, 2));
        // Stratified resampling keeps one value of each game's pair: the mean of a resample lies
        // between (0.1 + 0.5) / 2 and (0.3 + 0.7) / 2.
        assert!(row.interval.lower >= 0.3 - 1e-12 && row.interval.lower < 0.4);
        assert!(row.interval.upper <= 0.5 + 1e-12 && row.interval.upper > 0.4);
    }
}
