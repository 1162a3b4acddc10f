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

/// One step of a two-moment optimiser (Adam, RAdam) on the host: the parameter, its gradient and
/// both moments as values, the moments zeros before the first step.
pub struct MomentStep<const D: usize> {
    device: Device,
    /// Steps taken, this one included (1 at the first).
    pub time: usize,
    /// No moments yet: this step sets them instead of decaying them.
    pub fresh: bool,
    theta: HostValues<D>,
    grad: HostValues<D>,
    moment_1: HostValues<D>,
    moment_2: HostValues<D>,
}

impl<const D: usize> MomentStep<D> {
    /// Takes `tensor` (for which [`on_host`] holds), `grad` and `previous`: the steps taken so far
    /// and both moments after them, `None` before the first step.
    pub fn take(
        tensor: Tensor<D>,
        grad: Tensor<D>,
        previous: Option<(usize, Tensor<D>, Tensor<D>)>,
    ) -> Self {
        let device = tensor.device();
        let grad = HostValues::of(grad);
        let (time, fresh, moment_1, moment_2) = match previous {
            Some((time, m, v)) => (time + 1, false, HostValues::of(m), HostValues::of(v)),
            None => (
                1,
                true,
                HostValues::zeros_like(&grad),
                HostValues::zeros_like(&grad),
            ),
        };
        MomentStep {
            device,
            time,
            fresh,
            theta: HostValues::of(tensor),
            grad,
            moment_1,
            moment_2,
        }
    }

    /// `time` as the exponent of the bias corrections `β^t`.
    pub fn exponent(&self) -> i32 {
        i32::try_from(self.time).unwrap_or(i32::MAX)
    }

    /// Runs `update(θ, g, m, v)` over the values; the new parameter and moments as tensors.
    pub fn apply(
        mut self,
        update: impl FnOnce(&mut [f32], &[f32], &mut [f32], &mut [f32]),
    ) -> (Tensor<D>, Tensor<D>, Tensor<D>) {
        update(
            self.theta.values_mut(),
            self.grad.values(),
            self.moment_1.values_mut(),
            self.moment_2.values_mut(),
        );
        (
            self.theta.into_tensor(&self.device),
            self.moment_1.into_tensor(&self.device),
            self.moment_2.into_tensor(&self.device),
        )
    }
}
