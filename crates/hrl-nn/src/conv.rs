//! Convolution layers: one activated branch, or the Hadamard product of two, with an optional
//! per-pixel LayerNorm over the channels (Flax's `LayerNorm` on NHWC, as in PQN).
//!
//! The convolution itself is an im2col product on channels-last images: the input's patches are
//! gathered once per layer into a `[batch * pixels, k * k * c_in]` matrix (shared by both
//! branches of a Hadamard layer) and multiplied by each branch's `[k * k * c_in, c_out]` weights
//! in one matrix product. The gather copies whole runs of pixels (see `PatchGeometry`), the
//! branch works on the resulting channels-last rows, where the channel LayerNorm needs no
//! transposition, and those rows are the next layer's channels-last input as they are. On burn's
//! CPU backend this is several times faster than its direct convolution for the few-channel
//! inputs of RL networks, and its gradients are those of a row gather and a matrix product.
//! Weights keep PyTorch's `[c_out, c_in, k, k]` layout, so checkpoints do not depend on it.

use burn::module::{Module, Param};
use burn::nn::{LayerNorm, LayerNormConfig};
use burn::tensor::{Device, Int, Tensor, TensorData};

use crate::act;
use crate::dense::{LayerOutput, branch_count};
use crate::init::Init;
use crate::repr::{Activation, Branches};

/// The weights of a `VALID` convolution, stored as PyTorch and burn store them.
#[derive(Module, Debug)]
pub struct ConvWeights {
    /// `[c_out, c_in, k, k]`.
    pub weight: Param<Tensor<4>>,
    /// `[c_out]`.
    pub bias: Option<Param<Tensor<1>>>,
}

impl ConvWeights {
    /// `[rows, k * k * c_in]` patches (kernel row, kernel column, input channel) ->
    /// `[rows, c_out]`.
    fn forward_patches(&self, patches: Tensor<2>) -> Tensor<2> {
        let [c_out, c_in, k, _] = self.weight.dims();
        let kernel = self
            .weight
            .val()
            .permute([2, 3, 1, 0])
            .reshape([k * k * c_in, c_out]);
        let z = patches.matmul(kernel);
        match &self.bias {
            Some(bias) => z + bias.val().unsqueeze_dim(0),
            None => z,
        }
    }
}

/// `activation(norm(conv(x)))`, with the norm optional; `VALID` padding.
#[derive(Module, Debug)]
pub struct ConvBranch {
    /// The convolution, `[batch, c_in, h, w] -> [batch, c_out, h', w']`.
    pub conv: ConvWeights,
    /// LayerNorm over the `c_out` channels of each pixel.
    pub norm: Option<LayerNorm>,
    /// The activation.
    #[module(skip)]
    pub activation: Activation,
}

impl ConvBranch {
    /// `[batch * h' * w', k * k * c_in]` patches -> `[batch * h' * w', c_out]` activations.
    fn forward_patches(&self, patches: Tensor<2>) -> Tensor<2> {
        let z = self.conv.forward_patches(patches);
        let z = match &self.norm {
            Some(norm) => norm.forward(z),
            None => z,
        };
        act::apply(self.activation, z)
    }
}

/// How a layer cuts its `[batch, h, w, c_in]` input into patches. The input is viewed as rows of
/// `chunk` consecutive pixels (`chunk * c_in` floats), and every patch is `kernel` kernel rows of
/// `kernel / chunk` such rows. `chunk` divides the kernel, the stride and the input width, so
/// every run of a patch starts on a row boundary; it is the largest such divisor, so that the
/// gather copies few long rows (4 pixels, 16 floats, for the Nature network's first layer).
/// Rows shorter than [`MIN_ROW_LEN`] floats (MinAtar's few channels at stride 1) cost more as
/// separate copies than as single floats, so those layers gather element by element instead.
#[derive(Clone, Copy, Debug, PartialEq)]
struct PatchGeometry {
    h: usize,
    w: usize,
    c_in: usize,
    kernel: usize,
    stride: usize,
    chunk: usize,
    out_h: usize,
    out_w: usize,
}

impl PatchGeometry {
    fn new(h: usize, w: usize, c_in: usize, kernel: usize, stride: usize) -> Self {
        Self {
            h,
            w,
            c_in,
            kernel,
            stride,
            chunk: gcd(gcd(kernel, stride), w),
            out_h: (h - kernel) / stride + 1,
            out_w: (w - kernel) / stride + 1,
        }
    }

    /// Floats in one gathered row.
    fn row_len(&self) -> usize {
        self.chunk * self.c_in
    }

    /// Whether the gather copies rows (else single floats).
    fn gathers_rows(&self) -> bool {
        self.row_len() >= MIN_ROW_LEN
    }

    /// Gathered rows in one input sample.
    fn rows_per_sample(&self) -> usize {
        self.h * self.w / self.chunk
    }

    /// The gathered rows of every patch of `batch` samples, ordered by sample, output pixel
    /// (row-major), kernel row and column chunk: gathering them from the input viewed as
    /// `[batch * rows_per_sample, row_len]` and reshaping gives `[batch * h' * w', k * k * c_in]`
    /// patches whose elements run over kernel row, kernel column, then input channel.
    fn row_indices(&self, batch: usize) -> Vec<i64> {
        let chunks_per_kernel_row = self.kernel / self.chunk;
        let per_sample = self.out_h * self.out_w * self.kernel * chunks_per_kernel_row;
        let mut indices = Vec::with_capacity(batch * per_sample);
        for sample in 0..batch {
            for oy in 0..self.out_h {
                for ox in 0..self.out_w {
                    for ky in 0..self.kernel {
                        let pixel =
                            (sample * self.h + oy * self.stride + ky) * self.w + ox * self.stride;
                        let first = pixel / self.chunk;
                        indices.extend((first..first + chunks_per_kernel_row).map(|i| i as i64));
                    }
                }
            }
        }
        indices
    }

    /// The same patches as [`Self::row_indices`] as single floats of one sample: gathering them
    /// from the input viewed as `[batch, h * w * c_in]` gives the same patch matrix.
    fn element_indices(&self) -> Vec<i64> {
        let row_len = self.row_len() as i64;
        self.row_indices(1)
            .into_iter()
            .flat_map(|row| row * row_len..(row + 1) * row_len)
            .collect()
    }

    /// `[batch, h, w, c_in] -> [batch * h' * w', k * k * c_in]`.
    fn patches(&self, x: Tensor<4>) -> Tensor<2> {
        let batch = x.dims()[0];
        let device = x.device();
        let upload = |indices: Vec<i64>| {
            let count = indices.len();
            Tensor::<1, Int>::from_data(TensorData::new(indices, [count]), &device)
        };
        let gathered = if self.gathers_rows() {
            x.reshape([batch * self.rows_per_sample(), self.row_len()])
                .select(0, upload(self.row_indices(batch)))
        } else {
            x.reshape([batch, self.h * self.w * self.c_in])
                .select(1, upload(self.element_indices()))
        };
        gathered.reshape([
            batch * self.out_h * self.out_w,
            self.kernel * self.kernel * self.c_in,
        ])
    }
}

/// Rows of fewer floats are gathered element by element (see [`PatchGeometry`]).
const MIN_ROW_LEN: usize = 16;

fn gcd(a: usize, b: usize) -> usize {
    if b == 0 { a } else { gcd(b, a % b) }
}

/// A convolution layer: `first(x)`, or `first(x) ⊙ second(x)` for a Hadamard layer.
#[derive(Module, Debug)]
pub struct ConvLayer {
    /// The first (or only) branch.
    pub first: ConvBranch,
    /// The second branch of a Hadamard layer.
    pub second: Option<ConvBranch>,
    /// Square kernel size.
    #[module(skip)]
    pub kernel: usize,
    /// Stride.
    #[module(skip)]
    pub stride: usize,
}

impl ConvLayer {
    /// `[batch, c_in, h, w] -> [batch, c_out, h', w']`; `h, w >= kernel`.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        self.forward_channels_last(x.permute([0, 2, 3, 1]))
            .permute([0, 3, 1, 2])
    }

    /// `[batch, h, w, c_in] -> [batch, h', w', c_out]`, channels last on both sides, so that
    /// stacked layers pass their outputs on without transposing them; `h, w >= kernel`.
    pub fn forward_channels_last(&self, x: Tensor<4>) -> Tensor<4> {
        let [batch, ..] = x.dims();
        let (rows, out_h, out_w) = self.forward_pixel_rows(x, false);
        let c_out = rows.output.dims()[1];
        rows.output.reshape([batch, out_h, out_w, c_out])
    }

    /// `[batch, h, w, c_in]` -> the output as `[batch * h' * w', c_out]` rows (one per output
    /// pixel, channels as columns, the layout the diagnostics and ReDo read a convolution's units
    /// in), with the branch activations of a Hadamard layer kept, and `(h', w')`.
    pub fn forward_parts(&self, x: Tensor<4>) -> (LayerOutput<2>, usize, usize) {
        self.forward_pixel_rows(x, true)
    }

    fn forward_pixel_rows(
        &self,
        x: Tensor<4>,
        keep_branches: bool,
    ) -> (LayerOutput<2>, usize, usize) {
        let [_, h, w, c_in] = x.dims();
        let geometry = PatchGeometry::new(h, w, c_in, self.kernel, self.stride);
        let patches = geometry.patches(x);
        let output = match &self.second {
            None => LayerOutput {
                output: self.first.forward_patches(patches),
                branches: None,
            },
            Some(second) => {
                let a = self.first.forward_patches(patches.clone());
                let b = second.forward_patches(patches);
                let branches = keep_branches.then(|| (a.clone(), b.clone()));
                LayerOutput {
                    output: a * b,
                    branches,
                }
            }
        };
        (output, geometry.out_h, geometry.out_w)
    }
}

/// Builds a [`ConvLayer`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ConvLayerConfig {
    /// Input channels.
    pub c_in: usize,
    /// Output channels.
    pub c_out: usize,
    /// Square kernel size.
    pub kernel: usize,
    /// Stride.
    pub stride: usize,
    /// One branch or two.
    pub branches: Branches,
    /// Channel LayerNorm before each activation, with this epsilon.
    pub layer_norm: Option<f64>,
    /// Weight and bias initialiser.
    pub init: Init,
}

impl ConvLayerConfig {
    /// Output side length for an input side of `input` pixels (`VALID` padding), `None` if the
    /// kernel does not fit.
    pub fn output_side(&self, input: usize) -> Option<usize> {
        (input >= self.kernel).then(|| (input - self.kernel) / self.stride + 1)
    }

    /// Initialises the layer; the second branch draws after the first.
    pub fn init(&self, device: &Device) -> ConvLayer {
        let fan_in = self.c_in * self.kernel * self.kernel;
        let fan_out = self.c_out * self.kernel * self.kernel;
        let branch = |activation| ConvBranch {
            conv: ConvWeights {
                weight: self.init.weight(
                    [self.c_out, self.c_in, self.kernel, self.kernel],
                    fan_in,
                    fan_out,
                    device,
                ),
                bias: Some(self.init.bias(self.c_out, fan_in, device)),
            },
            norm: self.layer_norm.map(|epsilon| {
                LayerNormConfig::new(self.c_out)
                    .with_epsilon(epsilon)
                    .init(device)
            }),
            activation,
        };
        ConvLayer {
            first: branch(self.branches.first()),
            second: self.branches.second().map(branch),
            kernel: self.kernel,
            stride: self.stride,
        }
    }

    /// Channels the layer outputs: `c_out`, twice that for CReLU.
    pub fn output_channels(&self) -> usize {
        self.c_out * self.branches.outputs_per_unit()
    }

    /// Trainable parameters: per branch `c_out * c_in * k * k + c_out`, plus `2 * c_out` with
    /// LayerNorm.
    pub fn num_params(&self) -> usize {
        let per_branch = self.c_out * self.c_in * self.kernel * self.kernel
            + self.c_out
            + if self.layer_norm.is_some() {
                2 * self.c_out
            } else {
                0
            };
        per_branch * branch_count(self.branches)
    }
}

#[cfg(test)]
mod tests {
    use super::PatchGeometry;

    #[test]
    fn nature_layers_gather_runs_of_pixels_and_minatar_single_floats() {
        // (h, w, c_in, kernel, stride) -> (pixels per row, gathers rows)
        let cases = [
            ((84, 84, 4, 8, 4), (4, true)),
            ((20, 20, 32, 4, 2), (2, true)),
            ((9, 9, 64, 3, 1), (1, true)),
            ((10, 10, 4, 3, 1), (1, false)),
            ((29, 29, 4, 8, 4), (1, false)),
        ];
        for ((h, w, c_in, kernel, stride), (chunk, rows)) in cases {
            let geometry = PatchGeometry::new(h, w, c_in, kernel, stride);
            assert_eq!(geometry.chunk, chunk, "{h}x{w}x{c_in}, {kernel}/{stride}");
            assert_eq!(
                geometry.gathers_rows(),
                rows,
                "{h}x{w}x{c_in}, {kernel}/{stride}"
            );
        }
    }

    #[test]
    fn row_indices_of_a_two_by_two_kernel() {
        // A [4, 4] single-channel image, 2x2 kernel, stride 2: rows of 2 pixels, 2 per patch.
        let geometry = PatchGeometry::new(4, 4, 1, 2, 2);
        assert_eq!(geometry.chunk, 2);
        assert_eq!(
            geometry.row_indices(1),
            [0, 2, 1, 3, 4, 6, 5, 7].map(i64::from).to_vec()
        );
        // Pixels (0,0),(0,1),(1,0),(1,1) for the first output pixel, and so on.
        assert_eq!(
            geometry.element_indices()[..8].to_vec(),
            [0, 1, 4, 5, 2, 3, 6, 7].map(i64::from).to_vec()
        );
    }
}
