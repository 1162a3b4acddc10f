//! Stepping allocates nothing: a counting global allocator watches single environments and a
//! single-threaded vectorised one, resets included. Only this thread's allocations count, so
//! the test harness's own threads do not disturb the count. Atari has its own, shorter test
//! (`atari_no_allocation`).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use hrl_env::{EnvOptions, RandomState, VecEnv, VecEnvConfig, env_ids, make};

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
fn stepping_does_not_allocate() {
    let mut rng = RandomState::new(0);
    for id in env_ids().into_iter().filter(|id| !id.starts_with("atari/")) {
        let mut env = make(&id, &EnvOptions::default()).unwrap();
        let mut obs = vec![0.0f32; env.spec().observation_len()];
        let num_actions = env.spec().num_actions as u32;
        env.reset(Some(1));
        let before = allocations();
        for _ in 0..20_000 {
            let step = env.step(rng.randint(num_actions) as usize).unwrap();
            env.observe_f32(&mut obs).unwrap();
            if step.done() {
                env.reset(None);
            }
        }
        assert_eq!(allocations(), before, "{id}");

        let config = VecEnvConfig {
            env_id: id.clone(),
            options: EnvOptions::default(),
            num_envs: 8,
            seed: 0,
            num_threads: 1,
        };
        let mut vec_env = VecEnv::<f32>::new(&config).unwrap();
        let mut actions = vec![0; 8];
        let before = allocations();
        for _ in 0..2_000 {
            for a in &mut actions {
                *a = rng.randint(num_actions) as usize;
            }
            vec_env.step(&actions).unwrap();
        }
        assert_eq!(allocations(), before, "VecEnv {id}");
    }
}
