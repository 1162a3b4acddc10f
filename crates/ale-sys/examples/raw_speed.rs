//! Raw emulation throughput on one thread: random minimal actions, one
//! `act` per emulator frame, a grayscale screen read per frame, resets at
//! game over. Prints emulator frames per second.
//!
//! `cargo run -p ale-sys --release --example raw_speed -- [GAME] [FRAMES]`
//! (defaults: breakout, 100000).

use ale_sys::{Ale, AleSettings, rom_path};
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let game = args.next().unwrap_or_else(|| "breakout".to_string());
    let frames: u64 = match args.next() {
        Some(n) => n
            .parse()
            .map_err(|_| format!("FRAMES must be a positive integer, got {n:?}"))?,
        None => 100_000,
    };
    let settings = AleSettings::new()
        .random_seed(0)
        .repeat_action_probability(0.0);
    let mut ale = Ale::new(&rom_path(&game, None)?, &settings)?;
    let actions = ale.minimal_action_set()?;
    let mut screen = vec![0u8; ale.screen_width() * ale.screen_height()];
    // xorshift64: a fixed, dependency-free action stream.
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    let mut episodes = 0u64;
    let start = Instant::now();
    for _ in 0..frames {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let action = actions[(state % actions.len() as u64) as usize];
        ale.act(action, 1.0)?;
        ale.screen_grayscale(&mut screen)?;
        if ale.game_over(true) {
            ale.reset_game()?;
            episodes += 1;
        }
    }
    let seconds = start.elapsed().as_secs_f64();
    println!(
        "{game}: {frames} frames in {seconds:.2} s = {:.0} frames/s on one thread \
         ({episodes} game overs; act + grayscale read per frame)",
        frames as f64 / seconds
    );
    Ok(())
}
