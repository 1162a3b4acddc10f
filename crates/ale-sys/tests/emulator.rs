//! The emulator wrapper on bad input and in threads.

use ale_sys::{
    Action, Ale, AleError, AleSettings, GAMES, RAM_SIZE, SCREEN_HEIGHT, SCREEN_WIDTH, rom_path,
};
use std::path::Path;

fn breakout() -> Ale {
    let rom = rom_path("breakout", None).expect("ROM from the build's ale-py sdist");
    Ale::new(&rom, &AleSettings::new().repeat_action_probability(0.0)).expect("loading Breakout")
}

#[test]
fn breakout_has_alepy_action_set_screen_and_lives() {
    let mut ale = breakout();
    assert_eq!(
        ale.minimal_action_set().unwrap(),
        [Action::Noop, Action::Fire, Action::Right, Action::Left]
    );
    assert_eq!(ale.legal_action_set().unwrap(), Action::ALL);
    assert_eq!(
        (ale.screen_width(), ale.screen_height()),
        (SCREEN_WIDTH, SCREEN_HEIGHT)
    );
    assert_eq!(ale.lives(), 5);
    assert!(!ale.game_over(true));
    assert_eq!(ale.ram().len(), RAM_SIZE);
    let mut rgb = vec![0u8; SCREEN_WIDTH * SCREEN_HEIGHT * 3];
    ale.screen_rgb(&mut rgb).unwrap();
    assert!(rgb.iter().any(|&b| b != 0));
    let before = ale.episode_frame_number();
    ale.act(Action::Fire, 1.0).unwrap();
    assert_eq!(ale.episode_frame_number(), before + 1);
}

#[test]
fn wrong_buffer_sizes_are_errors() {
    let ale = breakout();
    let mut small = vec![0u8; 100];
    let err = ale.screen_grayscale(&mut small).unwrap_err();
    assert!(
        matches!(
            err,
            AleError::BufferSize {
                expected: 33600,
                got: 100,
                ..
            }
        ),
        "{err}"
    );
    assert!(
        ale.screen_rgb(&mut vec![0u8; SCREEN_WIDTH * SCREEN_HEIGHT])
            .is_err()
    );
}

#[test]
fn missing_and_unsupported_rom_files_are_errors_not_exits() {
    let settings = AleSettings::new();
    let err = Ale::new(Path::new("/nonexistent/breakout.bin"), &settings)
        .err()
        .expect("missing ROM");
    assert!(err.to_string().contains("does not exist"), "{err}");
    let not_a_rom =
        std::env::temp_dir().join(format!("ale-sys-test-{}-mystery.bin", std::process::id()));
    std::fs::write(&not_a_rom, [0u8; 4096]).unwrap();
    let err = Ale::new(&not_a_rom, &settings)
        .err()
        .expect("unsupported ROM");
    std::fs::remove_file(&not_a_rom).unwrap();
    assert!(
        err.to_string()
            .contains("not a ROM that ALE 0.12.1 supports"),
        "{err}"
    );
}

#[test]
fn emulators_run_in_worker_threads() {
    let handles: Vec<_> = ["pong", "breakout"]
        .into_iter()
        .map(|game| {
            let mut ale = Ale::new(&rom_path(game, None).unwrap(), &AleSettings::new()).unwrap();
            std::thread::spawn(move || {
                for _ in 0..200 {
                    ale.act(Action::Noop, 1.0).unwrap();
                }
                ale.frame_number()
            })
        })
        .collect();
    for handle in handles {
        assert!(handle.join().unwrap() >= 200);
    }
    assert!(GAMES.contains(&"pong"));
}
