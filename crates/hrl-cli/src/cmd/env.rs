//! `hrl env ...`: inspect and trace environments.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Subcommand};
use hrl_env::EnvOptions;
use hrl_env::Game;
use hrl_env::atari::trace::{parse_actions, write_preprocessed_trace, write_raw_trace};
use hrl_env::atari::{AtariConfig, AtariOptions};
use hrl_env::trace::{read_actions, write_trace};

/// Arguments of `hrl env`.
#[derive(Args)]
pub struct EnvArgs {
    #[command(subcommand)]
    command: EnvCommand,
}

#[derive(Subcommand)]
enum EnvCommand {
    /// Step an environment through a file of actions and print one line per step.
    ///
    /// MinAtar (`--env minatar/GAME`): each line is `REWARD TERMINAL STATE`, where STATE is the
    /// hex of numpy's `packbits` of the `[10, 10, C]` boolean state: exactly what minatar
    /// 1.0.15 prints for `Environment(GAME, sticky_action_prob=P, difficulty_ramping=True)`
    /// seeded with `S`, reset after every terminal step.
    ///
    /// Atari with `--raw` (`--env atari/GAME --raw`): one line per emulator frame,
    /// `REWARD GAME_OVER LIVES HASH`, exactly what ale-py 0.12.1 prints for
    /// `ale = ALEInterface(); ale.setInt("random_seed", S);
    /// ale.setFloat("repeat_action_probability", P); ale.loadROM(path);
    /// A = ale.getMinimalActionSet()`, then for each integer i of the file `r = ale.act(A[i])`,
    /// print `f"{int(r)} {int(ale.game_over())} {ale.lives()}
    /// {hashlib.sha256(ale.getScreenGrayscale().tobytes()).hexdigest()[:16]}"`, then
    /// `if ale.game_over(): ale.reset_game()`. The sticky probability defaults to 0.0.
    ///
    /// Atari without `--raw`: the default preprocessing (cleanrl's DQN/PPO setup: no-op reset
    /// up to 30 frames, frame skip 4 with max-pooling, 84x84 grayscale, frame stack 4,
    /// episodic life, fire reset, reward clipping, 108,000-frame cap) with sticky actions P
    /// (default 0.0), reset with seed S, then one line per agent step:
    /// `REWARD TERMINATED TRUNCATED LIVES HASH`, the clipped reward, 0/1, 0/1, the lives after
    /// the step and the first 16 hex digits of the sha256 of the u8 `[4, 84, 84]` observation
    /// after the step (before any reset); after a step that ends a learning episode (a lost
    /// life too) the environment is reset. Actions index the minimal action set. With
    /// `--noop-max 0` this is the trace of ale-py with gymnasium's
    /// `AtariPreprocessing(noop_max=0)`, cleanrl's episodic-life and fire-reset wrappers and
    /// `FrameStackObservation(4)`, with ALE's `random_seed` = S (hrl-env's
    /// `tests/atari_parity.rs` checks it against such runs).
    Trace(TraceArgs),
    /// List the environment ids.
    List,
}

#[derive(Args)]
struct TraceArgs {
    /// Environment id: minatar/GAME (breakout, asterix, freeway, seaquest, space_invaders) or
    /// atari/GAME (see `hrl env list`).
    #[arg(long)]
    env: String,
    /// Seed. MinAtar: numpy's `RandomState(S)` (0 to 2^32 - 1). Atari raw: ALE's
    /// `random_seed` (a 32-bit signed integer). Atari preprocessed: `reset(Some(S))` (0 to
    /// 2^32 - 1).
    #[arg(long, allow_negative_numbers = true)]
    seed: i64,
    /// Actions file. MinAtar: one integer action in 0..=5 (n, l, u, r, d, f) per line.
    /// Atari: whitespace-separated indices into the game's minimal action set.
    #[arg(long)]
    actions: PathBuf,
    /// Probability that a step (MinAtar) or an emulator frame (Atari) repeats the previous
    /// action [default: 0.1 for MinAtar, 0.0 for Atari].
    #[arg(long)]
    sticky: Option<f64>,
    /// Atari: print the raw emulator trace, one line per frame, instead of the preprocessed one.
    #[arg(long)]
    raw: bool,
    /// Atari: folder searched first for GAME.bin (then $HRL_ROM_DIR and ale-sys's defaults).
    #[arg(long)]
    rom_dir: Option<PathBuf>,
    /// Atari without --raw: the most NOOP frames after a game reset (uniform in 1..=N drawn
    /// from numpy's RandomState(S)); 0 turns the random no-ops off [default: 30].
    #[arg(long)]
    noop_max: Option<u32>,
}

/// Runs `hrl env`.
pub fn run(args: EnvArgs) -> anyhow::Result<()> {
    match args.command {
        EnvCommand::Trace(args) => {
            if let Some(game) = hrl_env::atari_game(&args.env) {
                let game = game.to_string();
                atari_trace(&game, args)
            } else {
                minatar_trace(args)
            }
        }
        EnvCommand::List => {
            for id in hrl_env::env_ids() {
                println!("{id}");
            }
            Ok(())
        }
    }
}

fn minatar_trace(args: TraceArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        !args.raw && args.rom_dir.is_none() && args.noop_max.is_none(),
        "--raw, --rom-dir and --noop-max are for Atari environments (atari/GAME)"
    );
    let game = args
        .env
        .strip_prefix("minatar/")
        .and_then(Game::from_name)
        .with_context(|| {
            let valid: Vec<String> = Game::ALL
                .iter()
                .map(|game| format!("minatar/{}", game.name()))
                .collect();
            format!(
                "hrl env trace supports MinAtar and Atari: unknown id `{}`; valid MinAtar ids: \
                 {}; Atari ids are atari/GAME (see `hrl env list`)",
                args.env,
                valid.join(", ")
            )
        })?;
    let seed = u32::try_from(args.seed)
        .with_context(|| format!("--seed {} must be in 0..=4294967295", args.seed))?;
    let actions = read_actions(&args.actions)?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    write_trace(game, seed, args.sticky.unwrap_or(0.1), &actions, &mut out)?;
    out.flush().context("writing the trace")?;
    Ok(())
}

fn atari_trace(game: &str, args: TraceArgs) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(&args.actions)
        .with_context(|| format!("reading actions file {}", args.actions.display()))?;
    let actions = parse_actions(&text).with_context(|| format!("in {}", args.actions.display()))?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let path = args.actions.display();
    if args.raw {
        anyhow::ensure!(
            args.noop_max.is_none(),
            "--noop-max is for the preprocessed trace; the raw trace has no preprocessing"
        );
        let seed = i32::try_from(args.seed)
            .with_context(|| format!("--seed {} must be a 32-bit signed integer", args.seed))?;
        let sticky = args.sticky.unwrap_or(0.0);
        anyhow::ensure!(
            (0.0..=1.0).contains(&sticky),
            "--sticky {sticky} must be in [0, 1]"
        );
        write_raw_trace(
            game,
            seed,
            sticky as f32,
            &actions,
            args.rom_dir.as_deref(),
            &mut out,
        )
        .with_context(|| format!("tracing {} with actions from {path}", args.env))?;
    } else {
        let seed = u32::try_from(args.seed)
            .with_context(|| format!("--seed {} must be in 0..=4294967295", args.seed))?;
        let options = EnvOptions {
            sticky_action_prob: args.sticky,
            atari: AtariOptions {
                rom_dir: args.rom_dir.clone(),
                noop_max: args.noop_max,
                ..AtariOptions::default()
            },
            ..EnvOptions::default()
        };
        let config = AtariConfig::resolve(&options)?;
        write_preprocessed_trace(game, config, seed, &actions, &mut out)
            .with_context(|| format!("tracing {} with actions from {path}", args.env))?;
    }
    out.flush().context("writing the trace")?;
    Ok(())
}
