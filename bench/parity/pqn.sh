#!/usr/bin/env bash
# PQN parity: hadamard-rl's PQN against purejaxql's `pqn_minatar.py`, side by side on this
# machine, same hyperparameters (purejaxql's config/alg/pqn_minatar.yaml, which
# configs/pqn-minatar.toml follows), same budget and seed count, each side on one core.
#
# Our side runs with gymnax's MinAtar semantics: no sticky actions, the minimal action set and
# 1,000-step episodes (`max_episode_steps`; a truncation here, a terminal there: see the report).
#
# Usage: PUREJAXQL_DIR=CHECKOUT bench/parity/pqn.sh
# Environment: GAMES (gymnax names, default "Breakout-MinAtar SpaceInvaders-MinAtar"), STEPS
#   (agent steps per run, default 1000000), SEEDS (default 3), SIDES ("purejaxql hrl"), OUT
#   (default results/parity/pqn), VENV (default /tmp/hrl-parity-jax-venv; made here, packages
#   from PyPI with pip), HRL (the hrl binary; default: built here with cargo), CPU (the core
#   each run is pinned to, default 1).
# Writes OUT/SIDE-GAME.csv (side, env, seed, step, episodes, return_sum: finished episodes per
# update) and OUT/SIDE-GAME.json (CPU seconds, settings); bench/parity/report.py reads them.
set -euo pipefail
TIMEFORMAT='%3U %3S'

cd "$(dirname "$0")/../.."
root="$(pwd)"
GAMES="${GAMES:-Breakout-MinAtar SpaceInvaders-MinAtar}"
STEPS="${STEPS:-1000000}"
SEEDS="${SEEDS:-3}"
SIDES="${SIDES:-purejaxql hrl}"
OUT="${OUT:-results/parity/pqn}"
VENV="${VENV:-/tmp/hrl-parity-jax-venv}"
CPU="${CPU:-1}"
mkdir -p "$OUT"

# gymnax name -> hrl id.
hrl_env() {
    case "$1" in
        Breakout-MinAtar) echo minatar/breakout ;;
        SpaceInvaders-MinAtar) echo minatar/space_invaders ;;
        Asterix-MinAtar) echo minatar/asterix ;;
        Freeway-MinAtar) echo minatar/freeway ;;
        Seaquest-MinAtar) echo minatar/seaquest ;;
        *) echo "unknown game $1" >&2; exit 2 ;;
    esac
}

for side in $SIDES; do
    case "$side" in
        purejaxql)
            if [ -z "${PUREJAXQL_DIR:-}" ] || [ ! -f "$PUREJAXQL_DIR/purejaxql/pqn_minatar.py" ]; then
                echo "PUREJAXQL_DIR must name a checkout of github mttga/purejaxql" >&2
                exit 2
            fi
            if [ ! -x "$VENV/bin/python" ]; then
                python3 -m venv "$VENV"
            fi
            "$VENV/bin/pip" install -q "jax[cpu]==0.4.38" flax==0.10.2 optax==0.2.4 \
                gymnax==0.0.6 chex hydra-core omegaconf pyyaml six "numpy<2.1"
            commit="$(git -C "$PUREJAXQL_DIR" rev-parse --short HEAD 2>/dev/null || echo unknown)"
            for game in $GAMES; do
                echo "purejaxql $commit: $game, $SEEDS seeds x $STEPS steps"
                PUREJAXQL_DIR="$PUREJAXQL_DIR" XLA_FLAGS="--xla_cpu_multi_thread_eigen=false" \
                    taskset -c "$CPU" "$VENV/bin/python" bench/parity/purejaxql_pqn.py \
                    --env "$game" --steps "$STEPS" --seeds "$SEEDS" \
                    --out "$OUT/purejaxql-$game.csv" --commit "$commit"
            done
            ;;
        hrl)
            if [ -z "${HRL:-}" ]; then
                cargo build --release --bin hrl
                HRL="$root/target/release/hrl"
            fi
            runs="$(mktemp -d)"
            for game in $GAMES; do
                env_id="$(hrl_env "$game")"
                for ((seed = 0; seed < SEEDS; seed++)); do
                    echo "hrl: $env_id seed $seed, $STEPS steps"
                    run="$runs/$game.s$seed"
                    # bash's `time` gives the run's user and system CPU seconds.
                    { time taskset -c "$CPU" "$HRL" train --algo pqn --env "$env_id" \
                        --seed "$seed" --steps "$STEPS" --threads 1 --out "$run" \
                        --set env_options.sticky_action_prob=0.0 \
                        --set env_options.minimal_action_set=true \
                        --set env_options.max_episode_steps=1000 >/dev/null 2>"$run.log"; } 2> "$run.cpu"
                done
                python3 bench/parity/hrl_episodes.py --env "$game" --out "$OUT/hrl-$game.csv" \
                    $(for ((seed = 0; seed < SEEDS; seed++)); do echo "$runs/$game.s$seed"; done)
            done
            # Every run's config, metrics, episodes and summary, for the record.
            tar -czf "$OUT/hrl-runs.tar.gz" -C "$runs" --exclude='*/checkpoints' --exclude='*.tfevents*' \
                --exclude='*.png' --exclude='*/run.lock' .
            rm -rf "$runs"
            ;;
        *)
            echo "unknown side $side (purejaxql, hrl)" >&2
            exit 2
            ;;
    esac
done
