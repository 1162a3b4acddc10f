//! Interventions against plasticity loss, each a section of a run's config, off unless present,
//! usable with every algorithm and every representation spec:
//!
//! | section | what it does | source |
//! |---|---|---|
//! | `[redo]` `period`, `tau`, `batch` | every `period` updates, hidden units whose τ-dormant score on `batch` recent states is <= `tau` get fresh incoming weights and zero outgoing weights, and zero optimiser moments on both | Sokar et al. 2023 |
//! | `[shrink_perturb]` `period`, `shrink`, `perturb` | every `period` updates, every parameter `θ <- shrink · θ + perturb · θ_fresh` | Ash and Adams 2020 |
//! | `[reset]` `period`, `layers` | every `period` updates, the last `layers` layers (the heads count as one) are re-initialised and their optimiser state dropped | Nikishin et al. 2022 |
//! | `[l2_init]` `coef` | every gradient step adds the gradient of `coef · ‖θ − θ0‖²` (θ0 the initial parameters, kept in checkpoints) before clipping | Kumar et al. 2023 |
//!
//! An *update* is the algorithm's unit of learning: one gradient step for DQN, one rollout and
//! its epochs for PPO and PQN. Interventions fire after updates `period`, `2 · period`, ...,
//! in the order ReDo, shrink-and-perturb, reset. Their fresh initialisations are drawn from a
//! seed derived from the run's seed, the update and the intervention, so a resumed run draws
//! the same values as an uninterrupted one.
//!
//! The network half of each is [`hrl_nn::intervene`]; the optimiser half is
//! [`crate::optim::state_edit`].

use std::collections::HashMap;
use std::path::Path;

use burn::module::{ModuleVisitor, Param, ParamId};
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::tensor::{Device, Tensor};
use hrl_nn::diag::DiagConfig;
use hrl_nn::health::NetworkHealth;
use hrl_nn::intervene::{self, Recycled};
use hrl_nn::network::{Network, NetworkConfig};
use hrl_nn::surgery::{fresh_values, param_ids};

use crate::AgentError;
use crate::checkpoint;
use crate::optim::state_edit;
use crate::tensor::rows_tensor;

/// ReDo's settings.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedoConfig {
    /// Updates between recyclings.
    pub period: u64,
    /// Units with a τ-dormant score at most this are recycled (0 recycles only silent units).
    #[serde(default = "RedoConfig::default_tau")]
    pub tau: f64,
    /// Recent states the scores are computed on (the agent's probe states: the replay buffer
    /// for DQN, the last rollout for PPO and PQN).
    #[serde(default = "RedoConfig::default_batch")]
    pub batch: usize,
}

impl RedoConfig {
    fn default_tau() -> f64 {
        0.1
    }

    fn default_batch() -> usize {
        256
    }
}

/// Shrink-and-perturb's settings; the defaults make `θ <- 0.8 θ + 0.2 θ_fresh`, an
/// interpolation towards a fresh initialisation.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShrinkPerturbConfig {
    /// Updates between applications.
    pub period: u64,
    /// λ, the factor on the trained parameters.
    #[serde(default = "ShrinkPerturbConfig::default_shrink")]
    pub shrink: f64,
    /// σ, the factor on the fresh initialisation.
    #[serde(default = "ShrinkPerturbConfig::default_perturb")]
    pub perturb: f64,
}

impl ShrinkPerturbConfig {
    fn default_shrink() -> f64 {
        0.8
    }

    fn default_perturb() -> f64 {
        0.2
    }
}

/// Periodic resets' settings.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResetConfig {
    /// Updates between resets.
    pub period: u64,
    /// Layers reset, from the top: 1 is the heads, 2 adds the representation layer, ...
    #[serde(default = "ResetConfig::default_layers")]
    pub layers: usize,
}

impl ResetConfig {
    fn default_layers() -> usize {
        1
    }
}

/// L2-init's settings.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct L2InitConfig {
    /// λ in `λ · ‖θ − θ0‖²`.
    pub coef: f64,
}

/// The interventions of a run, each absent (off) by default.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Interventions {
    /// ReDo.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redo: Option<RedoConfig>,
    /// Shrink-and-perturb.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shrink_perturb: Option<ShrinkPerturbConfig>,
    /// Periodic resets of the last layers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reset: Option<ResetConfig>,
    /// L2 regularisation towards the initial parameters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub l2_init: Option<L2InitConfig>,
}

impl Interventions {
    /// Checks every value; errors name the key (`redo.period`, ...).
    pub fn validate(&self) -> Result<(), AgentError> {
        let positive = |key, period: u64| {
            if period == 0 {
                Err(AgentError::config(key, "must be at least 1 (updates)"))
            } else {
                Ok(())
            }
        };
        let finite_non_negative = |key, value: f64| {
            if value.is_finite() && value >= 0.0 {
                Ok(())
            } else {
                Err(AgentError::config(
                    key,
                    format!("must be finite and >= 0, got {value}"),
                ))
            }
        };
        if let Some(redo) = &self.redo {
            positive("redo.period", redo.period)?;
            finite_non_negative("redo.tau", redo.tau)?;
            if redo.batch == 0 {
                return Err(AgentError::config("redo.batch", "must be at least 1 state"));
            }
        }
        if let Some(sp) = &self.shrink_perturb {
            positive("shrink_perturb.period", sp.period)?;
            finite_non_negative("shrink_perturb.shrink", sp.shrink)?;
            finite_non_negative("shrink_perturb.perturb", sp.perturb)?;
        }
        if let Some(reset) = &self.reset {
            positive("reset.period", reset.period)?;
            if reset.layers == 0 {
                return Err(AgentError::config(
                    "reset.layers",
                    "must be at least 1 layer",
                ));
            }
        }
        if let Some(l2) = &self.l2_init {
            finite_non_negative("l2_init.coef", l2.coef)?;
        }
        Ok(())
    }

    /// Whether any intervention is on.
    pub fn any(&self) -> bool {
        self.redo.is_some()
            || self.shrink_perturb.is_some()
            || self.reset.is_some()
            || self.l2_init.is_some()
    }
}

/// File of the initial network inside a checkpoint folder (L2-init's θ0 and the per-layer
/// distance from initialisation).
pub const INITIAL_FILE: &str = "initial.bpk";

/// What the interventions did after one update, for the log.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Applied {
    /// ReDo's recycling, per hidden layer.
    pub redo: Option<Vec<Recycled>>,
    /// Shrink-and-perturb was applied.
    pub shrink_perturb: bool,
    /// Parameters reset.
    pub reset: Option<usize>,
}

impl std::fmt::Display for Applied {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut parts = Vec::new();
        if let Some(layers) = &self.redo {
            let counts: Vec<String> = layers
                .iter()
                .map(|l| format!("{} {}/{}", l.layer, l.recycled, l.units))
                .collect();
            parts.push(format!("ReDo recycled {}", counts.join(", ")));
        }
        if self.shrink_perturb {
            parts.push("shrink-and-perturb".to_string());
        }
        if let Some(params) = self.reset {
            parts.push(format!("reset {params} parameter tensors"));
        }
        f.write_str(&parts.join("; "))
    }
}

/// Salts of the fresh initialisations' seeds, one per intervention.
const REDO_SALT: u64 = 0x5245_444f;
const SHRINK_PERTURB_SALT: u64 = 0x5350;
const RESET_SALT: u64 = 0x0052_4553_4554;

/// An agent's interventions, and what they and the per-layer health keep of the run: the
/// initial network and the last gradient step's gradients.
pub(crate) struct Plasticity<N: Network> {
    config: Interventions,
    network: NetworkConfig,
    seed: u64,
    /// The initial network on the plain device (absent after loading a checkpoint written
    /// before it was kept).
    initial: Option<N>,
    /// L2-init's θ0 flattened per parameter id of the trained network.
    pull_to: Option<HashMap<ParamId, Tensor<1>>>,
    /// The loss gradients of the last gradient step, before L2-init's pull and clipping.
    last_grads: Option<GradientsParams>,
}

impl<N: Network> Plasticity<N> {
    /// The interventions of `config` for `model`, freshly initialised (kept as the initial
    /// network).
    pub fn new(
        config: Interventions,
        network: &NetworkConfig,
        model: &N,
        seed: u64,
    ) -> Result<Plasticity<N>, AgentError> {
        config.validate()?;
        let initial = model.valid();
        let pull_to = config
            .l2_init
            .as_ref()
            .map(|_| flatten_by_id(model, &initial));
        Ok(Plasticity {
            config,
            network: network.clone(),
            seed,
            initial: Some(initial),
            pull_to,
            last_grads: None,
        })
    }

    /// The states ReDo needs after update `update`, if it runs then.
    pub fn redo_batch(&self, update: u64) -> Option<usize> {
        self.config
            .redo
            .as_ref()
            .filter(|r| update.is_multiple_of(r.period))
            .map(|r| r.batch)
    }

    /// Before an optimiser step on `grads` (the loss gradients of `model`): keeps them for the
    /// per-layer gradient norms, then adds L2-init's `2 λ (θ − θ0)`.
    pub fn before_step(&mut self, model: &N, grads: &mut GradientsParams) {
        let mut copy = CopyGrads {
            from: grads,
            to: GradientsParams::new(),
        };
        model.visit(&mut copy);
        self.last_grads = Some(copy.to);
        let (Some(l2), Some(pull_to)) = (&self.config.l2_init, &self.pull_to) else {
            return;
        };
        model.visit(&mut AddPull {
            grads,
            anchor: pull_to,
            factor: 2.0 * l2.coef,
        });
    }

    /// The per-layer health of `model` (the plain form of the trained network) on `rows`
    /// states.
    pub fn layer_health(
        &self,
        model: &N,
        states: (&[f32], usize),
        device: &Device,
        config: &DiagConfig,
    ) -> Result<NetworkHealth, AgentError> {
        let (states, rows) = states;
        if rows == 0 {
            return Err(AgentError::config(
                "probe_size",
                "the per-layer health needs at least one probe state",
            ));
        }
        let states = rows_tensor(states, rows, states.len() / rows, device);
        Ok(hrl_nn::health::layer_health(
            model,
            states,
            config,
            self.initial.as_ref(),
            self.last_grads.as_ref(),
        )?)
    }

    /// Runs the interventions due after update `update` on `model` and `optimizer`;
    /// `states` (`rows` states, row-major) are ReDo's when [`redo_batch`](Self::redo_batch)
    /// asked for them. Returns the model and, if any ran, what ran after which update.
    pub fn after_update(
        &self,
        update: u64,
        model: N,
        optimizer: &mut ModuleOptimizer,
        states: Option<(Vec<f32>, usize)>,
        device: &Device,
    ) -> Result<(N, Option<(u64, Applied)>), AgentError> {
        let states = states.as_ref().map(|(s, rows)| (&s[..], *rows));
        let (model, applied) = self.apply_due(update, model, optimizer, states, device)?;
        Ok((
            model,
            (applied != Applied::default()).then_some((update, applied)),
        ))
    }

    fn apply_due(
        &self,
        update: u64,
        mut model: N,
        optimizer: &mut ModuleOptimizer,
        states: Option<(&[f32], usize)>,
        device: &Device,
    ) -> Result<(N, Applied), AgentError> {
        let mut applied = Applied::default();
        let due = |period: u64| update.is_multiple_of(period);
        if let (Some(redo), Some((states, rows))) = (&self.config.redo, states)
            && due(redo.period)
            && rows > 0
        {
            let fresh = self.fresh(&model, update, REDO_SALT, device)?;
            let obs_len = states.len() / rows;
            let states = rows_tensor(states, rows, obs_len, device);
            let outcome = intervene::redo(model, states, redo.tau, &fresh)?;
            *optimizer = state_edit::zero_elements(optimizer.clone(), &outcome.touched)?;
            model = outcome.network;
            applied.redo = Some(outcome.layers);
        }
        if let Some(sp) = &self.config.shrink_perturb
            && due(sp.period)
        {
            let fresh = self.fresh(&model, update, SHRINK_PERTURB_SALT, device)?;
            model = intervene::shrink_perturb(model, sp.shrink as f32, sp.perturb as f32, &fresh)?;
            applied.shrink_perturb = true;
        }
        if let Some(reset) = &self.config.reset
            && due(reset.period)
        {
            let fresh = self.fresh(&model, update, RESET_SALT, device)?;
            let params = intervene::last_layers(&model, reset.layers);
            model = intervene::reset_params(model, &params, &fresh)?;
            *optimizer = state_edit::forget(optimizer.clone(), &params)?;
            applied.reset = Some(params.len());
        }
        Ok((model, applied))
    }

    /// A fresh network's values paired with `model`'s parameters, drawn from the seed of
    /// `(run seed, update, intervention)`.
    fn fresh(
        &self,
        model: &N,
        update: u64,
        salt: u64,
        device: &Device,
    ) -> Result<intervene::FreshValues, AgentError> {
        device.seed(self.seed ^ salt.rotate_left(32) ^ update.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let fresh = N::init(&self.network, device)?;
        Ok(fresh_values(model, &fresh).map_err(hrl_nn::intervene::InterveneError::from)?)
    }

    /// Writes the initial network into the checkpoint folder `dir`.
    pub fn save(&self, dir: &Path) -> Result<(), AgentError> {
        match &self.initial {
            Some(initial) => checkpoint::save_module(initial, &dir.join(INITIAL_FILE)),
            None => Ok(()),
        }
    }

    /// Reads back what [`save`](Self::save) wrote, pairing it with `model` (already loaded).
    /// A checkpoint without it (written before it was kept) leaves the distance from
    /// initialisation unknown, unless L2-init needs it.
    pub fn load(&mut self, dir: &Path, model: &N, device: &Device) -> Result<(), AgentError> {
        let path = dir.join(INITIAL_FILE);
        if !path.is_file() && self.config.l2_init.is_none() {
            self.initial = None;
            return Ok(());
        }
        let initial = checkpoint::load_module(N::init(&self.network, device)?, &path)?;
        if self.pull_to.is_some() {
            self.pull_to = Some(flatten_by_id(model, &initial));
        }
        self.initial = Some(initial);
        Ok(())
    }
}

/// `anchor`'s parameters flattened, keyed by the ids of `model`'s parameters they pair with in
/// visiting order.
fn flatten_by_id<N: Network>(model: &N, anchor: &N) -> HashMap<ParamId, Tensor<1>> {
    let mut flat = Flatten(Vec::new());
    anchor.visit(&mut flat);
    param_ids(model).into_iter().zip(flat.0).collect()
}

struct Flatten(Vec<Tensor<1>>);

impl ModuleVisitor for Flatten {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let value = param.val();
        let numel = value.shape().num_elements();
        self.0.push(value.reshape([numel]));
    }
}

/// Copies each parameter's gradient handle.
struct CopyGrads<'a> {
    from: &'a GradientsParams,
    to: GradientsParams,
}

impl ModuleVisitor for CopyGrads<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        if let Some(grad) = self.from.get::<D>(param.id) {
            self.to.register(param.id, grad);
        }
    }
}

/// Adds `factor · (θ − θ0)` to each parameter's gradient.
struct AddPull<'a> {
    grads: &'a mut GradientsParams,
    anchor: &'a HashMap<ParamId, Tensor<1>>,
    factor: f64,
}

impl ModuleVisitor for AddPull<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let (Some(anchor), Some(grad)) =
            (self.anchor.get(&param.id), self.grads.remove::<D>(param.id))
        else {
            return;
        };
        let theta = param.val().inner();
        let pull = (theta.clone() - anchor.clone().reshape(theta.dims())).mul_scalar(self.factor);
        self.grads.register(param.id, grad + pull);
    }
}

#[cfg(test)]
mod tests {
    use burn::module::Module;
    use burn::tensor::TensorData;
    use hrl_nn::network::{Head, QNetwork};
    use hrl_nn::surgery::parameters;
    use hrl_nn::torso::{TorsoConfig, TorsoKind};

    use super::*;

    /// `λ Σ (θ − θ0)²` over every parameter, in `f64`.
    fn penalty(theta: &[(ParamId, Vec<f32>)], theta0: &[(ParamId, Vec<f32>)], coef: f64) -> f64 {
        theta
            .iter()
            .zip(theta0)
            .flat_map(|((_, a), (_, b))| a.iter().zip(b))
            .map(|(&a, &b)| (f64::from(a) - f64::from(b)).powi(2))
            .sum::<f64>()
            * coef
    }

    #[test]
    fn l2_init_adds_the_penalty_gradient_finite_differences_give() {
        let device = Device::flex().autodiff();
        device.seed(21);
        let mut network = NetworkConfig {
            torso: TorsoConfig::new(TorsoKind::Mlp, "hr-tanh@3".parse().unwrap()),
            head: Head::default(),
            num_actions: 2,
        };
        network.torso.obs_shape = vec![2];
        network.torso.hidden = vec![4];
        let model = network.init_q(&device).unwrap();
        let coef = 0.3;
        let interventions = Interventions {
            l2_init: Some(L2InitConfig { coef }),
            ..Interventions::default()
        };
        let mut plasticity = Plasticity::new(interventions, &network, &model, 0).unwrap();
        // Move away from θ0, then take the gradient of a loss that does not depend on θ
        // (zero), so that what `regularise` adds is all there is.
        device.seed(22);
        let fresh = fresh_values(&model, &network.init_q(&device).unwrap()).unwrap();
        let model: QNetwork = intervene::shrink_perturb(model, 0.5, 0.5, &fresh).unwrap();
        let x = Tensor::<2>::from_data(TensorData::new(vec![0.1f32, -0.2], [1, 2]), &device);
        let zero = model.forward(x).sum().mul_scalar(0.0);
        let mut grads = GradientsParams::from_grads(zero.backward(), &model);
        plasticity.before_step(&model, &mut grads);
        let theta = parameters(&model).unwrap();
        let theta0 = parameters(plasticity.initial.as_ref().unwrap()).unwrap();
        let h = 1e-3;
        for (index, (id, values)) in theta.iter().enumerate() {
            let grad = flat_grad(&grads, *id, &model);
            assert_eq!(grad.len(), values.len(), "parameter {index}");
            for (element, &g) in grad.iter().enumerate() {
                let shifted = |delta: f64| {
                    let mut moved = theta.clone();
                    moved[index].1[element] = (f64::from(values[element]) + delta) as f32;
                    penalty(&moved, &theta0, coef)
                };
                let numeric = (shifted(h) - shifted(-h)) / (2.0 * h);
                assert!(
                    (f64::from(g) - numeric).abs() <= 1e-3 * numeric.abs().max(1e-2),
                    "parameter {index} element {element}: {g} vs {numeric}"
                );
            }
        }
    }

    /// The gradient of parameter `id` of `model`, flattened.
    fn flat_grad(grads: &GradientsParams, id: ParamId, model: &QNetwork) -> Vec<f32> {
        struct Find<'a> {
            grads: &'a GradientsParams,
            id: ParamId,
            found: Vec<f32>,
        }
        impl ModuleVisitor for Find<'_> {
            fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
                if param.id == self.id
                    && let Some(g) = self.grads.get::<D>(param.id)
                {
                    self.found = g.into_data().iter::<f32>().collect();
                }
            }
        }
        let mut find = Find {
            grads,
            id,
            found: Vec::new(),
        };
        model.visit(&mut find);
        find.found
    }
}
