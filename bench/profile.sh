#!/usr/bin/env bash
# Where `hrl train` spends its time: samples PPO on MinAtar Breakout (16,384 agent steps) and on
# Atari Breakout (one 1,024-step iteration) with perf's software clock (this machine's VM has no
# hardware counters: `perf stat -e instructions true` says "not supported", but `cpu-clock`
# sampling works), then prints, per run, the share of samples under a few functions (with their
# callees) and the hottest functions by their own samples. The figures quoted in BENCHMARKS.md's
# notes come from this script.
#
# Usage: bench/profile.sh     (needs perf; apt-get install linux-perf)
# Environment: HRL (default: build target/release/hrl), THREADS (default: all cores),
#              WORK (default target/bench/profile).
set -euo pipefail
cd "$(dirname "$0")/.."
THREADS="${THREADS:-$(nproc)}"
WORK="${WORK:-target/bench/profile}"
if [[ -z "${HRL:-}" ]]; then
    cargo build --release --quiet -p hrl-cli
    HRL="${CARGO_TARGET_DIR:-target}/release/hrl"
fi
rm -rf "$WORK"
mkdir -p "$WORK"

# Functions whose share (with callees) is reported (extended regular expressions; perf pads the
# symbol column with spaces).
PATTERNS=(
    "burn_linalg::functions::qr::qr "
    "hrl_agents::ppo::Ppo::iterate "
    "collect_rollout \\(inlined\\)"
    "train_on_rollout \\(inlined\\)"
    "hrl_env::vec_env::VecEnv<T>::step "
    "hrl_agents::rollout::RolloutBuffer::gather_observations "
    "burn_tensor::tensor::api::autodiff::backward_impl "
    "burn_flex::ops::conv::conv2d_f32 "
    "conv3d_small_channel_impl"
)

profile() {
    local name="$1"
    shift
    echo "== $name: hrl train $*"
    perf record -q -e cpu-clock -F 499 --call-graph dwarf,16384 -o "$WORK/$name.data" \
        "$HRL" train "$@" --threads "$THREADS" --set eval.points=0 --set log.diag_points=1 \
        --out "$WORK/$name.run" > /dev/null 2>&1
    perf report -i "$WORK/$name.data" --children --sort symbol --stdio -g none 2>/dev/null \
        > "$WORK/$name.children.txt"
    perf report -i "$WORK/$name.data" --no-children --sort symbol --stdio -g none 2>/dev/null \
        > "$WORK/$name.self.txt"
    echo "share of samples, with callees:"
    for pattern in "${PATTERNS[@]}"; do
        local share
        share=$(grep -E "^ +[0-9.]+%" "$WORK/$name.children.txt" | grep -E -- "$pattern" \
            | head -n 1 | awk '{print $1}' || true)
        printf "  %8s  %s\n" "${share:-0%}" "${pattern//\\/}"
    done
    echo "hottest functions by their own samples:"
    grep -E "^ +[0-9.]+%" "$WORK/$name.self.txt" | sed -n 1,8p \
        | awk '{printf "  %8s  ", $1; for (i = 3; i <= NF - 2; i++) printf "%s ", $i; print ""}' \
        | cut -c1-140
}

profile ppo-minatar --algo ppo --env minatar/breakout --steps 16384 \
    --set env_options.minimal_action_set=true
profile ppo-atari --algo ppo --env atari/breakout --steps 1024
