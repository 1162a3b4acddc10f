//! Return targets over a rollout of `T` steps in `N` environments, stored time-major (`[T, N]`,
//! index `t * N + n`).
//!
//! Each step `t` of env `n` carries the reward, whether the step *terminated* the episode (no
//! bootstrap past it), whether it ended the episode for *either* reason (terminated or
//! truncated: the λ chain is cut there, because the next stored step belongs to a new episode),
//! and the value estimate of the state after the step: the next stored state's, or for the last
//! step and for truncated steps the actual next (final) state's.

/// One rollout's per-step inputs, each `[T, N]` time-major.
#[derive(Clone, Copy, Debug)]
pub struct Rollout<'a> {
    /// Environments per step, `N`.
    pub num_envs: usize,
    /// Rewards `r_t`.
    pub rewards: &'a [f32],
    /// The step ended in a terminal state.
    pub terminated: &'a [bool],
    /// The step ended the episode (terminated or truncated).
    pub done: &'a [bool],
    /// Value of the state after the step (for PQN, `max_a Q(s_{t+1}, a)`).
    pub next_values: &'a [f32],
}

/// Peng's Q(λ) returns as PQN computes them (purejaxql):
/// `G_t = r_t + γ (1 - term_t) [(1 - λ) V_{t+1} + λ G_{t+1}]`, with `G_t = r_t + γ (1 - term_t) V_{t+1}`
/// where the chain ends (the last step, or a step that ended its episode).
///
/// purejaxql treats a truncated step like a terminal one (`G_t = r_t`); here it bootstraps from
/// the final state's value instead.
pub fn q_lambda(rollout: Rollout<'_>, gamma: f32, lambda: f32, out: &mut [f32]) {
    backward_scan(rollout, out, |t_index, next| {
        let term = if rollout.terminated[t_index] {
            0.0
        } else {
            1.0
        };
        let bootstrap = rollout.next_values[t_index];
        let tail = match next {
            Some(g_next) => (1.0 - lambda) * bootstrap + lambda * g_next,
            None => bootstrap,
        };
        rollout.rewards[t_index] + gamma * term * tail
    });
}

/// Generalised advantage estimates (Schulman et al. 2016) as cleanrl's PPO computes them:
/// `δ_t = r_t + γ (1 - term_t) V_{t+1} - V_t`, `A_t = δ_t + γ λ (1 - done_t) A_{t+1}`.
/// The returns that train the critic are `A_t + V_t`.
pub fn gae(rollout: Rollout<'_>, values: &[f32], gamma: f32, lambda: f32, out: &mut [f32]) {
    backward_scan(rollout, out, |t_index, next| {
        let term = if rollout.terminated[t_index] {
            0.0
        } else {
            1.0
        };
        let delta = rollout.rewards[t_index] + gamma * term * rollout.next_values[t_index]
            - values[t_index];
        delta + gamma * lambda * next.unwrap_or(0.0)
    });
}

/// Fills `out` from the last step back; `step(index, next)` gets the following step's result
/// when the chain continues past `index`.
fn backward_scan(
    rollout: Rollout<'_>,
    out: &mut [f32],
    mut step: impl FnMut(usize, Option<f32>) -> f32,
) {
    let n = rollout.num_envs;
    let len = rollout.rewards.len();
    assert!(
        n > 0
            && len.is_multiple_of(n)
            && [rollout.terminated.len(), rollout.done.len(), out.len()]
                .iter()
                .all(|&l| l == len)
            && rollout.next_values.len() == len,
        "rollout buffers must all be [T, N]"
    );
    let steps = len / n;
    for env in 0..n {
        let mut next = None;
        for t in (0..steps).rev() {
            let index = t * n + env;
            if rollout.done[index] {
                next = None;
            }
            let value = step(index, next);
            out[index] = value;
            next = Some(value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: &[f32], b: &[f32]) {
        assert_eq!(a.len(), b.len());
        for (x, y) in a.iter().zip(b) {
            assert!((x - y).abs() < 1e-5, "{a:?} vs {b:?}");
        }
    }

    #[test]
    fn q_lambda_by_hand() {
        // One env, 4 steps; the episode terminates at step 1.
        let (gamma, lambda) = (0.9f32, 0.5f32);
        let rewards = [1.0, 2.0, 0.5, -1.0];
        let terminated = [false, true, false, false];
        let done = terminated;
        let next_values = [3.0, 100.0, 4.0, 2.0];
        let mut out = [0.0; 4];
        q_lambda(
            Rollout {
                num_envs: 1,
                rewards: &rewards,
                terminated: &terminated,
                done: &done,
                next_values: &next_values,
            },
            gamma,
            lambda,
            &mut out,
        );
        let g3 = -1.0 + 0.9 * 2.0;
        let g2 = 0.5 + 0.9 * (0.5 * 4.0 + 0.5 * g3);
        let g1 = 2.0;
        let g0 = 1.0 + 0.9 * (0.5 * 3.0 + 0.5 * g1);
        close(&out, &[g0, g1, g2, g3]);
    }

    #[test]
    fn q_lambda_with_lambda_zero_is_one_step_q_learning_and_one_is_monte_carlo() {
        let rewards = [1.0, 1.0, 1.0];
        let terminated = [false, false, false];
        let next_values = [5.0, 6.0, 7.0];
        let rollout = Rollout {
            num_envs: 1,
            rewards: &rewards,
            terminated: &terminated,
            done: &terminated,
            next_values: &next_values,
        };
        let mut out = [0.0; 3];
        q_lambda(rollout, 0.5, 0.0, &mut out);
        close(&out, &[3.5, 4.0, 4.5]);
        q_lambda(rollout, 0.5, 1.0, &mut out);
        let g2 = 1.0 + 0.5 * 7.0;
        let g1 = 1.0 + 0.5 * g2;
        close(&out, &[1.0 + 0.5 * g1, g1, g2]);
    }

    #[test]
    fn truncation_cuts_the_chain_but_bootstraps() {
        // Two envs interleaved time-major; env 1 is truncated at step 0.
        let rewards = [1.0, 1.0, 0.0, 0.0];
        let terminated = [false, false, false, false];
        let done = [false, true, false, false];
        let next_values = [2.0, 10.0, 4.0, 8.0];
        let mut out = [0.0; 4];
        q_lambda(
            Rollout {
                num_envs: 2,
                rewards: &rewards,
                terminated: &terminated,
                done: &done,
                next_values: &next_values,
            },
            1.0,
            0.5,
            &mut out,
        );
        // env 0: G1 = 4, G0 = 1 + (0.5*2 + 0.5*4) = 4. env 1: G1 = 8, G0 = 1 + 10 = 11.
        close(&out, &[4.0, 11.0, 4.0, 8.0]);
    }

    #[test]
    fn gae_by_hand() {
        let (gamma, lambda) = (0.99f32, 0.95f32);
        let rewards = [1.0, 0.0, 2.0];
        let terminated = [false, true, false];
        let values = [0.5, 0.4, 1.0];
        let next_values = [0.4, 9.0, 1.5];
        let mut out = [0.0; 3];
        gae(
            Rollout {
                num_envs: 1,
                rewards: &rewards,
                terminated: &terminated,
                done: &terminated,
                next_values: &next_values,
            },
            &values,
            gamma,
            lambda,
            &mut out,
        );
        let a2 = 2.0 + 0.99 * 1.5 - 1.0;
        let a1 = 0.0 - 0.4;
        let a0 = (1.0 + 0.99 * 0.4 - 0.5) + 0.99 * 0.95 * a1;
        close(&out, &[a0, a1, a2]);
    }
}
