//! Rewriting a network's parameters on the host, each parameter keeping its id (so that the
//! optimiser state keyed by it stays attached) and whether it requires a gradient: what the
//! interventions (ReDo, shrink-and-perturb, resets) do to a network between updates.
//!
//! Two networks of the same config visit their parameters in the same order, which is how a
//! freshly initialised network's values are paired with a trained one's ([`fresh_values`]): the
//! fresh network's parameters have ids of their own.

use std::collections::HashMap;

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param, ParamId};
use burn::tensor::{Tensor, TensorData};

/// Errors of a rewrite.
#[derive(Debug, thiserror::Error)]
pub enum SurgeryError {
    /// A parameter's values could not be read back from its device.
    #[error("reading parameter values from the device: {0}")]
    Data(String),
    /// Two networks that must have the same structure do not.
    #[error(
        "the fresh network does not match the trained one: parameter {index} has {fresh} values against {trained}"
    )]
    Mismatch {
        /// Position of the parameter in visiting order.
        index: usize,
        /// Its size in the fresh network.
        fresh: usize,
        /// Its size in the trained network.
        trained: usize,
    },
    /// The networks have different numbers of parameters.
    #[error("the fresh network has {fresh} parameters, the trained one {trained}")]
    Count {
        /// Parameters of the fresh network.
        fresh: usize,
        /// Parameters of the trained network.
        trained: usize,
    },
}

fn host_values<const D: usize>(tensor: Tensor<D>) -> Result<Vec<f32>, SurgeryError> {
    tensor
        .into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .map_err(|e| SurgeryError::Data(format!("{e:?}")))
}

struct Collect {
    values: Vec<(ParamId, Vec<f32>)>,
    error: Option<SurgeryError>,
}

impl ModuleVisitor for Collect {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        match host_values(param.val()) {
            Ok(values) => self.values.push((param.id, values)),
            Err(e) => self.error = self.error.take().or(Some(e)),
        }
    }
}

/// Every float parameter of `module` in visiting order, with its values (flat, row-major).
pub fn parameters<M: Module>(module: &M) -> Result<Vec<(ParamId, Vec<f32>)>, SurgeryError> {
    let mut collect = Collect {
        values: Vec::new(),
        error: None,
    };
    module.visit(&mut collect);
    match collect.error {
        Some(e) => Err(e),
        None => Ok(collect.values),
    }
}

struct Ids(Vec<ParamId>);

impl ModuleVisitor for Ids {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        self.0.push(param.id);
    }
}

/// The ids of `module`'s float parameters, in visiting order.
pub fn param_ids<M: Module>(module: &M) -> Vec<ParamId> {
    let mut ids = Ids(Vec::new());
    module.visit(&mut ids);
    ids.0
}

/// The values of `fresh` (a network of the same config as `trained`, freshly initialised),
/// keyed by the ids of `trained`'s parameters they pair with.
pub fn fresh_values<M: Module>(
    trained: &M,
    fresh: &M,
) -> Result<HashMap<ParamId, Vec<f32>>, SurgeryError> {
    let trained = parameters(trained)?;
    let fresh = parameters(fresh)?;
    if trained.len() != fresh.len() {
        return Err(SurgeryError::Count {
            fresh: fresh.len(),
            trained: trained.len(),
        });
    }
    trained
        .into_iter()
        .zip(fresh)
        .enumerate()
        .map(|(index, ((id, old), (_, new)))| {
            if old.len() == new.len() {
                Ok((id, new))
            } else {
                Err(SurgeryError::Mismatch {
                    index,
                    fresh: new.len(),
                    trained: old.len(),
                })
            }
        })
        .collect()
}

struct Rewrite<F> {
    rewrite: F,
    error: Option<SurgeryError>,
}

impl<F: FnMut(ParamId, &mut [f32]) -> bool> ModuleMapper for Rewrite<F> {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let id = param.id;
        param.map(|tensor| {
            let (shape, device, require_grad) =
                (tensor.shape(), tensor.device(), tensor.is_require_grad());
            let mut values = match host_values(tensor.clone()) {
                Ok(values) => values,
                Err(e) => {
                    self.error = self.error.take().or(Some(e));
                    return tensor;
                }
            };
            if !(self.rewrite)(id, &mut values) {
                return tensor;
            }
            let rewritten = Tensor::<D>::from_data(TensorData::new(values, shape), &device);
            if require_grad {
                rewritten.require_grad()
            } else {
                rewritten
            }
        })
    }
}

/// `module` with each float parameter's values passed through `rewrite(id, values)`, which
/// returns whether it changed them (unchanged parameters keep their tensors).
pub fn rewrite<M: Module>(
    module: M,
    rewrite: impl FnMut(ParamId, &mut [f32]) -> bool,
) -> Result<M, SurgeryError> {
    let mut mapper = Rewrite {
        rewrite,
        error: None,
    };
    let module = module.map(&mut mapper);
    match mapper.error {
        Some(e) => Err(e),
        None => Ok(module),
    }
}
