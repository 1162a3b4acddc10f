//! The network half of the plasticity interventions, each given the values of a freshly
//! initialised network of the same config ([`crate::surgery::fresh_values`]); what they do to
//! the optimiser state is the agents' half.
//!
//! - [`redo`], ReDo (Sokar et al. 2023, "The Dormant Neuron Phenomenon in Deep RL"): every
//!   hidden unit whose τ-dormant score ([`crate::diag::dormant_scores`]) on a batch of states is
//!   at most τ gets its incoming parameters (weights, bias and LayerNorm scale and shift, in every
//!   branch) set to their fresh values and its outgoing weights (next layer or heads) set to
//!   zero, so that the network's outputs do not change at the moment of recycling. A CReLU
//!   unit is recycled when both its output features are dormant; a Hadamard unit's score is
//!   its product's.
//! - [`shrink_perturb`], shrink-and-perturb (Ash and Adams 2020): every parameter
//!   `θ <- λ θ + σ θ_fresh`, in `f32`.
//! - [`reset_last`], resets (Nikishin et al. 2022, "The Primacy Bias in Deep RL"): the last `k`
//!   layers (the heads count as one, then the representation layer, the dense layers and the
//!   convolutions from the top) take their fresh values.

use std::collections::{HashMap, HashSet};

use burn::module::{Module, ParamId};
use burn::tensor::Tensor;

use crate::diag::{DiagError, Features, dormant_scores};
use crate::network::Network;
use crate::probe::host;
use crate::surgery::{SurgeryError, param_ids, rewrite};
use crate::units::layer_units;

/// Fresh values keyed by the trained network's parameter ids.
pub type FreshValues = HashMap<ParamId, Vec<f32>>;

/// Parameter elements an intervention changed: per parameter, its size and the flat indices.
pub type Touched = HashMap<ParamId, (usize, Vec<usize>)>;

/// What ReDo did to one layer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recycled {
    /// The layer's name.
    pub layer: String,
    /// Its units.
    pub units: usize,
    /// The units recycled.
    pub recycled: usize,
}

/// The outcome of [`redo`].
#[derive(Debug)]
pub struct RedoOutcome<N> {
    /// The network with its dormant units recycled.
    pub network: N,
    /// Per hidden layer, input to output.
    pub layers: Vec<Recycled>,
    /// Every element set to a fresh value or zeroed (ReDo resets their optimiser moments).
    pub touched: Touched,
}

/// Errors of an intervention.
#[derive(Debug, thiserror::Error)]
pub enum InterveneError {
    /// Rewriting the parameters failed.
    #[error(transparent)]
    Surgery(#[from] SurgeryError),
    /// Reading the layer outputs failed.
    #[error(transparent)]
    Diag(#[from] DiagError),
    /// A parameter has no fresh value.
    #[error("no fresh value for a parameter of the network")]
    MissingFresh,
}

/// ReDo on `network` with the τ-dormant scores of its hidden layers on `states`
/// (`[rows, prod(obs_shape)]`, on the plain form of the network's device).
pub fn redo<N: Network>(
    network: N,
    states: Tensor<2>,
    tau: f64,
    fresh: &FreshValues,
) -> Result<RedoOutcome<N>, InterveneError> {
    let outputs = network.valid().torso().forward_hidden(states);
    let units = layer_units(&network);
    let mut layers = Vec::with_capacity(units.len());
    // Per parameter: element -> fresh (true) or zero (false).
    let mut edits: HashMap<ParamId, (usize, Vec<(usize, bool)>)> = HashMap::new();
    for (layer, output) in units.iter().zip(outputs) {
        let (values, rows, cols) = host(output.output)?;
        let scores = dormant_scores(Features::new(&values, rows, cols)?);
        let mut recycled = 0;
        for unit in 0..layer.units {
            if !layer.features_of(unit).all(|f| scores[f] <= tau) {
                continue;
            }
            recycled += 1;
            for (edit, fresh_value) in [(layer.incoming(unit).collect::<Vec<_>>(), true)]
                .into_iter()
                .chain([(layer.outgoing(unit).collect::<Vec<_>>(), false)])
            {
                for (slice, index) in edit {
                    let entry = edits
                        .entry(slice.param)
                        .or_insert_with(|| (slice.numel, Vec::new()));
                    entry
                        .1
                        .extend(slice.elements(index).map(|e| (e, fresh_value)));
                }
            }
        }
        layers.push(Recycled {
            layer: layer.name.clone(),
            units: layer.units,
            recycled,
        });
    }
    let mut missing = false;
    let network = rewrite(network, |id, values| {
        let Some((_, elements)) = edits.get(&id) else {
            return false;
        };
        let Some(new) = fresh.get(&id) else {
            missing = true;
            return false;
        };
        for &(element, take_fresh) in elements {
            values[element] = if take_fresh { new[element] } else { 0.0 };
        }
        true
    })?;
    if missing {
        return Err(InterveneError::MissingFresh);
    }
    let touched = edits
        .into_iter()
        .map(|(id, (numel, elements))| {
            (id, (numel, elements.into_iter().map(|(e, _)| e).collect()))
        })
        .collect();
    Ok(RedoOutcome {
        network,
        layers,
        touched,
    })
}

/// Shrink-and-perturb: every parameter `θ <- shrink · θ + perturb · θ_fresh`, in `f32`.
pub fn shrink_perturb<N: Module>(
    network: N,
    shrink: f32,
    perturb: f32,
    fresh: &FreshValues,
) -> Result<N, InterveneError> {
    let mut missing = false;
    let network = rewrite(network, |id, values| {
        let Some(new) = fresh.get(&id) else {
            missing = true;
            return false;
        };
        for (theta, &noise) in values.iter_mut().zip(new) {
            *theta = shrink * *theta + perturb * noise;
        }
        true
    })?;
    if missing {
        return Err(InterveneError::MissingFresh);
    }
    Ok(network)
}

/// The parameters of the last `layers` layers of `network`: the heads, then the hidden layers
/// from the representation layer down.
pub fn last_layers<N: Network>(network: &N, layers: usize) -> HashSet<ParamId> {
    let torso = network.torso();
    let heads = network
        .heads()
        .into_iter()
        .flat_map(param_ids)
        .collect::<Vec<_>>();
    let hidden = std::iter::once(param_ids(&torso.repr))
        .chain(torso.hidden.iter().rev().map(param_ids))
        .chain(torso.convs.iter().rev().map(param_ids));
    std::iter::once(heads)
        .chain(hidden)
        .take(layers)
        .flatten()
        .collect()
}

/// Resets: the parameters in `params` take their fresh values.
pub fn reset_params<N: Module>(
    network: N,
    params: &HashSet<ParamId>,
    fresh: &FreshValues,
) -> Result<N, InterveneError> {
    let mut missing = false;
    let network = rewrite(network, |id, values| {
        if !params.contains(&id) {
            return false;
        }
        let Some(new) = fresh.get(&id) else {
            missing = true;
            return false;
        };
        values.copy_from_slice(new);
        true
    })?;
    if missing {
        return Err(InterveneError::MissingFresh);
    }
    Ok(network)
}
