//! Per-layer health of a network on a probe batch: every hidden layer (each convolution, with
//! its channels as units, each dense layer, the representation layer) and, for a Hadamard
//! layer, each of its branches (`repr.first`, `repr.second`).
//!
//! | metric | of | definition |
//! |---|---|---|
//! | `dead_fraction` | outputs | the activation's dead test ([`crate::diag::dead_fraction`]) |
//! | `dormant_fraction` | outputs | τ-dormant (Sokar et al. 2023) |
//! | `active_fraction` | outputs | Plasticine's: active on some row ([`crate::diag::active_fraction`]) |
//! | `feature_norm` | outputs | mean over rows of the row's L2 norm |
//! | `feature_std` | outputs | mean over units of the unit's standard deviation over rows |
//! | `weight_magnitude` | parameters | mean `\|w\|` over the layer's (branch's) parameters, biases and LayerNorm included |
//! | `distance_from_init` | parameters | RMS of `w − w0` over the same, `w0` the initial network |
//! | `grad_norm` | parameters | L2 norm of the last gradient step's gradient (before clipping) of the same |
//! | `srank`, `erank`, `feature_rank` | outputs | the representation layer only: [`crate::diag::srank`], [`crate::diag::erank`], [`crate::diag::feature_rank`] |
//!
//! Churn (Tang and Berseth 2024, CHAIN) is the heads' instead: [`churn`], the mean absolute
//! change of each head's outputs on states outside the update's batch across one update.
//!
//! Dead persistence (the share of units dead now that were dead at the previous point, ReDo's
//! `dead_intersected`) needs the previous point's dead units, which the caller keeps:
//! [`LayerHealth::dead_units`] and [`dead_persistence`].

use burn::module::{Module, ModuleVisitor, Param};
use burn::optim::GradientsParams;
use burn::tensor::Tensor;

use crate::conv::{ConvBranch, ConvLayer};
use crate::dense::{DenseBranch, DenseLayer};
use crate::diag::{self, DeadCriterion, DiagConfig, DiagError, Features};
use crate::network::Network;
use crate::probe::{ReprDiagnostics, diagnose_repr, host, output_criterion};
use crate::repr::{Activation, Branches};
use crate::surgery::{SurgeryError, parameters};
use crate::torso::REPR_LAYER;

/// A per-layer metric.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Metric {
    /// Dead fraction.
    DeadFraction,
    /// τ-dormant fraction.
    DormantFraction,
    /// Plasticine's active fraction.
    ActiveFraction,
    /// Mean row L2 norm.
    FeatureNorm,
    /// Mean per-unit standard deviation.
    FeatureStd,
    /// Mean absolute parameter.
    WeightMagnitude,
    /// RMS distance from the initial parameters.
    DistanceFromInit,
    /// L2 norm of the last gradient.
    GradNorm,
    /// Share of dead units that were dead at the previous point.
    DeadPersistence,
    /// `srank_δ`.
    Srank,
    /// Roy-Vetterli effective rank.
    Erank,
    /// Thresholded feature rank.
    FeatureRank,
    /// Mean absolute change of a head's outputs across one update.
    Churn,
}

impl Metric {
    /// Every metric, in the order rows are written.
    pub const ALL: [Metric; 13] = [
        Metric::DeadFraction,
        Metric::DormantFraction,
        Metric::ActiveFraction,
        Metric::FeatureNorm,
        Metric::FeatureStd,
        Metric::WeightMagnitude,
        Metric::DistanceFromInit,
        Metric::GradNorm,
        Metric::DeadPersistence,
        Metric::Srank,
        Metric::Erank,
        Metric::FeatureRank,
        Metric::Churn,
    ];

    /// The name in `diagnostics.csv` and TensorBoard tags.
    pub fn name(self) -> &'static str {
        match self {
            Metric::DeadFraction => "dead_fraction",
            Metric::DormantFraction => "dormant_fraction",
            Metric::ActiveFraction => "active_fraction",
            Metric::FeatureNorm => "feature_norm",
            Metric::FeatureStd => "feature_std",
            Metric::WeightMagnitude => "weight_magnitude",
            Metric::DistanceFromInit => "distance_from_init",
            Metric::GradNorm => "grad_norm",
            Metric::DeadPersistence => "dead_persistence",
            Metric::Srank => "srank",
            Metric::Erank => "erank",
            Metric::FeatureRank => "feature_rank",
            Metric::Churn => "churn",
        }
    }
}

/// One layer's (or branch's) health.
#[derive(Clone, Debug, PartialEq)]
pub struct LayerHealth {
    /// `conv1`, `fc1`, `repr`, `repr.first`, ...
    pub layer: String,
    /// The metrics that apply, in [`Metric::ALL`]'s order.
    pub values: Vec<(Metric, f64)>,
    /// Per output feature, whether it is dead (`None` where the activation cannot saturate).
    pub dead_units: Option<Vec<bool>>,
}

/// Errors of the per-layer health.
#[derive(Debug, thiserror::Error)]
pub enum HealthError {
    /// Reading the outputs or computing a decomposition failed.
    #[error(transparent)]
    Diag(#[from] DiagError),
    /// Reading the parameters failed.
    #[error(transparent)]
    Surgery(#[from] SurgeryError),
    /// The torso gave no representation layer.
    #[error("the network has no representation layer")]
    NoRepresentation,
}

/// The share of `now`'s dead units that were dead in `before` too; `None` without dead units
/// now or without a previous point of the same width.
pub fn dead_persistence(now: &[bool], before: &[bool]) -> Option<f64> {
    let dead = now.iter().filter(|&&d| d).count();
    if dead == 0 || now.len() != before.len() {
        return None;
    }
    let kept = now.iter().zip(before).filter(|&(&n, &b)| n && b).count();
    Some(kept as f64 / dead as f64)
}

/// A hidden layer of one or two branches.
trait Branched: Module {
    type Branch: Module;

    /// The first branch and the second of a Hadamard layer.
    fn branches(&self) -> (&Self::Branch, Option<&Self::Branch>);

    /// The activations of the branches.
    fn activations(&self) -> Branches;
}

impl Branched for ConvLayer {
    type Branch = ConvBranch;

    fn branches(&self) -> (&ConvBranch, Option<&ConvBranch>) {
        (&self.first, self.second.as_ref())
    }

    fn activations(&self) -> Branches {
        branches_of(
            self.first.activation,
            self.second.as_ref().map(|b| b.activation),
        )
    }
}

impl Branched for DenseLayer {
    type Branch = DenseBranch;

    fn branches(&self) -> (&DenseBranch, Option<&DenseBranch>) {
        (&self.first, self.second.as_ref())
    }

    fn activations(&self) -> Branches {
        branches_of(
            self.first.activation,
            self.second.as_ref().map(|b| b.activation),
        )
    }
}

/// The layer's activations and the parameter sums of the whole layer, its first branch and its
/// second (empty for a single-branch layer).
fn layer_params<L: Branched>(
    layer: &L,
    start: Option<&L>,
    grads: Option<&GradientsParams>,
) -> Result<(Branches, [ParamStats; 3]), HealthError> {
    let (first, second) = layer.branches();
    let (start_first, start_second) = match start.map(Branched::branches) {
        Some((a, b)) => (Some(a), b),
        None => (None, None),
    };
    let second = match second {
        Some(b) => ParamStats::of(b, start_second, grads)?,
        None => ParamStats::default(),
    };
    Ok((
        layer.activations(),
        [
            ParamStats::of(layer, start, grads)?,
            ParamStats::of(first, start_first, grads)?,
            second,
        ],
    ))
}

/// A network's health on a probe batch: the representation layer's diagnostics (as
/// [`crate::probe::diagnose_repr`] gives them, from the same forward pass and decomposition) and
/// every layer's.
#[derive(Clone, Debug, PartialEq)]
pub struct NetworkHealth {
    /// The representation layer's diagnostics (`metrics.csv`'s columns).
    pub repr: ReprDiagnostics,
    /// Every hidden layer and branch, input to output.
    pub layers: Vec<LayerHealth>,
}

/// The per-layer health of `network` (on its plain device) on `states`
/// (`[rows, prod(obs_shape)]`), with `initial` (the initial network) for the distance from
/// initialisation and `grads` (the last gradient step's, keyed by `network`'s parameter ids)
/// for the gradient norms.
pub fn layer_health<N: Network>(
    network: &N,
    states: Tensor<2>,
    config: &DiagConfig,
    initial: Option<&N>,
    grads: Option<&GradientsParams>,
) -> Result<NetworkHealth, HealthError> {
    let torso = network.torso();
    let outputs = torso.forward_hidden(states);
    let names = torso.layer_names();
    let initial_torso = initial.map(Network::torso);
    let mut report = Vec::new();
    let mut repr_report = None;
    let conv_count = torso.convs.len();
    for (index, (output, name)) in outputs.into_iter().zip(names).enumerate() {
        let (branches, params) = if index < conv_count {
            let start = initial_torso.map(|t| &t.convs[index]);
            layer_params(&torso.convs[index], start, grads)?
        } else {
            let layer = torso.hidden.get(index - conv_count).unwrap_or(&torso.repr);
            let start = initial_torso.map(|t| t.hidden.get(index - conv_count).unwrap_or(&t.repr));
            layer_params(layer, start, grads)?
        };
        let [whole, first, second] = params;
        let ranks = if name == REPR_LAYER {
            let diagnostics = diagnose_repr(&output, branches, config)?;
            let d = &diagnostics.output;
            let ranks = [
                (Metric::Srank, d.srank as f64),
                (Metric::Erank, d.erank),
                (Metric::FeatureRank, d.feature_rank as f64),
            ];
            repr_report = Some(diagnostics);
            ranks.to_vec()
        } else {
            Vec::new()
        };
        let (values, rows, cols) = host(output.output)?;
        let features = Features::new(&values, rows, cols)?;
        report.push(health_of(
            name.clone(),
            features,
            output_criterion(branches, config.eps),
            config,
            &whole,
            ranks,
        )?);
        if let (Some((a, b)), Branches::Hadamard(act_a, act_b)) = (output.branches, branches) {
            for (suffix, tensor, activation, stats) in
                [("first", a, act_a, &first), ("second", b, act_b, &second)]
            {
                let (values, rows, cols) = host(tensor)?;
                report.push(health_of(
                    format!("{name}.{suffix}"),
                    Features::new(&values, rows, cols)?,
                    DeadCriterion::for_activation(activation, config.eps),
                    config,
                    stats,
                    Vec::new(),
                )?);
            }
        }
    }
    let repr = repr_report.ok_or(HealthError::NoRepresentation)?;
    Ok(NetworkHealth {
        repr,
        layers: report,
    })
}

fn branches_of(first: Activation, second: Option<Activation>) -> Branches {
    match second {
        Some(second) => Branches::Hadamard(first, second),
        None => Branches::Single(first),
    }
}

fn health_of(
    layer: String,
    features: Features<'_>,
    criterion: Option<DeadCriterion>,
    config: &DiagConfig,
    params: &ParamStats,
    ranks: Vec<(Metric, f64)>,
) -> Result<LayerHealth, HealthError> {
    let mut values = Vec::new();
    let dead_units = criterion.map(|c| diag::dead_units(features, c, config.row_fraction));
    if let Some(c) = criterion {
        values.push((
            Metric::DeadFraction,
            diag::dead_fraction(features, c, config.row_fraction),
        ));
    }
    values.push((
        Metric::DormantFraction,
        diag::dormant_fraction(features, config.tau),
    ));
    if let Some(c) = criterion {
        values.push((Metric::ActiveFraction, diag::active_fraction(features, c)));
    }
    values.push((Metric::FeatureNorm, diag::feature_norm(features)));
    values.push((Metric::FeatureStd, diag::feature_std(features)));
    if params.count > 0 {
        values.push((
            Metric::WeightMagnitude,
            params.abs_sum / params.count as f64,
        ));
        if let Some(sq) = params.distance_sq {
            values.push((Metric::DistanceFromInit, (sq / params.count as f64).sqrt()));
        }
        if let Some(sq) = params.grad_sq {
            values.push((Metric::GradNorm, sq.sqrt()));
        }
    }
    values.extend(ranks);
    Ok(LayerHealth {
        layer,
        values,
        dead_units,
    })
}

/// Sums over a module's parameters.
#[derive(Default)]
struct ParamStats {
    count: usize,
    abs_sum: f64,
    /// `Σ (w − w0)²`, with an initial module.
    distance_sq: Option<f64>,
    /// `Σ g²`, with gradients for every parameter.
    grad_sq: Option<f64>,
}

impl ParamStats {
    fn of<M: Module>(
        module: &M,
        initial: Option<&M>,
        grads: Option<&GradientsParams>,
    ) -> Result<ParamStats, HealthError> {
        let now = parameters(module)?;
        let mut stats = ParamStats {
            count: now.iter().map(|(_, v)| v.len()).sum(),
            abs_sum: now
                .iter()
                .flat_map(|(_, v)| v)
                .map(|&w| f64::from(w).abs())
                .sum(),
            ..ParamStats::default()
        };
        if let Some(initial) = initial {
            let start = parameters(initial)?;
            stats.distance_sq = Some(
                now.iter()
                    .zip(&start)
                    .flat_map(|((_, a), (_, b))| a.iter().zip(b))
                    .map(|(&a, &b)| (f64::from(a) - f64::from(b)).powi(2))
                    .sum(),
            );
        }
        if let Some(grads) = grads {
            let mut squares = GradSquares {
                grads,
                total: 0.0,
                missing: false,
            };
            module.visit(&mut squares);
            stats.grad_sq = (!squares.missing).then_some(squares.total);
        }
        Ok(stats)
    }
}

struct GradSquares<'a> {
    grads: &'a GradientsParams,
    total: f64,
    missing: bool,
}

impl ModuleVisitor for GradSquares<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        match self.grads.get::<D>(param.id) {
            Some(grad) => {
                self.total += grad
                    .into_data()
                    .iter::<f32>()
                    .map(|g| f64::from(g).powi(2))
                    .sum::<f64>();
            }
            None => self.missing = true,
        }
    }
}

/// Churn of each head of a network from `before` to `after` one update: the mean over `states`
/// and outputs of `|f_after(s) − f_before(s)|` (both networks on the plain device), as a
/// health row per head (`q`, or `actor` and `critic`).
pub fn churn<N: Network>(
    before: &N,
    after: &N,
    states: Tensor<2>,
) -> Result<Vec<LayerHealth>, HealthError> {
    let old = before.head_outputs(states.clone());
    let new = after.head_outputs(states);
    old.into_iter()
        .zip(new)
        .map(|((head, a), (_, b))| {
            let (values, rows, cols) = host((b - a).abs())?;
            let mean =
                values.iter().map(|&v| f64::from(v)).sum::<f64>() / (rows * cols).max(1) as f64;
            Ok(LayerHealth {
                layer: head.to_string(),
                values: vec![(Metric::Churn, mean)],
                dead_units: None,
            })
        })
        .collect()
}
