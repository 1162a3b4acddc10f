//! Editing a module optimiser's per-parameter state, which burn keeps private: the state goes
//! through its burnpack form (tensors named `"{param_id}.{field}"`, carrying the parameter id,
//! and scalars keyed `"{param_id}.{field}"`), is edited there, and is loaded back.
//!
//! - [`zero_elements`]: the elements ReDo recycles get zero moments (every state tensor of the
//!   parameter's size: Adam's and RAdam's two moments, RMSprop's averages), their step count
//!   kept, as ReDo's reference implementation resets them.
//! - [`forget`]: a reset layer's parameters lose their whole state, so their next step is a
//!   first step (moments and bias correction start afresh).

use std::collections::{HashMap, HashSet};

use burn::module::ParamId;
use burn::optim::ModuleOptimizer;
use burn::tensor::{Bytes, DType};
use burn_pack::{Reader, Writer};

use crate::AgentError;

fn error(e: impl std::fmt::Debug) -> AgentError {
    AgentError::OptimizerState(format!("{e:?}"))
}

/// An optimiser state in its burnpack form.
struct Packed {
    tensors: Vec<burn_pack::Tensor>,
    scalars: Vec<(String, burn_pack::Scalar)>,
    metadata: Vec<(String, String)>,
}

impl Packed {
    fn of(optimizer: &ModuleOptimizer) -> Result<Packed, AgentError> {
        let reader = Reader::from_bytes(optimizer.into_bytes().map_err(error)?).map_err(error)?;
        let scalars = reader
            .scalars()
            .iter()
            .map(|(k, v)| (k.clone(), *v))
            .collect();
        let metadata = reader
            .metadata()
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        Ok(Packed {
            tensors: reader.into_tensors().map_err(error)?,
            scalars,
            metadata,
        })
    }

    /// `optimizer` with this state loaded.
    fn load_into(self, optimizer: ModuleOptimizer) -> Result<ModuleOptimizer, AgentError> {
        let mut writer = Writer::new(self.tensors);
        for (key, value) in &self.scalars {
            writer = writer.with_scalar(key, *value);
        }
        for (key, value) in &self.metadata {
            writer = writer.with_metadata(key, value);
        }
        optimizer
            .from_bytes(writer.into_bytes().map_err(error)?)
            .map_err(error)
    }
}

/// Zeroes, in every state tensor of each listed parameter that has the parameter's number of
/// elements, the listed flat elements. `elements` maps a parameter to its size and the
/// elements.
pub fn zero_elements(
    optimizer: ModuleOptimizer,
    elements: &HashMap<ParamId, (usize, Vec<usize>)>,
) -> Result<ModuleOptimizer, AgentError> {
    let by_id: HashMap<u64, &(usize, Vec<usize>)> =
        elements.iter().map(|(id, e)| (id.val(), e)).collect();
    let mut packed = Packed::of(&optimizer)?;
    let mut edited = Vec::with_capacity(packed.tensors.len());
    for tensor in std::mem::take(&mut packed.tensors) {
        let target = tensor.param_id.and_then(|id| by_id.get(&id));
        let Some((numel, zero)) = target.filter(|(numel, _)| tensor.shape.num_elements() == *numel)
        else {
            edited.push(tensor);
            continue;
        };
        let (name, dtype, shape, param_id, bytes) = tensor.into_parts().map_err(error)?;
        if dtype != DType::F32 {
            return Err(AgentError::OptimizerState(format!(
                "state tensor {name} is {dtype:?}; only f32 state can be edited"
            )));
        }
        let mut values: Vec<f32> = bytes
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        for &element in zero.iter().filter(|&&e| e < *numel) {
            values[element] = 0.0;
        }
        let bytes = Bytes::from_elems(values);
        edited.push(burn_pack::Tensor::new(name, dtype, shape, param_id, bytes));
    }
    packed.tensors = edited;
    packed.load_into(optimizer)
}

/// Drops the whole state of each listed parameter.
pub fn forget(
    optimizer: ModuleOptimizer,
    params: &HashSet<ParamId>,
) -> Result<ModuleOptimizer, AgentError> {
    let ids: HashSet<u64> = params.iter().map(ParamId::val).collect();
    let prefixes: Vec<String> = ids.iter().map(|id| format!("{id}.")).collect();
    let owned = |key: &str| prefixes.iter().any(|p| key.starts_with(p.as_str()));
    let mut packed = Packed::of(&optimizer)?;
    packed
        .tensors
        .retain(|t| !t.param_id.is_some_and(|id| ids.contains(&id)));
    packed.scalars.retain(|(k, _)| !owned(k));
    packed
        .metadata
        .retain(|(k, _)| !k.parse::<u64>().is_ok_and(|id| ids.contains(&id)));
    packed.load_into(optimizer)
}
