//! The on-policy rollout storage PQN and PPO share: `num_steps` steps of `num_envs`
//! environments, time-major (`[T, N]`, index `t * N + n`), allocated once.

use std::ops::Range;

use hrl_env::VecEnv;

use crate::returns::Rollout;

/// One rollout: observations, actions, rewards, episode flags and value estimates.
pub(crate) struct RolloutBuffer {
    num_envs: usize,
    obs_len: usize,
    /// `[T, N, obs_len]` observations the actions were chosen on.
    pub observations: Vec<f32>,
    /// `[T, N]` actions taken.
    pub actions: Vec<usize>,
    /// `[T, N]` rewards received.
    pub rewards: Vec<f32>,
    /// `[T, N]` the step ended in a terminal state.
    pub terminated: Vec<bool>,
    /// `[T, N]` the step ended its episode (terminated or truncated).
    pub done: Vec<bool>,
    /// `[T, N]` value of the stored observation (PQN: `max_a Q`, PPO: `V`).
    pub values: Vec<f32>,
    /// `[T, N]` value of the state after the step, filled by [`finish`](Self::finish).
    pub next_values: Vec<f32>,
    /// Final observations of truncated steps, with their `[T, N]` index.
    truncated_final: Vec<(usize, Vec<f32>)>,
}

impl RolloutBuffer {
    pub fn new(num_envs: usize, num_steps: usize, obs_len: usize) -> RolloutBuffer {
        let batch = num_envs * num_steps;
        RolloutBuffer {
            num_envs,
            obs_len,
            observations: vec![0.0; batch * obs_len],
            actions: vec![0; batch],
            rewards: vec![0.0; batch],
            terminated: vec![false; batch],
            done: vec![false; batch],
            values: vec![0.0; batch],
            next_values: vec![0.0; batch],
            truncated_final: Vec::new(),
        }
    }

    /// The `[T, N]` indices of step `t`.
    pub fn rows(&self, t: usize) -> Range<usize> {
        t * self.num_envs..(t + 1) * self.num_envs
    }

    /// Copies the environments' current observations into step `t` and returns them.
    pub fn store_observations(&mut self, t: usize, envs: &VecEnv<f32>) -> &[f32] {
        if t == 0 {
            self.truncated_final.clear();
        }
        let rows = self.rows(t);
        let span = rows.start * self.obs_len..rows.end * self.obs_len;
        self.observations[span.clone()].copy_from_slice(envs.observations());
        &self.observations[span]
    }

    /// Records the rewards and flags of the step the environments just took as step `t`.
    pub fn store_step(&mut self, t: usize, envs: &VecEnv<f32>) {
        for env in 0..self.num_envs {
            let index = t * self.num_envs + env;
            let truncated = envs.truncated()[env];
            self.rewards[index] = envs.rewards()[env];
            self.terminated[index] = envs.terminated()[env];
            self.done[index] = self.terminated[index] || truncated;
            if truncated && !self.terminated[index] {
                self.truncated_final
                    .push((index, envs.next_observation(env).to_vec()));
            }
        }
    }

    /// Fills `next_values`: the next stored step's value, `last_values` after the last step, and
    /// for truncated steps the value of their final observation, computed by `value_of(obs, rows)`.
    pub fn finish(
        &mut self,
        last_values: &[f32],
        value_of: impl FnOnce(&[f32], usize) -> Vec<f32>,
    ) {
        let (n, batch) = (self.num_envs, self.values.len());
        self.next_values[..batch - n].copy_from_slice(&self.values[n..]);
        self.next_values[batch - n..].copy_from_slice(last_values);
        if self.truncated_final.is_empty() {
            return;
        }
        let finals: Vec<f32> = self
            .truncated_final
            .iter()
            .flat_map(|(_, obs)| obs.iter().copied())
            .collect();
        let values = value_of(&finals, self.truncated_final.len());
        for ((index, _), value) in self.truncated_final.iter().zip(values) {
            self.next_values[*index] = value;
        }
    }

    /// The return inputs of this rollout.
    pub fn returns_input(&self) -> Rollout<'_> {
        Rollout {
            num_envs: self.num_envs,
            rewards: &self.rewards,
            terminated: &self.terminated,
            done: &self.done,
            next_values: &self.next_values,
        }
    }

    /// The first `count` stored observations (at most the whole rollout), row-major, with
    /// their number: the probe batch of the on-policy agents.
    pub fn first_states(&self, count: usize) -> (&[f32], usize) {
        let rows = count.min(self.observations.len() / self.obs_len);
        (&self.observations[..rows * self.obs_len], rows)
    }

    /// The observations at `indices`, concatenated: `[indices.len(), obs_len]`.
    pub fn gather_observations(&self, indices: &[usize]) -> Vec<f32> {
        let mut out = Vec::with_capacity(indices.len() * self.obs_len);
        for &i in indices {
            out.extend_from_slice(&self.observations[i * self.obs_len..(i + 1) * self.obs_len]);
        }
        out
    }
}
