//! Host data to tensors and back, the few conversions every agent makes; no agent builds a
//! tensor from host data any other way.

use burn::tensor::{Device, Int, Tensor, TensorData};

/// `values` (`rows * cols` of them, row-major) as a `[rows, cols]` tensor on `device`; a
/// slice is copied, a `Vec` moved.
pub(crate) fn rows_tensor(
    values: impl Into<Vec<f32>>,
    rows: usize,
    cols: usize,
    device: &Device,
) -> Tensor<2> {
    Tensor::from_data(TensorData::new(values.into(), [rows, cols]), device)
}

/// `values` as a `[rows, cols]` integer tensor on `device` (actions to gather with).
pub(crate) fn int_rows_tensor(
    values: Vec<i64>,
    rows: usize,
    cols: usize,
    device: &Device,
) -> Tensor<2, Int> {
    Tensor::from_data(TensorData::new(values, [rows, cols]), device)
}

/// A float tensor's values, row-major, on the host.
pub(crate) fn host_floats(t: Tensor<2>) -> Vec<f32> {
    t.into_data().iter::<f32>().collect()
}

/// An integer tensor's values, row-major, on the host.
pub(crate) fn host_ints(t: Tensor<2, Int>) -> Vec<i64> {
    t.into_data().iter::<i64>().collect()
}
