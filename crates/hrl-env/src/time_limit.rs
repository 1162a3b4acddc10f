//! An episode length cap in agent steps for any environment (gymnasium's `TimeLimit`,
//! `max_episode_steps`; gymnax's MinAtar games end every episode after 1,000 steps).
//!
//! The step that reaches the cap without the game ending reports `truncated`, so agents that
//! bootstrap through time limits keep doing so; a game end on that same step stays `terminated`.
//! The episode's length is the wrapped environment's own count ([`EpisodeStats`]), so the cap
//! adds one flag to the state: whether the last step was cut off and the episode needs a reset.

use crate::env::{Env, EnvSpec, EpisodeStats, Step};
use crate::error::EnvError;
use crate::state::{Put, Take, expect_same};

/// `inner` with every episode cut off after `max_episode_steps` agent steps.
pub struct TimeLimit {
    inner: Box<dyn Env>,
    max_episode_steps: u64,
    /// The last step reached the cap (the inner environment does not know it ended).
    cut_off: bool,
}

impl TimeLimit {
    /// Caps `inner`'s episodes at `max_episode_steps` agent steps (positive).
    pub fn new(inner: Box<dyn Env>, max_episode_steps: u64) -> Result<TimeLimit, EnvError> {
        if max_episode_steps == 0 {
            return Err(EnvError::MaxEpisodeSteps);
        }
        Ok(TimeLimit {
            inner,
            max_episode_steps,
            cut_off: false,
        })
    }
}

impl Env for TimeLimit {
    fn spec(&self) -> &EnvSpec {
        self.inner.spec()
    }

    fn reset(&mut self, seed: Option<u32>) {
        self.inner.reset(seed);
        self.cut_off = false;
    }

    fn step(&mut self, action: usize) -> Result<Step, EnvError> {
        if self.cut_off {
            return Err(EnvError::NeedsReset);
        }
        let mut step = self.inner.step(action)?;
        if !step.done() && self.inner.episode().episodic_length >= self.max_episode_steps {
            step.truncated = true;
            self.cut_off = true;
        }
        Ok(step)
    }

    fn observe_f32(&self, out: &mut [f32]) -> Result<(), EnvError> {
        self.inner.observe_f32(out)
    }

    fn observe_u8(&self, out: &mut [u8]) -> Result<(), EnvError> {
        self.inner.observe_u8(out)
    }

    fn episode(&self) -> EpisodeStats {
        self.inner.episode()
    }

    fn lives(&self) -> Option<u32> {
        self.inner.lives()
    }

    /// The cap (checked on restore) and the cut-off flag, then the inner environment's state.
    fn save_state(&self, out: &mut Vec<u8>) -> Result<(), EnvError> {
        out.put_u64(self.max_episode_steps);
        out.put_bool(self.cut_off);
        self.inner.save_state(out)
    }

    fn restore_state(&mut self, input: &mut &[u8]) -> Result<(), EnvError> {
        expect_same(
            "max_episode_steps",
            input.take_u64("max_episode_steps")?,
            self.max_episode_steps,
        )?;
        let cut_off = input.take_bool("time-limit cut-off flag")?;
        self.inner.restore_state(input)?;
        self.cut_off = cut_off;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{EnvOptions, make};

    fn capped(env_id: &str, max_episode_steps: u64) -> Box<dyn Env> {
        let options = EnvOptions {
            max_episode_steps: Some(max_episode_steps),
            ..EnvOptions::default()
        };
        make(env_id, &options).expect("a capped environment")
    }

    #[test]
    fn the_capped_step_is_truncated_and_the_next_one_needs_a_reset() {
        let mut env = capped("minatar/breakout", 5);
        env.reset(Some(3));
        for t in 1..=5 {
            let step = env.step(0).unwrap();
            assert!(!step.terminated, "step {t}");
            assert_eq!(step.truncated, t == 5, "step {t}");
        }
        assert_eq!(env.episode().episodic_length, 5);
        assert_eq!(env.step(0), Err(EnvError::NeedsReset));
        env.reset(None);
        assert!(!env.step(0).unwrap().done());
    }

    #[test]
    fn a_game_end_on_the_capped_step_stays_terminated() {
        // CartPole pushed left every step falls after a fixed number of steps; cap it there.
        let mut free = make("cartpole", &EnvOptions::default()).unwrap();
        free.reset(Some(7));
        let mut length = 0;
        while !free.step(0).unwrap().done() {
            length += 1;
        }
        length += 1;
        let mut env = capped("cartpole", length);
        env.reset(Some(7));
        for _ in 1..length {
            assert!(!env.step(0).unwrap().done());
        }
        let last = env.step(0).unwrap();
        assert!(last.terminated && !last.truncated);
    }

    #[test]
    fn saved_state_resumes_exactly_and_rejects_another_cap() {
        let mut env = capped("minatar/freeway", 40);
        env.reset(Some(11));
        for t in 0..25 {
            env.step(t % 3).unwrap();
        }
        let mut state = Vec::new();
        env.save_state(&mut state).unwrap();
        let mut copy = capped("minatar/freeway", 40);
        copy.restore_state(&mut state.as_slice()).unwrap();
        // Freeway runs 2,500 steps before its own limit, so the cap ends this episode.
        let (mut a, mut b) = (vec![0.0; 700], vec![0.0; 700]);
        for t in 25..40 {
            assert_eq!(
                env.step(t % 3).unwrap(),
                copy.step(t % 3).unwrap(),
                "step {t}"
            );
            env.observe_f32(&mut a).unwrap();
            copy.observe_f32(&mut b).unwrap();
            assert_eq!(a, b, "step {t}");
        }
        assert_eq!(copy.step(0), Err(EnvError::NeedsReset));
        let mut other = capped("minatar/freeway", 41);
        let err = other.restore_state(&mut state.as_slice()).unwrap_err();
        assert!(matches!(
            err,
            EnvError::StateMismatch {
                what: "max_episode_steps",
                ..
            }
        ));
    }

    #[test]
    fn a_zero_cap_and_a_bare_atari_emulator_are_errors() {
        let options = EnvOptions {
            max_episode_steps: Some(0),
            ..EnvOptions::default()
        };
        assert_eq!(
            make("minatar/breakout", &options).err(),
            Some(EnvError::MaxEpisodeSteps)
        );
        let options = EnvOptions {
            max_episode_steps: Some(100),
            ..EnvOptions::default()
        };
        assert!(matches!(
            crate::make_atari("atari/pong", &options).err(),
            Some(EnvError::UnsupportedOption {
                option: "max_episode_steps",
                ..
            })
        ));
    }
}
