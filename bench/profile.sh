#!/usr/bin/env bash
# Where hadamard-rl spends its time: samples, with perf's software clock, PPO on MinAtar
# Breakout (16,384 agent steps) and on Atari Breakout (one 1,024-step iteration), the Nature
# network's training step at batch 32 (`hrl bench net`) and Atari Breakout stepping with 8
# environments (`hrl bench env`). This machine's VM has no hardware counters (`perf stat -e
# instructions true` says "not supported"), but `cpu-clock` sampling works. Prints, per run,
# the share of samples under a few functions (with their callees), the share of a few groups of
# functions by their own samples (GEMM kernels, the emulator, ...) and the hottest functions by
# their own samples. The figures quoted in BENCHMARKS.md's notes come from this script.
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
    "hrl_agents::ppo::Ppo::iterate "
    "collect_rollout \\(inlined\\)"
    "train_on_rollout \\(inlined\\)"
    "hrl_env::vec_env::step_all "
    "hrl_nn::conv::ConvLayer::forward_channels_last "
    "burn_tensor::tensor::api::autodiff::backward_impl "
    "step_dyn<burn_optim::optim::adam::Adam>"
    "ale::StellaEnvironment::StellaEnvironment"
)

# Groups of functions whose own samples are summed: "label=regular expression"; a function
# counts in the first group it matches.
FUNCTION_GROUPS=(
    "GEMM kernels and packing (gemm crate)=gemm_|pack_generic"
    "ALE emulator (ale::stella)=ale::stella::"
    "ALE palettes and screen (grayscale, setup)=ale::ColourPalette|ale::PhosphorBlend"
    "area resize=AreaResize"
    "patch gather and its gradient (burn-flex)=burn_flex::ops::gather_scatter"
    "element-wise tensor ops (burn-flex)=burn_flex::ops::(binary|unary|reduce)|macerator"
    "copies, zeroing, page faults=memcpy|memmove|memset|clear_page|copy_2d_tiled|copy_nonoverlapping"
    "other kernel time (scheduling, wake-ups)=\\[k\\]"
)

profile() {
    local name="$1"
    shift
    echo "== $name: hrl $*"
    perf record -q -e cpu-clock -F 499 --call-graph dwarf,16384 -o "$WORK/$name.data" \
        "$HRL" "$@" > "$WORK/$name.out" 2>&1
    perf report -i "$WORK/$name.data" --children --sort symbol --stdio -g none 2>/dev/null \
        > "$WORK/$name.children.txt"
    perf report -i "$WORK/$name.data" --no-children --sort symbol --stdio -g none 2>/dev/null \
        > "$WORK/$name.self.txt"
    echo "share of samples, with callees:"
    for pattern in "${PATTERNS[@]}"; do
        local share
        share=$(grep -E "^ +[0-9.]+%" "$WORK/$name.children.txt" | grep -E -- "$pattern" \
            | head -n 1 | awk '{print $1}' || true)
        if [[ -n "$share" ]]; then
            printf "  %8s  %s\n" "$share" "${pattern//\\/}"
        fi
    done
    echo "share of samples, own time by group:"
    for group in "${FUNCTION_GROUPS[@]}"; do
        printf "%s\n" "$group"
    done | awk -v self="$WORK/$name.self.txt" -F= '
        { label[NR] = $1; regex[NR] = substr($0, length($1) + 2); n = NR }
        END {
            while ((getline line < self) > 0) {
                if (line !~ /^ +[0-9.]+%/) continue
                split(line, f, " "); share = f[1]; sub(/%/, "", share)
                for (i = 1; i <= n; i++) if (line ~ regex[i]) { total[i] += share; break }
            }
            for (i = 1; i <= n; i++) printf "  %7.1f%%  %s\n", total[i], label[i]
        }'
    echo "hottest functions by their own samples:"
    grep -E "^ +[0-9.]+%" "$WORK/$name.self.txt" | sed -n 1,8p \
        | awk '{printf "  %8s  ", $1; for (i = 3; i <= NF - 2; i++) printf "%s ", $i; print ""}' \
        | cut -c1-140
}

profile ppo-minatar train --algo ppo --env minatar/breakout --steps 16384 --threads "$THREADS" \
    --set env_options.minimal_action_set=true --set eval.points=0 --set log.diag_points=1 \
    --out "$WORK/ppo-minatar.run"
profile ppo-atari train --algo ppo --env atari/breakout --steps 1024 --threads "$THREADS" \
    --set eval.points=0 --set log.diag_points=1 --out "$WORK/ppo-atari.run"
profile nature-train bench net --network nature --mode train --batch 32 --matmul 0 \
    --repeats 15 --threads "$THREADS"
profile atari-env bench env --env atari/breakout --num-envs 8 --steps 16000 --threads "$THREADS"
