//! The Atari pipeline against the Python references, from fixtures made by
//! `tests/fixtures/atari/gen_atari_fixtures.py` (see its docstring for the exact pipelines):
//!
//! - the area resize against OpenCV's `INTER_AREA` on real Atari frames and on noise, within
//!   one grey level;
//! - whole runs of 400 agent steps (Breakout, Space Invaders, Pong; sticky actions 0 and 0.25)
//!   against ale-py 0.12.1 + gymnasium's `AtariPreprocessing` + `FrameStackObservation`, with
//!   and without cleanrl's episodic-life and fire-reset semantics, no-op reset off on both
//!   sides: per agent step the clipped reward, terminated, truncated and lives must be equal,
//!   the newest stacked 84x84 frame within one grey level, and on each step that ends a game
//!   the full-game unclipped score equal. Frames are not compared on steps that end a game:
//!   gymnasium's `AtariPreprocessing` then returns the frames of the previous step (it stops
//!   before grabbing the screen), while hrl-env observes the game's final frames;
//! - the preprocessed trace (`hrl env trace --env atari/GAME` without `--raw`) on the same
//!   runs: per step the reward, terminated, truncated and lives fields equal, and the hash of
//!   the whole `[4, 84, 84]` observation equal to the sha256 prefix of gymnasium's stacked
//!   observation (steps that end a game excepted, as above). On these fixtures the resize is
//!   bit-identical to OpenCV, so the hashes agree exactly.

use std::io::Read;

use hrl_env::atari::trace::{LinedAction, write_preprocessed_trace};
use hrl_env::atari::{AreaResize, Atari, AtariConfig};
use hrl_env::{Env, EpisodeStats};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/atari");

fn gunzip(name: &str) -> Vec<u8> {
    let file = std::fs::File::open(format!("{FIXTURES}/{name}")).expect("fixture");
    let mut bytes = Vec::new();
    flate2::read::GzDecoder::new(file)
        .read_to_end(&mut bytes)
        .expect("gzip");
    bytes
}

fn max_difference(a: &[u8], b: &[u8]) -> u8 {
    a.iter()
        .zip(b)
        .map(|(x, y)| x.abs_diff(*y))
        .max()
        .unwrap_or(0)
}

#[test]
fn area_resize_is_within_one_grey_level_of_opencv() {
    let bytes = gunzip("resize.bin.gz");
    let mut rest = &bytes[..];
    let mut cases = 0;
    while !rest.is_empty() {
        let dims: Vec<usize> = rest[..8]
            .chunks(2)
            .map(|c| usize::from(u16::from_le_bytes([c[0], c[1]])))
            .collect();
        let (src_len, dst_len) = (dims[0] * dims[1], dims[2] * dims[3]);
        let src = &rest[8..8 + src_len];
        let expected = &rest[8 + src_len..8 + src_len + dst_len];
        rest = &rest[8 + src_len + dst_len..];
        let mut dst = vec![0u8; dst_len];
        AreaResize::new(dims[0], dims[1], dims[2], dims[3]).apply(src, &mut dst);
        let worst = max_difference(&dst, expected);
        assert!(worst <= 1, "case {cases} ({dims:?}): off by {worst}");
        cases += 1;
    }
    assert_eq!(cases, 7);
}

/// One step of a reference run.
struct RefStep {
    action: usize,
    reward: f32,
    terminated: bool,
    truncated: bool,
    lives: u32,
    game_score: Option<f64>,
    /// The whole line as the reference wrote it.
    line: String,
}

/// A reference run: the game, ALE seed, configuration and steps.
struct Case {
    game: String,
    ale_seed: u32,
    config: AtariConfig,
    steps: Vec<RefStep>,
}

fn read_case(name: &str) -> Case {
    let text = std::fs::read_to_string(format!("{FIXTURES}/{name}.txt")).expect("fixture");
    let mut lines = text.lines();
    let header: std::collections::HashMap<&str, &str> = lines
        .next()
        .expect("header")
        .split_whitespace()
        .filter_map(|kv| kv.split_once('='))
        .collect();
    let steps: Vec<RefStep> = lines
        .map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            RefStep {
                action: f[0].parse().unwrap(),
                reward: f[1].parse().unwrap(),
                terminated: f[2] == "1",
                truncated: f[3] == "1",
                lives: f[4].parse().unwrap(),
                game_score: (f[5] != "-").then(|| f[5].parse().unwrap()),
                line: line.to_string(),
            }
        })
        .collect();
    let cleanrl = header["pipeline"] == "cleanrl";
    Case {
        game: header["game"].to_string(),
        ale_seed: header["ale_seed"].parse().unwrap(),
        config: AtariConfig {
            sticky_action_prob: header["sticky"].parse().unwrap(),
            noop_max: 0,
            episodic_life: cleanrl,
            fire_reset: cleanrl,
            ..AtariConfig::default()
        },
        steps,
    }
}

fn check_case(name: &str) {
    let Case {
        game,
        ale_seed,
        config,
        steps,
    } = read_case(name);
    let frames = gunzip(&format!("{name}.frames.gz"));
    let mut env = Atari::new(&game, config).expect("the ROM");
    env.reset(Some(ale_seed));
    let (mut compared, mut games) = (0, 0);
    for (t, (want, frame)) in steps.iter().zip(frames.chunks(84 * 84)).enumerate() {
        let step = env.step(want.action).unwrap();
        let at = format!("{name} step {t}");
        assert_eq!(step.reward, want.reward, "reward at {at}");
        assert_eq!(step.terminated, want.terminated, "terminated at {at}");
        assert_eq!(step.truncated, want.truncated, "truncated at {at}");
        assert_eq!(env.lives(), Some(want.lives), "lives at {at}");
        let stats: EpisodeStats = env.episode();
        let game_over = step.done() && !stats.continues_game;
        assert_eq!(game_over, want.game_score.is_some(), "game end at {at}");
        if game_over {
            assert_eq!(stats.full_game_score(), want.game_score, "score at {at}");
            games += 1;
        } else {
            let worst = max_difference(env.newest_frame(), frame);
            assert!(worst <= 1, "frame at {at} off by {worst}");
            compared += 1;
        }
        if step.done() {
            env.reset(None);
        }
    }
    assert_eq!(steps.len(), 400);
    assert!(compared >= 390, "{name}: only {compared} frames compared");
    eprintln!("{name}: {compared} frames compared, {games} games ended");
}

#[test]
fn breakout_matches_gymnasium_atari_preprocessing() {
    check_case("breakout_gym");
}

#[test]
fn breakout_matches_cleanrl_episodic_life_and_fire_reset() {
    check_case("breakout_cleanrl");
}

#[test]
fn space_invaders_with_sticky_actions_matches_cleanrl() {
    check_case("space_invaders_cleanrl_sticky");
}

#[test]
fn pong_with_sticky_actions_matches_gymnasium() {
    check_case("pong_gym_sticky");
}

fn check_trace(name: &str) {
    let case = read_case(name);
    let actions: Vec<LinedAction> = case
        .steps
        .iter()
        .enumerate()
        .map(|(i, s)| LinedAction {
            action: s.action,
            line: i + 1,
        })
        .collect();
    let mut out = Vec::new();
    write_preprocessed_trace(&case.game, case.config, case.ale_seed, &actions, &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    let mut hashes = 0;
    for (t, (ours, want)) in text.lines().zip(&case.steps).enumerate() {
        let ours: Vec<&str> = ours.split_whitespace().collect();
        let want_fields: Vec<&str> = want.line.split_whitespace().collect();
        assert_eq!(ours[..4], want_fields[1..5], "{name} step {t}");
        if want.game_score.is_none() {
            assert_eq!(
                ours[4], want_fields[6],
                "observation hash at {name} step {t}"
            );
            hashes += 1;
        }
    }
    assert_eq!(text.lines().count(), case.steps.len());
    assert!(hashes >= 390, "{name}: only {hashes} hashes compared");
}

#[test]
fn preprocessed_traces_match_the_references() {
    for name in [
        "breakout_gym",
        "breakout_cleanrl",
        "space_invaders_cleanrl_sticky",
        "pong_gym_sticky",
    ] {
        check_trace(name);
    }
}
