//! A column of a run's `metrics.csv`, declared once: its name (the CSV header and the
//! TensorBoard tag), its unit and what it means. The training loop declares the columns every
//! run logs (`hrl_exp::train::columns`); an agent declares its own in
//! [`Agent::columns`](crate::Agent::columns) and fills them through
//! [`Report::extra`](crate::Report::extra), naming the same constants, so a misspelt column
//! does not compile.

/// One column of `metrics.csv`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Column {
    /// The header and TensorBoard tag, `snake_case`.
    pub name: &'static str,
    /// The unit of its values (`agent steps`, `fraction of units`, ...).
    pub unit: &'static str,
    /// What a value means, one sentence.
    pub doc: &'static str,
}

impl Column {
    /// A column.
    pub const fn new(name: &'static str, unit: &'static str, doc: &'static str) -> Column {
        Column { name, unit, doc }
    }
}
