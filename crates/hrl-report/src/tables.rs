//! The report's CSV tables, each written atomically:
//!
//! * `aggregates.csv`: `suite,score,algo,repr,metric,point,ci_low,ci_high,games,runs`, one row
//!   per suite x score kind x algorithm x representation x metric (`median`, `iqm`, `mean`,
//!   `optimality_gap`), normalised scores, 95% stratified-bootstrap intervals.
//! * `scores.csv`: one row per run, complete or not: `name,algo,env,repr,seed,state,steps,`
//!   `total_timesteps,episodes,final_score,normalised_score,eval_score,eval_normalised_score,`
//!   `return_source,path` (steps in agent steps, scores in game points, empty where none).
//! * `improvement.csv`: `suite,score,algo,x,y,games,probability,ci_low,ci_high`, the
//!   probability that a run of representation `x` beats one of `y` on the same game.
//! * `health.csv`: `suite,algo,repr,metric,mean,ci_low,ci_high,games,runs`, the final value of
//!   each representation-health metric (see [`super::health`]) averaged over runs, with 95%
//!   stratified-bootstrap intervals.
//!
//! Numbers are written in full precision (Rust's shortest round-trip form).

use std::fmt::Display;
use std::path::{Path, PathBuf};

use super::{Report, ReportError};
use crate::atomic;

/// Writes the four tables into `out`; returns their paths.
pub fn write_tables(report: &Report, out: &Path) -> Result<Vec<PathBuf>, ReportError> {
    let tables = [
        ("aggregates.csv", aggregates_csv(report)),
        ("scores.csv", scores_csv(report)),
        ("improvement.csv", improvement_csv(report)),
        ("health.csv", health_csv(report)),
    ];
    let mut written = Vec::new();
    let layers = (!report.layers.is_empty()).then(|| ("layers.csv", layers_csv(report)));
    for (name, text) in tables.into_iter().chain(layers) {
        let path = out.join(name);
        atomic::write(&path, text.as_bytes()).map_err(ReportError::io(&path))?;
        written.push(path);
    }
    Ok(written)
}

/// A CSV field: quoted where it holds a comma, a quote or a line break.
fn field(value: impl Display) -> String {
    let text = value.to_string();
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

fn optional(value: Option<impl Display>) -> String {
    value.map(field).unwrap_or_default()
}

fn line(fields: &[String]) -> String {
    let mut line = fields.join(",");
    line.push('\n');
    line
}

/// The text of `aggregates.csv`.
pub fn aggregates_csv(report: &Report) -> String {
    let mut text = String::from("suite,score,algo,repr,metric,point,ci_low,ci_high,games,runs\n");
    for a in &report.aggregates.aggregates {
        text += &line(&[
            field(&a.key.suite),
            field(a.key.kind.name()),
            field(&a.key.algo),
            field(&a.key.repr),
            field(a.metric.name()),
            field(a.interval.point),
            field(a.interval.lower),
            field(a.interval.upper),
            field(a.games),
            field(a.runs),
        ]);
    }
    text
}

/// The text of `health.csv`.
pub fn health_csv(report: &Report) -> String {
    let mut text = String::from("suite,algo,repr,metric,mean,ci_low,ci_high,games,runs\n");
    for row in &report.health {
        text += &line(&[
            field(&row.key.suite),
            field(&row.key.algo),
            field(&row.key.repr),
            field(row.metric.name()),
            field(row.interval.point),
            field(row.interval.lower),
            field(row.interval.upper),
            field(row.games),
            field(row.runs),
        ]);
    }
    text
}

/// The text of `layers.csv`: the final per-layer health (written only when some run logged it).
pub fn layers_csv(report: &Report) -> String {
    let mut text = String::from("suite,algo,repr,layer,metric,mean,ci_low,ci_high,games,runs\n");
    for row in &report.layers {
        text += &line(&[
            field(&row.key.suite),
            field(&row.key.algo),
            field(&row.key.repr),
            field(&row.layer),
            field(&row.metric),
            field(row.interval.point),
            field(row.interval.lower),
            field(row.interval.upper),
            field(row.games),
            field(row.runs),
        ]);
    }
    text
}

/// The text of `scores.csv`.
pub fn scores_csv(report: &Report) -> String {
    let mut text = String::from(
        "name,algo,env,repr,seed,state,steps,total_timesteps,episodes,final_score,normalised_score,eval_score,eval_normalised_score,return_source,path\n",
    );
    for run in &report.runs {
        let id = &run.run.identity;
        let episodes: f64 = run.data.episodes.iter().map(|e| e.count).sum();
        text += &line(&[
            field(run.run.name()),
            field(&id.algo),
            field(&id.env),
            field(&id.repr),
            field(id.seed),
            field(run.run.status.name()),
            optional(run.data.steps),
            optional(run.run.total_timesteps),
            field(episodes),
            optional(run.final_score),
            optional(run.final_normalised),
            optional(run.eval_score),
            optional(run.eval_normalised),
            field(run.data.return_source.describe()),
            field(run.run.paths.root().display()),
        ]);
    }
    text
}

/// The text of `improvement.csv`.
pub fn improvement_csv(report: &Report) -> String {
    let mut text = String::from("suite,score,algo,x,y,games,probability,ci_low,ci_high\n");
    for p in &report.aggregates.improvements {
        text += &line(&[
            field(&p.suite),
            field(p.kind.name()),
            field(&p.algo),
            field(&p.x),
            field(&p.y),
            field(p.games),
            field(p.interval.point),
            field(p.interval.lower),
            field(p.interval.upper),
        ]);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_quoted_only_where_needed() {
        assert_eq!(field("hr-tanh"), "hr-tanh");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"x\""), "\"say \"\"x\"\"\"");
        assert_eq!(field(0.1 + 0.2), "0.30000000000000004");
        assert_eq!(optional(None::<f64>), "");
    }
}
