//! The replay buffer against a naive copy of every transition, on real environments: random
//! episodes through CartPole, MinAtar and Atari (frame-stacked, with lost lives, game overs and
//! a short frame cap for truncations), past several wrap-arounds of the buffer; then its
//! checkpoint file, and what the file refuses.

use std::collections::VecDeque;
use std::path::PathBuf;

use hrl_agents::AgentError;
use hrl_agents::replay::{Batch, Experience, ReplayBuffer, TransitionId};
use hrl_agents::rng::Rng;
use hrl_env::{AtariOptions, EnvOptions, VecEnv, VecEnvConfig};

/// One transition as the environment gave it.
#[derive(Clone, Debug, PartialEq)]
struct Naive {
    obs: Vec<f32>,
    action: usize,
    reward: f32,
    terminated: bool,
    next_obs: Vec<f32>,
}

/// Random play with every transition pushed to a buffer and kept in a naive copy.
struct Run {
    envs: VecEnv<f32>,
    replay: ReplayBuffer,
    /// Per stream: the transitions that may still be held, with their index.
    naive: Vec<VecDeque<(u64, Naive)>>,
    pushed: Vec<u64>,
    rng: Rng,
    terminated: usize,
    truncated: usize,
}

impl Run {
    fn new(env_id: &str, atari: AtariOptions, num_envs: usize, capacity: usize) -> Run {
        let config = VecEnvConfig {
            env_id: env_id.into(),
            options: EnvOptions {
                atari,
                ..EnvOptions::default()
            },
            num_envs,
            seed: 17,
            num_threads: 1,
        };
        let envs = VecEnv::<f32>::new(&config).unwrap();
        let replay = ReplayBuffer::for_env(envs.spec(), capacity, num_envs).unwrap();
        Run {
            envs,
            replay,
            naive: vec![VecDeque::new(); num_envs],
            pushed: vec![0; num_envs],
            rng: Rng::new(23),
            terminated: 0,
            truncated: 0,
        }
    }

    /// One random step of every environment, pushed to the buffer unless `record` is false.
    fn step(&mut self, record: bool) {
        let n = self.envs.num_envs();
        let len = self.envs.spec().observation_len();
        let num_actions = self.envs.spec().num_actions;
        let obs = self.envs.observations().to_vec();
        let actions: Vec<usize> = (0..n).map(|_| self.rng.below(num_actions)).collect();
        self.envs.step(&actions).unwrap();
        let keep = (self.replay.capacity() / n) as u64;
        for (env, &action) in actions.iter().enumerate() {
            let row = env * len..(env + 1) * len;
            let (terminated, truncated) = (self.envs.terminated()[env], self.envs.truncated()[env]);
            self.terminated += usize::from(terminated);
            self.truncated += usize::from(truncated && !terminated);
            let next_obs = if terminated || truncated {
                &self.envs.final_observations()[row.clone()]
            } else {
                &self.envs.observations()[row.clone()]
            };
            if !record {
                continue;
            }
            let naive = Naive {
                obs: obs[row.clone()].to_vec(),
                action,
                reward: self.envs.rewards()[env],
                terminated,
                next_obs: next_obs.to_vec(),
            };
            self.replay
                .push(
                    env,
                    &Experience {
                        obs: &naive.obs,
                        action: naive.action,
                        reward: naive.reward,
                        terminated,
                        truncated,
                        next_obs: &naive.next_obs,
                    },
                )
                .unwrap();
            self.naive[env].push_back((self.pushed[env], naive));
            self.pushed[env] += 1;
            while self.naive[env].len() as u64 > keep {
                self.naive[env].pop_front();
            }
        }
    }

    fn naive(&self, id: TransitionId) -> &Naive {
        let (first, _) = self.naive[id.env][0];
        let (index, naive) = &self.naive[id.env][(id.index - first) as usize];
        assert_eq!(*index, id.index);
        naive
    }

    /// Every held transition rebuilds its naive copy exactly; the held ones are each stream's
    /// newest; and a sampled batch matches too.
    fn check(&mut self) {
        let replay = &self.replay;
        let len = replay.obs_len();
        let (mut obs, mut next_obs) = (vec![0.0; len], vec![0.0; len]);
        let mut held = vec![0u64; replay.num_envs()];
        for position in 0..replay.len() {
            let id = replay.id_at(position).unwrap();
            held[id.env] += 1;
            let info = replay.get(id, &mut obs, &mut next_obs).unwrap();
            let naive = self.naive(id);
            assert_eq!(info.action, naive.action, "{id:?}");
            assert_eq!(info.reward, naive.reward, "{id:?}");
            assert_eq!(info.terminated, naive.terminated, "{id:?}");
            assert!(obs == naive.obs, "observation of {id:?}");
            assert!(next_obs == naive.next_obs, "next observation of {id:?}");
        }
        assert!(replay.id_at(replay.len()).is_none());
        for (env, &count) in held.iter().enumerate() {
            let newest = TransitionId {
                env,
                index: self.pushed[env] - 1,
            };
            let oldest = TransitionId {
                env,
                index: self.pushed[env] - count,
            };
            assert!(replay.get(newest, &mut obs, &mut next_obs).is_some());
            assert!(replay.get(oldest, &mut obs, &mut next_obs).is_some());
            if oldest.index > 0 {
                let older = TransitionId {
                    index: oldest.index - 1,
                    ..oldest
                };
                assert!(replay.get(older, &mut obs, &mut next_obs).is_none());
            }
        }
        let mut batch = Batch::new(64, len);
        assert!(replay.sample(&mut self.rng, &mut batch));
        for (row, &id) in batch.ids.iter().enumerate() {
            let naive = self.naive(id);
            assert!(batch.observations[row * len..(row + 1) * len] == naive.obs[..]);
            assert!(batch.next_observations[row * len..(row + 1) * len] == naive.next_obs[..]);
            assert_eq!(batch.actions[row], naive.action as i64);
            assert_eq!(batch.rewards[row], naive.reward);
            assert_eq!(batch.terminated[row], f32::from(u8::from(naive.terminated)));
        }
    }

    /// `steps` steps, checking every `every` steps and at the end.
    fn play(&mut self, steps: usize, every: usize) {
        for step in 1..=steps {
            self.step(true);
            if step % every == 0 || step == steps {
                self.check();
            }
        }
    }
}

#[test]
fn cartpole_transitions_rebuild_exactly_across_wrap_around() {
    let mut run = Run::new("cartpole", AtariOptions::default(), 2, 300);
    run.play(3000, 250);
    assert!(run.terminated > 50, "{} episode ends", run.terminated);
    assert!(run.pushed[0] > 5 * 150);
    // One frame slot per episode start beyond the transitions: at ~20 steps an episode the
    // buffer still holds most of its capacity.
    assert!(run.replay.len() > 250, "{}", run.replay.len());
}

#[test]
fn minatar_transitions_rebuild_exactly_across_wrap_around() {
    let mut run = Run::new("minatar/breakout", AtariOptions::default(), 3, 900);
    run.play(4000, 500);
    assert!(run.terminated > 50, "{} episode ends", run.terminated);
    assert_eq!(run.envs.spec().frame_stack, 1);
}

#[test]
fn atari_frame_stacks_rebuild_exactly_across_episodes_and_wrap_around() {
    // Episodic life ends learning episodes at lost lives, game over ends games, and a cap of
    // 600 frames (150 agent steps) truncates.
    let atari = AtariOptions {
        max_episode_frames: Some(600),
        ..AtariOptions::default()
    };
    let mut run = Run::new("atari/breakout", atari, 2, 400);
    assert_eq!(run.envs.spec().frame_stack, 4);
    // Start recording mid-episode, as after loading a checkpoint without its replay buffer:
    // the first stored stack has four distinct frames.
    for _ in 0..7 {
        run.step(false);
    }
    run.play(1500, 300);
    assert!(run.terminated > 5, "{} terminations", run.terminated);
    assert!(run.truncated > 2, "{} truncations", run.truncated);
    assert!(run.pushed[0] > 3 * 200);
}

fn temp_file(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("hrl-replay-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn refusal(result: Result<(), AgentError>) -> String {
    match result {
        Err(e @ AgentError::Checkpoint { .. }) => e.to_string(),
        other => panic!("expected a checkpoint error, got {other:?}"),
    }
}

#[test]
fn the_checkpoint_file_restores_everything_and_refuses_what_does_not_fit() {
    let atari = AtariOptions {
        max_episode_frames: Some(600),
        screen_size: Some(42),
        ..AtariOptions::default()
    };
    let mut run = Run::new("atari/breakout", atari, 2, 300);
    run.play(400, 400);
    let path = temp_file("replay.bin");
    run.replay.save(&path).unwrap();

    // A buffer of the same shape, loaded, holds the same transitions; and a loaded buffer
    // continues streams exactly.
    let spec = run.envs.spec().clone();
    let mut loaded = ReplayBuffer::for_env(&spec, 300, 2).unwrap();
    loaded.load(&path).unwrap();
    run.replay = loaded;
    run.check();
    run.play(200, 200);

    let bytes = std::fs::read(&path).unwrap();
    let mut fresh = ReplayBuffer::for_env(&spec, 300, 2).unwrap();
    let mut corrupted = bytes.clone();
    let middle = corrupted.len() / 2;
    corrupted[middle] ^= 0x10;
    std::fs::write(&path, &corrupted).unwrap();
    let message = refusal(fresh.load(&path));
    assert!(message.contains("checksum"), "{message}");
    assert!(fresh.is_empty(), "a refused file leaves the buffer empty");

    std::fs::write(&path, &bytes[..bytes.len() - 9]).unwrap();
    let message = refusal(fresh.load(&path));
    assert!(message.contains("ends early"), "{message}");

    std::fs::write(&path, &bytes).unwrap();
    let mut smaller = ReplayBuffer::for_env(&spec, 200, 2).unwrap();
    let message = refusal(smaller.load(&path));
    assert!(
        message.contains("transition slots per stream = 150, this run has 100"),
        "{message}"
    );
    let mut floats =
        ReplayBuffer::new(300, 2, spec.observation_len(), 4, hrl_env::ObsDtype::F32).unwrap();
    let message = refusal(floats.load(&path));
    assert!(
        message.contains("stored as u8, this run stores f32"),
        "{message}"
    );

    std::fs::write(&path, b"not a replay file at all").unwrap();
    let message = refusal(fresh.load(&path));
    assert!(message.contains("not a replay buffer file"), "{message}");
    std::fs::remove_file(&path).unwrap();
}
