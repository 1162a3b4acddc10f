#!/usr/bin/env bash
# Environment throughput *from Python* on this machine, in one run: the hadamard_rl package's
# vector environments (Rust, GIL released, numpy buffers reused) against the Python references,
# with uniformly random actions drawn in advance, the same number of environments and threads.
#
# - MinAtar Breakout, NUM_ENVS_MINATAR (64) copies: hadamard_rl.make_vec("minatar/breakout")
#   against the `minatar` 1.0.15 package (a Python loop over its Environment objects, act +
#   state(), and gymnasium's SyncVectorEnv over its minatar.gym environments). Sticky actions
#   0.1 and difficulty ramping, the package's defaults, on both sides.
# - Atari Breakout, NUM_ENVS_ATARI (8) copies with the same preprocessing everywhere (no-op
#   reset 30, frame skip 4 with max-pool, 84x84 grayscale, stack 4, episodic life, fire reset,
#   reward clipping, sticky actions 0): hadamard_rl.make_vec("atari/breakout") against ale-py
#   0.12.1's AtariVectorEnv and envpool (if it installs here; the script says so if not).
#
# Prints a table and writes bench/results/python_env.json and bench/results/python_env.md.
# Agent steps per second; one Atari agent step is 4 emulator frames.
#
# Usage: bench/python_env.sh
# Environment: THREADS (default: cores), SECONDS_EACH (timed seconds per row, default 9, split
#              over ROUNDS interleaved rounds, default 3; the median round is reported),
#              VENV (default /tmp/hrl-bench-python-venv; made here, packages from PyPI with
#              pip), CARGO_TARGET_DIR (reused by the maturin build).
set -euo pipefail

cd "$(dirname "$0")/.."
root="$(pwd)"
THREADS="${THREADS:-$(nproc)}"
SECONDS_EACH="${SECONDS_EACH:-9}"
ROUNDS="${ROUNDS:-3}"
VENV="${VENV:-/tmp/hrl-bench-python-venv}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"

if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV"
fi
"$VENV/bin/pip" install -q maturin==1.16.0 gymnasium==1.4.0 numpy ale-py==0.12.1 >/dev/null
# minatar's plotting dependencies (matplotlib, seaborn, pandas, scipy) are not needed to step it.
"$VENV/bin/pip" install -q --no-deps minatar==1.0.15 >/dev/null
HAVE_ENVPOOL=1
if ! "$VENV/bin/pip" install -q envpool >/dev/null 2>&1 || ! "$VENV/bin/python" -c "import envpool" 2>/dev/null; then
    HAVE_ENVPOOL=0
    echo "envpool: could not be installed for $("$VENV/bin/python" --version 2>&1); skipping it"
fi

wheels="$(mktemp -d)"
trap 'rm -rf "$wheels"' EXIT
(cd python && "$VENV/bin/maturin" build --release --quiet --interpreter "$VENV/bin/python" --out "$wheels")
"$VENV/bin/pip" install -q --no-deps --force-reinstall "$wheels"/*.whl

mkdir -p bench/results
cd "$wheels"  # import the installed package, not the source folder
THREADS="$THREADS" SECONDS_EACH="$SECONDS_EACH" ROUNDS="$ROUNDS" HAVE_ENVPOOL="$HAVE_ENVPOOL" RESULTS="$root/bench/results" \
"$VENV/bin/python" - <<'PY'
import json
import os
import platform
import statistics
import time

import gymnasium as gym
import numpy as np

import hadamard_rl

threads, seconds = int(os.environ["THREADS"]), float(os.environ["SECONDS_EACH"])
rounds = int(os.environ["ROUNDS"])
# (suite, implementation, num_envs, threads, step, actions table); made up front, timed in
# interleaved rounds so that load from other work spreads over every row alike.
candidates = []


def add(suite, name, num_envs, num_threads, step, num_actions):
    table = np.random.default_rng(0).integers(0, num_actions, size=(1024, num_envs))
    for b in range(20):  # warm-up
        step(table[b % 1024])
    candidates.append((suite, name, num_envs, num_threads, step, table))


def rate(step, table, num_envs, duration):
    """Agent steps per second of `step(actions)` over about `duration` seconds."""
    batches, start = 0, time.perf_counter()
    while True:
        for _ in range(16):
            step(table[batches % 1024])
            batches += 1
        elapsed = time.perf_counter() - start
        if elapsed >= duration:
            return batches * num_envs / elapsed


# MinAtar Breakout.
n = 64
for t in sorted({1, threads}):
    envs = hadamard_rl.make_vec("minatar/breakout", n, seed=t, num_threads=t)
    envs.reset()
    add("MinAtar Breakout", "hadamard_rl.make_vec", n, t, envs.step, 6)

from minatar import Environment  # noqa: E402

games = [Environment("breakout") for _ in range(n)]
for i, g in enumerate(games):
    g.seed(i)
    g.reset()


def minatar_loop(actions):
    observations = []
    for g, a in zip(games, actions):
        _, terminal = g.act(a)
        if terminal:
            g.reset()
        observations.append(g.state())
    return np.stack(observations)


add("MinAtar Breakout", "minatar 1.0.15 (loop over Environment)", n, 1, minatar_loop, 6)

import minatar.gym  # noqa: E402

minatar.gym.register_envs()
sync = gym.make_vec("MinAtar/Breakout-v0", num_envs=n, vectorization_mode="sync")  # all 6 actions
sync.reset(seed=0)
add("MinAtar Breakout", "minatar 1.0.15 via gymnasium SyncVectorEnv", n, 1, sync.step, 6)

# Atari Breakout.
n = 8
for t in sorted({1, threads}):
    envs = hadamard_rl.make_vec("atari/breakout", n, seed=t, num_threads=t)
    envs.reset()
    add("Atari Breakout", "hadamard_rl.make_vec", n, t, envs.step, envs.single_action_space.n)

from ale_py.vector_env import AtariVectorEnv  # noqa: E402

ale = AtariVectorEnv(
    game="breakout", num_envs=n, num_threads=threads, noop_max=30, frameskip=4, maxpool=True,
    stack_num=4, img_height=84, img_width=84, grayscale=True, episodic_life=True,
    reward_clipping=True, use_fire_reset=True, repeat_action_probability=0.0,
)
ale.reset(seed=0)
add("Atari Breakout", "ale-py 0.12.1 AtariVectorEnv", n, threads, ale.step, ale.single_action_space.n)

missing = []
if os.environ["HAVE_ENVPOOL"] == "1":
    import envpool

    pool = envpool.make(
        "Breakout-v5", env_type="gymnasium", num_envs=n, batch_size=n, num_threads=threads,
        seed=0, noop_max=30, frame_skip=4, stack_num=4, img_height=84, img_width=84,
        gray_scale=True, episodic_life=True, reward_clip=True, use_fire_reset=True,
        repeat_action_probability=0.0, use_inter_area_resize=True,
    )
    pool.reset()
    add("Atari Breakout", f"envpool {envpool.__version__}", n, threads, pool.step, pool.action_space.n)
else:
    missing.append({"suite": "Atari Breakout", "implementation": "envpool", "num_envs": n,
                    "threads": threads, "steps_per_second": None, "note": "could not be installed"})

rates = [[] for _ in candidates]
for r in range(rounds):
    for k, (suite, name, num_envs, num_threads, step, table) in enumerate(candidates):
        rates[k].append(rate(step, table, num_envs, seconds / rounds))
        print(f"round {r + 1}/{rounds} {suite:<17} {name:<44} {num_envs:>3} envs "
              f"{num_threads} threads {rates[k][-1]:>12,.0f} steps/s", flush=True)
rows = [
    {"suite": suite, "implementation": name, "num_envs": num_envs, "threads": num_threads,
     "steps_per_second": round(statistics.median(rates[k])),
     "rounds": [round(x) for x in rates[k]]}
    for k, (suite, name, num_envs, num_threads, _, _) in enumerate(candidates)
] + missing

machine = {
    "cores": os.cpu_count(),
    "cpu": next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?"),
    "python": platform.python_version(),
    "load_average_at_end": os.getloadavg()[0],
}
with open(os.path.join(os.environ["RESULTS"], "python_env.json"), "w") as f:
    json.dump({"machine": machine, "seconds_each": seconds, "rounds": rounds, "rows": rows}, f, indent=2)
    f.write("\n")

lines = [
    "| suite | implementation (from Python) | envs | threads | agent steps/s | hadamard_rl (best) / it |",
    "|---|---|---:|---:|---:|---:|",
]
for suite in ("MinAtar Breakout", "Atari Breakout"):
    ours = max(r["steps_per_second"] for r in rows
               if r["suite"] == suite and r["implementation"] == "hadamard_rl.make_vec")
    for r in (r for r in rows if r["suite"] == suite):
        rate = r["steps_per_second"]
        if rate is None:
            lines.append(f"| {suite} | {r['implementation']} | {r['num_envs']} | {r['threads']} | {r['note']} | |")
        else:
            lines.append(f"| {suite} | {r['implementation']} | {r['num_envs']} | {r['threads']} "
                         f"| {rate:,} | {ours / rate:.2f} |")
lines += [
    "",
    f"Measured by `bench/python_env.sh` on {machine['cores']} cores ({machine['cpu']}), Python "
    f"{machine['python']}, {seconds:g} s per row in {rounds} interleaved rounds (median shown), "
    f"uniformly random actions; load average "
    f"{machine['load_average_at_end']:.1f} at the end (other work shared the cores). MinAtar: "
    "sticky actions 0.1 and difficulty ramping on every side. Atari: no-op reset 30, frame skip 4 "
    "with max-pool, 84x84 grayscale, stack 4, episodic life, fire reset, reward clipping, sticky "
    "actions 0 on every side; one agent step is 4 emulator frames.",
]
with open(os.path.join(os.environ["RESULTS"], "python_env.md"), "w") as f:
    f.write("\n".join(lines) + "\n")
print("\n".join(lines))
PY
