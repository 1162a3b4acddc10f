//! The vectorised environment: auto-reset, per-copy statistics and thread-count independence.

use hrl_env::{Env, EnvOptions, RandomState, VecEnv, VecEnvConfig, make};

fn config(env_id: &str, num_envs: usize, num_threads: usize) -> VecEnvConfig {
    VecEnvConfig {
        env_id: env_id.to_string(),
        options: EnvOptions::default(),
        num_envs,
        seed: 2024,
        num_threads,
    }
}

/// Everything a run of `steps` random steps produced, step by step.
#[derive(Debug, PartialEq)]
struct Record {
    observations: Vec<u8>,
    rewards: Vec<f32>,
    dones: Vec<(bool, bool)>,
    finished: Vec<(usize, usize, f64, u64)>,
}

fn run(num_threads: usize, steps: usize) -> Record {
    let mut env = VecEnv::<u8>::new(&config("minatar/seaquest", 7, num_threads)).unwrap();
    let mut actions_rng = RandomState::new(1);
    let mut actions = vec![0; env.num_envs()];
    let mut record = Record {
        observations: Vec::new(),
        rewards: Vec::new(),
        dones: Vec::new(),
        finished: Vec::new(),
    };
    for t in 0..steps {
        for a in &mut actions {
            *a = actions_rng.randint(6) as usize;
        }
        env.step(&actions).unwrap();
        record.observations.extend_from_slice(env.observations());
        record.rewards.extend_from_slice(env.rewards());
        record.dones.extend(
            env.terminated()
                .iter()
                .zip(env.truncated())
                .map(|(&a, &b)| (a, b)),
        );
        record
            .finished
            .extend(env.finished_episodes().iter().map(|f| {
                (
                    t,
                    f.env_index,
                    f.stats.episodic_return,
                    f.stats.episodic_length,
                )
            }));
    }
    record
}

#[test]
fn results_do_not_depend_on_the_number_of_threads() {
    let single = run(1, 400);
    assert!(single.finished.len() > 7, "episodes should end and reset");
    for num_threads in [2, 3, 7] {
        assert!(run(num_threads, 400) == single, "{num_threads} threads");
    }
}

/// Copy `i` is a single environment seeded with `env_seed(seed, i)`, reset by hand.
#[test]
fn each_copy_is_a_seeded_single_env_with_auto_reset() {
    let num_envs = 4;
    let mut vec_env = VecEnv::<u8>::new(&config("minatar/breakout", num_envs, 2)).unwrap();
    let mut singles: Vec<Box<dyn Env>> = (0..num_envs)
        .map(|i| {
            let mut env = make("minatar/breakout", &EnvOptions::default()).unwrap();
            env.reset(Some(VecEnv::<u8>::env_seed(2024, i)));
            env
        })
        .collect();
    let len = vec_env.spec().observation_len();
    let mut obs = vec![0u8; len];
    let mut actions_rng = RandomState::new(5);
    let mut episodes = 0;
    for _ in 0..300 {
        let actions: Vec<usize> = (0..num_envs)
            .map(|_| actions_rng.randint(6) as usize)
            .collect();
        vec_env.step(&actions).unwrap();
        for (i, env) in singles.iter_mut().enumerate() {
            let step = env.step(actions[i]).unwrap();
            assert_eq!(vec_env.rewards()[i], step.reward);
            assert_eq!(vec_env.terminated()[i], step.terminated);
            if step.done() {
                episodes += 1;
                let finished = vec_env
                    .finished_episodes()
                    .iter()
                    .find(|f| f.env_index == i)
                    .expect("a finished episode for this copy");
                assert_eq!(finished.stats, env.episode());
                env.observe_u8(&mut obs).unwrap();
                assert_eq!(
                    &vec_env.final_observations()[i * len..(i + 1) * len],
                    &obs[..]
                );
                env.reset(None);
            }
            env.observe_u8(&mut obs).unwrap();
            assert_eq!(&vec_env.observations()[i * len..(i + 1) * len], &obs[..]);
        }
    }
    assert!(episodes > num_envs, "only {episodes} episodes ended");
}

#[test]
fn cartpole_writes_f32_observations_and_counts_returns() {
    let mut env = VecEnv::<f32>::new(&config("cartpole", 3, 1)).unwrap();
    assert_eq!(env.observations().len(), 12);
    let mut returns = Vec::new();
    while returns.len() < 3 {
        env.step(&[1, 1, 1]).unwrap();
        returns.extend(
            env.finished_episodes()
                .iter()
                .map(|f| f.stats.episodic_return),
        );
    }
    // Always pushing right topples the pole within a few dozen steps; every step earns 1.
    assert!(
        returns.iter().all(|&r| (5.0..60.0).contains(&r)),
        "{returns:?}"
    );
}

#[test]
fn bad_batches_are_errors() {
    let mut env = VecEnv::<u8>::new(&config("minatar/freeway", 2, 1)).unwrap();
    assert_eq!(
        env.step(&[0]).unwrap_err().to_string(),
        "got 1 actions for 2 environments"
    );
    assert_eq!(
        env.step(&[0, 6]).unwrap_err().to_string(),
        "action 6 is out of range: this environment takes actions 0..6"
    );
    assert!(VecEnv::<f32>::new(&config("minatar/freeway", 0, 1)).is_err());
    assert!(VecEnv::<u8>::new(&config("cartpole", 1, 1)).is_err());
}

/// A transition's next state: the final observation where the step ended an episode (the
/// current one then already belongs to the next episode), else the current observation.
#[test]
fn the_next_observation_is_the_final_one_where_an_episode_ended() {
    let mut env = VecEnv::<f32>::new(&config("minatar/breakout", 4, 1)).unwrap();
    let len = env.spec().observation_len();
    let mut rng = RandomState::new(2);
    let (mut ended, mut continued) = (0, 0);
    for _ in 0..3_000 {
        let actions: Vec<usize> = (0..4).map(|_| rng.randint(3) as usize).collect();
        env.step(&actions).unwrap();
        for i in 0..4 {
            let done = env.terminated()[i] || env.truncated()[i];
            let expected = if done {
                ended += 1;
                &env.final_observations()[i * len..(i + 1) * len]
            } else {
                continued += 1;
                &env.observations()[i * len..(i + 1) * len]
            };
            assert_eq!(env.next_observation(i), expected);
            if done {
                assert_ne!(
                    env.next_observation(i),
                    &env.observations()[i * len..(i + 1) * len]
                );
            }
        }
    }
    assert!(ended > 10 && continued > 1000, "{ended} episode ends");
}
