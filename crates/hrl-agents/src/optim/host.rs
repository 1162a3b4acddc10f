//! Parameter updates in one pass over host memory, for optimisers on burn's CPU backend.
//!
//! On the Flex backend a tensor's values already live in this process. burn's optimisers update a
//! parameter with about ten element-wise tensor operations, each a pass over the parameter with a
//! buffer of its own; for the small networks of RL that is a quarter of a training step. The
//! optimisers of this crate do the same `f32` operations, in the same order, in one loop over the
//! values instead ([`HostValues`]), and keep the tensor operations for other devices. Taking and
//! returning the values copies nothing where the tensor is the only owner of its buffer.
//!
//! The loops are bound by `sqrt` and division, which AVX-512 does sixteen at a time: each is
//! compiled for AVX-512 too (`multiversion`) and the CPU picks at run time. No fused
//! multiply-add is formed either way, so results do not depend on the CPU.

use burn::tensor::{DType, Device, Tensor, TensorData};

/// Whether `tensor` is a host tensor of `f32`, which an update can change in one loop.
pub fn on_host<const D: usize>(tensor: &Tensor<D>) -> bool {
    tensor.device() == Device::flex() && tensor.dtype() == DType::F32
}

/// The values of a tensor on the host, to update in place and turn back into a tensor.
pub struct HostValues<const D: usize> {
    data: TensorData,
}

impl<const D: usize> HostValues<D> {
    /// Takes the values of `tensor`, a tensor for which [`on_host`] holds.
    pub fn of(tensor: Tensor<D>) -> Self {
        HostValues {
            data: tensor.into_data(),
        }
    }

    /// Zeros of the shape of `other`.
    pub fn zeros_like(other: &HostValues<D>) -> Self {
        HostValues {
            data: TensorData::zeros::<f32, _>(other.data.shape().clone()),
        }
    }

    /// The values, row-major.
    pub fn values(&self) -> &[f32] {
        self.data
            .as_slice::<f32>()
            .expect("parameters and their optimiser state are f32")
    }

    /// The values, row-major, to update.
    pub fn values_mut(&mut self) -> &mut [f32] {
        self.data
            .as_mut_slice::<f32>()
            .expect("parameters and their optimiser state are f32")
    }

    /// A tensor of the values, on `device`.
    pub fn into_tensor(self, device: &Device) -> Tensor<D> {
        Tensor::from_data(self.data, device)
    }
}
