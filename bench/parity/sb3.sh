#!/usr/bin/env bash
# PPO or DQN parity: hadamard-rl against Stable-Baselines3 on MinAtar, side by side on this
# machine. Both sides step the same bit-exact environments (SB3 through the `hadamard_rl`
# package), with the preset's hyperparameters (SB3's are read from the resolved config.toml of
# the hrl run with the same seed), the same network and budget, one thread and one core each.
#
# Usage: bench/parity/sb3.sh ppo|dqn
# Environment: GAME (hrl id, default minatar/breakout), STEPS (agent steps per run, default
#   1000000), SEEDS (default 3), SIDES ("hrl sb3"), OUT (default results/parity/ALGO), VENV
#   (default /tmp/hrl-parity-sb3-venv; made here, packages from PyPI with pip, about 4.5 GB),
#   HRL (the hrl binary; default: built here with cargo), CPU (the core runs are pinned to,
#   default 1).
# Writes OUT/SIDE-GAME.csv and .json (see bench/parity/report.py) and OUT/hrl-runs.tar.gz.
set -euo pipefail
TIMEFORMAT='%3U %3S'

ALGO="${1:-}"
case "$ALGO" in
    ppo | dqn) ;;
    *) echo "usage: bench/parity/sb3.sh ppo|dqn" >&2; exit 2 ;;
esac
cd "$(dirname "$0")/../.."
root="$(pwd)"
GAME="${GAME:-minatar/breakout}"
STEPS="${STEPS:-1000000}"
SEEDS="${SEEDS:-3}"
SIDES="${SIDES:-hrl sb3}"
OUT="${OUT:-results/parity/$ALGO}"
VENV="${VENV:-/tmp/hrl-parity-sb3-venv}"
CPU="${CPU:-1}"
name="${GAME//\//-}"
mkdir -p "$OUT"
export OMP_WAIT_POLICY=PASSIVE
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"

if [ -z "${HRL:-}" ]; then
    cargo build --release --bin hrl
    HRL="$root/target/release/hrl"
fi
runs="$(mktemp -d)"
trap 'rm -rf "$runs"' EXIT

# The hrl runs come first: their resolved configs give SB3 its hyperparameters.
for ((seed = 0; seed < SEEDS; seed++)); do
    run="$runs/hrl.s$seed"
    echo "hrl $ALGO: $GAME seed $seed, $STEPS steps"
    { time taskset -c "$CPU" "$HRL" train --algo "$ALGO" --env "$GAME" --seed "$seed" \
        --steps "$STEPS" --threads 1 --out "$run" >/dev/null 2>"$run.log"; } 2> "$run.cpu"
done
if [[ " $SIDES " == *" hrl "* ]]; then
    python3 bench/parity/hrl_episodes.py --env "$name" --out "$OUT/hrl-$name.csv" \
        $(for ((seed = 0; seed < SEEDS; seed++)); do echo "$runs/hrl.s$seed"; done)
    tar -czf "$OUT/hrl-runs.tar.gz" -C "$runs" --exclude='*/checkpoints' --exclude='*.tfevents*' \
        --exclude='*.png' --exclude='*/run.lock' $(cd "$runs" && ls -d hrl.s*[0-9])
fi

if [[ " $SIDES " == *" sb3 "* ]]; then
    if ! "$VENV/bin/python" -c "import torch, stable_baselines3, matplotlib" 2>/dev/null; then
        bash bench/peers_venv.sh "$VENV" maturin==1.16.0 matplotlib
    fi
    (cd python && "$VENV/bin/maturin" build --release --quiet --interpreter "$VENV/bin/python" \
        --out "$runs/wheels")
    "$VENV/bin/pip" install -q --no-deps --force-reinstall "$runs"/wheels/*.whl
    for ((seed = 0; seed < SEEDS; seed++)); do
        echo "sb3 $ALGO: $GAME seed $seed, $STEPS steps"
        { time taskset -c "$CPU" "$VENV/bin/python" bench/parity/sb3_side.py --algo "$ALGO" \
            --hrl-config "$runs/hrl.s$seed/config.toml" --seed "$seed" --name "$name" \
            --out "$runs/sb3.s$seed.csv"; } 2> "$runs/sb3.s$seed.cpu"
    done
    python3 bench/parity/merge.py --out "$OUT/sb3-$name.csv" --agent-steps "$STEPS" \
        $(for ((seed = 0; seed < SEEDS; seed++)); do echo "$runs/sb3.s$seed.csv"; done)
fi
