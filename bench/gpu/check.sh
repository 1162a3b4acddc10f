#!/usr/bin/env bash
# The device check: one prepared script for a lent GPU machine (no registry access; it gets the
# repository and a CUDA build of `hrl`), finishing in a few minutes, everything under $OUT.
#
#   1. the device (nvidia-smi) and the binary's shared libraries (ldd);
#   2. `hrl bench device`: Q-values and loss gradients of the MinAtar and Nature networks on the
#      device against the CPU backend from the same weights (relative tolerance TOLERANCE);
#   3. `hrl bench net` on the device beside the CPU (forward and training step, batch 32, 256);
#   4. PQN on MinAtar Breakout (MINATAR_STEPS) and on Atari Breakout (ATARI_STEPS) on the
#      device: steps/s and final returns from each run's summary.
#
# Every step runs under `timeout` and is recorded as passed, failed or timed out in
# $OUT/check.txt; a missing GPU, driver or library ends that step with its message, not a hang.
# `--cpu-only` runs the same steps on the CPU with tiny budgets (CI runs it, so the plumbing
# cannot rot).
#
# Usage: bench/gpu/check.sh [--cpu-only]
# Environment: HRL (the binary; default gpu-dist/hrl unpacked from gpu-dist/hrl.xz, which
#   bench/gpu/build.sh makes, with CUDA_PATH=gpu-dist for libdevice; else target/release/hrl), DEVICE (default cuda), OUT
#   (default bench/results/gpu-check), TOLERANCE (default 1e-3), MINATAR_STEPS (default
#   1000000), ATARI_STEPS (default 300000), ATARI_ENVS (default 128, the preset's), STEP_TIMEOUT (seconds per step, default 240).
set -uo pipefail
cd "$(dirname "$0")/../.."

DEVICE="${DEVICE:-cuda}"
MINATAR_STEPS="${MINATAR_STEPS:-1000000}"
ATARI_STEPS="${ATARI_STEPS:-300000}"
ATARI_ENVS="${ATARI_ENVS:-128}"
# One greedy evaluation of 8 episodes, each cut at 4,500 agent steps (5 minutes of play).
ATARI_EVALS=1
STEP_TIMEOUT="${STEP_TIMEOUT:-240}"
BENCH_ARGS=(--network minatar,nature --mode forward,train --batch 32,256 --matmul 2048)
case "${1:-}" in
    --cpu-only)
        DEVICE=cpu
        MINATAR_STEPS=16384
        ATARI_STEPS=2048
        ATARI_ENVS=8
        ATARI_EVALS=0
        BENCH_ARGS=(--network minatar --mode train --batch 32 --repeats 1 --round-ms 0 --matmul 256)
        ;;
    "") ;;
    *) echo "usage: bench/gpu/check.sh [--cpu-only]" >&2; exit 2 ;;
esac
# The files bench/gpu/build.sh makes here, when carried: unpack the binary, point CUDA at libdevice.
if [ -z "${HRL:-}" ] && [ -f gpu-dist/hrl.xz ]; then
    if [ ! -x gpu-dist/hrl ]; then
        python3 -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], "wb"))' \
            gpu-dist/hrl.xz gpu-dist/hrl
        chmod +x gpu-dist/hrl
    fi
    HRL=gpu-dist/hrl
    export CUDA_PATH="${CUDA_PATH:-$(pwd)/gpu-dist}"
fi
HRL="${HRL:-target/release/hrl}"
OUT="${OUT:-bench/results/gpu-check}"
TOLERANCE="${TOLERANCE:-1e-3}"
mkdir -p "$OUT"
summary="$OUT/check.txt"
: > "$summary"
failed=0

if [ ! -x "$HRL" ]; then
    echo "no hrl binary at $HRL (set HRL; a CUDA build: cargo build --release -p hrl-cli --features cuda)" | tee -a "$summary" >&2
    exit 1
fi

# Runs one named step: its output to $OUT/NAME.txt, its verdict to the summary.
step() {
    local name="$1"
    shift
    local start=$SECONDS status
    timeout "$STEP_TIMEOUT" "$@" > "$OUT/$name.txt" 2>&1
    status=$?
    local verdict=passed
    if [ "$status" -eq 124 ]; then
        verdict="timed out after ${STEP_TIMEOUT}s"
    elif [ "$status" -ne 0 ]; then
        verdict="failed (exit $status): $(tail -n 1 "$OUT/$name.txt")"
    fi
    [ "$verdict" = passed ] || failed=1
    printf '%-14s %-8s %4ss  %s\n' "$name" "$DEVICE" "$((SECONDS - start))" "$verdict" | tee -a "$summary"
}

train_summary() {
    local run="$1"
    if [ -f "$run/summary.json" ]; then
        python3 -c 'import json, sys; s = json.load(open(sys.argv[1])); print({k: s.get(k) for k in ("env", "steps", "wall_seconds", "sps", "final_return", "eval_return")})' "$run/summary.json" 2>/dev/null \
            || cat "$run/summary.json"
    fi
}

{
    echo "date: $(date -u +%FT%TZ)"
    echo "binary: $HRL ($(stat -c %s "$HRL") bytes)"
    if command -v nvidia-smi >/dev/null; then
        nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
    else
        echo "nvidia-smi: not found"
    fi
} | tee "$OUT/device.txt"
ldd "$HRL" > "$OUT/ldd.txt" 2>&1 || true

step agreement "$HRL" bench device --device "$DEVICE" --tolerance "$TOLERANCE" --json
step bench-cpu "$HRL" bench net --device cpu --json "${BENCH_ARGS[@]}"
if [ "$DEVICE" != cpu ]; then
    step bench-device "$HRL" bench net --device "$DEVICE" --json "${BENCH_ARGS[@]}"
fi
rm -rf "$OUT/pqn-minatar" "$OUT/pqn-atari"
step pqn-minatar "$HRL" train --algo pqn --env minatar/breakout --steps "$MINATAR_STEPS" \
    --device "$DEVICE" --out "$OUT/pqn-minatar" --set eval.points=1 --set log.diag_points=4
train_summary "$OUT/pqn-minatar" | tee -a "$summary"
step pqn-atari "$HRL" train --algo pqn --env atari/breakout --steps "$ATARI_STEPS" \
    --device "$DEVICE" --out "$OUT/pqn-atari" --set pqn.num_envs="$ATARI_ENVS" --set eval.points="$ATARI_EVALS" \
    --set eval.max_steps=4500 --set log.diag_points=4
train_summary "$OUT/pqn-atari" | tee -a "$summary"
# Checkpoints are large and not needed to read the results.
rm -rf "$OUT"/pqn-*/checkpoints

if [ "$failed" -ne 0 ]; then
    echo "device check: some steps did not pass (see $summary)" >&2
    exit 1
fi
echo "device check: every step passed ($summary)"
