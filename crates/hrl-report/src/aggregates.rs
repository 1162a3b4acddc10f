//! Aggregate statistics of complete runs, rliable style (see [`crate::stats`]): per suite
//! (environment family), score kind, algorithm and representation, a `[seeds, games]` matrix of
//! normalised scores, its median, IQM, mean and optimality gap with stratified-bootstrap
//! confidence intervals, the probability of improvement between every two representations of an
//! algorithm, and performance profiles.
//!
//! rliable needs the same number of runs on every game of a matrix; where seeds differ between
//! games, each game keeps its lowest seeds down to the smallest count and the report notes the
//! runs left out. Probabilities of improvement compare two representations on the games both
//! have.

use std::collections::{BTreeMap, BTreeSet};

use super::ReportError;
use super::discovery::RunIdentity;
use crate::stats::{self, Bootstrap, Interval, ScoreMatrix};

/// Which score of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ScoreKind {
    /// Mean return of the last fraction of training episodes.
    Final,
    /// The evaluation return.
    Eval,
}

impl ScoreKind {
    /// `final` or `eval`.
    pub fn name(&self) -> &'static str {
        match self {
            ScoreKind::Final => "final",
            ScoreKind::Eval => "eval",
        }
    }
}

/// One aggregate statistic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    /// Median over games of the mean over seeds.
    Median,
    /// Interquartile mean of all scores.
    Iqm,
    /// Mean over games of the mean over seeds.
    Mean,
    /// `1 - mean(min(score, 1))`.
    OptimalityGap,
}

impl Metric {
    /// Every metric, in table order.
    pub const ALL: [Metric; 4] = [
        Metric::Median,
        Metric::Iqm,
        Metric::Mean,
        Metric::OptimalityGap,
    ];

    /// The name `aggregates.csv` uses.
    pub fn name(&self) -> &'static str {
        match self {
            Metric::Median => "median",
            Metric::Iqm => "iqm",
            Metric::Mean => "mean",
            Metric::OptimalityGap => "optimality_gap",
        }
    }

    /// The statistic of a matrix.
    pub fn of(&self, scores: &ScoreMatrix) -> f64 {
        match self {
            Metric::Median => stats::median(scores),
            Metric::Iqm => stats::iqm(scores),
            Metric::Mean => stats::mean(scores),
            Metric::OptimalityGap => stats::optimality_gap(scores, 1.0),
        }
    }
}

/// The runs one matrix aggregates.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct GroupKey {
    /// Environment family (`atari`, `minatar`, `cartpole`, ...).
    pub suite: String,
    /// Which score.
    pub kind: ScoreKind,
    /// Algorithm.
    pub algo: String,
    /// Representation spec.
    pub repr: String,
}

/// A normalised score of one complete run.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoredCell {
    /// Environment family of the run.
    pub suite: String,
    /// Which score.
    pub kind: ScoreKind,
    /// The run.
    pub identity: RunIdentity,
    /// Its normalised score.
    pub score: f64,
}

/// One matrix: its games (columns, sorted), and per game the scores of its seeds (rows).
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    /// What it aggregates.
    pub key: GroupKey,
    /// Game to the scores kept, by increasing seed.
    pub columns: BTreeMap<String, Vec<f64>>,
    /// The matrix, `[seeds, games]`.
    pub matrix: ScoreMatrix,
}

/// One aggregate with its interval.
#[derive(Debug, Clone, PartialEq)]
pub struct Aggregate {
    /// What it aggregates.
    pub key: GroupKey,
    /// Which statistic.
    pub metric: Metric,
    /// Point estimate and bootstrap interval.
    pub interval: Interval,
    /// Games in the matrix.
    pub games: usize,
    /// Seeds per game.
    pub runs: usize,
}

/// Probability that a run of `x` beats a run of `y` on the same game.
#[derive(Debug, Clone, PartialEq)]
pub struct Improvement {
    /// Environment family.
    pub suite: String,
    /// Which score.
    pub kind: ScoreKind,
    /// Algorithm.
    pub algo: String,
    /// The first representation.
    pub x: String,
    /// The second representation.
    pub y: String,
    /// Games both have.
    pub games: usize,
    /// `P(x > y)` and its interval.
    pub interval: Interval,
}

/// Fraction of runs scoring above each threshold.
#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    /// What it aggregates.
    pub key: GroupKey,
    /// The thresholds (normalised score).
    pub taus: Vec<f64>,
    /// The fraction above each, with its interval.
    pub fractions: Vec<Interval>,
}

/// Everything the aggregates section of a report holds.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Aggregates {
    /// The matrices.
    pub groups: Vec<Group>,
    /// Median, IQM, mean and optimality gap of each matrix (no optimality gap where scores are
    /// raw).
    pub aggregates: Vec<Aggregate>,
    /// Probabilities of improvement between representations of each algorithm.
    pub improvements: Vec<Improvement>,
    /// Performance profiles of each matrix, on a threshold grid shared within a suite.
    pub profiles: Vec<Profile>,
    /// What was left out, and why.
    pub notes: Vec<String>,
}

/// Thresholds of the performance profiles.
const PROFILE_POINTS: usize = 51;

/// Computes the aggregates of `cells`; suites in `raw_suites` get no optimality gap (its
/// target of 1 means nothing for raw scores).
pub fn compute(
    cells: &[ScoredCell],
    raw_suites: &BTreeSet<String>,
    bootstrap: &Bootstrap,
) -> Result<Aggregates, ReportError> {
    let mut result = Aggregates::default();
    type Seeds = BTreeMap<u64, f64>;
    let mut grouped: BTreeMap<GroupKey, BTreeMap<String, Seeds>> = BTreeMap::new();
    for cell in cells {
        let key = GroupKey {
            suite: cell.suite.clone(),
            kind: cell.kind,
            algo: cell.identity.algo.clone(),
            repr: cell.identity.repr.clone(),
        };
        grouped
            .entry(key)
            .or_default()
            .entry(cell.identity.env.clone())
            .or_default()
            .insert(cell.identity.seed, cell.score);
    }
    for (key, games) in grouped {
        let runs = games.values().map(BTreeMap::len).min().unwrap_or(0);
        for (game, seeds) in &games {
            if seeds.len() > runs {
                let left_out: Vec<String> =
                    seeds.keys().skip(runs).map(|s| format!("s{s}")).collect();
                result.notes.push(format!(
                    "{} {} {} ({} score): {game} has {} seeds, other games {runs}; left out {}",
                    key.suite,
                    key.algo,
                    key.repr,
                    key.kind.name(),
                    seeds.len(),
                    left_out.join(", ")
                ));
            }
        }
        let columns: BTreeMap<String, Vec<f64>> = games
            .into_iter()
            .map(|(game, seeds)| (game, seeds.into_values().take(runs).collect()))
            .collect();
        let matrix = matrix_of(&columns, None)?;
        result.groups.push(Group {
            key,
            columns,
            matrix,
        });
    }
    for group in &result.groups {
        for metric in Metric::ALL {
            if metric == Metric::OptimalityGap && raw_suites.contains(&group.key.suite) {
                continue;
            }
            result.aggregates.push(Aggregate {
                key: group.key.clone(),
                metric,
                interval: bootstrap.interval(&group.matrix, |s| metric.of(s))?,
                games: group.matrix.tasks(),
                runs: group.matrix.runs(),
            });
        }
    }
    improvements(&mut result, bootstrap)?;
    profiles(&mut result, bootstrap)?;
    Ok(result)
}

/// The `[seeds, games]` matrix of `columns`, restricted to `games` where given.
fn matrix_of(
    columns: &BTreeMap<String, Vec<f64>>,
    games: Option<&[&String]>,
) -> Result<ScoreMatrix, ReportError> {
    let chosen: Vec<&Vec<f64>> = match games {
        Some(games) => games.iter().filter_map(|g| columns.get(*g)).collect(),
        None => columns.values().collect(),
    };
    let runs = chosen.first().map_or(0, |c| c.len());
    let rows: Vec<Vec<f64>> = (0..runs)
        .map(|r| chosen.iter().map(|c| c[r]).collect())
        .collect();
    Ok(ScoreMatrix::from_rows(&rows)?)
}

fn improvements(result: &mut Aggregates, bootstrap: &Bootstrap) -> Result<(), ReportError> {
    let groups = &result.groups;
    for (i, x) in groups.iter().enumerate() {
        for y in &groups[i + 1..] {
            let same =
                (&x.key.suite, x.key.kind, &x.key.algo) == (&y.key.suite, y.key.kind, &y.key.algo);
            if !same {
                continue;
            }
            let common: Vec<&String> = x
                .columns
                .keys()
                .filter(|g| y.columns.contains_key(*g))
                .collect();
            let label = format!(
                "{} {} ({} score): {} vs {}",
                x.key.suite,
                x.key.algo,
                x.key.kind.name(),
                x.key.repr,
                y.key.repr
            );
            if common.is_empty() {
                result.notes.push(format!(
                    "{label}: no game in common, no probability of improvement"
                ));
                continue;
            }
            if common.len() < x.columns.len().max(y.columns.len()) {
                result.notes.push(format!(
                    "{label}: probability of improvement on the {} games both have",
                    common.len()
                ));
            }
            let mx = matrix_of(&x.columns, Some(&common))?;
            let my = matrix_of(&y.columns, Some(&common))?;
            result.improvements.push(Improvement {
                suite: x.key.suite.clone(),
                kind: x.key.kind,
                algo: x.key.algo.clone(),
                x: x.key.repr.clone(),
                y: y.key.repr.clone(),
                games: common.len(),
                interval: bootstrap.improvement_interval(&mx, &my)?,
            });
        }
    }
    Ok(())
}

fn profiles(result: &mut Aggregates, bootstrap: &Bootstrap) -> Result<(), ReportError> {
    let mut ranges: BTreeMap<(String, ScoreKind), (f64, f64)> = BTreeMap::new();
    for group in &result.groups {
        let range = ranges
            .entry((group.key.suite.clone(), group.key.kind))
            .or_insert((0.0, f64::NEG_INFINITY));
        for value in group.columns.values().flatten() {
            range.0 = range.0.min(*value);
            range.1 = range.1.max(*value);
        }
    }
    for group in &result.groups {
        let (lo, hi) = ranges[&(group.key.suite.clone(), group.key.kind)];
        let hi = if hi > lo { hi } else { lo + 1.0 };
        let taus: Vec<f64> = (0..PROFILE_POINTS)
            .map(|i| lo + (hi - lo) * i as f64 / (PROFILE_POINTS - 1) as f64)
            .collect();
        let fractions =
            bootstrap.intervals(&group.matrix, |s| stats::performance_profile(s, &taus))?;
        result.profiles.push(Profile {
            key: group.key.clone(),
            taus,
            fractions,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cell(env: &str, repr: &str, seed: u64, score: f64) -> ScoredCell {
        ScoredCell {
            suite: "minatar".into(),
            kind: ScoreKind::Final,
            identity: RunIdentity {
                algo: "pqn".into(),
                env: env.into(),
                repr: repr.into(),
                seed,
            },
            score,
        }
    }

    #[test]
    fn squares_matrices_and_compares_on_common_games() {
        let cells = [
            cell("a", "relu", 0, 0.1),
            cell("a", "relu", 1, 0.3),
            cell("a", "relu", 2, 0.9),
            cell("b", "relu", 0, 0.5),
            cell("b", "relu", 1, 0.7),
            cell("a", "tanh", 0, 1.0),
            cell("a", "tanh", 1, 2.0),
        ];
        let boot = Bootstrap {
            reps: 50,
            ..Bootstrap::default()
        };
        let result = compute(&cells, &BTreeSet::new(), &boot).unwrap();
        assert_eq!(result.groups.len(), 2);
        let relu = &result.groups[0];
        assert_eq!((relu.matrix.runs(), relu.matrix.tasks()), (2, 2));
        assert_eq!(relu.columns["a"], [0.1, 0.3], "the lowest seeds are kept");
        assert!(
            result.notes.iter().any(|n| n.contains("left out s2")),
            "{:?}",
            result.notes
        );
        let median = result
            .aggregates
            .iter()
            .find(|a| a.key.repr == "relu" && a.metric == Metric::Median)
            .unwrap();
        // Task means 0.2 and 0.6.
        assert!((median.interval.point - 0.4).abs() < 1e-12);
        assert_eq!(result.improvements.len(), 1);
        let p = &result.improvements[0];
        assert_eq!((p.x.as_str(), p.y.as_str(), p.games), ("relu", "tanh", 1));
        assert_eq!(
            p.interval.point, 0.0,
            "every tanh run beats every relu run on game a"
        );
        assert!(result.notes.iter().any(|n| n.contains("1 games both have")));
        assert_eq!(result.profiles.len(), 2);
        assert_eq!(
            result.profiles[0].taus, result.profiles[1].taus,
            "shared grid"
        );
        assert_eq!(
            result.profiles[1].fractions[0].point, 1.0,
            "all tanh scores > 0"
        );
    }

    #[test]
    fn raw_suites_have_no_optimality_gap() {
        let cells = [cell("a", "relu", 0, 3.0), cell("a", "relu", 1, 5.0)];
        let boot = Bootstrap {
            reps: 10,
            ..Bootstrap::default()
        };
        let raw = BTreeSet::from(["minatar".to_string()]);
        let result = compute(&cells, &raw, &boot).unwrap();
        let metrics: Vec<Metric> = result.aggregates.iter().map(|a| a.metric).collect();
        assert_eq!(metrics, [Metric::Median, Metric::Iqm, Metric::Mean]);
    }
}
