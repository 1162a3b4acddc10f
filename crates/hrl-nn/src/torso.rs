//! Torsos: the Nature CNN, the MinAtar CNN and an MLP, each ending in the representation layer.
//!
//! | torso | input | layers before the representation | representation (default width) |
//! |---|---|---|---|
//! | `nature` | `[4, 84, 84]` | conv 32 k8 s4, conv 64 k4 s2, conv 64 k3 s1 (ReLU), flatten 3136 | 512 |
//! | `minatar` | `[C, 10, 10]` | conv 16 k3 s1 (ReLU), flatten 1024 | 128 |
//! | `mlp` | `[D]` | dense 64 (ReLU) | 64 |
//!
//! The representation spec decides the final hidden layer. With [`HrPlacement::All`] it decides
//! every hidden layer, convolutions included. `layer_norm_all` puts a LayerNorm before every
//! hidden activation (PQN's network), the representation layer included.

use burn::module::Module;
use burn::tensor::{Device, Tensor};

use crate::conv::{ConvLayer, ConvLayerConfig};
use crate::dense::{DenseLayer, DenseLayerConfig, LayerOutput};
use crate::init::Init;
use crate::repr::{Activation, Branches, ReprSpec};

/// The most values an observation may have (2^28: a 16384 x 16384 image), which keeps every
/// parameter count of the networks here far inside `usize`, with widths up to
/// [`crate::repr::MAX_WIDTH`].
pub const MAX_OBS_ELEMENTS: usize = 1 << 28;

/// LayerNorm's epsilon unless a network says otherwise: PyTorch's and burn's.
pub const DEFAULT_LAYER_NORM_EPSILON: f64 = 1e-5;

/// Errors in a network description.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NetError {
    /// A convolutional torso got an observation that is not `[C, H, W]`.
    #[error("torso `{torso}` needs observations of shape [C, H, W], got {shape:?}")]
    ObsShape {
        /// The torso.
        torso: &'static str,
        /// The shape given.
        shape: Vec<usize>,
    },
    /// The observation is too small for a convolution.
    #[error(
        "torso `{torso}`: observation {shape:?} is too small for convolution {layer} (kernel {kernel}, input side {side})"
    )]
    TooSmall {
        /// The torso.
        torso: &'static str,
        /// The observation shape.
        shape: Vec<usize>,
        /// 1-based index of the convolution.
        layer: usize,
        /// Its kernel size.
        kernel: usize,
        /// The side length reaching it.
        side: usize,
    },
    /// An observation of more than [`MAX_OBS_ELEMENTS`] values.
    #[error("an observation of shape {shape:?} has more than {MAX_OBS_ELEMENTS} values")]
    ObsTooLarge {
        /// The observation shape.
        shape: Vec<usize>,
    },
    /// A layer of zero width, or an empty observation.
    #[error("{what} must be positive")]
    Zero {
        /// What was zero.
        what: &'static str,
    },
    /// A network built with the other kind of head.
    #[error("this network config has a {found} head; {wanted} was asked for")]
    HeadKind {
        /// The head the caller needs.
        wanted: &'static str,
        /// The head of the config.
        found: &'static str,
    },
    /// `@matched` with HR on every layer.
    #[error(
        "representation `{repr}`: @matched is defined for --hr-placement final only (it widens the final hidden layer)"
    )]
    MatchedPlacement {
        /// The spec.
        repr: String,
    },
}

/// The torso architectures.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TorsoKind {
    /// Mnih et al. 2015, for `[4, 84, 84]` Atari frames.
    Nature,
    /// Young and Tian 2019, for `[C, 10, 10]` MinAtar grids.
    Minatar,
    /// A multi-layer perceptron for vector observations.
    Mlp,
}

impl TorsoKind {
    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            TorsoKind::Nature => "nature",
            TorsoKind::Minatar => "minatar",
            TorsoKind::Mlp => "mlp",
        }
    }

    /// `(c_out, kernel, stride)` of each convolution.
    fn conv_stack(self) -> &'static [(usize, usize, usize)] {
        match self {
            TorsoKind::Nature => &[(32, 8, 4), (64, 4, 2), (64, 3, 1)],
            TorsoKind::Minatar => &[(16, 3, 1)],
            TorsoKind::Mlp => &[],
        }
    }

    /// Default width of the representation layer.
    pub fn default_width(self) -> usize {
        match self {
            TorsoKind::Nature => 512,
            TorsoKind::Minatar => 128,
            TorsoKind::Mlp => 64,
        }
    }

    /// Default widths of the dense layers between the input (or conv stack) and the
    /// representation layer.
    pub fn default_hidden(self) -> Vec<usize> {
        match self {
            TorsoKind::Nature | TorsoKind::Minatar => Vec::new(),
            TorsoKind::Mlp => vec![64],
        }
    }

    /// The default observation shape (`[4, 84, 84]`, `[4, 10, 10]`, `[4]`).
    pub fn default_obs_shape(self) -> Vec<usize> {
        match self {
            TorsoKind::Nature => vec![4, 84, 84],
            TorsoKind::Minatar => vec![4, 10, 10],
            TorsoKind::Mlp => vec![4],
        }
    }
}

impl std::str::FromStr for TorsoKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [TorsoKind::Nature, TorsoKind::Minatar, TorsoKind::Mlp]
            .into_iter()
            .find(|k| k.name() == s)
            .ok_or_else(|| format!("unknown torso `{s}`; valid: nature, minatar, mlp"))
    }
}

/// Which hidden layers the representation spec governs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum HrPlacement {
    /// Only the final hidden (representation) layer; the others use ReLU.
    #[default]
    Final,
    /// Every hidden layer, convolutions included.
    All,
}

/// Describes a torso.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TorsoConfig {
    /// The architecture.
    pub kind: TorsoKind,
    /// Observation shape: `[C, H, W]` for the CNNs, anything for the MLP (flattened).
    pub obs_shape: Vec<usize>,
    /// The representation spec.
    pub repr: ReprSpec,
    /// Which layers the spec governs.
    pub placement: HrPlacement,
    /// LayerNorm before every hidden activation (PQN).
    pub layer_norm_all: bool,
    /// The epsilon of every LayerNorm (added to the variance): PyTorch's and burn's 1e-5 by
    /// default, Flax's 1e-6 in the presets that follow JAX references.
    pub layer_norm_epsilon: f64,
    /// Widths of the dense layers before the representation layer.
    pub hidden: Vec<usize>,
    /// Initialiser of every torso layer.
    pub init: Init,
    /// Observations are multiplied by this before the first layer (`1/255` for Atari frames).
    pub input_scale: f64,
}

impl TorsoConfig {
    /// The defaults of `kind` with `repr`: default observation shape and hidden layers, PyTorch
    /// initialisation, no input scaling.
    pub fn new(kind: TorsoKind, repr: ReprSpec) -> TorsoConfig {
        TorsoConfig {
            kind,
            obs_shape: kind.default_obs_shape(),
            repr,
            placement: HrPlacement::Final,
            layer_norm_all: false,
            layer_norm_epsilon: DEFAULT_LAYER_NORM_EPSILON,
            hidden: kind.default_hidden(),
            init: Init::TorchDefault,
            input_scale: if kind == TorsoKind::Nature {
                1.0 / 255.0
            } else {
                1.0
            },
        }
    }

    /// The layer configs for a representation layer of `width` units.
    pub fn plan(&self, width: usize) -> Result<TorsoPlan, NetError> {
        let torso = self.kind.name();
        if width == 0 {
            return Err(NetError::Zero {
                what: "the representation width",
            });
        }
        if self.obs_shape.is_empty() || self.obs_shape.contains(&0) {
            return Err(NetError::Zero {
                what: "every observation dimension",
            });
        }
        let elements = self
            .obs_shape
            .iter()
            .try_fold(1usize, |product, &d| product.checked_mul(d));
        if elements.is_none_or(|n| n > MAX_OBS_ELEMENTS) {
            return Err(NetError::ObsTooLarge {
                shape: self.obs_shape.clone(),
            });
        }
        let spec_everywhere = self.placement == HrPlacement::All;
        let hidden_branches = if spec_everywhere {
            self.repr.branches
        } else {
            Branches::Single(Activation::Relu)
        };
        let norm = |on: bool| on.then_some(self.layer_norm_epsilon);
        let hidden_norm = norm(self.layer_norm_all || (spec_everywhere && self.repr.layer_norm));

        let mut convs = Vec::new();
        let mut features = self.obs_shape.iter().product::<usize>();
        let stack = self.kind.conv_stack();
        if !stack.is_empty() {
            let &[mut channels, mut height, mut width_px] = self.obs_shape.as_slice() else {
                return Err(NetError::ObsShape {
                    torso,
                    shape: self.obs_shape.clone(),
                });
            };
            for (index, &(c_out, kernel, stride)) in stack.iter().enumerate() {
                let conv = ConvLayerConfig {
                    c_in: channels,
                    c_out,
                    kernel,
                    stride,
                    branches: hidden_branches,
                    layer_norm: hidden_norm,
                    init: self.init,
                };
                let too_small = |side| NetError::TooSmall {
                    torso,
                    shape: self.obs_shape.clone(),
                    layer: index + 1,
                    kernel,
                    side,
                };
                height = conv.output_side(height).ok_or_else(|| too_small(height))?;
                width_px = conv
                    .output_side(width_px)
                    .ok_or_else(|| too_small(width_px))?;
                channels = conv.output_channels();
                convs.push(conv);
            }
            features = channels * height * width_px;
        }

        let mut hidden = Vec::new();
        for &units in &self.hidden {
            if units == 0 {
                return Err(NetError::Zero {
                    what: "every hidden width",
                });
            }
            let layer = DenseLayerConfig {
                d_input: features,
                d_output: units,
                branches: hidden_branches,
                layer_norm: hidden_norm,
                init: self.init,
            };
            features = layer.output_features();
            hidden.push(layer);
        }
        let repr = DenseLayerConfig {
            d_input: features,
            d_output: width,
            branches: self.repr.branches,
            layer_norm: norm(self.repr.layer_norm || self.layer_norm_all),
            init: self.init,
        };
        Ok(TorsoPlan {
            obs_shape: self.obs_shape.clone(),
            input_scale: self.input_scale,
            convs,
            hidden,
            repr,
        })
    }
}

/// A torso resolved into layer configs.
#[derive(Clone, Debug, PartialEq)]
pub struct TorsoPlan {
    /// Observation shape.
    pub obs_shape: Vec<usize>,
    /// Input scale.
    pub input_scale: f64,
    /// The convolutions, in order.
    pub convs: Vec<ConvLayerConfig>,
    /// The dense layers before the representation layer.
    pub hidden: Vec<DenseLayerConfig>,
    /// The representation layer.
    pub repr: DenseLayerConfig,
}

impl TorsoPlan {
    /// Trainable parameters of the torso.
    pub fn num_params(&self) -> usize {
        self.convs
            .iter()
            .map(ConvLayerConfig::num_params)
            .sum::<usize>()
            + self
                .hidden
                .iter()
                .map(DenseLayerConfig::num_params)
                .sum::<usize>()
            + self.repr.num_params()
    }

    /// Initialises the torso, layer by layer from the input.
    pub fn init(&self, device: &Device) -> Torso {
        Torso {
            convs: self.convs.iter().map(|c| c.init(device)).collect(),
            hidden: self.hidden.iter().map(|c| c.init(device)).collect(),
            repr: self.repr.init(device),
            obs_shape: self.obs_shape.clone(),
            input_scale: self.input_scale,
        }
    }
}

/// A torso: convolutions, dense layers, and the representation layer.
#[derive(Module, Debug)]
pub struct Torso {
    /// Convolutions (empty for the MLP).
    pub convs: Vec<ConvLayer>,
    /// Dense layers before the representation layer.
    pub hidden: Vec<DenseLayer>,
    /// The representation (final hidden) layer.
    pub repr: DenseLayer,
    /// Observation shape, `[C, H, W]` for the CNNs.
    #[module(skip)]
    pub obs_shape: Vec<usize>,
    /// Observations are multiplied by this first.
    #[module(skip)]
    pub input_scale: f64,
}

impl Torso {
    /// `[batch, prod(obs_shape)] -> [batch, width]`: flat observations in, representation out,
    /// with the branch activations of a Hadamard representation layer.
    pub fn forward(&self, obs: Tensor<2>) -> LayerOutput<2> {
        let [batch, _] = obs.dims();
        let x = self.scale(obs);
        let mut x = if self.convs.is_empty() {
            x
        } else {
            let mut image = self.image(x, batch);
            for conv in &self.convs {
                image = conv.forward_channels_last(image);
            }
            flatten_channel_major(image)
        };
        for layer in &self.hidden {
            x = layer.forward(x);
        }
        self.repr.forward_parts(x)
    }

    /// Every hidden layer's output on `obs`, input to output, named as
    /// [`hidden_layer_names`] names them: a convolution's as `[batch * h' * w', channels]` (its
    /// output pixels are the rows, its channels the units), a dense layer's as
    /// `[batch, features]`, each with the branch activations of a Hadamard layer. The last is
    /// what [`forward`](Self::forward) returns.
    pub fn forward_hidden(&self, obs: Tensor<2>) -> Vec<LayerOutput<2>> {
        let [batch, _] = obs.dims();
        let mut outputs = Vec::with_capacity(self.convs.len() + self.hidden.len() + 1);
        let mut x = self.scale(obs);
        if !self.convs.is_empty() {
            let mut image = self.image(x, batch);
            for conv in &self.convs {
                let (rows, out_h, out_w) = conv.forward_parts(image);
                let channels = rows.output.dims()[1];
                image = rows.output.clone().reshape([batch, out_h, out_w, channels]);
                outputs.push(rows);
            }
            x = flatten_channel_major(image);
        }
        for layer in &self.hidden {
            let parts = layer.forward_parts(x);
            x = parts.output.clone();
            outputs.push(parts);
        }
        outputs.push(self.repr.forward_parts(x));
        outputs
    }

    fn scale(&self, obs: Tensor<2>) -> Tensor<2> {
        if self.input_scale == 1.0 {
            obs
        } else {
            obs.mul_scalar(self.input_scale)
        }
    }

    /// `[batch, C * H * W]` -> `[batch, H, W, C]`, channels last.
    fn image(&self, x: Tensor<2>, batch: usize) -> Tensor<4> {
        x.reshape([
            batch,
            self.obs_shape[0],
            self.obs_shape[1],
            self.obs_shape[2],
        ])
        .permute([0, 2, 3, 1])
    }

    /// The names of the hidden layers, input to output (see [`hidden_layer_names`]).
    pub fn layer_names(&self) -> Vec<String> {
        hidden_layer_names(self.convs.len(), self.hidden.len())
    }
}

/// `[batch, h, w, c]` -> `[batch, c * h * w]`, flattened channel-major as PyTorch flattens
/// `[batch, c, h, w]`.
fn flatten_channel_major(image: Tensor<4>) -> Tensor<2> {
    image.permute([0, 3, 1, 2]).flatten(1, 3)
}

/// The names of a torso's hidden layers, input to output: `conv1`, `conv2`, ... for the
/// convolutions, `fc1`, `fc2`, ... for the dense layers before the representation, and `repr`;
/// the names of the network summary, the per-layer diagnostics and the interventions.
pub fn hidden_layer_names(convs: usize, dense: usize) -> Vec<String> {
    (1..=convs)
        .map(|i| format!("conv{i}"))
        .chain((1..=dense).map(|i| format!("fc{i}")))
        .chain(std::iter::once(REPR_LAYER.to_string()))
        .collect()
}

/// The name of the representation (final hidden) layer.
pub const REPR_LAYER: &str = "repr";
