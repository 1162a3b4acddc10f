#!/usr/bin/env bash
# Atari throughput on this machine, in one run: hadamard-rl's `hrl bench env` beside ale-py
# 0.12.1's AtariVectorEnv and envpool, all on Breakout with uniformly random actions, the same
# number of environments and worker threads, and the same preprocessing (no-op reset 30, frame
# skip 4 with max-pool, 84x84 grayscale, stack 4, episodic life, fire reset, reward clipping,
# sticky actions 0). Prints agent steps per second (one agent step = 4 emulator frames) and
# the ratios to hadamard-rl.
#
# Usage: bench/env_atari.sh
# Environment: NUM_ENVS (default 8), THREADS (default: cores, at most NUM_ENVS), STEPS (agent
#              steps per implementation, default 100000), HRL (default: build
#              target/release/hrl), OUT (default target/bench/env_atari.json) for the results.
# The Python references go in a virtual environment this script creates (VENV, default
# /tmp/hrl-bench-atari-venv) with pip install from PyPI; if envpool cannot be installed on
# this Python, the script says so and goes on without it.
set -euo pipefail

cd "$(dirname "$0")/.."
NUM_ENVS="${NUM_ENVS:-8}"
CORES="$(nproc)"
THREADS="${THREADS:-$(( CORES < NUM_ENVS ? CORES : NUM_ENVS ))}"
STEPS="${STEPS:-100000}"
VENV="${VENV:-/tmp/hrl-bench-atari-venv}"
OUT="${OUT:-target/bench/env_atari.json}"
mkdir -p "$(dirname "$OUT")"

echo "machine: $CORES cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')); $NUM_ENVS envs, $THREADS threads, $STEPS agent steps each"

if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV"
fi
"$VENV/bin/pip" install -q ale-py==0.12.1 gymnasium numpy >/dev/null
HAVE_ENVPOOL=1
if ! "$VENV/bin/pip" install -q envpool >/dev/null 2>&1 || ! "$VENV/bin/python" -c "import envpool" 2>/dev/null; then
    HAVE_ENVPOOL=0
    echo "envpool: could not be installed for $("$VENV/bin/python" --version 2>&1); skipping it"
fi

if [[ -z "${HRL:-}" ]]; then
    cargo build --release --quiet -p hrl-cli
    HRL="${CARGO_TARGET_DIR:-target}/release/hrl"
fi
HRL_JSON="$("$HRL" bench env --env atari/breakout --num-envs "$NUM_ENVS" --threads "$THREADS" --steps "$STEPS" --json)"
echo "hrl bench env: $HRL_JSON"

HRL_JSON="$HRL_JSON" HAVE_ENVPOOL="$HAVE_ENVPOOL" NUM_ENVS="$NUM_ENVS" THREADS="$THREADS" STEPS="$STEPS" OUT="$OUT" \
"$VENV/bin/python" - <<'PY'
import json, os, time

import numpy as np

num_envs, threads, steps = (int(os.environ[k]) for k in ("NUM_ENVS", "THREADS", "STEPS"))
batches = -(-steps // num_envs)
rates = {"hadamard-rl": json.loads(os.environ["HRL_JSON"])["steps_per_second"]}


def timed(step, num_actions):
    rng = np.random.default_rng(0)
    table = rng.integers(0, num_actions, size=(1024, num_envs))
    for b in range(50):  # warm-up
        step(table[b % 1024])
    start = time.perf_counter()
    for b in range(batches):
        step(table[b % 1024])
    return batches * num_envs / (time.perf_counter() - start)


from ale_py.vector_env import AtariVectorEnv

envs = AtariVectorEnv(
    game="breakout", num_envs=num_envs, num_threads=threads, noop_max=30, frameskip=4,
    maxpool=True, stack_num=4, img_height=84, img_width=84, grayscale=True,
    episodic_life=True, reward_clipping=True, use_fire_reset=True,
    repeat_action_probability=0.0,
)
envs.reset(seed=0)
rates["ale-py AtariVectorEnv"] = timed(envs.step, envs.single_action_space.n)
envs.close()

if os.environ["HAVE_ENVPOOL"] == "1":
    import envpool

    pool = envpool.make(
        "Breakout-v5", env_type="gymnasium", num_envs=num_envs, batch_size=num_envs,
        num_threads=threads, seed=0, noop_max=30, frame_skip=4, stack_num=4, img_height=84,
        img_width=84, gray_scale=True, episodic_life=True, reward_clip=True,
        use_fire_reset=True, repeat_action_probability=0.0, use_inter_area_resize=True,
    )
    pool.reset()
    rates[f"envpool {envpool.__version__}"] = timed(pool.step, pool.action_space.n)
    pool.close()

ours = rates["hadamard-rl"]
with open(os.environ["OUT"], "w") as f:
    json.dump({"game": "breakout", "num_envs": num_envs, "threads": threads, "steps": steps,
               "steps_per_second": rates}, f)
print(f"{'implementation':<26} {'agent steps/s':>14} {'per thread':>11} {'hadamard-rl / it':>17}")
for name, rate in rates.items():
    print(f"{name:<26} {rate:>14,.0f} {rate / threads:>11,.0f} {ours / rate:>17.2f}")
PY
