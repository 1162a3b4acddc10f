//! A fused training step for small Q-networks on the CPU: the forward pass, the gradient of a
//! loss of the taken actions' Q-values, and the backward pass as a few matrix products (faer's)
//! and loops over buffers kept from step to step.
//!
//! burn's autodiff records every tensor operation of a step and replays it backwards, each
//! operation with buffers of its own; for the MinAtar network at batch 32 that bookkeeping costs
//! as much as the arithmetic (`hrl bench net --mode train,train-autodiff` times both). This
//! module computes the same gradients directly. Per layer and branch, the head being a last
//! layer with the identity activation:
//!
//! ```text
//! forward    Z = W X + b,  A = act(Z),  Y = A  (Y = A1 ⊙ A2 for a Hadamard layer)
//!            q_i = Y_head[a_i, i]
//! backward   dZ = dY ⊙ act'(A)  (⊙ the other branch's A)
//!            dW = dZ Xᵀ,  db = Σ_columns dZ,  dX = Wᵀ dZ
//! ```
//!
//! Every matrix has one row per unit (dense feature, or convolution channel) and one column per
//! sample, or per output pixel and sample for a convolution, the sample running fastest: an
//! image is stored `[c, h, w, batch]`. So a convolution's output, as it is, is the next
//! convolution's input image and the first dense layer's input flattened channel-major (as
//! [`crate::torso::Torso`] flattens), and the gradient a dense layer passes back is the previous
//! layer's `dY` as it is. A convolution's input `X` is its im2col patches, rows running over
//! input channel, kernel row and kernel column (PyTorch's weight order), so that its
//! `[c_out, c_in, k, k]` weight is the `[c_out, c_in k k]` matrix `W` as it is stored; gathering
//! them copies runs of whole output rows of all samples. A dense layer's `[d_in, d_out]` weight
//! is `Wᵀ`.
//!
//! The gradients are those of [`QNetwork::forward`] (tested against burn's autodiff for every
//! layer kind and activation taken here); the floats differ from autodiff's in the last bits
//! (sums run in another order), and a step is deterministic. [`FusedQ::new`] takes networks
//! without LayerNorm whose activations are ReLU, tanh, sigmoid or the identity, single or
//! Hadamard, and declines the rest (LayerNorm, CReLU, GELU), which train with autodiff.
//!
//! The same forward pass evaluates every action's Q-value without keeping anything for a
//! backward pass ([`FusedQ::q_values`]): a DQN's greedy actions and TD targets, from the online
//! network, its plain copy or the target network, all of one architecture.

use burn::backend::Flex;
use burn::backend::flex::FlexTensor;
use burn::module::{Param, ParamId};
use burn::nn::Linear;
use burn::optim::GradientsParams;
use burn::tensor::{DType, Device, Tensor, TensorData};
use faer::linalg::matmul::matmul;
use faer::{Accum, MatMut, MatRef, Par};
use multiversion::multiversion;

use crate::conv::ConvBranch;
use crate::dense::DenseBranch;
use crate::network::QNetwork;
use crate::repr::Activation;

/// The forward and backward pass of one [`QNetwork`] architecture, with its buffers.
pub struct FusedQ {
    /// The hidden layers, then the head.
    layers: Vec<Layer>,
    /// Observations are multiplied by this first (the torso's `input_scale`).
    input_scale: f32,
    obs_len: usize,
    num_actions: usize,
    /// Samples of the current step.
    batch: usize,
    /// `[obs_len, batch]`: the scaled observations.
    obs: Vec<f32>,
    actions: Vec<usize>,
    /// `[batch]`: `Q(s_i, a_i)`.
    q_taken: Vec<f32>,
    /// Whether the buffers and parameters hold a [`FusedQ::forward`] that its backward pass
    /// has not yet used.
    awaits_backward: bool,
}

/// A weight and its bias, the ids their gradients go under, and their values from
/// [`FusedQ::forward`] to the end of [`FusedQ::backward`] (sharing the parameters' memory, so
/// released then: an optimiser updates a parameter in place only where nothing else holds it).
struct Affine {
    weight_id: ParamId,
    weight_shape: Vec<usize>,
    bias_id: ParamId,
    /// `(weight, bias)`.
    values: Option<(FlexTensor, FlexTensor)>,
}

impl Affine {
    fn weight(&self) -> &[f32] {
        f32s(&self.read().0)
    }

    fn bias(&self) -> &[f32] {
        f32s(&self.read().1)
    }

    /// Points at `weight` and `bias` as they are now: their ids and values (the shape is the
    /// architecture's, fixed); `None` where one is not on the CPU backend.
    fn point_at<const D: usize>(
        &mut self,
        weight: &Param<Tensor<D>>,
        bias: &Param<Tensor<1>>,
    ) -> Option<()> {
        self.values = Some((host_values(weight)?, host_values(bias)?));
        self.weight_id = weight.id;
        self.bias_id = bias.id;
        Some(())
    }

    fn read(&self) -> &(FlexTensor, FlexTensor) {
        self.values
            .as_ref()
            .expect("parameters are read by forward and kept until backward ends")
    }
}

/// A convolution's input image, stored `[channels, height, width, batch]`.
#[derive(Clone, Copy, Debug)]
struct Image {
    channels: usize,
    height: usize,
    width: usize,
}

/// What a layer computes.
#[derive(Clone, Copy, Debug)]
enum Kind {
    /// A `VALID` convolution of `image`: `W` is the weight as stored, `[c_out, c_in k k]`.
    Conv {
        image: Image,
        kernel: usize,
        stride: usize,
        out_h: usize,
        out_w: usize,
    },
    /// A dense layer: `W` is the transposed weight, which is stored `[d_in, d_out]`.
    Dense,
}

struct Branch {
    activation: Activation,
    params: Affine,
    /// `[units, columns]`: the activations `A`.
    act: Vec<f32>,
    /// `[units, columns]`: `dZ`.
    grad_z: Vec<f32>,
}

/// A layer and its buffers; `columns` is `batch` for a dense layer, `pixels * batch` for a
/// convolution.
struct Layer {
    kind: Kind,
    /// Rows of `X`: `c_in k k` for a convolution, `d_in` for a dense layer.
    fan_in: usize,
    /// Rows of `Y` (channels or features).
    units: usize,
    /// Columns per sample: output pixels of a convolution, 1 for a dense layer.
    pixels: usize,
    /// One branch, or two for a Hadamard layer.
    branches: Vec<Branch>,
    /// `[fan_in, columns]`: a convolution's patches (a dense layer reads its input where it is).
    patches: Vec<f32>,
    /// `[fan_in, columns]`: `dX` of a convolution's patches.
    grad_patches: Vec<f32>,
    /// `[units, columns]`: `A1 ⊙ A2` of a Hadamard layer.
    product: Vec<f32>,
    /// `[units, columns]`: `dY`.
    grad_output: Vec<f32>,
    /// `[columns, units]`: a dense layer's `Zᵀ` before it is transposed.
    samples_by_unit: Vec<f32>,
}

impl FusedQ {
    /// The fused step of `model`'s architecture, or `None` where it has LayerNorm, a bias-free
    /// layer, an activation other than ReLU, tanh, sigmoid and the identity, or parameters off
    /// the CPU backend.
    pub fn new(model: &QNetwork) -> Option<FusedQ> {
        let torso = &model.torso;
        let obs_len: usize = torso.obs_shape.iter().product();
        let mut layers = Vec::new();
        let mut image = (!torso.convs.is_empty()).then(|| Image {
            channels: torso.obs_shape[0],
            height: torso.obs_shape[1],
            width: torso.obs_shape[2],
        });
        for conv in &torso.convs {
            let input = image?;
            let [c_out, c_in, kernel, _] = conv.first.conv.weight.dims();
            if c_in != input.channels || input.height < kernel || input.width < kernel {
                return None;
            }
            let out_h = (input.height - kernel) / conv.stride + 1;
            let out_w = (input.width - kernel) / conv.stride + 1;
            let branches = [Some(&conv.first), conv.second.as_ref()]
                .into_iter()
                .flatten()
                .map(conv_branch)
                .collect::<Option<Vec<_>>>()?;
            let kind = Kind::Conv {
                image: input,
                kernel,
                stride: conv.stride,
                out_h,
                out_w,
            };
            let fan_in = c_in * kernel * kernel;
            layers.push(Layer::new(kind, fan_in, c_out, out_h * out_w, branches));
            image = Some(Image {
                channels: c_out,
                height: out_h,
                width: out_w,
            });
        }
        for dense in torso.hidden.iter().chain(std::iter::once(&torso.repr)) {
            let [d_in, d_out] = dense.first.linear.weight.dims();
            let branches = [Some(&dense.first), dense.second.as_ref()]
                .into_iter()
                .flatten()
                .map(dense_branch)
                .collect::<Option<Vec<_>>>()?;
            layers.push(Layer::new(Kind::Dense, d_in, d_out, 1, branches));
        }
        let [width, num_actions] = model.head.weight.dims();
        let head = Branch::new(Activation::Identity, linear_params(&model.head)?);
        layers.push(Layer::new(Kind::Dense, width, num_actions, 1, vec![head]));
        let mut fused = FusedQ {
            layers,
            input_scale: torso.input_scale as f32,
            obs_len,
            num_actions,
            batch: 0,
            obs: Vec::new(),
            actions: Vec::new(),
            q_taken: Vec::new(),
            awaits_backward: false,
        };
        fused.release_params();
        Some(fused)
    }

    /// `Q(s_i, a_i)` of `model` (the architecture this was built for) on `obs`
    /// (`[actions.len(), obs_len]`, flat as the torso takes them), keeping what the backward
    /// pass needs.
    ///
    /// # Panics
    /// If `obs` is not `actions.len()` observations, an action is out of range, or `model` is not
    /// the architecture this was built for on the CPU backend.
    pub fn forward(&mut self, model: &QNetwork, obs: &[f32], actions: &[usize]) -> &[f32] {
        let batch = actions.len();
        assert_eq!(
            obs.len(),
            batch * self.obs_len,
            "one observation per action"
        );
        assert!(
            actions.iter().all(|&a| a < self.num_actions),
            "actions below {}",
            self.num_actions
        );
        self.run_layers(model, obs, batch);
        self.actions.clear();
        self.actions.extend_from_slice(actions);
        self.awaits_backward = true;
        let q = self.layers.last().map_or(&[][..], Layer::output);
        for (sample, (q_taken, &action)) in self.q_taken.iter_mut().zip(&self.actions).enumerate() {
            *q_taken = q[action * batch + sample];
        }
        &self.q_taken
    }

    /// Every action's Q-value of `model` (a network of the architecture this was built for) on
    /// `obs` (`[batch, obs_len]`), action-major: `Q(s_i, a)` at `a * batch + i`. It keeps nothing
    /// for a backward pass and releases the parameters when it returns; a
    /// [`forward`](Self::forward) whose [`backward`](Self::backward) has not run yet is lost.
    ///
    /// # Panics
    /// If `obs` is not `batch` observations, or `model` is not the architecture this was built
    /// for on the CPU backend.
    pub fn q_values(&mut self, model: &QNetwork, obs: &[f32], batch: usize) -> &[f32] {
        assert_eq!(obs.len(), batch * self.obs_len, "batch observations");
        self.run_layers(model, obs, batch);
        self.awaits_backward = false;
        self.release_params();
        self.layers.last().map_or(&[][..], Layer::output)
    }

    /// The forward pass of `model` on `obs` (`[batch, obs_len]`) through every layer, the head
    /// last, holding `model`'s parameters.
    fn run_layers(&mut self, model: &QNetwork, obs: &[f32], batch: usize) {
        self.read_params(model)
            .expect("the network FusedQ::new took, on the CPU backend");
        self.resize(batch);
        transpose_scaled(obs, batch, self.obs_len, self.input_scale, &mut self.obs);
        for index in 0..self.layers.len() {
            let (before, rest) = self.layers.split_at_mut(index);
            let input = before.last().map_or(&self.obs[..], Layer::output);
            rest[0].forward(input, batch);
        }
    }

    /// Lets go of the parameters' values, so that the optimiser may update them in place.
    fn release_params(&mut self) {
        for branch in self.layers.iter_mut().flat_map(|l| l.branches.iter_mut()) {
            branch.params.values = None;
        }
    }

    /// The gradients of a loss whose derivative with respect to the last
    /// [`forward`](Self::forward)'s `Q(s_i, a_i)` is `grad_q_taken`, as tensors on `device`
    /// (the plain device the optimiser takes them on).
    ///
    /// # Panics
    /// If no [`forward`](Self::forward) awaits its backward pass (none ran, or a backward or
    /// [`q_values`](Self::q_values) came since), or `grad_q_taken` is not one value per sample of
    /// that forward pass.
    pub fn backward(&mut self, grad_q_taken: &[f32], device: &Device) -> GradientsParams {
        assert!(
            self.awaits_backward,
            "a forward pass awaits this backward pass"
        );
        self.awaits_backward = false;
        let batch = self.batch;
        assert_eq!(grad_q_taken.len(), batch, "one gradient per sample");
        let mut grads = GradientsParams::new();
        if let Some(head) = self.layers.last_mut() {
            head.grad_output.fill(0.0);
            for (sample, (&action, &grad)) in self.actions.iter().zip(grad_q_taken).enumerate() {
                head.grad_output[action * batch + sample] = grad;
            }
        }
        for index in (0..self.layers.len()).rev() {
            let (before, rest) = self.layers.split_at_mut(index);
            let previous = before.last_mut().map(Layer::output_and_grad);
            rest[0].backward(&self.obs, previous, batch, &mut grads, device);
        }
        self.release_params();
        grads
    }

    /// Points every branch and the head at `model`'s current parameters; `None` where one is
    /// not on the CPU backend.
    fn read_params(&mut self, model: &QNetwork) -> Option<()> {
        let torso = &model.torso;
        let mut branches = self.layers.iter_mut().flat_map(|l| l.branches.iter_mut());
        for conv in &torso.convs {
            for branch in [Some(&conv.first), conv.second.as_ref()]
                .into_iter()
                .flatten()
            {
                let weights = &branch.conv;
                branches
                    .next()?
                    .params
                    .point_at(&weights.weight, weights.bias.as_ref()?)?;
            }
        }
        for dense in torso.hidden.iter().chain(std::iter::once(&torso.repr)) {
            for branch in [Some(&dense.first), dense.second.as_ref()]
                .into_iter()
                .flatten()
            {
                let linear = &branch.linear;
                branches
                    .next()?
                    .params
                    .point_at(&linear.weight, linear.bias.as_ref()?)?;
            }
        }
        let head = &model.head;
        branches
            .next()?
            .params
            .point_at(&head.weight, head.bias.as_ref()?)
    }

    fn resize(&mut self, batch: usize) {
        self.batch = batch;
        for layer in &mut self.layers {
            layer.resize(batch);
        }
        self.obs.resize(self.obs_len * batch, 0.0);
        self.q_taken.resize(batch, 0.0);
    }
}

impl Layer {
    fn new(kind: Kind, fan_in: usize, units: usize, pixels: usize, branches: Vec<Branch>) -> Self {
        Layer {
            kind,
            fan_in,
            units,
            pixels,
            branches,
            patches: Vec::new(),
            grad_patches: Vec::new(),
            product: Vec::new(),
            grad_output: Vec::new(),
            samples_by_unit: Vec::new(),
        }
    }

    fn resize(&mut self, batch: usize) {
        let columns = batch * self.pixels;
        match self.kind {
            Kind::Conv { .. } => {
                self.patches.resize(self.fan_in * columns, 0.0);
                self.grad_patches.resize(self.fan_in * columns, 0.0);
            }
            Kind::Dense => self.samples_by_unit.resize(columns * self.units, 0.0),
        }
        if self.branches.len() > 1 {
            self.product.resize(self.units * columns, 0.0);
        }
        self.grad_output.resize(self.units * columns, 0.0);
        for branch in &mut self.branches {
            branch.act.resize(self.units * columns, 0.0);
            branch.grad_z.resize(self.units * columns, 0.0);
        }
    }

    /// `Y`.
    fn output(&self) -> &[f32] {
        if self.branches.len() > 1 {
            &self.product
        } else {
            &self.branches[0].act
        }
    }

    /// `(Y, dY)`, for the next layer's backward pass.
    fn output_and_grad(&mut self) -> (&[f32], &mut [f32]) {
        let output = if self.branches.len() > 1 {
            &self.product
        } else {
            &self.branches[0].act
        };
        (output, &mut self.grad_output)
    }

    /// The patches of a convolution of a `batch`-sample image.
    fn patches_of(&self, batch: usize) -> Option<Patches> {
        match self.kind {
            Kind::Conv {
                image,
                kernel,
                stride,
                out_h,
                out_w,
            } => Some(Patches {
                image,
                kernel,
                stride,
                out_h,
                out_w,
                batch,
            }),
            Kind::Dense => None,
        }
    }

    /// `Y` from `input` (`[c, h, w, batch]` for a convolution, `[d_in, batch]` dense).
    fn forward(&mut self, input: &[f32], batch: usize) {
        let columns = batch * self.pixels;
        if let Some(patches) = self.patches_of(batch) {
            patches.gather(input, &mut self.patches);
        }
        let x = match self.kind {
            Kind::Conv { .. } => &self.patches[..],
            Kind::Dense => input,
        };
        for branch in &mut self.branches {
            let (weight, bias) = (branch.params.weight(), branch.params.bias());
            match self.kind {
                Kind::Conv { .. } => {
                    for (z, &b) in branch.act.chunks_exact_mut(columns).zip(bias) {
                        z.fill(b);
                    }
                    product(
                        mat_mut(&mut branch.act, self.units, columns),
                        Accum::Add,
                        mat(weight, self.units, self.fan_in),
                        mat(x, self.fan_in, columns),
                    );
                }
                Kind::Dense => {
                    // `Zᵀ = Xᵀ Wᵀ` sample by sample first: faer multiplies in that orientation
                    // faster (37 against 45 µs for MinAtar's 1024 -> 128 layer at batch 32).
                    product(
                        mat_mut(&mut self.samples_by_unit, columns, self.units),
                        Accum::Replace,
                        mat(x, self.fan_in, columns).transpose(),
                        mat(weight, self.fan_in, self.units),
                    );
                    for (unit, (z, &b)) in
                        branch.act.chunks_exact_mut(columns).zip(bias).enumerate()
                    {
                        for (column, z) in z.iter_mut().enumerate() {
                            *z = self.samples_by_unit[column * self.units + unit] + b;
                        }
                    }
                }
            }
            activate(branch.activation, &mut branch.act);
        }
        if let [a, b] = &self.branches[..] {
            for ((y, &a), &b) in self.product.iter_mut().zip(&a.act).zip(&b.act) {
                *y = a * b;
            }
        }
    }

    /// `dZ`, `dW`, `db` of every branch from `grad_output`, and the previous layer's `dY`
    /// where there is one (`previous`: its `Y`, this layer's input, and its `dY`; `obs` is the
    /// first layer's input).
    fn backward(
        &mut self,
        obs: &[f32],
        previous: Option<(&[f32], &mut [f32])>,
        batch: usize,
        grads: &mut GradientsParams,
        device: &Device,
    ) {
        let columns = batch * self.pixels;
        match &mut self.branches[..] {
            [single] => backprop(
                single.activation,
                &mut single.grad_z,
                &self.grad_output,
                &single.act,
                None,
            ),
            [first, second] => {
                backprop(
                    first.activation,
                    &mut first.grad_z,
                    &self.grad_output,
                    &first.act,
                    Some(&second.act),
                );
                backprop(
                    second.activation,
                    &mut second.grad_z,
                    &self.grad_output,
                    &second.act,
                    Some(&first.act),
                );
            }
            _ => unreachable!("a layer has one branch or two"),
        }
        let (input, mut previous_grad) = match previous {
            Some((output, grad)) => (output, Some(grad)),
            None => (obs, None),
        };
        let x = match self.kind {
            Kind::Conv { .. } => &self.patches[..],
            Kind::Dense => input,
        };
        for (index, branch) in self.branches.iter().enumerate() {
            let grad_z = mat(&branch.grad_z, self.units, columns);
            let w = weight_matrix(self.kind, self.units, self.fan_in, branch.params.weight());
            let mut weight_grad = vec![0.0; self.units * self.fan_in];
            let weight_grad_matrix = match self.kind {
                Kind::Conv { .. } => mat_mut(&mut weight_grad, self.units, self.fan_in),
                Kind::Dense => mat_mut(&mut weight_grad, self.fan_in, self.units).transpose_mut(),
            };
            product(
                weight_grad_matrix,
                Accum::Replace,
                grad_z,
                mat(x, self.fan_in, columns).transpose(),
            );
            let bias_grad = branch.grad_z.chunks_exact(columns).map(sum).collect();
            register(grads, &branch.params, weight_grad, bias_grad, device);
            let accumulate = if index == 0 {
                Accum::Replace
            } else {
                Accum::Add
            };
            let grad_x = match (self.kind, previous_grad.as_deref_mut()) {
                (_, None) => continue,
                (Kind::Conv { .. }, Some(_)) => &mut self.grad_patches[..],
                (Kind::Dense, Some(grad)) => grad,
            };
            product(
                mat_mut(grad_x, self.fan_in, columns),
                accumulate,
                w.transpose(),
                grad_z,
            );
        }
        if let (Some(patches), Some(grad)) = (self.patches_of(batch), previous_grad) {
            patches.scatter_add(&self.grad_patches, grad);
        }
    }
}

/// `out = scale · inᵀ` for `input` `[rows, cols]`, in square tiles that stay in the L1 cache.
fn transpose_scaled(input: &[f32], rows: usize, cols: usize, scale: f32, out: &mut [f32]) {
    const TILE: usize = 32;
    for row_start in (0..rows).step_by(TILE) {
        let row_end = (row_start + TILE).min(rows);
        for col_start in (0..cols).step_by(TILE) {
            let col_end = (col_start + TILE).min(cols);
            for row in row_start..row_end {
                let values = &input[row * cols + col_start..row * cols + col_end];
                for (col, &value) in (col_start..col_end).zip(values) {
                    out[col * rows + row] = value * scale;
                }
            }
        }
    }
}

/// `W` of a layer's stored `weight`, `[units, fan_in]`.
fn weight_matrix(kind: Kind, units: usize, fan_in: usize, weight: &[f32]) -> MatRef<'_, f32> {
    match kind {
        Kind::Conv { .. } => mat(weight, units, fan_in),
        Kind::Dense => mat(weight, fan_in, units).transpose(),
    }
}

/// `Σ values`, in sixteen interleaved partial sums (which the compiler keeps in one vector
/// register) added at the end.
fn sum(values: &[f32]) -> f32 {
    let mut lanes = [0.0f32; 16];
    let chunks = values.chunks_exact(16);
    let rest: f32 = chunks.remainder().iter().sum();
    for chunk in chunks {
        for (lane, &v) in lanes.iter_mut().zip(chunk) {
            *lane += v;
        }
    }
    lanes.iter().sum::<f32>() + rest
}

/// Products of at least this many multiply-adds run on the threads of rayon's pool (`--threads`;
/// faer splits the output between them, so each float is summed as on one thread); smaller ones,
/// all of MinAtar's, lose more to the hand-off than they gain.
const PARALLEL_PRODUCT: usize = 1 << 24;

/// `dst = lhs rhs`, or `dst += lhs rhs`.
fn product(dst: MatMut<'_, f32>, accumulate: Accum, lhs: MatRef<'_, f32>, rhs: MatRef<'_, f32>) {
    let multiply_adds = dst.nrows() * dst.ncols() * lhs.ncols();
    let parallelism = if multiply_adds >= PARALLEL_PRODUCT {
        Par::rayon(0)
    } else {
        Par::Seq
    };
    matmul(dst, accumulate, lhs, rhs, 1.0, parallelism);
}

fn mat(values: &[f32], rows: usize, cols: usize) -> MatRef<'_, f32> {
    MatRef::from_row_major_slice(&values[..rows * cols], rows, cols)
}

fn mat_mut(values: &mut [f32], rows: usize, cols: usize) -> MatMut<'_, f32> {
    MatMut::from_row_major_slice_mut(&mut values[..rows * cols], rows, cols)
}

/// `A = act(Z)` in place. This and [`backprop`] are compiled for AVX-512 too, the CPU picking
/// at run time; no fused multiply-add is formed either way, so results do not depend on it.
#[multiversion(targets("x86_64+avx512f"))]
fn activate(activation: Activation, values: &mut [f32]) {
    match activation {
        Activation::Relu => values.iter_mut().for_each(|v| *v = v.max(0.0)),
        Activation::Tanh => values.iter_mut().for_each(|v| *v = v.tanh()),
        Activation::Sigmoid => values
            .iter_mut()
            .for_each(|v| *v = 1.0 / (1.0 + (-*v).exp())),
        Activation::Identity => {}
        Activation::Crelu | Activation::Gelu => {
            unreachable!("FusedQ::new declines {activation:?}")
        }
    }
}

/// `dZ = dY ⊙ act'(Z)`, or `dY ⊙ other ⊙ act'(Z)` for a branch of a Hadamard layer whose other
/// branch's activations are `other`, with `act'` taken from the activations `A = act(Z)`.
#[multiversion(targets("x86_64+avx512f"))]
fn backprop(
    activation: Activation,
    grad_z: &mut [f32],
    grad_y: &[f32],
    act: &[f32],
    other: Option<&[f32]>,
) {
    match activation {
        Activation::Relu => chain(
            grad_z,
            grad_y,
            act,
            other,
            |a| {
                if a > 0.0 { 1.0 } else { 0.0 }
            },
        ),
        Activation::Tanh => chain(grad_z, grad_y, act, other, |a| 1.0 - a * a),
        Activation::Sigmoid => chain(grad_z, grad_y, act, other, |a| a * (1.0 - a)),
        Activation::Identity => chain(grad_z, grad_y, act, other, |_| 1.0),
        Activation::Crelu | Activation::Gelu => {
            unreachable!("FusedQ::new declines {activation:?}")
        }
    }
}

/// [`backprop`] for one derivative, a loop the compiler vectorises.
#[inline(always)]
fn chain(
    grad_z: &mut [f32],
    grad_y: &[f32],
    act: &[f32],
    other: Option<&[f32]>,
    derivative: impl Fn(f32) -> f32,
) {
    let rows = grad_z.iter_mut().zip(grad_y).zip(act);
    match other {
        None => rows.for_each(|((dz, &dy), &a)| *dz = dy * derivative(a)),
        Some(other) => rows
            .zip(other)
            .for_each(|(((dz, &dy), &a), &b)| *dz = dy * b * derivative(a)),
    }
}

fn supported(activation: Activation) -> bool {
    matches!(
        activation,
        Activation::Relu | Activation::Tanh | Activation::Sigmoid | Activation::Identity
    )
}

fn conv_branch(branch: &ConvBranch) -> Option<Branch> {
    if branch.norm.is_some() || !supported(branch.activation) {
        return None;
    }
    Some(Branch::new(branch.activation, conv_params(branch)?))
}

fn dense_branch(branch: &DenseBranch) -> Option<Branch> {
    if branch.norm.is_some() || !supported(branch.activation) {
        return None;
    }
    Some(Branch::new(
        branch.activation,
        linear_params(&branch.linear)?,
    ))
}

impl Branch {
    fn new(activation: Activation, params: Affine) -> Self {
        Branch {
            activation,
            params,
            act: Vec::new(),
            grad_z: Vec::new(),
        }
    }
}

fn conv_params(branch: &ConvBranch) -> Option<Affine> {
    read(&branch.conv.weight, branch.conv.bias.as_ref()?)
}

fn linear_params(linear: &Linear) -> Option<Affine> {
    read(&linear.weight, linear.bias.as_ref()?)
}

fn read<const D: usize>(weight: &Param<Tensor<D>>, bias: &Param<Tensor<1>>) -> Option<Affine> {
    Some(Affine {
        weight_id: weight.id,
        weight_shape: weight.val().dims().to_vec(),
        bias_id: bias.id,
        values: Some((host_values(weight)?, host_values(bias)?)),
    })
}

/// The values of `param` as the CPU backend holds them, without a copy where they are contiguous
/// `f32` (as parameters are); `None` off the CPU backend or for another element type.
fn host_values<const D: usize>(param: &Param<Tensor<D>>) -> Option<FlexTensor> {
    let values = param.val().inner().try_into_primitive::<Flex>().ok()?;
    if values.dtype() != DType::F32 {
        return None;
    }
    Some(if values.as_slice::<f32>().is_some() {
        values
    } else {
        values.to_contiguous()
    })
}

fn f32s(values: &FlexTensor) -> &[f32] {
    values
        .as_slice::<f32>()
        .expect("host_values keeps contiguous f32 values only")
}

/// Registers the gradients of `params`, shaped as the parameters are.
fn register(
    grads: &mut GradientsParams,
    params: &Affine,
    weight_grad: Vec<f32>,
    bias_grad: Vec<f32>,
    device: &Device,
) {
    let shape = params.weight_shape.clone();
    let weight_grad = TensorData::new(weight_grad, shape);
    match params.weight_shape.len() {
        2 => grads.register(
            params.weight_id,
            Tensor::<2>::from_data(weight_grad, device),
        ),
        4 => grads.register(
            params.weight_id,
            Tensor::<4>::from_data(weight_grad, device),
        ),
        rank => unreachable!("weights are matrices or convolution kernels, not rank {rank}"),
    }
    let units = bias_grad.len();
    let bias_grad = TensorData::new(bias_grad, [units]);
    grads.register(params.bias_id, Tensor::<1>::from_data(bias_grad, device));
}

/// A convolution's patches: `X[(c, ky, kx), (oy, ox, sample)]` is the image's
/// `(c, oy stride + ky, ox stride + kx, sample)`.
struct Patches {
    image: Image,
    kernel: usize,
    stride: usize,
    out_h: usize,
    out_w: usize,
    batch: usize,
}

impl Patches {
    /// Calls `run(patch_run, image_start)` for every run of patch elements that lie
    /// consecutively in the image too: a whole output row of all samples at stride 1, one
    /// output pixel of all samples otherwise.
    fn for_each_run(&self, mut run: impl FnMut(std::ops::Range<usize>, usize)) {
        let (batch, stride) = (self.batch, self.stride);
        let columns = self.out_h * self.out_w * batch;
        let pixels_per_run = if stride == 1 { self.out_w } else { 1 };
        let run_len = pixels_per_run * batch;
        let mut row = 0;
        for channel in 0..self.image.channels {
            for ky in 0..self.kernel {
                for kx in 0..self.kernel {
                    for oy in 0..self.out_h {
                        for ox in (0..self.out_w).step_by(pixels_per_run) {
                            let start = row * columns + (oy * self.out_w + ox) * batch;
                            let y = oy * stride + ky;
                            let x = ox * stride + kx;
                            let pixel =
                                ((channel * self.image.height + y) * self.image.width + x) * batch;
                            run(start..start + run_len, pixel);
                        }
                    }
                    row += 1;
                }
            }
        }
    }

    /// `patches = X` from `image`.
    fn gather(&self, image: &[f32], patches: &mut [f32]) {
        self.for_each_run(|run, pixel| {
            let len = run.len();
            patches[run].copy_from_slice(&image[pixel..pixel + len]);
        });
    }

    /// The adjoint of [`gather`](Self::gather): `image` is zeroed, then every patch element's
    /// value added to the pixel it was read from.
    fn scatter_add(&self, patches: &[f32], image: &mut [f32]) {
        image.fill(0.0);
        self.for_each_run(|run, pixel| {
            let values = &patches[run];
            for (x, &v) in image[pixel..pixel + values.len()].iter_mut().zip(values) {
                *x += v;
            }
        });
    }
}
