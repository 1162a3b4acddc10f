//! `report.md`: what was aggregated and how, the aggregates with their intervals, probabilities
//! of improvement, per-game final scores, the representation health as numbers, the figures, and
//! the runs left out.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use super::aggregates::{GroupKey, Metric, ScoreKind};
use super::figures::{FigureKind, LAYER_FIGURE_METRICS, WrittenFigure, unit};
use super::health::{HealthMetric, HealthRow};
use super::layers::LayerRow;
use super::{Report, ReportRun};
use crate::stats::Interval;

/// The text of `report.md`, embedding `figures` (paths relative to the output folder).
pub fn render(report: &Report, figures: &[WrittenFigure]) -> String {
    let mut md = String::new();
    header(&mut md, report);
    normalisation(&mut md, report);
    for suite in report.suites() {
        suite_section(&mut md, report, &suite, figures);
    }
    incomplete(&mut md, report);
    let notes: Vec<&String> = report
        .notes
        .iter()
        .chain(&report.aggregates.notes)
        .collect();
    if !notes.is_empty() {
        md += "\n## Notes\n\n";
        for note in notes {
            let _ = writeln!(md, "- {}", cell(note));
        }
    }
    md
}

fn header(md: &mut String, report: &Report) {
    let complete = report.complete().count();
    let incomplete = report.incomplete().count();
    let options = &report.options;
    md.push_str("# Run report\n\n");
    let _ = writeln!(
        md,
        "Complete runs in the aggregates: {complete}. Incomplete runs, listed at the end and left out of every aggregate and figure: {incomplete}.\n"
    );
    let _ = writeln!(
        md,
        "Final score: the mean return of the last {}% of a run's training episodes (`--final-fraction {}`); eval score: its evaluation return, where it has one. \
         Aggregates follow rliable (Agarwal et al. 2021) on normalised scores: median and mean over games of the mean over seeds, IQM and optimality gap over all runs, \
         with 95% stratified-bootstrap percentile intervals ({} resamples, seed {}). Curves: mean over seeds on a grid of {} step bins, bands of ±1.96 standard errors.",
        options.final_fraction * 100.0,
        options.final_fraction,
        options.bootstrap.reps,
        options.bootstrap.seed,
        options.curve_bins
    );
}

fn normalisation(md: &mut String, report: &Report) {
    md.push_str(
        "\n## Normalisation\n\n| env | normalised score | random policy |\n|---|---|---|\n",
    );
    for (env, normalisation) in &report.normalisations {
        let random = report
            .baselines
            .envs
            .get(env)
            .and_then(|b| b.random)
            .map_or("—".to_string(), |r| {
                let measured = if report.measured_baselines.contains(env) {
                    "measured now"
                } else {
                    "from --baselines"
                };
                format!(
                    "{} ± {} ({} games, seed {}, {measured})",
                    number(r.mean),
                    number(r.std),
                    r.episodes,
                    r.seed
                )
            });
        let _ = writeln!(
            md,
            "| {env} | {} | {random} |",
            cell(&normalisation.to_string())
        );
    }
    let sources: Vec<String> = report
        .baselines
        .envs
        .iter()
        .filter_map(|(env, b)| b.reference_source.as_ref().map(|s| format!("{env}: {s}")))
        .collect();
    if !sources.is_empty() {
        let _ = writeln!(md, "\nReference scores: {}.", cell(&sources.join("; ")));
    }
}

fn interval(i: &Interval) -> String {
    format!(
        "{} [{}, {}]",
        number(i.point),
        number(i.lower),
        number(i.upper)
    )
}

/// A number with about four significant digits.
fn number(x: f64) -> String {
    match x.abs() {
        v if v >= 1000.0 => format!("{x:.0}"),
        v if v >= 100.0 => format!("{x:.1}"),
        v if v >= 10.0 => format!("{x:.2}"),
        _ => format!("{x:.3}"),
    }
}

/// Text safe inside a table cell.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

fn figure(md: &mut String, figures: &[WrittenFigure], kind: &FigureKind) {
    if let Some(f) = figures.iter().find(|f| &f.kind == kind) {
        let _ = writeln!(md, "\n![{}]({})\n", f.caption, f.png());
    }
}

fn suite_section(md: &mut String, report: &Report, suite: &str, figures: &[WrittenFigure]) {
    let _ = writeln!(md, "\n## {suite} ({})", unit(report, suite));
    let aggregates = &report.aggregates;
    for kind in [ScoreKind::Final, ScoreKind::Eval] {
        let groups: Vec<_> = aggregates
            .groups
            .iter()
            .filter(|g| g.key.suite == suite && g.key.kind == kind)
            .collect();
        if groups.is_empty() {
            continue;
        }
        let _ = writeln!(
            md,
            "\n### Aggregates of {} scores\n\n| algo | repr | games | seeds | median | IQM | mean | optimality gap |\n|---|---|---|---|---|---|---|---|",
            kind.name()
        );
        for group in groups {
            let value = |metric: Metric| {
                aggregates
                    .aggregates
                    .iter()
                    .find(|a| a.key == group.key && a.metric == metric)
                    .map_or("—".to_string(), |a| interval(&a.interval))
            };
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {} | {} | {} | {} |",
                group.key.algo,
                group.key.repr,
                group.matrix.tasks(),
                group.matrix.runs(),
                value(Metric::Median),
                value(Metric::Iqm),
                value(Metric::Mean),
                value(Metric::OptimalityGap)
            );
        }
        figure(
            md,
            figures,
            &FigureKind::Iqm {
                suite: suite.to_string(),
                kind,
            },
        );
        figure(
            md,
            figures,
            &FigureKind::Profiles {
                suite: suite.to_string(),
                kind,
            },
        );
        let improvements: Vec<_> = aggregates
            .improvements
            .iter()
            .filter(|p| p.suite == suite && p.kind == kind)
            .collect();
        if !improvements.is_empty() {
            let _ = writeln!(
                md,
                "\n### Probability of improvement ({} scores)\n\nP(X > Y): the probability that a run of X scores higher than a run of Y on the same game (ties count one half), averaged over the games both have.\n\n| algo | X | Y | games | P(X > Y) |\n|---|---|---|---|---|",
                kind.name()
            );
            for p in improvements {
                let _ = writeln!(
                    md,
                    "| {} | {} | {} | {} | {} |",
                    p.algo,
                    p.x,
                    p.y,
                    p.games,
                    interval(&p.interval)
                );
            }
        }
    }
    per_game_scores(md, report, suite);
    let envs: BTreeSet<&str> = report
        .complete()
        .filter(|r| r.suite == suite)
        .map(|r| r.run.identity.env.as_str())
        .collect();
    md.push_str("\n### Learning curves\n");
    for env in envs {
        figure(
            md,
            figures,
            &FigureKind::LearningCurves {
                env: env.to_string(),
            },
        );
    }
    md.push_str("\n### Representation diagnostics\n");
    health_tables(md, report, suite);
    figure(
        md,
        figures,
        &FigureKind::Diagnostics {
            suite: suite.to_string(),
        },
    );
    layer_tables(md, report, suite, figures);
}

/// The metrics of the per-layer table, in column order (`layers.csv` has every metric).
const LAYER_COLUMNS: [&str; 10] = [
    "dead_fraction",
    "dormant_fraction",
    "active_fraction",
    "dead_persistence",
    "feature_norm",
    "weight_magnitude",
    "distance_from_init",
    "grad_norm",
    "feature_rank",
    "churn",
];

/// The final health of every layer of each algorithm x arm, as numbers.
fn layer_tables(md: &mut String, report: &Report, suite: &str, figures: &[WrittenFigure]) {
    let rows: Vec<&LayerRow> = report
        .layers
        .iter()
        .filter(|r| r.key.suite == suite)
        .collect();
    if rows.is_empty() {
        return;
    }
    let _ = writeln!(
        md,
        "\n### Every layer\n\nFinal values of each hidden layer and Hadamard branch (`diagnostics.csv`; mean over the points of the last {}% of training), mean over runs with 95% stratified-bootstrap intervals (`layers.csv`, which has every metric). `dead_persistence` is the share of dead units that were dead at the previous point, where there are dead units; `churn` (rows of the heads) the mean absolute change of a head's outputs across the last gradient step before each point.",
        report.options.final_fraction * 100.0
    );
    let mut header = String::from("\n| algo | repr | layer | runs |");
    let mut rule = String::from("|---|---|---|---|");
    for metric in LAYER_COLUMNS {
        header += &format!(" {metric} |");
        rule += "---|";
    }
    let _ = writeln!(md, "{header}\n{rule}");
    let cells: BTreeSet<(&str, &str, &str)> = rows
        .iter()
        .map(|r| (r.key.algo.as_str(), r.key.repr.as_str(), r.layer.as_str()))
        .collect();
    for (algo, repr, layer) in cells {
        let of_cell: Vec<&&LayerRow> = rows
            .iter()
            .filter(|r| r.key.algo == algo && r.key.repr == repr && r.layer == layer)
            .collect();
        let runs = of_cell.iter().map(|r| r.games * r.runs).max().unwrap_or(0);
        let mut line = format!("| {algo} | {} | {layer} | {runs} |", cell(repr));
        for metric in LAYER_COLUMNS {
            let value = of_cell
                .iter()
                .find(|r| r.metric == metric)
                .map_or("—".into(), |r| interval(&r.interval));
            line += &format!(" {value} |");
        }
        let _ = writeln!(md, "{line}");
    }
    for metric in LAYER_FIGURE_METRICS {
        figure(
            md,
            figures,
            &FigureKind::Layers {
                suite: suite.to_string(),
                metric: metric.to_string(),
            },
        );
    }
}

/// The final representation health of each algorithm x representation, as numbers.
fn health_tables(md: &mut String, report: &Report, suite: &str) {
    let rows: Vec<&HealthRow> = report
        .health
        .iter()
        .filter(|r| r.key.suite == suite)
        .collect();
    if rows.is_empty() {
        return;
    }
    let _ = writeln!(
        md,
        "\nFinal values (mean over the diagnostics points of the last {}% of training), mean over runs with 95% stratified-bootstrap intervals (`health.csv`).",
        report.options.final_fraction * 100.0
    );
    let keys: Vec<&GroupKey> = rows
        .iter()
        .map(|r| &r.key)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    for (metrics, heading) in [
        (&HealthMetric::COMMON[..], "Every representation"),
        (
            &HealthMetric::HADAMARD[..],
            "Hadamard branches (`dead_if_independent`: the dead fraction that the branches' own dead fractions p1, p2 give if units died independently in the two: `p1 p2` for tanh, whose product saturates only where both factors do (the paper's p² argument), `1 - (1 - p1)(1 - p2)` for ReLU, whose product is zero where either factor is)",
        ),
    ] {
        let chosen: Vec<&&GroupKey> = keys
            .iter()
            .filter(|k| {
                rows.iter()
                    .any(|r| &&r.key == *k && metrics.contains(&r.metric))
            })
            .collect();
        if chosen.is_empty() {
            continue;
        }
        let mut header = format!("\n{heading}:\n\n| algo | repr | runs |");
        let mut rule = String::from("|---|---|---|");
        if metrics.contains(&HealthMetric::DeadIfIndependent) {
            header += " dead_fraction |";
            rule += "---|";
        }
        for metric in metrics {
            header += &format!(" {} |", metric.name());
            rule += "---|";
        }
        let _ = writeln!(md, "{header}\n{rule}");
        for key in chosen {
            let value = |metric: HealthMetric| {
                rows.iter()
                    .find(|r| &&r.key == key && r.metric == metric)
                    .map(|r| (interval(&r.interval), r.games * r.runs))
            };
            let runs = metrics
                .iter()
                .find_map(|&m| value(m))
                .map_or(0, |(_, runs)| runs);
            let mut line = format!("| {} | {} | {runs} |", key.algo, key.repr);
            if metrics.contains(&HealthMetric::DeadIfIndependent) {
                let dead = value(HealthMetric::DeadFraction).map_or("—".into(), |(v, _)| v);
                line += &format!(" {dead} |");
            }
            for &metric in metrics {
                line += &format!(" {} |", value(metric).map_or("—".into(), |(v, _)| v));
            }
            let _ = writeln!(md, "{line}");
        }
    }
}

fn per_game_scores(md: &mut String, report: &Report, suite: &str) {
    let runs: Vec<&ReportRun> = report.complete().filter(|r| r.suite == suite).collect();
    let columns: BTreeSet<(String, String)> = runs
        .iter()
        .map(|r| (r.run.identity.algo.clone(), r.run.identity.repr.clone()))
        .collect();
    let mut scores: BTreeMap<(&str, (String, String)), Vec<f64>> = BTreeMap::new();
    for run in &runs {
        if let Some(score) = run.final_score {
            let id = &run.run.identity;
            scores
                .entry((id.env.as_str(), (id.algo.clone(), id.repr.clone())))
                .or_default()
                .push(score);
        }
    }
    md.push_str("\n### Final scores per game\n\nGame points, mean ± sample standard deviation over seeds (number of seeds); normalised scores are in `scores.csv`.\n\n| game |");
    for (algo, repr) in &columns {
        let _ = write!(md, " {algo} {repr} |");
    }
    md.push_str("\n|---|");
    md.push_str(&"---|".repeat(columns.len()));
    md.push('\n');
    let envs: BTreeSet<&str> = runs.iter().map(|r| r.run.identity.env.as_str()).collect();
    for env in envs {
        let _ = write!(md, "| {env} |");
        for column in &columns {
            let text = scores
                .get(&(env, column.clone()))
                .map_or("—".to_string(), |values| mean_std(values));
            let _ = write!(md, " {text} |");
        }
        md.push('\n');
    }
}

fn mean_std(values: &[f64]) -> String {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    if values.len() < 2 {
        return format!("{} (1)", number(mean));
    }
    let std = (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
    format!("{} ± {} ({})", number(mean), number(std), values.len())
}

fn incomplete(md: &mut String, report: &Report) {
    let runs: Vec<&ReportRun> = report.incomplete().collect();
    md.push_str("\n## Incomplete runs\n\n");
    if runs.is_empty() {
        md.push_str("None: every run found is complete.\n");
        return;
    }
    md.push_str("Not in any aggregate or figure above.\n\n| run | algo | env | repr | seed | state | progress |\n|---|---|---|---|---|---|---|\n");
    for run in runs {
        let id = &run.run.identity;
        let progress = match (run.data.steps, run.run.total_timesteps) {
            (Some(steps), Some(total)) if total > 0 => format!(
                "{steps} of {total} steps ({:.0}%)",
                100.0 * steps as f64 / total as f64
            ),
            (Some(steps), _) => format!("{steps} steps"),
            (None, Some(total)) => format!("0 of {total} steps"),
            (None, None) => "no metrics yet".to_string(),
        };
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} | {progress} |",
            cell(&run.run.paths.root().display().to_string()),
            id.algo,
            id.env,
            id.repr,
            id.seed,
            cell(&run.run.status.to_string())
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_keep_about_four_digits() {
        assert_eq!(number(0.123456), "0.123");
        assert_eq!(number(-12.3456), "-12.35");
        assert_eq!(number(123.456), "123.5");
        assert_eq!(number(12345.6), "12346");
        assert_eq!(mean_std(&[1.0, 3.0]), "2.000 ± 1.414 (2)");
        assert_eq!(mean_std(&[5.0]), "5.000 (1)");
        assert_eq!(cell("a|b"), "a\\|b");
    }
}
