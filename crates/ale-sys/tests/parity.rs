//! Raw emulation against ale-py 0.12.1: every committed trace in
//! `fixtures/raw` (made by `fixtures/gen_ale_traces.py`) must be reproduced
//! line for line by `ale_sys::trace::raw_trace`.

use ale_sys::trace::{parse_actions, raw_trace};
use flate2::read::GzDecoder;
use std::io::Read;
use std::path::{Path, PathBuf};

/// One fixture: `GAME_seedS_stickyP.{actions,trace.gz}`.
struct Fixture {
    game: String,
    seed: i32,
    sticky: f32,
    actions: PathBuf,
    trace: PathBuf,
}

fn fixtures() -> Vec<Fixture> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/raw");
    let mut fixtures: Vec<Fixture> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("listing {}: {e}", dir.display()))
        .map(|entry| entry.expect("reading the fixtures folder").path())
        .filter_map(|path| {
            let stem = path
                .file_name()?
                .to_str()?
                .strip_suffix(".actions")?
                .to_string();
            let (game, rest) = stem.split_once("_seed")?;
            let (seed, sticky) = rest.split_once("_sticky")?;
            Some(Fixture {
                game: game.to_string(),
                seed: seed.parse().ok()?,
                sticky: sticky.parse().ok()?,
                trace: dir.join(format!("{stem}.trace.gz")),
                actions: path,
            })
        })
        .collect();
    fixtures.sort_by(|a, b| a.actions.cmp(&b.actions));
    fixtures
}

fn expected_lines(trace: &Path) -> Vec<String> {
    let file =
        std::fs::File::open(trace).unwrap_or_else(|e| panic!("opening {}: {e}", trace.display()));
    let mut text = String::new();
    GzDecoder::new(file)
        .read_to_string(&mut text)
        .unwrap_or_else(|e| panic!("decompressing {}: {e}", trace.display()));
    text.lines().map(str::to_string).collect()
}

#[test]
fn raw_traces_match_ale_py_frame_by_frame() {
    let fixtures = fixtures();
    let games: std::collections::BTreeSet<&str> =
        fixtures.iter().map(|f| f.game.as_str()).collect();
    assert_eq!(
        fixtures.len(),
        15,
        "expected 5 games x 3 configurations of fixtures"
    );
    assert!(games.len() >= 5, "games covered: {games:?}");
    assert!(fixtures.iter().any(|f| f.sticky == 0.0) && fixtures.iter().any(|f| f.sticky == 0.25));

    let mut failures = Vec::new();
    for fixture in &fixtures {
        let text = std::fs::read_to_string(&fixture.actions).expect("reading an actions fixture");
        let actions = parse_actions(&text).expect("parsing an actions fixture");
        let expected = expected_lines(&fixture.trace);
        assert_eq!(
            expected.len(),
            actions.len(),
            "{}: one line per action",
            fixture.trace.display()
        );
        let mut out = Vec::new();
        raw_trace(
            &fixture.game,
            fixture.seed,
            fixture.sticky,
            &actions,
            None,
            &mut out,
        )
        .unwrap_or_else(|e| panic!("{} seed {}: {e}", fixture.game, fixture.seed));
        let got = String::from_utf8(out).expect("the trace is UTF-8");
        let got: Vec<&str> = got.lines().collect();
        let first_difference = (0..expected.len().max(got.len()))
            .find(|&k| expected.get(k).map(String::as_str) != got.get(k).copied());
        if let Some(k) = first_difference {
            failures.push(format!(
                "{} seed {} sticky {}: first difference at frame {k} (0-based) of {}: \
                 ale-py {:?}, ale-sys {:?}",
                fixture.game,
                fixture.seed,
                fixture.sticky,
                expected.len(),
                expected.get(k),
                got.get(k)
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "raw traces differ from ale-py:\n{}",
        failures.join("\n")
    );
}

#[test]
fn an_out_of_range_action_index_is_an_error_before_any_output() {
    let mut out = Vec::new();
    let err = raw_trace("breakout", 0, 0.0, &[0, 1, 4], None, &mut out).unwrap_err();
    assert!(
        matches!(
            err,
            ale_sys::AleError::ActionIndex {
                step: 2,
                index: 4,
                num_actions: 4,
                ..
            }
        ),
        "{err}"
    );
    assert!(out.is_empty());
    let err = raw_trace("tetris2", 0, 0.0, &[0], None, &mut out).unwrap_err();
    assert!(err.to_string().contains("valid games are"), "{err}");
}
