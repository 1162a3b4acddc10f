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
//!   before grabbing the screen), while hrl-env observes the game's final frames.

use std::io::Read;

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
}

fn check_case(name: &str) {
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
            }
        })
        .collect();
    let frames = gunzip(&format!("{name}.frames.gz"));
    let cleanrl = header["pipeline"] == "cleanrl";
    let config = AtariConfig {
        sticky_action_prob: header["sticky"].parse().unwrap(),
        noop_max: 0,
        episodic_life: cleanrl,
        fire_reset: cleanrl,
        ..AtariConfig::default()
    };
    let mut env = Atari::new(header["game"], config).expect("the ROM");
    env.reset(Some(header["ale_seed"].parse().unwrap()));
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
