//! Atari through the registry: ids, options, errors, seeding, episodic-life statistics, the
//! frame cap and the vectorised wrapper.

use hrl_env::atari::MULTIPLAYER_ONLY;
use hrl_env::{
    AtariOptions, Env, EnvError, EnvOptions, RandomState, VecEnv, VecEnvConfig, env_ids, make,
    make_atari,
};

/// Options that set only Atari's `options`.
fn with_atari(atari: AtariOptions) -> EnvOptions {
    EnvOptions {
        atari,
        ..EnvOptions::default()
    }
}

fn atari(options: AtariOptions) -> Box<dyn Env> {
    make("atari/breakout", &with_atari(options)).unwrap()
}

#[test]
fn every_ale_game_has_an_id_and_breakout_has_the_standard_shape() {
    let ids = env_ids();
    for game in hrl_env::atari::ale_sys::GAMES {
        let listed = ids.contains(&format!("atari/{game}"));
        assert_eq!(listed, !MULTIPLAYER_ONLY.contains(&game), "{game}");
    }
    assert_eq!(
        ids.iter().filter(|id| id.starts_with("atari/")).count(),
        104
    );
    let env = make("atari/breakout", &EnvOptions::default()).unwrap();
    assert_eq!(env.spec().observation_shape, [4, 84, 84]);
    assert_eq!(env.spec().num_actions, 4);
    let full = EnvOptions {
        minimal_action_set: Some(false),
        ..EnvOptions::default()
    };
    assert_eq!(
        make("atari/breakout", &full).unwrap().spec().num_actions,
        18
    );
    let small = atari(AtariOptions {
        frame_stack: Some(2),
        screen_size: Some(42),
        ..AtariOptions::default()
    });
    assert_eq!(small.spec().observation_shape, [2, 42, 42]);
    assert_eq!(
        (small.spec().frames_per_step, small.spec().frame_stack),
        (4, 2)
    );
    let skip3 = atari(AtariOptions {
        frame_skip: Some(3),
        ..AtariOptions::default()
    });
    assert_eq!(
        (skip3.spec().frames_per_step, skip3.spec().frame_stack),
        (3, 4)
    );
    let minatar = make("minatar/breakout", &EnvOptions::default()).unwrap();
    assert_eq!(
        (minatar.spec().frames_per_step, minatar.spec().frame_stack),
        (1, 1)
    );
}

#[test]
fn an_unknown_game_lists_the_valid_names() {
    let message = make("atari/brekout", &EnvOptions::default())
        .err()
        .unwrap()
        .to_string();
    assert!(message.contains("\"brekout\""), "{message}");
    assert!(message.contains("breakout, carnival"), "{message}");
}

#[test]
fn options_are_checked() {
    let ramping = EnvOptions {
        difficulty_ramping: Some(true),
        ..EnvOptions::default()
    };
    assert_eq!(
        make("atari/pong", &ramping).err().unwrap(),
        EnvError::UnsupportedOption {
            env_id: "atari/pong".into(),
            option: "difficulty_ramping"
        }
    );
    let noops = AtariOptions {
        noop_max: Some(5),
        ..AtariOptions::default()
    };
    assert_eq!(
        make("cartpole", &with_atari(noops)).err().unwrap(),
        EnvError::UnsupportedOption {
            env_id: "cartpole".into(),
            option: "noop_max"
        }
    );
    let skip = AtariOptions {
        frame_skip: Some(0),
        ..AtariOptions::default()
    };
    let err = make("atari/pong", &with_atari(skip)).err().unwrap();
    assert!(
        matches!(
            err,
            EnvError::AtariOption {
                option: "frame_skip",
                ..
            }
        ),
        "{err}"
    );
    let sticky = EnvOptions {
        sticky_action_prob: Some(-0.1),
        ..EnvOptions::default()
    };
    assert_eq!(
        make("atari/pong", &sticky).err().unwrap(),
        EnvError::StickyActionProb(-0.1)
    );
}

/// Observation hashes of `steps` random steps after `reset(Some(seed))`.
fn run(env: &mut dyn Env, seed: u32, steps: usize) -> Vec<Vec<u8>> {
    let mut rng = RandomState::new(99);
    let mut obs = vec![0u8; env.spec().observation_len()];
    env.reset(Some(seed));
    let mut seen = Vec::new();
    for _ in 0..steps {
        let step = env
            .step(rng.randint(env.spec().num_actions as u32) as usize)
            .unwrap();
        env.observe_u8(&mut obs).unwrap();
        seen.push(obs.clone());
        if step.done() {
            env.reset(None);
        }
    }
    seen
}

#[test]
fn a_seeded_reset_replays_exactly_and_seeds_differ() {
    let sticky = EnvOptions {
        sticky_action_prob: Some(0.25),
        ..EnvOptions::default()
    };
    let mut env = make("atari/breakout", &sticky).unwrap();
    let first = run(env.as_mut(), 5, 300);
    let again = run(env.as_mut(), 5, 300);
    assert!(first == again, "the same seed must replay the same run");
    let other = run(env.as_mut(), 6, 300);
    assert!(first != other, "another seed must change the run");
}

#[test]
fn stepping_before_reset_is_an_error_and_so_is_a_bad_action() {
    let mut env = make("atari/breakout", &EnvOptions::default()).unwrap();
    assert_eq!(env.step(0).unwrap_err(), EnvError::NeedsReset);
    env.reset(Some(0));
    assert_eq!(
        env.step(4).unwrap_err(),
        EnvError::InvalidAction {
            action: 4,
            num_actions: 4
        }
    );
}

#[test]
fn a_lost_life_ends_the_learning_episode_but_not_the_game() {
    let mut env = atari(AtariOptions {
        clip_rewards: Some(false),
        ..AtariOptions::default()
    });
    let mut rng = RandomState::new(3);
    env.reset(Some(3));
    let start_lives = env.lives().unwrap();
    assert_eq!(start_lives, 5);
    let (mut lives_lost, mut step_rewards) = (0, 0.0);
    loop {
        let before = env.lives().unwrap();
        let step = env.step(rng.randint(4) as usize).unwrap();
        step_rewards += f64::from(step.reward);
        if !step.done() {
            continue;
        }
        let stats = env.episode();
        assert!(step.terminated && !step.truncated);
        if stats.continues_game {
            lives_lost += 1;
            assert_eq!(env.lives(), Some(before - 1));
            assert_eq!(stats.full_game_score(), None);
            env.reset(None);
            assert_eq!(env.lives(), Some(before - 1), "the game goes on");
            assert_eq!(env.episode().episodic_length, 0);
            assert_eq!(env.episode().game_score, stats.game_score);
        } else {
            assert_eq!(env.lives(), Some(0));
            let score = stats.full_game_score().unwrap();
            assert!(score >= step_rewards, "{score} {step_rewards}");
            break;
        }
    }
    assert_eq!(lives_lost, 4);
    env.reset(None);
    assert_eq!(env.lives(), Some(5), "a new game after game over");
    assert_eq!(env.episode().game_score, Some(0.0));
}

#[test]
fn the_frame_cap_truncates_the_game() {
    let mut env = make(
        "atari/pong",
        &with_atari(AtariOptions {
            max_episode_frames: Some(400),
            noop_max: Some(0),
            ..AtariOptions::default()
        }),
    )
    .unwrap();
    env.reset(Some(0));
    let mut steps = 0;
    let step = loop {
        steps += 1;
        let step = env.step(0).unwrap();
        if step.done() {
            break step;
        }
    };
    assert!(step.truncated && !step.terminated);
    // 400 frames less the 8 of the fire reset, 4 frames per agent step.
    assert_eq!(steps, 98);
    assert!(env.episode().full_game_score().is_some());
}

#[test]
fn vectorised_atari_reports_whole_games_once() {
    let config = VecEnvConfig {
        env_id: "atari/breakout".into(),
        options: EnvOptions::default(),
        num_envs: 4,
        seed: 1,
        num_threads: 2,
    };
    let mut envs = VecEnv::<u8>::new(&config).unwrap();
    assert_eq!(envs.observations().len(), 4 * 4 * 84 * 84);
    let mut rng = RandomState::new(8);
    let (mut lives, mut games) = (0, 0);
    let mut actions = [0usize; 4];
    for _ in 0..1_500 {
        for a in &mut actions {
            *a = rng.randint(4) as usize;
        }
        envs.step(&actions).unwrap();
        for done in envs.finished_episodes() {
            match done.stats.full_game_score() {
                Some(_) => games += 1,
                None => lives += 1,
            }
        }
    }
    assert!(games >= 4, "{games} games");
    assert!(lives >= 4 * games, "{lives} lives for {games} games");
}

#[test]
fn make_atari_gives_the_raw_rgb_screen_and_rejects_other_ids() {
    let mut env = make_atari("atari/breakout", &EnvOptions::default()).unwrap();
    env.reset(Some(0));
    let mut rgb = vec![0u8; 210 * 160 * 3];
    env.screen_rgb(&mut rgb).unwrap();
    assert!(rgb.iter().any(|&v| v != 0), "a blank screen");
    assert!(env.screen_rgb(&mut rgb[1..]).is_err());
    let err = make_atari("minatar/breakout", &EnvOptions::default())
        .err()
        .unwrap();
    assert!(matches!(err, EnvError::UnknownEnv { .. }), "{err}");
    let ramping = EnvOptions {
        difficulty_ramping: Some(true),
        ..EnvOptions::default()
    };
    let err = make_atari("atari/breakout", &ramping).err().unwrap();
    assert!(
        matches!(
            err,
            EnvError::UnsupportedOption {
                option: "difficulty_ramping",
                ..
            }
        ),
        "{err}"
    );
}
