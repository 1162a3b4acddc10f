//! CartPole-v1 as in gymnasium 1.4: the constants, Euler integration and the 500-step limit.
//!
//! Observation `[4]` f32: cart position, cart velocity, pole angle, pole angular velocity (the
//! state itself is kept in f64, as gymnasium does). Actions: 0 push left, 1 push right.
//! Reward 1 per step, the terminating one included. Terminated when |angle| > 12 degrees or
//! |position| > 2.4; truncated at step 500.
//!
//! The reset state is uniform in [-0.05, 0.05]^4 drawn from our [`RandomState`] (numpy's
//! legacy `RandomState(seed).uniform`), not from gymnasium's PCG64 `np_random`: the same seed
//! gives a different start than gymnasium, the same dynamics from any given start.

use crate::env::check_observation_len;
use crate::state::{Put, Take, put_episode, put_rng, take_episode, take_rng};
use crate::{Env, EnvError, EnvSpec, EpisodeStats, ObsDtype, RandomState, Step};

const GRAVITY: f64 = 9.8;
const MASS_CART: f64 = 1.0;
const MASS_POLE: f64 = 0.1;
const TOTAL_MASS: f64 = MASS_CART + MASS_POLE;
/// Half the pole's length.
const LENGTH: f64 = 0.5;
const POLE_MASS_LENGTH: f64 = MASS_POLE * LENGTH;
const FORCE_MAG: f64 = 10.0;
/// Seconds per step.
const TAU: f64 = 0.02;
const THETA_THRESHOLD_RADIANS: f64 = 12.0 * 2.0 * std::f64::consts::PI / 360.0;
const X_THRESHOLD: f64 = 2.4;
const MAX_EPISODE_STEPS: u64 = 500;
const RESET_BOUND: f64 = 0.05;

/// The cart-pole balancing task; observations `[4]` f32.
#[derive(Clone)]
pub struct CartPole {
    spec: EnvSpec,
    /// `[x, x_dot, theta, theta_dot]`.
    state: [f64; 4],
    rng: RandomState,
    needs_reset: bool,
    episode: EpisodeStats,
}

impl Default for CartPole {
    fn default() -> Self {
        Self::new()
    }
}

impl CartPole {
    /// A new environment; call `reset` before stepping it.
    pub fn new() -> Self {
        Self {
            spec: EnvSpec {
                id: "cartpole".to_string(),
                observation_shape: vec![4],
                observation_dtype: ObsDtype::F32,
                num_actions: 2,
                frames_per_step: 1,
                frame_stack: 1,
            },
            state: [0.0; 4],
            rng: RandomState::new(0),
            needs_reset: true,
            episode: EpisodeStats::default(),
        }
    }

    /// The physical state `[x, x_dot, theta, theta_dot]` in f64.
    pub fn state(&self) -> [f64; 4] {
        self.state
    }

    /// Starts an episode from a given state (for tests against gymnasium's dynamics).
    pub fn reset_to(&mut self, state: [f64; 4]) {
        self.state = state;
        self.needs_reset = false;
        self.episode = EpisodeStats::default();
    }
}

impl Env for CartPole {
    fn spec(&self) -> &EnvSpec {
        &self.spec
    }

    fn reset(&mut self, seed: Option<u32>) {
        if let Some(seed) = seed {
            self.rng = RandomState::new(seed);
        }
        let mut state = [0.0; 4];
        for value in &mut state {
            *value = -RESET_BOUND + 2.0 * RESET_BOUND * self.rng.rand();
        }
        self.reset_to(state);
    }

    fn step(&mut self, action: usize) -> Result<Step, EnvError> {
        let force = match action {
            0 => -FORCE_MAG,
            1 => FORCE_MAG,
            _ => {
                return Err(EnvError::InvalidAction {
                    action,
                    num_actions: 2,
                });
            }
        };
        if self.needs_reset {
            return Err(EnvError::NeedsReset);
        }
        let [x, x_dot, theta, theta_dot] = self.state;
        let (sin_theta, cos_theta) = theta.sin_cos();
        let temp = (force + POLE_MASS_LENGTH * theta_dot * theta_dot * sin_theta) / TOTAL_MASS;
        let theta_acc = (GRAVITY * sin_theta - cos_theta * temp)
            / (LENGTH * (4.0 / 3.0 - MASS_POLE * cos_theta * cos_theta / TOTAL_MASS));
        let x_acc = temp - POLE_MASS_LENGTH * theta_acc * cos_theta / TOTAL_MASS;
        self.state = [
            x + TAU * x_dot,
            x_dot + TAU * x_acc,
            theta + TAU * theta_dot,
            theta_dot + TAU * theta_acc,
        ];
        let [x, _, theta, _] = self.state;
        self.episode.record(1.0);
        let step = Step {
            reward: 1.0,
            terminated: !(-X_THRESHOLD..=X_THRESHOLD).contains(&x)
                || !(-THETA_THRESHOLD_RADIANS..=THETA_THRESHOLD_RADIANS).contains(&theta),
            truncated: self.episode.episodic_length >= MAX_EPISODE_STEPS,
        };
        self.needs_reset = step.done();
        Ok(step)
    }

    fn observe_f32(&self, out: &mut [f32]) -> Result<(), EnvError> {
        check_observation_len(&self.spec, out.len())?;
        for (o, s) in out.iter_mut().zip(self.state) {
            *o = s as f32;
        }
        Ok(())
    }

    fn observe_u8(&self, _out: &mut [u8]) -> Result<(), EnvError> {
        Err(EnvError::NotU8(self.spec.id.clone()))
    }

    fn episode(&self) -> EpisodeStats {
        self.episode
    }

    /// Saves the physical state, the reset generator, the episode's statistics and whether
    /// it needs a reset (no options: CartPole has none).
    fn save_state(&self, out: &mut Vec<u8>) -> Result<(), EnvError> {
        for value in self.state {
            out.put_f64(value);
        }
        put_rng(out, &self.rng);
        out.put_bool(self.needs_reset);
        put_episode(out, &self.episode);
        Ok(())
    }

    fn restore_state(&mut self, input: &mut &[u8]) -> Result<(), EnvError> {
        let mut state = [0.0; 4];
        for value in &mut state {
            *value = input.take_f64("CartPole state")?;
        }
        let rng = take_rng(input)?;
        let needs_reset = input.take_bool("CartPole needs-reset flag")?;
        self.episode = take_episode(input)?;
        self.state = state;
        self.rng = rng;
        self.needs_reset = needs_reset;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(line: &str) -> Vec<f64> {
        line.split_whitespace()
            .map(|v| v.parse().unwrap())
            .collect()
    }

    /// A trajectory recorded from gymnasium 1.4.0 (`tests/fixtures/gen_cartpole_trajectory.py`).
    #[test]
    fn dynamics_match_gymnasium() {
        let fixture = include_str!("../tests/fixtures/cartpole_trajectory.txt");
        let mut lines = fixture.lines();
        let start = parse(lines.next().unwrap());
        let mut env = CartPole::new();
        env.reset_to([start[0], start[1], start[2], start[3]]);
        let mut steps = 0;
        for line in lines {
            let row = parse(line);
            let step = env.step(row[0] as usize).unwrap();
            for (ours, theirs) in env.state().iter().zip(&row[1..5]) {
                assert!(
                    (ours - theirs).abs() <= 1e-12 * theirs.abs().max(1.0),
                    "step {steps}: {:?} vs {:?}",
                    env.state(),
                    &row[1..5]
                );
            }
            assert_eq!(step.terminated, row[5] == 1.0, "step {steps}");
            assert_eq!(step.truncated, row[6] == 1.0, "step {steps}");
            steps += 1;
        }
        assert!(steps > 10 && env.episode().episodic_return == steps as f64);
    }

    /// theta_acc and x_acc from the formulas by hand at theta = theta_dot = 0, action right:
    /// temp = 10 / 1.1, theta_acc = -temp / (0.5 (4/3 - 0.1/1.1)), x_acc = temp - 0.05 theta_acc / 1.1.
    #[test]
    fn one_step_from_rest_matches_hand_computation() {
        let mut env = CartPole::new();
        env.reset_to([0.0; 4]);
        env.step(1).unwrap();
        let temp = 10.0 / 1.1;
        let theta_acc = -temp / (0.5 * (4.0 / 3.0 - 0.1 / 1.1));
        let x_acc = temp - 0.05 * theta_acc / 1.1;
        let expected = [0.0, 0.02 * x_acc, 0.0, 0.02 * theta_acc];
        for (ours, theirs) in env.state().iter().zip(expected) {
            assert!((ours - theirs).abs() < 1e-15, "{:?}", env.state());
        }
    }

    #[test]
    fn a_balancing_controller_is_truncated_at_500_steps() {
        let mut env = CartPole::new();
        env.reset(Some(3));
        let mut obs = [0.0f32; 4];
        for t in 1..=500 {
            env.observe_f32(&mut obs).unwrap();
            let action = usize::from(obs[2] + 0.5 * obs[3] + 0.01 * obs[0] + 0.1 * obs[1] > 0.0);
            let step = env.step(action).unwrap();
            assert!(!step.terminated, "fell at step {t}");
            assert_eq!(step.truncated, t == 500, "step {t}");
        }
        assert_eq!(env.step(0), Err(EnvError::NeedsReset));
    }

    #[test]
    fn reset_is_uniform_in_the_bounds_and_reproducible() {
        let mut env = CartPole::new();
        env.reset(Some(7));
        let first = env.state();
        assert!(first.iter().all(|v| v.abs() <= RESET_BOUND));
        env.reset(None);
        assert_ne!(env.state(), first);
        env.reset(Some(7));
        assert_eq!(env.state(), first);
    }

    #[test]
    fn invalid_actions_are_errors() {
        let mut env = CartPole::new();
        env.reset(Some(0));
        assert_eq!(
            env.step(2),
            Err(EnvError::InvalidAction {
                action: 2,
                num_actions: 2
            })
        );
    }
}
