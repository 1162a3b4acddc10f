//! Atari stepping allocates nothing on the Rust side (ALE's C++ is not counted): a counting
//! global allocator watches one environment and a single-threaded vectorised one, resets
//! (game overs and lost lives) included.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use hrl_env::{EnvOptions, RandomState, VecEnv, VecEnvConfig, make};

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

fn allocations() -> usize {
    ALLOCATIONS.with(Cell::get)
}

// SAFETY: forwards to the system allocator unchanged, only counting calls.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|count| count.set(count.get() + 1));
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn atari_stepping_does_not_allocate() {
    let mut rng = RandomState::new(0);
    for id in ["atari/breakout", "atari/pong"] {
        let mut env = make(id, &EnvOptions::default()).unwrap();
        let mut obs = vec![0u8; env.spec().observation_len()];
        let mut obs_f32 = vec![0f32; env.spec().observation_len()];
        let num_actions = env.spec().num_actions as u32;
        env.reset(Some(1));
        let before = allocations();
        let mut dones = 0;
        for _ in 0..3_000 {
            let step = env.step(rng.randint(num_actions) as usize).unwrap();
            env.observe_u8(&mut obs).unwrap();
            env.observe_f32(&mut obs_f32).unwrap();
            if step.done() {
                dones += 1;
                env.reset(None);
            }
        }
        assert_eq!(allocations(), before, "{id}");
        assert!(
            dones > 0 || id == "atari/pong",
            "{id}: no reset was exercised"
        );

        let config = VecEnvConfig {
            env_id: id.to_string(),
            options: EnvOptions::default(),
            num_envs: 4,
            seed: 0,
            num_threads: 1,
        };
        let mut vec_env = VecEnv::<u8>::new(&config).unwrap();
        let mut actions = vec![0; 4];
        let before = allocations();
        for _ in 0..500 {
            for a in &mut actions {
                *a = rng.randint(num_actions) as usize;
            }
            vec_env.step(&actions).unwrap();
        }
        assert_eq!(allocations(), before, "VecEnv {id}");
    }
}
