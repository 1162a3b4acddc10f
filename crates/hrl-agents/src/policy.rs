//! An inference copy of an agent's network: acting for evaluation (ε-greedy on Q-values, or
//! sampling the actor's categorical distribution) and diagnosing its representation.

use burn::module::{Module, ModuleVisitor, Param};
use burn::tensor::activation::log_softmax;
use burn::tensor::{Device, Tensor};
use hrl_env::{EpisodeStats, VecEnv};
use hrl_nn::diag::DiagConfig;
use hrl_nn::network::{ActorCritic, QNetwork, Representation};
use hrl_nn::probe::{self, ReprDiagnostics};
use hrl_nn::repr::Branches;

use crate::AgentError;
use crate::rng::Rng;
use crate::tensor::{host_floats, host_ints, rows_tensor};

/// An inference copy of an agent's network.
#[derive(Clone, Debug)]
pub enum Policy {
    /// Act greedily on Q-values (DQN, PQN), with ε-random actions.
    Greedy(QNetwork),
    /// Sample the actor's softmax distribution (PPO).
    Categorical(ActorCritic),
}

/// Whether every parameter a visited module holds is finite.
struct FiniteParameters {
    all_finite: bool,
}

impl ModuleVisitor for FiniteParameters {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        if self.all_finite {
            let largest = param.val().abs().max().into_scalar::<f32>();
            self.all_finite = largest.is_finite();
        }
    }
}

impl Policy {
    /// Whether every parameter of the network is finite (a diverged update leaves infinities or
    /// NaNs behind, which no checkpoint may keep).
    pub fn parameters_finite(&self) -> bool {
        let mut visitor = FiniteParameters { all_finite: true };
        match self {
            Policy::Greedy(q) => q.visit(&mut visitor),
            Policy::Categorical(ac) => ac.visit(&mut visitor),
        }
        visitor.all_finite
    }

    /// The representation of `observations` (`[rows, obs_len]`, row-major).
    pub fn representation(&self, observations: &[f32], rows: usize) -> Representation {
        let obs_len = observations.len() / rows.max(1);
        let obs = rows_tensor(observations, rows, obs_len, &self.device());
        match self {
            Policy::Greedy(q) => q.forward_with_repr(obs).1,
            Policy::Categorical(ac) => ac.forward_with_repr(obs).2,
        }
    }

    /// Diagnostics of the representation of `observations` (`[rows, obs_len]`), a layer of
    /// `branches`.
    pub fn diagnose(
        &self,
        observations: &[f32],
        rows: usize,
        branches: Branches,
        config: &DiagConfig,
    ) -> Result<ReprDiagnostics, AgentError> {
        let repr = self.representation(observations, rows);
        Ok(probe::diagnose_repr(&repr, branches, config)?)
    }

    fn device(&self) -> Device {
        match self {
            Policy::Greedy(q) => q.head.weight.val().device(),
            Policy::Categorical(ac) => ac.critic.weight.val().device(),
        }
    }

    /// Chooses one action per row of `observations` (`[rows, obs_len]`, row-major) into
    /// `actions`. `epsilon` applies to Q policies only.
    pub fn act(&self, observations: &[f32], epsilon: f64, rng: &mut Rng, actions: &mut [usize]) {
        let rows = actions.len();
        let obs_len = observations.len() / rows.max(1);
        let obs = rows_tensor(observations, rows, obs_len, &self.device());
        match self {
            Policy::Greedy(q) => {
                let q = q.forward(obs);
                let num_actions = q.dims()[1];
                let greedy = host_ints(q.argmax(1));
                for (action, best) in actions.iter_mut().zip(greedy) {
                    *action = if rng.uniform() < epsilon {
                        rng.below(num_actions)
                    } else {
                        best as usize
                    };
                }
            }
            Policy::Categorical(ac) => {
                let (logits, _) = ac.forward(obs);
                let num_actions = logits.dims()[1];
                let log_probs = host_floats(log_softmax(logits, 1));
                for (row, action) in actions.iter_mut().enumerate() {
                    let row = &log_probs[row * num_actions..(row + 1) * num_actions];
                    *action = sample_categorical(row, rng.uniform());
                }
            }
        }
    }
}

/// The action whose cumulative probability first exceeds `uniform`, from log-probabilities.
pub(crate) fn sample_categorical(log_probs: &[f32], uniform: f64) -> usize {
    let mut cumulative = 0.0;
    for (action, log_prob) in log_probs.iter().enumerate() {
        cumulative += f64::from(log_prob.exp());
        if uniform < cumulative {
            return action;
        }
    }
    log_probs.len() - 1
}

/// Plays one episode in each of `envs`' environments with `policy` and returns them in
/// environment order. An environment still playing after `max_steps` agent steps is cut off
/// there and reported with what it scored so far. `on_step` sees the environments after every
/// step (to record frames).
pub fn evaluate(
    policy: &Policy,
    envs: &mut VecEnv<f32>,
    epsilon: f64,
    max_steps: u64,
    rng: &mut Rng,
    mut on_step: impl FnMut(&VecEnv<f32>),
) -> Result<Vec<EpisodeStats>, AgentError> {
    let n = envs.num_envs();
    let mut results: Vec<Option<EpisodeStats>> = vec![None; n];
    let mut actions = vec![0usize; n];
    let mut steps = 0u64;
    while results.iter().any(Option::is_none) && steps < max_steps {
        policy.act(envs.observations(), epsilon, rng, &mut actions);
        envs.step(&actions)?;
        on_step(envs);
        steps += 1;
        for finished in envs.finished_episodes() {
            results[finished.env_index].get_or_insert(finished.stats);
        }
    }
    Ok(results
        .into_iter()
        .enumerate()
        .map(|(env, stats)| stats.unwrap_or_else(|| envs.episode(env)))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn categorical_sampling_follows_the_cumulative_probabilities() {
        let log_probs = [0.2f32.ln(), 0.5f32.ln(), 0.3f32.ln()];
        assert_eq!(sample_categorical(&log_probs, 0.0), 0);
        assert_eq!(sample_categorical(&log_probs, 0.19), 0);
        assert_eq!(sample_categorical(&log_probs, 0.21), 1);
        assert_eq!(sample_categorical(&log_probs, 0.69), 1);
        assert_eq!(sample_categorical(&log_probs, 0.71), 2);
        assert_eq!(sample_categorical(&log_probs, 0.999_999_9), 2);
    }
}
