//! Representation diagnostics: dead and dormant neurons, effective rank, branch correlation.
//!
//! Pure functions over a feature matrix of `rows` samples (states) by `cols` neurons, stored
//! row-major in `f32`; all arithmetic is in `f64`. The definitions follow
//! `shared/paper-notes.md` sections 2 and 3:
//!
//! - dead fraction: the share of neurons whose output satisfies a saturation test on (at least a
//!   given fraction of) every row; ReLU-like `h <= 0`, tanh `|h| >= 1 - eps`, sigmoid
//!   `h <= eps || h >= 1 - eps`;
//! - τ-dormant fraction (Sokar et al. 2023): neuron `i` scores
//!   `s_i = mean_x |h_i(x)| / mean_k mean_x |h_k(x)|` and is dormant if `s_i <= tau`;
//! - `srank_δ` (Kumar et al. 2020): the least `k` with `Σ_{i<=k} σ_i / Σ_i σ_i >= 1 - δ` over the
//!   singular values of the uncentred matrix;
//! - erank (Roy and Vetterli 2007): `exp(-Σ p_i ln p_i)` with `p_i = σ_i / Σ σ`;
//! - branch correlation: the mean over neurons of `|pearson(a_i, b_i)|` between the two branches of
//!   a Hadamard layer.

use crate::repr::Activation;

/// Errors of the diagnostics.
#[derive(Debug, thiserror::Error)]
pub enum DiagError {
    /// The values do not fill a `rows x cols` matrix.
    #[error("feature matrix: {len} values do not make {rows} rows of {cols} columns")]
    Shape {
        /// Number of values given.
        len: usize,
        /// Rows asked for.
        rows: usize,
        /// Columns asked for.
        cols: usize,
    },
    /// Two matrices that must have the same shape do not.
    #[error("branch matrices differ in shape: {a_rows}x{a_cols} vs {b_rows}x{b_cols}")]
    BranchShape {
        /// Rows of the first.
        a_rows: usize,
        /// Columns of the first.
        a_cols: usize,
        /// Rows of the second.
        b_rows: usize,
        /// Columns of the second.
        b_cols: usize,
    },
    /// A tensor's values could not be read back from the device.
    #[error("reading features from the device: {0}")]
    Data(String),
    /// The singular value decomposition did not converge.
    #[error("singular value decomposition did not converge")]
    Svd,
}

/// A borrowed `rows x cols` feature matrix, row-major: one row per sample, one column per neuron.
#[derive(Clone, Copy, Debug)]
pub struct Features<'a> {
    values: &'a [f32],
    rows: usize,
    cols: usize,
}

impl<'a> Features<'a> {
    /// Views `values` as `rows x cols`, row-major.
    pub fn new(values: &'a [f32], rows: usize, cols: usize) -> Result<Self, DiagError> {
        if rows.checked_mul(cols) != Some(values.len()) {
            return Err(DiagError::Shape {
                len: values.len(),
                rows,
                cols,
            });
        }
        Ok(Features { values, rows, cols })
    }

    /// Number of samples.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Number of neurons.
    pub fn cols(&self) -> usize {
        self.cols
    }

    /// The value of neuron `col` on sample `row`.
    pub fn get(&self, row: usize, col: usize) -> f64 {
        f64::from(self.values[row * self.cols + col])
    }

    fn column(&self, col: usize) -> impl Iterator<Item = f64> + '_ {
        (0..self.rows).map(move |row| self.get(row, col))
    }
}

/// The test that declares one output value saturated ("dead").
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum DeadCriterion {
    /// ReLU-like: `h <= 0`.
    Zero,
    /// tanh: `|h| >= 1 - eps`.
    Tanh {
        /// Distance from ±1 that counts as saturated.
        eps: f64,
    },
    /// sigmoid: `h <= eps` or `h >= 1 - eps`.
    Sigmoid {
        /// Distance from 0 or 1 that counts as saturated.
        eps: f64,
    },
}

impl DeadCriterion {
    /// The criterion for one activation, `None` for the identity (a linear unit cannot saturate).
    /// GELU counts as ReLU-like; each of CReLU's outputs is a ReLU unit.
    pub fn for_activation(activation: Activation, eps: f64) -> Option<DeadCriterion> {
        match activation {
            Activation::Relu | Activation::Gelu | Activation::Crelu => Some(DeadCriterion::Zero),
            Activation::Tanh => Some(DeadCriterion::Tanh { eps }),
            Activation::Sigmoid => Some(DeadCriterion::Sigmoid { eps }),
            Activation::Identity => None,
        }
    }

    /// Whether `value` is saturated.
    pub fn is_saturated(self, value: f64) -> bool {
        match self {
            DeadCriterion::Zero => value <= 0.0,
            DeadCriterion::Tanh { eps } => value.abs() >= 1.0 - eps,
            DeadCriterion::Sigmoid { eps } => value <= eps || value >= 1.0 - eps,
        }
    }
}

/// Fraction of neurons that are dead: saturated on at least `row_fraction` of the rows
/// (`1.0` means on every row). An empty matrix has no dead neurons.
pub fn dead_fraction(features: Features<'_>, criterion: DeadCriterion, row_fraction: f64) -> f64 {
    if features.cols == 0 || features.rows == 0 {
        return 0.0;
    }
    let dead = dead_units(features, criterion, row_fraction)
        .into_iter()
        .filter(|&dead| dead)
        .count();
    dead as f64 / features.cols as f64
}

/// Per neuron, whether it is dead: saturated on at least `row_fraction` of the rows.
pub fn dead_units(
    features: Features<'_>,
    criterion: DeadCriterion,
    row_fraction: f64,
) -> Vec<bool> {
    let needed = row_fraction * features.rows as f64;
    (0..features.cols)
        .map(|col| {
            let saturated = features
                .column(col)
                .filter(|&v| criterion.is_saturated(v))
                .count();
            features.rows > 0 && saturated as f64 >= needed
        })
        .collect()
}

/// Fraction of active neurons, Plasticine's measure: a neuron is active if on at least one row
/// it is not saturated under the fixed margin [`ACTIVE_EPS`] (ReLU-like `h > 0`, tanh
/// `|h| < 0.99`, sigmoid `0.01 < h < 0.99`), whatever margin the dead fraction uses.
pub fn active_fraction(features: Features<'_>, criterion: DeadCriterion) -> f64 {
    let fixed = match criterion {
        DeadCriterion::Zero => DeadCriterion::Zero,
        DeadCriterion::Tanh { .. } => DeadCriterion::Tanh { eps: ACTIVE_EPS },
        DeadCriterion::Sigmoid { .. } => DeadCriterion::Sigmoid { eps: ACTIVE_EPS },
    };
    if features.cols == 0 {
        return 0.0;
    }
    let active = (0..features.cols)
        .filter(|&col| features.column(col).any(|v| !fixed.is_saturated(v)))
        .count();
    active as f64 / features.cols as f64
}

/// The saturation margin of [`active_fraction`] (Plasticine's 0.99 for tanh).
pub const ACTIVE_EPS: f64 = 0.01;

/// Mean over rows of each row's L2 norm (the feature norm).
pub fn feature_norm(features: Features<'_>) -> f64 {
    if features.rows == 0 {
        return 0.0;
    }
    let total: f64 = (0..features.rows)
        .map(|row| {
            (0..features.cols)
                .map(|col| features.get(row, col).powi(2))
                .sum::<f64>()
                .sqrt()
        })
        .sum();
    total / features.rows as f64
}

/// Mean over neurons of each neuron's standard deviation over the rows (population form).
pub fn feature_std(features: Features<'_>) -> f64 {
    if features.rows == 0 || features.cols == 0 {
        return 0.0;
    }
    let rows = features.rows as f64;
    let total: f64 = (0..features.cols)
        .map(|col| {
            let mean = features.column(col).sum::<f64>() / rows;
            let var = features
                .column(col)
                .map(|v| (v - mean).powi(2))
                .sum::<f64>()
                / rows;
            var.sqrt()
        })
        .sum();
    total / features.cols as f64
}

/// The thresholded feature rank (Lyle et al. 2022, InFeR): the number of singular values above
/// `fraction` of the largest.
pub fn feature_rank(singular_values: &[f64], fraction: f64) -> usize {
    let largest = singular_values.iter().copied().fold(0.0, f64::max);
    if largest == 0.0 {
        return 0;
    }
    singular_values
        .iter()
        .filter(|&&s| s > fraction * largest)
        .count()
}

/// Fraction of τ-dormant neurons (Sokar et al. 2023). If every activation is zero, every neuron
/// is dormant.
pub fn dormant_fraction(features: Features<'_>, tau: f64) -> f64 {
    if features.cols == 0 || features.rows == 0 {
        return 0.0;
    }
    let dormant = dormant_scores(features)
        .iter()
        .filter(|&&score| score <= tau)
        .count();
    dormant as f64 / features.cols as f64
}

/// Each neuron's τ-dormant score `s_i = mean_x |h_i(x)| / mean_k mean_x |h_k(x)|`; every score is
/// 0 when the whole layer is silent (all its neurons are then dormant at any τ >= 0).
pub fn dormant_scores(features: Features<'_>) -> Vec<f64> {
    let rows = features.rows.max(1) as f64;
    let mean_abs: Vec<f64> = (0..features.cols)
        .map(|col| features.column(col).map(f64::abs).sum::<f64>() / rows)
        .collect();
    let layer_mean = mean_abs.iter().sum::<f64>() / features.cols.max(1) as f64;
    if layer_mean == 0.0 {
        return vec![0.0; features.cols];
    }
    mean_abs.iter().map(|m| m / layer_mean).collect()
}

/// Singular values of the (uncentred) matrix, non-increasing.
pub fn singular_values(features: Features<'_>) -> Result<Vec<f64>, DiagError> {
    if features.rows == 0 || features.cols == 0 {
        return Ok(Vec::new());
    }
    let matrix = faer::Mat::<f64>::from_fn(features.rows, features.cols, |row, col| {
        features.get(row, col)
    });
    matrix.singular_values().map_err(|_| DiagError::Svd)
}

/// `srank_δ`: the least `k` whose leading singular values hold `1 - delta` of their sum; `0` for a
/// zero matrix.
pub fn srank(singular_values: &[f64], delta: f64) -> usize {
    let total: f64 = singular_values.iter().sum();
    if total <= 0.0 {
        return 0;
    }
    let mut cumulative = 0.0;
    for (index, sigma) in singular_values.iter().enumerate() {
        cumulative += sigma;
        if cumulative / total >= 1.0 - delta {
            return index + 1;
        }
    }
    singular_values.len()
}

/// Roy-Vetterli effective rank `exp(H(p))`, `p_i = σ_i / Σ σ`; `0` for a zero matrix.
pub fn erank(singular_values: &[f64]) -> f64 {
    let total: f64 = singular_values.iter().sum();
    if total <= 0.0 {
        return 0.0;
    }
    let entropy: f64 = singular_values
        .iter()
        .map(|sigma| sigma / total)
        .filter(|&p| p > 0.0)
        .map(|p| -p * p.ln())
        .sum();
    entropy.exp()
}

/// Mean over neurons of `|pearson(a_i, b_i)|` between the two branches of a Hadamard layer, over
/// the rows. Neurons that are constant in either branch have no correlation and are left out;
/// `None` if no neuron is left.
pub fn branch_correlation(a: Features<'_>, b: Features<'_>) -> Result<Option<f64>, DiagError> {
    if a.rows != b.rows || a.cols != b.cols {
        return Err(DiagError::BranchShape {
            a_rows: a.rows,
            a_cols: a.cols,
            b_rows: b.rows,
            b_cols: b.cols,
        });
    }
    let n = a.rows as f64;
    let mut sum = 0.0;
    let mut counted = 0usize;
    for col in 0..a.cols {
        let mean_a = a.column(col).sum::<f64>() / n;
        let mean_b = b.column(col).sum::<f64>() / n;
        let (mut cov, mut var_a, mut var_b) = (0.0, 0.0, 0.0);
        for (x, y) in a.column(col).zip(b.column(col)) {
            let (dx, dy) = (x - mean_a, y - mean_b);
            cov += dx * dy;
            var_a += dx * dx;
            var_b += dy * dy;
        }
        if var_a > 0.0 && var_b > 0.0 {
            sum += (cov / (var_a * var_b).sqrt()).abs();
            counted += 1;
        }
    }
    Ok((counted > 0).then(|| sum / counted as f64))
}

/// Settings of the diagnostics, with the defaults of `shared/paper-notes.md`.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DiagConfig {
    /// Saturation margin of tanh and sigmoid units (`|h| >= 1 - eps` is saturated).
    pub eps: f64,
    /// Fraction of rows on which a neuron must be saturated to count as dead (1.0 = every row).
    pub row_fraction: f64,
    /// τ of the τ-dormant test.
    pub tau: f64,
    /// δ of `srank_δ`.
    pub delta: f64,
    /// The thresholded feature rank counts singular values above this fraction of the
    /// largest.
    pub rank_threshold: f64,
}

impl Default for DiagConfig {
    fn default() -> Self {
        DiagConfig {
            eps: 0.01,
            row_fraction: 1.0,
            tau: 0.025,
            delta: 0.01,
            rank_threshold: 0.01,
        }
    }
}

/// All diagnostics of one layer's features.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LayerDiagnostics {
    /// Dead fraction, `None` where the activation cannot saturate.
    pub dead_fraction: Option<f64>,
    /// τ-dormant fraction.
    pub dormant_fraction: f64,
    /// `srank_δ`.
    pub srank: usize,
    /// Roy-Vetterli effective rank.
    pub erank: f64,
    /// Singular values above `rank_threshold` of the largest (absent from diagnostics written
    /// before it was measured: 0).
    #[serde(default)]
    pub feature_rank: usize,
}

/// Computes every diagnostic of `features` under `criterion`.
pub fn diagnose(
    features: Features<'_>,
    criterion: Option<DeadCriterion>,
    config: &DiagConfig,
) -> Result<LayerDiagnostics, DiagError> {
    let sigma = singular_values(features)?;
    Ok(LayerDiagnostics {
        dead_fraction: criterion.map(|c| dead_fraction(features, c, config.row_fraction)),
        dormant_fraction: dormant_fraction(features, config.tau),
        srank: srank(&sigma, config.delta),
        erank: erank(&sigma),
        feature_rank: feature_rank(&sigma, config.rank_threshold),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An orthogonal `n x n` matrix (a normalised Sylvester-Hadamard matrix), `n` a power of two.
    fn orthogonal(n: usize) -> Vec<f64> {
        let scale = 1.0 / (n as f64).sqrt();
        (0..n * n)
            .map(|k| {
                let (i, j) = (k / n, k % n);
                if (i & j).count_ones() % 2 == 0 {
                    scale
                } else {
                    -scale
                }
            })
            .collect()
    }

    /// `U diag(sigma) V^T` for orthogonal `U` (rows x rows) and `V` (cols x cols).
    fn with_singular_values(rows: usize, cols: usize, sigma: &[f64]) -> Vec<f32> {
        let (u, v) = (orthogonal(rows), orthogonal(cols));
        let mut out = vec![0.0f32; rows * cols];
        for i in 0..rows {
            for j in 0..cols {
                let value: f64 = sigma
                    .iter()
                    .enumerate()
                    .map(|(k, s)| u[i * rows + k] * s * v[j * cols + k])
                    .sum();
                out[i * cols + j] = value as f32;
            }
        }
        out
    }

    #[test]
    fn singular_values_of_a_constructed_matrix() {
        let sigma = [8.0, 4.0, 2.0, 1.0, 0.5];
        let values = with_singular_values(16, 8, &sigma);
        let found = singular_values(Features::new(&values, 16, 8).unwrap()).unwrap();
        assert_eq!(found.len(), 8);
        for (k, s) in sigma.iter().enumerate() {
            assert!((found[k] - s).abs() < 1e-5, "{found:?}");
        }
        assert!(found[5..].iter().all(|s| s.abs() < 1e-5), "{found:?}");
    }

    #[test]
    fn srank_and_erank_of_constructed_rank() {
        // Rank 3 with equal singular values: srank is 3 for small delta, erank exactly 3.
        let values = with_singular_values(32, 16, &[2.0, 2.0, 2.0]);
        let features = Features::new(&values, 32, 16).unwrap();
        let report = diagnose(features, None, &DiagConfig::default()).unwrap();
        assert_eq!(report.srank, 3);
        assert!((report.erank - 3.0).abs() < 1e-4, "{}", report.erank);
        assert_eq!(report.dead_fraction, None);
    }

    #[test]
    fn srank_counts_to_the_threshold() {
        // Cumulative shares 0.5, 0.75, 0.875, 0.9375, 1.0.
        let sigma = [8.0, 4.0, 2.0, 1.0, 1.0];
        assert_eq!(srank(&sigma, 0.5), 1);
        assert_eq!(srank(&sigma, 0.25), 2);
        assert_eq!(srank(&sigma, 0.2), 3);
        assert_eq!(srank(&sigma, 0.1), 4);
        assert_eq!(srank(&sigma, 0.01), 5);
        assert_eq!(srank(&[0.0, 0.0], 0.01), 0);
    }

    #[test]
    fn feature_norm_std_rank_and_active_by_hand() {
        // Rows (3, 4) and (0, 0): norms 5 and 0. Columns (3, 0) and (4, 0): std 1.5 and 2.
        let values = [3.0, 4.0, 0.0, 0.0];
        let features = Features::new(&values, 2, 2).unwrap();
        assert_eq!(feature_norm(features), 2.5);
        assert_eq!(feature_std(features), 1.75);
        assert_eq!(feature_rank(&[10.0, 0.5, 0.05], 0.01), 2);
        assert_eq!(feature_rank(&[0.0, 0.0], 0.01), 0);
        // tanh: column 0 is at 0.995 on every row (inactive), column 1 at 0.98 once.
        let tanh = [0.995, 1.0, -0.999, 0.98];
        let features = Features::new(&tanh, 2, 2).unwrap();
        assert_eq!(
            active_fraction(features, DeadCriterion::Tanh { eps: 0.5 }),
            0.5
        );
        let relu = [0.0, 0.0, 0.0, 0.1];
        let features = Features::new(&relu, 2, 2).unwrap();
        assert_eq!(active_fraction(features, DeadCriterion::Zero), 0.5);
        assert_eq!(
            dead_units(features, DeadCriterion::Zero, 1.0),
            [true, false]
        );
    }

    #[test]
    fn erank_by_hand() {
        // p = (0.5, 0.25, 0.25): H = 0.5 ln 2 + 0.5 ln 4 = 1.5 ln 2.
        let expected = (1.5 * 2f64.ln()).exp();
        assert!((erank(&[2.0, 1.0, 1.0]) - expected).abs() < 1e-12);
        assert_eq!(erank(&[0.0]), 0.0);
    }

    #[test]
    fn dead_relu_columns_are_counted() {
        // 4 rows x 4 neurons: columns 1 and 3 are zero or negative everywhere.
        let values = [
            0.5, 0.0, 1.0, -1.0, //
            0.0, -2.0, 0.0, 0.0, //
            1.0, 0.0, 0.0, -0.5, //
            2.0, 0.0, 0.0, 0.0,
        ];
        let features = Features::new(&values, 4, 4).unwrap();
        assert_eq!(dead_fraction(features, DeadCriterion::Zero, 1.0), 0.5);
        // Column 2 is zero on 3 of 4 rows, column 0 on 1 of 4.
        assert_eq!(dead_fraction(features, DeadCriterion::Zero, 0.75), 0.75);
        assert_eq!(dead_fraction(features, DeadCriterion::Zero, 0.25), 1.0);
    }

    #[test]
    fn saturated_tanh_and_sigmoid_columns_are_counted() {
        let values = [
            0.995, -0.999, 0.2, 1.0, //
            0.991, 0.998, -0.98, -1.0, //
            0.999, -0.995, 0.5, 0.9999,
        ];
        let features = Features::new(&values, 3, 4).unwrap();
        let tanh = DeadCriterion::Tanh { eps: 0.01 };
        assert_eq!(dead_fraction(features, tanh, 1.0), 0.75);
        assert_eq!(
            dead_fraction(features, DeadCriterion::Tanh { eps: 0.001 }, 1.0),
            0.25
        );
        let sigmoid_values = [0.001, 0.5, 0.999, 0.2, 0.005, 0.995, 0.0, 0.3];
        let sigmoid = Features::new(&sigmoid_values, 2, 4).unwrap();
        assert_eq!(
            dead_fraction(sigmoid, DeadCriterion::Sigmoid { eps: 0.01 }, 1.0),
            0.5
        );
        // Row 0 col 2 (0.999) and row 1 col 2 (0.0) are both saturated, at opposite ends.
        let mixed = [0.5, 0.5, 0.999, 0.5, 0.5, 0.5, 0.0, 0.5];
        let mixed = Features::new(&mixed, 2, 4).unwrap();
        assert_eq!(
            dead_fraction(mixed, DeadCriterion::Sigmoid { eps: 0.01 }, 1.0),
            0.25
        );
    }

    #[test]
    fn dormant_scores_by_hand() {
        // Mean |h| per neuron: 1.0, 0.02, 2.0, 0.98 -> layer mean 1.0; scores equal the means.
        let values = [1.0, 0.02, 2.0, 0.98, -1.0, -0.02, 2.0, 0.98];
        let features = Features::new(&values, 2, 4).unwrap();
        assert_eq!(dormant_fraction(features, 0.025), 0.25);
        assert_eq!(dormant_fraction(features, 0.0), 0.0);
        assert_eq!(dormant_fraction(features, 0.99), 0.5);
        assert_eq!(
            dormant_fraction(Features::new(&[0.0; 4], 2, 2).unwrap(), 0.1),
            1.0
        );
    }

    #[test]
    fn branch_correlation_by_hand() {
        // Neuron 0: b = 2a (corr 1); neuron 1: b = -a (corr 1 in absolute value); neuron 2:
        // uncorrelated by construction; neuron 3: constant, left out.
        let a = [
            1.0, 1.0, 1.0, 5.0, 2.0, 2.0, -1.0, 5.0, 3.0, 3.0, 1.0, 5.0, 4.0, 4.0, -1.0, 5.0,
        ];
        let b = [
            2.0, -1.0, 1.0, 0.0, 4.0, -2.0, 1.0, 1.0, 6.0, -3.0, -1.0, 2.0, 8.0, -4.0, -1.0, 3.0,
        ];
        let fa = Features::new(&a, 4, 4).unwrap();
        let fb = Features::new(&b, 4, 4).unwrap();
        let corr = branch_correlation(fa, fb).unwrap().unwrap();
        assert!((corr - 2.0 / 3.0).abs() < 1e-12, "{corr}");
        let constant = [1.0f32; 4];
        let c = Features::new(&constant, 4, 1).unwrap();
        assert_eq!(branch_correlation(c, c).unwrap(), None);
        assert!(branch_correlation(fa, c).is_err());
    }

    #[test]
    fn shape_is_checked() {
        assert!(matches!(
            Features::new(&[0.0; 5], 2, 3),
            Err(DiagError::Shape { len: 5, .. })
        ));
    }
}
