#!/usr/bin/env bash
# MinAtar throughput: hrl-env's native port against the Python package minatar 1.0.15, on
# this machine, in one run. Uniformly random actions; each step includes the observation
# (Python: env.state(); ours: the [C, 10, 10] u8 buffer) and a reset on terminal.
#
# Usage: bench/env_minatar.sh [STEPS]     (default 200000 steps per measurement)
# Environment: VENV (default /tmp/hrl-bench-minatar-venv) for the Python side,
#              HRL (default: build target/release/hrl), NUM_ENVS (default 64) and
#              THREADS (default: all cores) for the vectorised run,
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
printf "%-16s %14s %14s %8s %18s %8s\n" game "python st/s" "hrl st/s" ratio "hrl x$NUM_ENVS st/s" ratio
for game in "${GAMES[@]}"; do
    python=$(python_steps_per_second "$game")
    single=$("$HRL" bench env --env "minatar/$game" --steps "$((STEPS * 20))" --json)
    vector=$("$HRL" bench env --env "minatar/$game" --num-envs "$NUM_ENVS" --threads "$THREADS" \
        --steps "$((STEPS * 20))" --json)
    "$VENV/bin/python" - "$game" "$python" "$single" "$vector" "$NUM_ENVS" "$THREADS" >> "$OUT" <<'PY'
import json, sys
game, python, single, vector, num_envs, threads = sys.argv[1:]
python, single, vector = float(python), json.loads(single), json.loads(vector)
print(json.dumps({
    "game": game,
    "python_steps_per_second": python,
    "hrl_steps_per_second": single["steps_per_second"],
    "hrl_ratio": single["steps_per_second"] / python,
    "hrl_vec_num_envs": int(num_envs),
    "hrl_vec_threads": int(threads),
    "hrl_vec_steps_per_second": vector["steps_per_second"],
    "hrl_vec_ratio": vector["steps_per_second"] / python,
}))
PY
    tail -n 1 "$OUT" | "$VENV/bin/python" -c '
import json, sys
r = json.loads(sys.stdin.read())
print(f"{r[\"game\"]:<16} {r[\"python_steps_per_second\"]:>14,.0f} {r[\"hrl_steps_per_second\"]:>14,.0f} {r[\"hrl_ratio\"]:>7.1f}x {r[\"hrl_vec_steps_per_second\"]:>18,.0f} {r[\"hrl_vec_ratio\"]:>7.1f}x")'
done
echo "machine: $(nproc) cores, $(uname -m); results in $OUT" >&2
