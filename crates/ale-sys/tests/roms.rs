//! Finding ROMs by ale-py's game names.

use ale_sys::{AleError, GAMES, rom_path, sdist_rom_dir};
use std::path::Path;

#[test]
fn games_are_exactly_the_roms_of_the_sdist() {
    let dir = sdist_rom_dir().expect("the build exports the sdist location");
    let md5_json =
        std::fs::read_to_string(dir.join("md5.json")).expect("md5.json in the sdist roms");
    let mut names: Vec<&str> = md5_json
        .split('"')
        .filter_map(|token| token.strip_suffix(".bin"))
        .collect();
    names.sort_unstable();
    assert_eq!(names, GAMES);
    for game in GAMES {
        assert!(rom_path(game, None).expect(game).is_file());
    }
}

#[test]
fn an_explicit_rom_dir_is_searched_first() {
    let dir = std::env::temp_dir().join(format!("ale-sys-roms-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("pong.bin"), b"rom").unwrap();
    let found = rom_path("pong", Some(&dir)).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(found, dir.join("pong.bin"));
}

#[test]
fn an_unknown_game_lists_the_valid_names() {
    let err = rom_path("breakout-v5", None).unwrap_err();
    assert!(matches!(err, AleError::UnknownGame { .. }));
    let message = err.to_string();
    for game in ["breakout", "pong", "space_invaders", "ms_pacman", "zaxxon"] {
        assert!(message.contains(game), "{message}");
    }
}

#[test]
fn a_missing_rom_lists_the_places_looked_in() {
    let err = AleError::MissingRom {
        game: "pong".into(),
        file: "pong.bin".into(),
        looked_in: vec![Path::new("/a").into(), Path::new("/b").into()],
    };
    let message = err.to_string();
    assert!(
        message.contains("/a, /b") && message.contains("HRL_ROM_DIR"),
        "{message}"
    );
}
