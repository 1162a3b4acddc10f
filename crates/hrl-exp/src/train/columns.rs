//! The columns every training run logs to `metrics.csv` (and TensorBoard), declared once, in
//! the order of the file; an agent's own columns follow them (see [`hrl_agents::Column`]). The
//! run checks the whole header (unique, non-empty names) before its first update, and a value
//! for a column the run does not log is an error at the first row that has it.

use hrl_agents::Column;
use hrl_nn::probe::ReprDiagnostics;

/// Agent steps taken so far.
pub const STEP: Column = Column::new(
    "step",
    "agent steps",
    "agent steps taken so far, over all environments",
);
/// Emulator frames so far.
pub const FRAMES: Column = Column::new(
    "frames",
    "emulator frames",
    "agent steps times the emulator frames per agent step (Atari's frame skip; 1 elsewhere)",
);
/// Games finished so far.
pub const EPISODES: Column = Column::new("episodes", "games", "games finished so far");
/// Mean return of the games finished in the update.
pub const EPISODIC_RETURN: Column = Column::new(
    "episodic_return",
    "return",
    "mean score of the games finished in this update (Atari: the unclipped game score)",
);
/// Mean length of the games finished in the update.
pub const EPISODIC_LENGTH: Column = Column::new(
    "episodic_length",
    "agent steps",
    "mean length of the games finished in this update",
);
/// Agent steps per second.
pub const SPS: Column = Column::new(
    "sps",
    "agent steps per second",
    "agent steps per wall-clock second since this process started the run",
);
/// The update's loss.
pub const LOSS: Column = Column::new("loss", "loss", "mean loss of the update's gradient steps");
/// Dead fraction of the representation layer.
pub const DEAD_FRACTION: Column = Column::new(
    "dead_fraction",
    "fraction of units",
    "representation units saturated on the whole probe batch (the activation's own test)",
);
/// τ-dormant fraction of the representation layer.
pub const DORMANT_FRACTION: Column = Column::new(
    "dormant_fraction",
    "fraction of units",
    "representation units whose normalised mean activation is at most τ (Sokar et al. 2023)",
);
/// srank of the representation.
pub const SRANK: Column = Column::new(
    "srank",
    "rank",
    "least number of singular values holding 1 - δ of their sum, probe batch's features (Kumar et al. 2020)",
);
/// erank of the representation.
pub const ERANK: Column = Column::new(
    "erank",
    "rank",
    "exponential of the entropy of the normalised singular values (Roy & Vetterli 2007)",
);
/// Dead fraction of the first Hadamard branch.
pub const DEAD_FRACTION_FIRST: Column = Column::new(
    "dead_fraction_first",
    "fraction of units",
    "units of the first Hadamard branch saturated on the whole probe batch",
);
/// Dead fraction of the second Hadamard branch.
pub const DEAD_FRACTION_SECOND: Column = Column::new(
    "dead_fraction_second",
    "fraction of units",
    "units of the second Hadamard branch saturated on the whole probe batch",
);
/// Correlation of the Hadamard branches.
pub const BRANCH_CORRELATION: Column = Column::new(
    "branch_correlation",
    "correlation",
    "mean over units of |Pearson correlation| of the two Hadamard branches over the probe batch",
);
/// Mean return of a greedy evaluation.
pub const EVAL_RETURN: Column = Column::new(
    "eval_return",
    "return",
    "mean score of the evaluation episodes at this point",
);
/// Mean length of a greedy evaluation's episodes.
pub const EVAL_LENGTH: Column = Column::new(
    "eval_length",
    "agent steps",
    "mean length of the evaluation episodes at this point",
);
/// Exploration rate.
pub const EPSILON: Column = Column::new(
    "epsilon",
    "probability",
    "ε of the ε-greedy policy at the end of the update (Q agents)",
);
/// Learning rate.
pub const LEARNING_RATE: Column = Column::new(
    "learning_rate",
    "learning rate",
    "learning rate of the update",
);
/// Gradient norm before clipping.
pub const GRAD_NORM: Column = Column::new(
    "grad_norm",
    "L2 norm",
    "mean global gradient norm of the update's gradient steps, before clipping",
);
/// Wall-clock seconds.
pub const WALL_TIME: Column = Column::new(
    "wall_time",
    "seconds",
    "wall-clock seconds spent training, over every process that worked on the run",
);

/// Every column a run logs, in file order, before the agent's own.
pub const RUN_COLUMNS: [Column; 20] = [
    STEP,
    FRAMES,
    EPISODES,
    EPISODIC_RETURN,
    EPISODIC_LENGTH,
    SPS,
    LOSS,
    DEAD_FRACTION,
    DORMANT_FRACTION,
    SRANK,
    ERANK,
    DEAD_FRACTION_FIRST,
    DEAD_FRACTION_SECOND,
    BRANCH_CORRELATION,
    EVAL_RETURN,
    EVAL_LENGTH,
    EPSILON,
    LEARNING_RATE,
    GRAD_NORM,
    WALL_TIME,
];

/// The header of the `metrics.csv` of a run whose agent logs `agent` of its own.
pub fn header(agent: &[Column]) -> Vec<&'static str> {
    RUN_COLUMNS.iter().chain(agent).map(|c| c.name).collect()
}

/// The values of one row of `metrics.csv`; columns left out are empty fields.
pub type Row = Vec<(Column, f64)>;

/// Adds the representation diagnostics to `row`.
pub fn push_diagnostics(row: &mut Row, diag: &ReprDiagnostics) {
    row.push((DORMANT_FRACTION, diag.output.dormant_fraction));
    row.push((SRANK, diag.output.srank as f64));
    row.push((ERANK, diag.output.erank));
    let optional = [
        (DEAD_FRACTION, diag.output.dead_fraction),
        (DEAD_FRACTION_FIRST, diag.first_dead_fraction),
        (DEAD_FRACTION_SECOND, diag.second_dead_fraction),
        (BRANCH_CORRELATION, diag.branch_correlation),
    ];
    row.extend(optional.into_iter().filter_map(|(c, v)| v.map(|v| (c, v))));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_header_is_the_one_runs_have_always_written() {
        // The header of the README's main command (PQN) as committed runs have it, and DQN's.
        assert_eq!(
            header(&[]).join(","),
            "step,frames,episodes,episodic_return,episodic_length,sps,loss,dead_fraction,\
             dormant_fraction,srank,erank,dead_fraction_first,dead_fraction_second,\
             branch_correlation,eval_return,eval_length,epsilon,learning_rate,grad_norm,wall_time"
        );
        let dqn = [
            hrl_agents::dqn::GRADIENT_STEPS,
            hrl_agents::dqn::REPLAY_SIZE,
            hrl_agents::dqn::Q_VALUES,
        ];
        assert!(
            header(&dqn)
                .join(",")
                .ends_with("wall_time,gradient_steps,replay_size,q_values")
        );
    }

    #[test]
    fn every_column_is_documented_with_a_unit() {
        for column in RUN_COLUMNS {
            assert!(
                !column.unit.is_empty() && !column.doc.is_empty(),
                "{column:?}"
            );
        }
    }
}
