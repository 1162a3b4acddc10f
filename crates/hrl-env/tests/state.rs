//! Saved state: a `VecEnv` restored from `save_state` into a fresh one built from the same
//! config continues byte for byte (MinAtar with sticky actions and ramping, CartPole, Atari
//! with and without sticky actions), and bad or mismatched states are refused with the right
//! error, leaving the environment as it was.

use hrl_env::{
    AtariOptions, EnvError, EnvOptions, EpisodeStats, ObsElement, RandomState,
    STATE_FORMAT_VERSION, VecEnv, VecEnvConfig, make,
};

fn config(env_id: &str, options: EnvOptions, num_envs: usize) -> VecEnvConfig {
    VecEnvConfig {
        env_id: env_id.to_string(),
        options,
        num_envs,
        seed: 7,
        num_threads: 2,
    }
}

fn minatar_options() -> EnvOptions {
    EnvOptions {
        sticky_action_prob: Some(0.1),
        difficulty_ramping: Some(true),
        ..EnvOptions::default()
    }
}

/// Everything a caller can read from a `VecEnv` at one moment, observations as bytes.
#[derive(Debug, PartialEq)]
struct Snapshot {
    observations: Vec<u8>,
    rewards: Vec<f32>,
    terminated: Vec<bool>,
    truncated: Vec<bool>,
    finished: Vec<(usize, EpisodeStats)>,
    /// `final_observations()` rows of the copies that ended an episode in the last step.
    final_observations: Vec<u8>,
    episodes: Vec<EpisodeStats>,
    lives: Vec<Option<u32>>,
}

fn snapshot<T: ObsElement>(env: &VecEnv<T>) -> Snapshot {
    let n = env.num_envs();
    let len = env.spec().observation_len();
    let mut observations = Vec::new();
    T::write_le(env.observations(), &mut observations);
    let mut final_observations = Vec::new();
    for i in (0..n).filter(|&i| env.terminated()[i] || env.truncated()[i]) {
        T::write_le(
            &env.final_observations()[i * len..(i + 1) * len],
            &mut final_observations,
        );
    }
    Snapshot {
        observations,
        rewards: env.rewards().to_vec(),
        terminated: env.terminated().to_vec(),
        truncated: env.truncated().to_vec(),
        finished: env
            .finished_episodes()
            .iter()
            .map(|f| (f.env_index, f.stats))
            .collect(),
        final_observations,
        episodes: (0..n).map(|i| env.episode(i)).collect(),
        lives: (0..n).map(|i| env.lives(i)).collect(),
    }
}

/// The snapshot now, then after each of `steps` steps of actions drawn from `rng`; also the
/// number of episodes that ended.
fn play<T: ObsElement>(
    env: &mut VecEnv<T>,
    rng: &mut RandomState,
    steps: usize,
) -> (Vec<Snapshot>, usize) {
    let num_actions = env.spec().num_actions as u32;
    let mut actions = vec![0; env.num_envs()];
    let mut snapshots = vec![snapshot(env)];
    let mut episodes = 0;
    for _ in 0..steps {
        for a in &mut actions {
            *a = rng.randint(num_actions) as usize;
        }
        env.step(&actions).unwrap();
        episodes += env.finished_episodes().len();
        snapshots.push(snapshot(env));
    }
    (snapshots, episodes)
}

/// Takes `before` random steps (episodes must end), saves, takes `after` more; a fresh
/// `VecEnv` from `resume_config` restores the state and must take the same `after` steps
/// byte for byte, episodes ending among them.
fn check_resume<T: ObsElement>(
    config: &VecEnvConfig,
    resume_config: &VecEnvConfig,
    before: usize,
    after: usize,
) {
    let id = &config.env_id;
    let mut original = VecEnv::<T>::new(config).unwrap();
    let mut rng = RandomState::new(11);
    let (_, ended) = play(&mut original, &mut rng, before);
    assert!(ended > 0, "{id}: no episode ended before saving");
    let saved = original.save_state().unwrap();
    let mut resume_rng = rng.clone();
    let (expected, ended) = play(&mut original, &mut rng, after);
    assert!(ended > 0, "{id}: no episode ended after saving");

    let mut resumed = VecEnv::<T>::new(resume_config).unwrap();
    assert!(
        snapshot(&resumed) != expected[0],
        "{id}: a fresh VecEnv already looks like the saved one"
    );
    resumed.restore_state(&saved).unwrap();
    assert!(
        resumed.save_state().unwrap() == saved,
        "{id}: the restored VecEnv saves another state"
    );
    let (actual, _) = play(&mut resumed, &mut resume_rng, after);
    for (t, (ours, theirs)) in actual.iter().zip(&expected).enumerate() {
        assert!(ours == theirs, "{id}: step {t} after the restore differs");
    }
    assert_eq!(
        resumed.save_state().unwrap(),
        original.save_state().unwrap()
    );
}

#[test]
fn minatar_resumes_exactly_with_sticky_actions_and_ramping() {
    for (game, before, after) in [
        ("breakout", 300, 300),
        ("asterix", 300, 300),
        ("freeway", 2_600, 2_600),
        ("seaquest", 300, 300),
        ("space_invaders", 300, 300),
    ] {
        let config = config(&format!("minatar/{game}"), minatar_options(), 16);
        check_resume::<u8>(&config, &config, before, after);
    }
}

/// The seed and the thread count of the restoring `VecEnv` do not matter, and f32
/// observations are restored as well.
#[test]
fn seed_and_threads_of_the_restoring_env_do_not_matter() {
    let saving = config("minatar/seaquest", minatar_options(), 5);
    let restoring = VecEnvConfig {
        seed: 12_345,
        num_threads: 1,
        ..saving.clone()
    };
    check_resume::<f32>(&saving, &restoring, 400, 300);
}

#[test]
fn cartpole_resumes_exactly() {
    let config = config("cartpole", EnvOptions::default(), 4);
    check_resume::<f32>(&config, &config, 200, 200);
}

#[test]
fn atari_resumes_exactly_with_and_without_sticky_actions() {
    for game in ["breakout", "space_invaders"] {
        for sticky in [None, Some(0.25)] {
            let options = EnvOptions {
                sticky_action_prob: sticky,
                ..EnvOptions::default()
            };
            let config = config(&format!("atari/{game}"), options, 4);
            check_resume::<u8>(&config, &config, 300, 300);
        }
    }
}

/// Pong (a paddle game) under a frame cap, so that episodes also end truncated.
#[test]
fn atari_resumes_exactly_across_truncations() {
    let options = EnvOptions {
        sticky_action_prob: Some(0.25),
        atari: AtariOptions {
            max_episode_frames: Some(1_000),
            ..AtariOptions::default()
        },
        ..EnvOptions::default()
    };
    let config = config("atari/pong", options, 3);
    check_resume::<u8>(&config, &config, 300, 300);
}

/// A state from `config` after some steps.
fn saved(config: &VecEnvConfig) -> Vec<u8> {
    let mut env = VecEnv::<u8>::new(config).unwrap();
    play(&mut env, &mut RandomState::new(3), 50);
    env.save_state().unwrap()
}

fn restore_err<T: ObsElement>(config: &VecEnvConfig, bytes: &[u8]) -> EnvError {
    let mut env = VecEnv::<T>::new(config).unwrap();
    env.restore_state(bytes).unwrap_err()
}

/// Where the payload starts: magic, version, id, num_envs, observation length, element
/// type, payload length, checksum.
fn payload_start(env_id: &str) -> usize {
    8 + 4 + 4 + env_id.len() + 8 + 8 + 1 + 8 + 8
}

fn fnv1a_64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// Writes a new checksum for an edited payload, so that only the edit is wrong.
fn reseal(bytes: &mut [u8], env_id: &str) {
    let start = payload_start(env_id);
    let checksum = fnv1a_64(&bytes[start..]);
    bytes[start - 8..start].copy_from_slice(&checksum.to_le_bytes());
}

#[test]
fn mismatched_environments_are_refused_by_name() {
    let breakout = config("minatar/breakout", minatar_options(), 4);
    let bytes = saved(&breakout);
    let asterix = config("minatar/asterix", minatar_options(), 4);
    assert_eq!(
        restore_err::<u8>(&asterix, &bytes),
        EnvError::StateMismatch {
            what: "env id",
            saved: "`minatar/breakout`".into(),
            current: "`minatar/asterix`".into(),
        }
    );
    let more = config("minatar/breakout", minatar_options(), 5);
    assert_eq!(
        restore_err::<u8>(&more, &bytes),
        EnvError::StateMismatch {
            what: "num_envs",
            saved: "4".into(),
            current: "5".into(),
        }
    );
    assert_eq!(
        restore_err::<f32>(&breakout, &bytes),
        EnvError::StateMismatch {
            what: "observation element type",
            saved: "u8".into(),
            current: "f32".into(),
        }
    );
    let stickier = config(
        "minatar/breakout",
        EnvOptions {
            sticky_action_prob: Some(0.25),
            ..minatar_options()
        },
        4,
    );
    let err = restore_err::<u8>(&stickier, &bytes);
    assert_eq!(
        err,
        EnvError::StateCopy {
            index: 0,
            source: Box::new(EnvError::StateMismatch {
                what: "sticky_action_prob",
                saved: "0.1".into(),
                current: "0.25".into(),
            }),
        }
    );
    assert_eq!(
        err.to_string(),
        "restoring copy 0: saved environment state does not fit this environment: its \
         sticky_action_prob is 0.1, here it is 0.25"
    );
}

#[test]
fn damaged_states_are_refused_with_the_right_error() {
    let id = "minatar/seaquest";
    let config = config(id, minatar_options(), 3);
    let bytes = saved(&config);

    let mut bad_magic = bytes.clone();
    bad_magic[0] = b'X';
    assert_eq!(restore_err::<u8>(&config, &bad_magic), EnvError::StateMagic);
    assert_eq!(restore_err::<u8>(&config, b"HRL"), EnvError::StateMagic);
    assert_eq!(restore_err::<u8>(&config, &[]), EnvError::StateMagic);

    let mut bad_version = bytes.clone();
    bad_version[8..12].copy_from_slice(&99u32.to_le_bytes());
    assert_eq!(
        restore_err::<u8>(&config, &bad_version),
        EnvError::StateVersion {
            found: 99,
            supported: STATE_FORMAT_VERSION,
        }
    );

    let half = &bytes[..bytes.len() / 2];
    assert_eq!(
        restore_err::<u8>(&config, half),
        EnvError::StateTruncated {
            what: "the payload",
            needed: (bytes.len() - payload_start(id)) as u64,
            available: (half.len() - payload_start(id)) as u64,
        }
    );
    assert!(matches!(
        restore_err::<u8>(&config, &bytes[..14]),
        EnvError::StateTruncated {
            what: "the env id's length",
            ..
        }
    ));
    let mut env = VecEnv::<u8>::new(&config).unwrap();
    for cut in 0..bytes.len() {
        let err = env.restore_state(&bytes[..cut]).unwrap_err();
        let expected = if cut < 8 {
            matches!(err, EnvError::StateMagic)
        } else {
            matches!(err, EnvError::StateTruncated { .. })
        };
        assert!(expected, "cut at {cut}: {err}");
    }

    let mut flipped = bytes.clone();
    let middle = flipped.len() - 100;
    flipped[middle] ^= 0x10;
    assert!(matches!(
        restore_err::<u8>(&config, &flipped),
        EnvError::StateChecksum { .. }
    ));

    let mut longer = bytes.clone();
    longer.push(0);
    assert_eq!(
        restore_err::<u8>(&config, &longer),
        EnvError::StateCorrupt("1 bytes are left over after the payload".into())
    );

    // A checksum-valid payload with an impossible value: more finished episodes than copies.
    let mut impossible = bytes.clone();
    let at = payload_start(id) + 4 * 3 + 2 * 3;
    impossible[at..at + 8].copy_from_slice(&9u64.to_le_bytes());
    reseal(&mut impossible, id);
    assert_eq!(
        restore_err::<u8>(&config, &impossible),
        EnvError::StateCorrupt("number of finished episodes is 9, it must be below 4".into())
    );
}

/// After every refused restore the environment steps on exactly like a twin that never saw
/// one.
#[test]
fn a_refused_restore_leaves_the_env_unchanged() {
    let id = "minatar/space_invaders";
    let config = config(id, minatar_options(), 4);
    let good = saved(&config);
    let mut impossible = good.clone();
    let at = payload_start(id) + 4 * 4 + 2 * 4;
    impossible[at..at + 8].copy_from_slice(&9u64.to_le_bytes());
    reseal(&mut impossible, id);
    let other_sticky = saved(&VecEnvConfig {
        options: EnvOptions {
            sticky_action_prob: Some(0.0),
            ..minatar_options()
        },
        ..config.clone()
    });

    let mut env = VecEnv::<u8>::new(&config).unwrap();
    let mut twin = VecEnv::<u8>::new(&config).unwrap();
    let mut rng = RandomState::new(8);
    play(&mut env, &mut rng.clone(), 20);
    play(&mut twin, &mut rng, 20);
    for bad in [&good[..good.len() - 3], &impossible, &other_sticky] {
        assert!(env.restore_state(bad).is_err());
    }
    let mut rng = RandomState::new(9);
    assert!(play(&mut env, &mut rng.clone(), 200).0 == play(&mut twin, &mut rng, 200).0);
}

#[test]
fn atari_states_are_checked_against_the_options() {
    let breakout = config("atari/breakout", EnvOptions::default(), 2);
    let mut env = VecEnv::<u8>::new(&breakout).unwrap();
    play(&mut env, &mut RandomState::new(1), 30);
    let bytes = env.save_state().unwrap();

    let pong = config("atari/pong", EnvOptions::default(), 2);
    assert!(matches!(
        restore_err::<u8>(&pong, &bytes),
        EnvError::StateMismatch { what: "env id", .. }
    ));
    let skip = EnvOptions {
        atari: AtariOptions {
            frame_skip: Some(3),
            ..AtariOptions::default()
        },
        ..EnvOptions::default()
    };
    let mut other = VecEnv::<u8>::new(&config("atari/breakout", skip, 2)).unwrap();
    assert_eq!(
        other.restore_state(&bytes).unwrap_err(),
        EnvError::StateCopy {
            index: 0,
            source: Box::new(EnvError::StateMismatch {
                what: "frame_skip",
                saved: "4".into(),
                current: "3".into(),
            }),
        }
    );
    let sticky = config(
        "atari/breakout",
        EnvOptions {
            sticky_action_prob: Some(0.25),
            ..EnvOptions::default()
        },
        2,
    );
    assert!(matches!(
        restore_err::<u8>(&sticky, &bytes),
        EnvError::StateCopy { index: 0, source } if matches!(
            *source,
            EnvError::StateMismatch { what: "sticky_action_prob", .. }
        )
    ));
}

/// A single environment's state, cut short anywhere or with any byte changed, is refused or
/// restores into something that steps and renders without panicking.
#[test]
fn damaged_single_env_states_never_panic() {
    let ids = [
        "minatar/breakout",
        "minatar/asterix",
        "minatar/freeway",
        "minatar/seaquest",
        "minatar/space_invaders",
        "cartpole",
    ];
    for id in ids {
        let mut env = make(id, &EnvOptions::default()).unwrap();
        env.reset(Some(2));
        let num_actions = env.spec().num_actions as u32;
        let mut rng = RandomState::new(4);
        for _ in 0..120 {
            if env.step(rng.randint(num_actions) as usize).unwrap().done() {
                env.reset(None);
            }
        }
        let mut bytes = Vec::new();
        env.save_state(&mut bytes).unwrap();
        let mut target = make(id, &EnvOptions::default()).unwrap();
        for cut in 0..bytes.len() {
            assert!(
                target.restore_state(&mut &bytes[..cut]).is_err(),
                "{id}: cut at {cut}"
            );
        }
        let mut obs = vec![0.0f32; env.spec().observation_len()];
        for at in 0..bytes.len() {
            for flip in [0x01, 0x80, 0xff] {
                let mut damaged = bytes.clone();
                damaged[at] ^= flip;
                let mut target = make(id, &EnvOptions::default()).unwrap();
                if target.restore_state(&mut &damaged[..]).is_ok() {
                    target.observe_f32(&mut obs).unwrap();
                    for _ in 0..3 {
                        match target.step(0) {
                            Ok(step) if step.done() => target.reset(None),
                            _ => {}
                        }
                        target.observe_f32(&mut obs).unwrap();
                    }
                }
            }
        }
    }
}
