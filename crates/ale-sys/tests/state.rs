//! Snapshots: restoring a cloned state replays the same frames.

use ale_sys::{Action, Ale, AleSettings, AleState, rom_path, trace::screen_hash};

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
