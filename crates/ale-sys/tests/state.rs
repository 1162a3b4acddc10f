//! Snapshots: restoring a cloned state replays the same frames.

use ale_sys::{Action, Ale, AleSettings, AleState, GAMES, rom_path, trace::screen_hash};

fn emulator(game: &str, sticky: f32) -> Ale {
    let rom = rom_path(game, None).expect("ROM from the build's ale-py sdist");
    let settings = AleSettings::new()
        .random_seed(3)
        .repeat_action_probability(sticky);
    Ale::new(&rom, &settings).expect("loading the ROM")
}

/// (reward, lives, screen hash, RAM) for each of `frames` frames.
fn play(ale: &mut Ale, actions: &[Action], frames: usize) -> Vec<(i32, i32, String, Vec<u8>)> {
    let mut screen = vec![0u8; ale.screen_width() * ale.screen_height()];
    (0..frames)
        .map(|k| {
            let reward = ale.act(actions[k % actions.len()], 1.0).expect("act");
            ale.screen_grayscale(&mut screen).expect("screen");
            (
                reward,
                ale.lives(),
                screen_hash(&screen),
                ale.ram().to_vec(),
            )
        })
        .collect()
}

#[test]
fn restore_replays_the_same_frames_with_sticky_actions() {
    let mut ale = emulator("breakout", 0.25);
    let actions = ale.minimal_action_set().expect("actions");
    play(&mut ale, &actions, 300);
    let frame = ale.frame_number();
    let state = ale.clone_state(true).expect("clone");
    let first = play(&mut ale, &actions, 500);
    ale.restore_state(&state).expect("restore");
    assert_eq!(ale.frame_number(), frame);
    let second = play(&mut ale, &actions, 500);
    assert_eq!(first, second);
}

#[test]
fn state_survives_a_trip_through_bytes_into_another_emulator() {
    let mut ale = emulator("seaquest", 0.0);
    let actions = ale.minimal_action_set().expect("actions");
    play(&mut ale, &actions, 400);
    let state = AleState::from_bytes(ale.clone_state(false).expect("clone").as_bytes().to_vec());
    let expected = play(&mut ale, &actions, 300);
    let mut other = emulator("seaquest", 0.0);
    other.restore_state(&state).expect("restore");
    assert_eq!(play(&mut other, &actions, 300), expected);
}

#[test]
fn malformed_or_foreign_states_are_errors() {
    let mut breakout = emulator("breakout", 0.0);
    let mut pong = emulator("pong", 0.0);
    let pong_state = pong.clone_state(false).expect("clone");
    let err = breakout
        .restore_state(&pong_state)
        .expect_err("a Pong state in Breakout");
    assert!(err.to_string().contains("md5"), "{err}");
    let bytes = breakout
        .clone_state(false)
        .expect("clone")
        .as_bytes()
        .to_vec();
    for bad in [
        Vec::new(),
        bytes[..bytes.len() / 2].to_vec(),
        vec![0xff; 64],
    ] {
        assert!(breakout.restore_state(&AleState::from_bytes(bad)).is_err());
    }
    assert!(breakout.act(Action::Fire, 1.0).is_ok());
}

/// A fixed stream of pseudo-random action indices (a 64-bit LCG), each held for four frames
/// as an agent step would.
fn action_stream(seed: u64, len: usize, num_actions: usize) -> Vec<usize> {
    let mut x = seed;
    let mut action = 0;
    (0..len)
        .map(|t| {
            if t % 4 == 0 {
                x = x
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                action = (x >> 33) as usize % num_actions;
            }
            action
        })
        .collect()
}

/// One frame as seen from outside: reward, lives, game over, screen, RAM, episode frame.
type Frame = (i32, i32, bool, Vec<u8>, Vec<u8>, i32);

/// The frames of playing each action of `indices`, resetting the game when it ends.
fn play_indices(ale: &mut Ale, actions: &[Action], indices: &[usize]) -> Vec<Frame> {
    let mut screen = vec![0u8; ale.screen_width() * ale.screen_height()];
    indices
        .iter()
        .map(|&i| {
            let reward = ale.act(actions[i], 1.0).expect("act");
            let over = ale.game_over(true);
            ale.screen_grayscale(&mut screen).expect("screen");
            let frame = (
                reward,
                ale.lives(),
                over,
                screen.clone(),
                ale.ram().to_vec(),
                ale.episode_frame_number(),
            );
            if over {
                ale.reset_game().expect("reset");
            }
            frame
        })
        .collect()
}

/// Saves after `before` frames, plays `after` more; a second emulator with the same settings
/// but another history (other actions for a different number of frames) restores the state
/// and must play the same `after` frames exactly.
fn exact_state_resumes(game: &str, sticky: f32) {
    let mut ale = emulator(game, sticky);
    let actions = ale.legal_action_set().expect("actions");
    let before = action_stream(1, 2_000, actions.len());
    let after = action_stream(2, 3_000, actions.len());
    play_indices(&mut ale, &actions, &before);
    let mut state = Vec::new();
    ale.save_exact_state(&mut state).expect("save");
    let expected = play_indices(&mut ale, &actions, &after);
    assert!(
        expected.iter().any(|f| f.0 != 0),
        "{game}: no reward in the checked frames"
    );

    let mut other = emulator(game, sticky);
    play_indices(&mut other, &actions, &action_stream(3, 777, actions.len()));
    check_resume(
        game, sticky, &mut other, &state, &actions, &after, &expected,
    );
}

/// Restores `state` into `other`, then checks that it saves the same state, shows the screen
/// the saving emulator showed, and plays `after` as `expected`.
fn check_resume(
    game: &str,
    sticky: f32,
    other: &mut Ale,
    state: &[u8],
    actions: &[Action],
    after: &[usize],
    expected: &[Frame],
) {
    other.restore_exact_state(state).expect("restore");
    let mut again = Vec::new();
    other.save_exact_state(&mut again).expect("save again");
    assert!(
        again == state,
        "{game}: the restored state saves differently"
    );
    let resumed = play_indices(other, actions, after);
    for (t, (ours, theirs)) in resumed.iter().zip(expected).enumerate() {
        assert!(
            ours == theirs,
            "{game}, sticky {sticky}: frame {t} after restore differs"
        );
    }
}

/// Every single-player game: its exact state, saved mid-game and restored into an emulator
/// with another history, shows the same screen at once, saves back the same bytes and plays
/// the same frames. (ALE's own state alone does not round-trip for Miniature Golf and
/// Pitfall II; see the shim.)
#[test]
fn exact_state_resumes_every_game() {
    // ALE's single-player interface does not load these (see hrl-env's MULTIPLAYER_ONLY).
    let multiplayer_only = ["combat", "joust", "maze_craze", "warlords"];
    for game in GAMES.iter().filter(|g| !multiplayer_only.contains(g)) {
        let mut ale = emulator(game, 0.25);
        let actions = ale.legal_action_set().expect("actions");
        play_indices(&mut ale, &actions, &action_stream(5, 400, actions.len()));
        let mut screen = vec![0u8; ale.screen_width() * ale.screen_height()];
        ale.screen_grayscale(&mut screen).expect("screen");
        let mut state = Vec::new();
        ale.save_exact_state(&mut state).expect("save");
        let after = action_stream(6, 400, actions.len());
        let expected = play_indices(&mut ale, &actions, &after);

        let mut other = emulator(game, 0.25);
        play_indices(&mut other, &actions, &action_stream(7, 100, actions.len()));
        if let Err(e) = other.restore_exact_state(&state) {
            panic!("{game}: {e}");
        }
        let mut restored_screen = vec![0u8; screen.len()];
        other
            .screen_grayscale(&mut restored_screen)
            .expect("screen");
        assert!(
            restored_screen == screen,
            "{game}: screen right after restore"
        );
        check_resume(game, 0.25, &mut other, &state, &actions, &after, &expected);
    }
}

#[test]
fn exact_state_resumes_bit_for_bit_with_sticky_actions() {
    for game in ["breakout", "pong", "space_invaders", "seaquest"] {
        exact_state_resumes(game, 0.25);
    }
}

#[test]
fn exact_state_resumes_bit_for_bit_without_sticky_actions() {
    for game in ["breakout", "seaquest"] {
        exact_state_resumes(game, 0.0);
    }
}

/// ALE's own state with its generator is not enough under sticky actions: restored into an
/// emulator whose last action was another, the next frames differ. This is what the exact
/// state's extra parts are for.
#[test]
fn ale_state_alone_loses_the_repeated_action() {
    let mut ale = emulator("breakout", 0.25);
    let actions = ale.legal_action_set().expect("actions");
    play_indices(&mut ale, &actions, &action_stream(1, 300, actions.len()));
    let state = ale.clone_state(true).expect("clone");
    let left = vec![Action::Left as usize; 200];
    ale.act(Action::Right, 1.0).expect("act");
    let mut rest = Vec::new();
    ale.save_exact_state(&mut rest).expect("save");
    let expected = play_indices(&mut ale, &actions, &left);

    let mut other = emulator("breakout", 0.25);
    play_indices(&mut other, &actions, &[Action::Left as usize; 10]);
    other.restore_state(&state).expect("restore");
    other.act(Action::Left, 1.0).expect("act");
    assert!(play_indices(&mut other, &actions, &left) != expected);
    other.restore_exact_state(&rest).expect("restore");
    assert!(play_indices(&mut other, &actions, &left) == expected);
}

#[test]
fn bad_exact_states_are_errors_and_leave_the_emulator_alone() {
    let mut breakout = emulator("breakout", 0.25);
    let actions = breakout.legal_action_set().expect("actions");
    play_indices(
        &mut breakout,
        &actions,
        &action_stream(4, 200, actions.len()),
    );
    let mut state = Vec::new();
    breakout.save_exact_state(&mut state).expect("save");
    let pong = emulator("pong", 0.25);
    let mut pong_state = Vec::new();
    pong.save_exact_state(&mut pong_state).expect("save");

    let mut bad_magic = state.clone();
    bad_magic[0] ^= 0xff;
    let mut bad_version = state.clone();
    bad_version[4] = 9;
    let mut long = state.clone();
    long.push(0);
    let cases: [(&[u8], &str); 6] = [
        (&pong_state, "md5"),
        (
            &state[..state.len() - 1],
            "truncated at the Miniature Golf flag",
        ),
        (&state[..6], "truncated at the version"),
        (&bad_magic, "not an exact ALE state"),
        (&bad_version, "layout version 9"),
        (&long, "1 bytes past its end"),
    ];
    for (bytes, message) in cases {
        let err = breakout
            .restore_exact_state(bytes)
            .expect_err("a bad state")
            .to_string();
        assert!(err.contains(message), "{err}");
        let mut unchanged = Vec::new();
        breakout.save_exact_state(&mut unchanged).expect("save");
        assert!(unchanged == state, "a failed restore changed the emulator");
    }
}
