//! Whole networks: a torso with a Q head, or with actor and critic heads sharing it.
//!
//! ```
//! use hrl_nn::network::{Head, NetworkConfig};
//! use hrl_nn::torso::{TorsoConfig, TorsoKind};
//!
//! let torso = TorsoConfig::new(TorsoKind::Nature, "hr-tanh".parse().unwrap());
//! let net = NetworkConfig { torso, head: Head::default(), num_actions: 6 };
//! assert_eq!(net.num_params().unwrap(), 1_687_206 + 1_606_144);
//! ```

use burn::module::Module;
use burn::nn::Linear;
use burn::tensor::{Device, Tensor};

use crate::dense::{LayerOutput, linear};
use crate::init::Init;
use crate::repr::{Branches, ReprSpec, Width};
use crate::torso::{HrPlacement, NetError, Torso, TorsoConfig, TorsoPlan, hidden_layer_names};

/// The output heads.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum Head {
    /// One Q-value per action.
    Q {
        /// Initialiser of the head.
        init: Init,
    },
    /// Action logits and a state value, both reading the representation.
    ActorCritic {
        /// Initialiser of the actor head (cleanrl: orthogonal, gain 0.01).
        actor_init: Init,
        /// Initialiser of the critic head (cleanrl: orthogonal, gain 1).
        critic_init: Init,
    },
}

impl Default for Head {
    fn default() -> Self {
        Head::Q {
            init: Init::TorchDefault,
        }
    }
}

impl Head {
    /// cleanrl PPO's actor-critic heads.
    pub fn cleanrl_actor_critic() -> Head {
        Head::ActorCritic {
            actor_init: Init::Orthogonal { gain: 0.01 },
            critic_init: Init::Orthogonal { gain: 1.0 },
        }
    }

    /// Output units per representation unit: `|A|` for Q, `|A| + 1` for actor-critic.
    fn outputs(self, num_actions: usize) -> usize {
        match self {
            Head::Q { .. } => num_actions,
            Head::ActorCritic { .. } => num_actions + 1,
        }
    }
}

/// A whole network.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkConfig {
    /// The torso.
    pub torso: TorsoConfig,
    /// The heads.
    pub head: Head,
    /// Number of discrete actions.
    pub num_actions: usize,
}

/// One row of a network summary.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct LayerSummary {
    /// `conv1`, `fc1`, `repr`, `q`, `actor`, `critic`.
    pub name: String,
    /// `conv` or `dense`.
    pub kind: &'static str,
    /// The layer's spec (`relu`, `hr-tanh+ln`, `identity` for heads).
    pub spec: String,
    /// Input shape of one sample.
    pub input: Vec<usize>,
    /// Output shape of one sample.
    pub output: Vec<usize>,
    /// Trainable parameters.
    pub params: usize,
}

impl NetworkConfig {
    /// The representation width, resolving `@matched`: the width whose single-branch network has
    /// the parameter count nearest to the Hadamard network at the default width.
    pub fn repr_width(&self) -> Result<usize, NetError> {
        let default = self.torso.kind.default_width();
        match self.torso.repr.width {
            Width::Default => Ok(default),
            Width::Fixed(units) => Ok(units),
            Width::Matched => {
                if self.torso.placement == HrPlacement::All {
                    return Err(NetError::MatchedPlacement {
                        repr: self.torso.repr.to_string(),
                    });
                }
                let hadamard = self.with_repr(self.torso.repr.hadamard_counterpart());
                let target = hadamard.num_params_at(default)? as f64;
                // The count is affine in the width: P(w) = intercept + slope * w.
                let at_one = self.num_params_at(1)? as f64;
                let slope = self.num_params_at(2)? as f64 - at_one;
                Ok((((target - at_one) / slope) + 1.0).round().max(1.0) as usize)
            }
        }
    }

    /// Trainable parameters of the whole network.
    pub fn num_params(&self) -> Result<usize, NetError> {
        self.num_params_at(self.repr_width()?)
    }

    /// The torso's layer configs at the resolved width.
    pub fn torso_plan(&self) -> Result<TorsoPlan, NetError> {
        self.check_actions()?;
        self.torso.plan(self.repr_width()?)
    }

    /// Per-layer summary, input to output.
    pub fn summary(&self) -> Result<Vec<LayerSummary>, NetError> {
        let plan = self.torso_plan()?;
        let mut rows = Vec::new();
        let mut shape = plan.obs_shape.clone();
        let mut names = hidden_layer_names(plan.convs.len(), plan.hidden.len()).into_iter();
        for (conv, name) in plan.convs.iter().zip(&mut names) {
            let output = vec![
                conv.output_channels(),
                conv.output_side(shape[1]).unwrap_or(0),
                conv.output_side(shape[2]).unwrap_or(0),
            ];
            rows.push(LayerSummary {
                name,
                kind: "conv",
                spec: layer_spec(conv.branches, conv.layer_norm.is_some()),
                input: shape,
                output: output.clone(),
                params: conv.num_params(),
            });
            shape = output;
        }
        let dense = plan.hidden.iter().chain(std::iter::once(&plan.repr));
        for (layer, name) in dense.zip(&mut names) {
            rows.push(LayerSummary {
                name,
                kind: "dense",
                spec: layer_spec(layer.branches, layer.layer_norm.is_some()),
                input: vec![layer.d_input],
                output: vec![layer.output_features()],
                params: layer.num_params(),
            });
        }
        let width = plan.repr.output_features();
        let head = |name: &str, units: usize| LayerSummary {
            name: name.to_string(),
            kind: "dense",
            spec: "identity".to_string(),
            input: vec![width],
            output: vec![units],
            params: (width + 1) * units,
        };
        match self.head {
            Head::Q { .. } => rows.push(head("q", self.num_actions)),
            Head::ActorCritic { .. } => {
                rows.push(head("actor", self.num_actions));
                rows.push(head("critic", 1));
            }
        }
        Ok(rows)
    }

    /// Builds a Q-network; the head of the config must be [`Head::Q`].
    pub fn init_q(&self, device: &Device) -> Result<QNetwork, NetError> {
        let Head::Q { init } = self.head else {
            return Err(NetError::HeadKind {
                wanted: "a Q head",
                found: "actor-critic",
            });
        };
        let torso = self.torso_plan()?;
        let width = torso.repr.output_features();
        Ok(QNetwork {
            torso: torso.init(device),
            head: linear(width, self.num_actions, init, device),
        })
    }

    /// Builds an actor-critic network; the head of the config must be [`Head::ActorCritic`].
    pub fn init_actor_critic(&self, device: &Device) -> Result<ActorCritic, NetError> {
        let Head::ActorCritic {
            actor_init,
            critic_init,
        } = self.head
        else {
            return Err(NetError::HeadKind {
                wanted: "an actor-critic head",
                found: "Q",
            });
        };
        let torso = self.torso_plan()?;
        let width = torso.repr.output_features();
        Ok(ActorCritic {
            torso: torso.init(device),
            actor: linear(width, self.num_actions, actor_init, device),
            critic: linear(width, 1, critic_init, device),
        })
    }

    fn check_actions(&self) -> Result<(), NetError> {
        if self.num_actions == 0 {
            return Err(NetError::Zero {
                what: "the number of actions",
            });
        }
        Ok(())
    }

    fn with_repr(&self, repr: ReprSpec) -> NetworkConfig {
        let mut config = self.clone();
        config.torso.repr = repr;
        config
    }

    fn num_params_at(&self, width: usize) -> Result<usize, NetError> {
        self.check_actions()?;
        let torso = self.torso.plan(width)?;
        let features = torso.repr.output_features();
        Ok(torso.num_params() + (features + 1) * self.head.outputs(self.num_actions))
    }
}

fn layer_spec(branches: Branches, layer_norm: bool) -> String {
    ReprSpec {
        branches,
        layer_norm,
        width: Width::Default,
    }
    .to_string()
}

/// Output of a network's torso kept beside the head outputs, for diagnostics.
pub type Representation = LayerOutput<2>;

/// A torso and a linear Q head.
#[derive(Module, Debug)]
pub struct QNetwork {
    /// The torso.
    pub torso: Torso,
    /// `[batch, width] -> [batch, num_actions]`.
    pub head: Linear,
}

impl QNetwork {
    /// `[batch, prod(obs_shape)] -> [batch, num_actions]`.
    pub fn forward(&self, obs: Tensor<2>) -> Tensor<2> {
        self.head.forward(self.torso.forward(obs).output)
    }

    /// Q-values and the representation they were computed from.
    pub fn forward_with_repr(&self, obs: Tensor<2>) -> (Tensor<2>, Representation) {
        let repr = self.torso.forward(obs);
        (self.head.forward(repr.output.clone()), repr)
    }
}

/// A torso shared by a policy (actor) head and a value (critic) head.
#[derive(Module, Debug)]
pub struct ActorCritic {
    /// The shared torso.
    pub torso: Torso,
    /// `[batch, width] -> [batch, num_actions]` logits.
    pub actor: Linear,
    /// `[batch, width] -> [batch, 1]` state value.
    pub critic: Linear,
}

impl ActorCritic {
    /// `[batch, prod(obs_shape)] -> (logits [batch, num_actions], value [batch, 1])`.
    pub fn forward(&self, obs: Tensor<2>) -> (Tensor<2>, Tensor<2>) {
        let (logits, value, _) = self.forward_with_repr(obs);
        (logits, value)
    }

    /// Logits, values, and the representation they were computed from.
    pub fn forward_with_repr(&self, obs: Tensor<2>) -> (Tensor<2>, Tensor<2>, Representation) {
        let repr = self.torso.forward(obs);
        let logits = self.actor.forward(repr.output.clone());
        let value = self.critic.forward(repr.output.clone());
        (logits, value, repr)
    }
}

/// What the interventions and per-layer tools need of a whole network, whatever its heads: the
/// torso, the heads that read the representation, and a fresh network of the same config.
pub trait Network: Module + Sized {
    /// The torso.
    fn torso(&self) -> &Torso;

    /// The heads reading the representation, in visiting order: the Q head, or the actor and
    /// the critic.
    fn heads(&self) -> Vec<&Linear>;

    /// A freshly initialised network of `config` (its head kind must be this network's).
    fn init(config: &NetworkConfig, device: &Device) -> Result<Self, NetError>;

    /// Each head's outputs on `obs`, named as the network summary names the heads: `q`, or
    /// `actor` (logits) and `critic` (value).
    fn head_outputs(&self, obs: Tensor<2>) -> Vec<(&'static str, Tensor<2>)>;
}

impl Network for QNetwork {
    fn torso(&self) -> &Torso {
        &self.torso
    }

    fn heads(&self) -> Vec<&Linear> {
        vec![&self.head]
    }

    fn init(config: &NetworkConfig, device: &Device) -> Result<Self, NetError> {
        config.init_q(device)
    }

    fn head_outputs(&self, obs: Tensor<2>) -> Vec<(&'static str, Tensor<2>)> {
        vec![("q", self.forward(obs))]
    }
}

impl Network for ActorCritic {
    fn torso(&self) -> &Torso {
        &self.torso
    }

    fn heads(&self) -> Vec<&Linear> {
        vec![&self.actor, &self.critic]
    }

    fn init(config: &NetworkConfig, device: &Device) -> Result<Self, NetError> {
        config.init_actor_critic(device)
    }

    fn head_outputs(&self, obs: Tensor<2>) -> Vec<(&'static str, Tensor<2>)> {
        let (logits, value) = self.forward(obs);
        vec![("actor", logits), ("critic", value)]
    }
}
