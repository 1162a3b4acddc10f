//! MinAtar against the Python reference: the committed traces of minatar 1.0.15
//! (`fixtures/gen_minatar_traces.py`) replayed step by step through `hrl_env::trace`.

use std::io::Read;
use std::path::{Path, PathBuf};

use hrl_env::Game;
use hrl_env::trace::{read_actions, write_trace};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/minatar")
}

/// One reference run: `name game seed sticky_action_prob` in `cases.txt`.
struct Case {
    name: String,
    game: Game,
    seed: u32,
    sticky_action_prob: f64,
}

fn cases() -> Vec<Case> {
    let text = std::fs::read_to_string(fixtures().join("cases.txt")).expect("cases.txt");
    text.lines()
        .map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            Case {
                name: fields[0].to_string(),
                game: Game::from_name(fields[1]).expect("a MinAtar game"),
                seed: fields[2].parse().expect("a seed"),
                sticky_action_prob: fields[3].parse().expect("a probability"),
            }
        })
        .collect()
}

fn reference_trace(name: &str) -> String {
    let file = std::fs::File::open(fixtures().join(format!("{name}.trace.gz"))).expect("trace");
    let mut text = String::new();
    flate2::read::GzDecoder::new(file)
        .read_to_string(&mut text)
        .expect("a gzip text");
    text
}

/// Where two trace lines first differ: reward, terminal flag, or the first cell by channel.
fn describe_difference(game: Game, ours: &str, theirs: &str) -> String {
    let ours: Vec<&str> = ours.split(' ').collect();
    let theirs: Vec<&str> = theirs.split(' ').collect();
    if ours[0] != theirs[0] {
        return format!("reward {} (reference {})", ours[0], theirs[0]);
    }
    if ours[1] != theirs[1] {
        return format!("terminal {} (reference {})", ours[1], theirs[1]);
    }
    let bits = |hex: &str| -> Vec<bool> {
        (0..hex.len() / 2)
            .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).expect("hex"))
            .flat_map(|byte| (0..8).rev().map(move |bit| byte >> bit & 1 == 1))
            .collect()
    };
    let (a, b) = (bits(ours[2]), bits(theirs[2]));
    let channels = game.num_channels();
    for channel in 0..channels {
        for cell in 0..100 {
            let i = cell * channels + channel;
            if a.get(i) != b.get(i) {
                return format!(
                    "channel {channel} ({}) first differs at (y {}, x {}): ours {:?}, reference {:?}",
                    game.channel_names()[channel],
                    cell / 10,
                    cell % 10,
                    a.get(i),
                    b.get(i)
                );
            }
        }
    }
    "the observation's length".to_string()
}

#[test]
fn traces_match_minatar_1_0_15() {
    let cases = cases();
    assert_eq!(cases.len(), 30, "fixtures for 5 games x 6 runs");
    for game in Game::ALL {
        assert!(
            cases.iter().any(|c| c.game == game),
            "no fixture for {game:?}"
        );
    }
    let mut failures = Vec::new();
    for case in &cases {
        let actions = read_actions(&fixtures().join(format!("{}.actions", case.name)))
            .expect("an actions file");
        let mut ours = Vec::new();
        write_trace(
            case.game,
            case.seed,
            case.sticky_action_prob,
            &actions,
            &mut ours,
        )
        .expect("a trace");
        let ours = String::from_utf8(ours).expect("utf-8");
        let theirs = reference_trace(&case.name);
        assert_eq!(theirs.lines().count(), actions.len(), "{}", case.name);
        if let Some((step, (a, b))) = ours
            .lines()
            .zip(theirs.lines())
            .enumerate()
            .find(|(_, (a, b))| a != b)
        {
            failures.push(format!(
                "{} (game {}, seed {}, sticky {}): step {step} differs: {}",
                case.name,
                case.game.name(),
                case.seed,
                case.sticky_action_prob,
                describe_difference(case.game, a, b)
            ));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}
