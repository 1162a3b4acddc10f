#!/usr/bin/env bash
# MinAtar throughput: hrl-env's native port against the Python package minatar 1.0.15, on
# this machine, in one run. Uniformly random actions; each step includes the observation
# (Python: env.state(); ours: the [C, 10, 10] u8 buffer) and a reset on terminal.
#
# Usage: bench/env_minatar.sh [STEPS]     (Python: STEPS per game, default 200000; ours: 20x that)
# Environment: VENV (default /tmp/hrl-bench-minatar-venv) for the Python side,
#              HRL (default: build target/release/hrl), NUM_ENVS (default 64) and
#              THREADS (default: all cores) for the vectorised runs (one on 1 thread, one
#              on THREADS; the ratio takes the faster),
#              OUT (default target/bench/env_minatar.json) for the results.
set -euo pipefail

cd "$(dirname "$0")/.."
STEPS="${1:-200000}"
VENV="${VENV:-/tmp/hrl-bench-minatar-venv}"
NUM_ENVS="${NUM_ENVS:-64}"
THREADS="${THREADS:-$(nproc)}"
OUT="${OUT:-target/bench/env_minatar.json}"
GAMES=(breakout asterix freeway seaquest space_invaders)

if [[ ! -x "$VENV/bin/python" ]] || ! "$VENV/bin/python" -c "import minatar" 2>/dev/null; then
    echo "creating $VENV and installing minatar==1.0.15 with pip ..." >&2
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet minatar==1.0.15
fi

if [[ -z "${HRL:-}" ]]; then
    cargo build --release --quiet -p hrl-cli
    HRL="${CARGO_TARGET_DIR:-target}/release/hrl"
fi

python_steps_per_second() {
    "$VENV/bin/python" - "$1" "$STEPS" <<'PY'
import sys, time
import numpy as np
from minatar import Environment

game, steps = sys.argv[1], int(sys.argv[2])
env = Environment(game)
env.seed(0)
env.reset()
actions = np.random.RandomState(1).randint(6, size=steps).tolist()
start = time.perf_counter()
for a in actions:
    _, terminal = env.act(a)
    env.state()
    if terminal:
        env.reset()
print(steps / (time.perf_counter() - start))
PY
}

mkdir -p "$(dirname "$OUT")"
: > "$OUT"
printf "%-15s %12s %12s %7s %16s %16s %7s\n" game "python st/s" "hrl st/s" ratio \
    "x$NUM_ENVS 1 thread" "x$NUM_ENVS $THREADS threads" ratio
for game in "${GAMES[@]}"; do
    python=$(python_steps_per_second "$game")
    single=$("$HRL" bench env --env "minatar/$game" --steps "$((STEPS * 20))" --json)
    vector1=$("$HRL" bench env --env "minatar/$game" --num-envs "$NUM_ENVS" --threads 1 \
        --steps "$((STEPS * 20))" --json)
    vector=$("$HRL" bench env --env "minatar/$game" --num-envs "$NUM_ENVS" --threads "$THREADS" \
        --steps "$((STEPS * 20))" --json)
    "$VENV/bin/python" - "$OUT" "$game" "$python" "$single" "$vector1" "$vector" <<'PY'
import json, sys
out, game, python, single, vector1, vector = sys.argv[1:]
python = float(python)
single, vector1, vector = json.loads(single), json.loads(vector1), json.loads(vector)
row = {
    "game": game,
    "python_steps_per_second": python,
    "hrl_steps_per_second": single["steps_per_second"],
    "hrl_ratio": single["steps_per_second"] / python,
    "hrl_vec_num_envs": vector["num_envs"],
    "hrl_vec_1_thread_steps_per_second": vector1["steps_per_second"],
    "hrl_vec_threads": vector["threads"],
    "hrl_vec_steps_per_second": vector["steps_per_second"],
    "hrl_vec_ratio": max(vector["steps_per_second"], vector1["steps_per_second"]) / python,
}
with open(out, "a") as f:
    f.write(json.dumps(row) + "\n")
print(f"{game:<15} {python:>12,.0f} {row['hrl_steps_per_second']:>12,.0f} {row['hrl_ratio']:>6.1f}x "
      f"{row['hrl_vec_1_thread_steps_per_second']:>16,.0f} {row['hrl_vec_steps_per_second']:>16,.0f} "
      f"{row['hrl_vec_ratio']:>6.1f}x")
PY
done
echo "machine: $(nproc) cores, $(uname -m), load average $(cut -d' ' -f1-3 /proc/loadavg); results in $OUT" >&2
