#!/usr/bin/env bash
# How to split a machine's cores between the runs of a sweep: `--jobs J --threads-per-job T`
# with J x T = the cores. Runs the same two runs of the MinAtar sweeps both ways (J = 2, T = 1
# and J = 1, T = 2 on a 2-core machine; generally J = cores, T = 1 against J = 1, T = cores) and
# prints the wall time of each, for PPO (experiments/minatar-ppo-hr.toml's settings) and DQN
# (experiments/minatar-dqn-hr.toml's). Results of a run depend on its thread count, so the two
# splits do not train identical runs; only their speed is compared here.
#
# Usage: bench/sweep_split.sh          (writes bench/results/sweep_split.md)
# Environment: HRL (default: build target/release/hrl), CORES (default: nproc),
#              PPO_STEPS (default 200000), DQN_STEPS (default 30000), WORK (default
#              target/bench/sweep_split).
set -euo pipefail
cd "$(dirname "$0")/.."
CORES="${CORES:-$(nproc)}"
PPO_STEPS="${PPO_STEPS:-200000}"
DQN_STEPS="${DQN_STEPS:-30000}"
WORK="${WORK:-target/bench/sweep_split}"
if [[ -z "${HRL:-}" ]]; then
    cargo build --release --quiet -p hrl-cli
    HRL="${CARGO_TARGET_DIR:-target}/release/hrl"
fi
rm -rf "$WORK"
mkdir -p "$WORK"

# A two-run sweep file (seeds 0 and 1) of one algorithm on MinAtar Breakout.
sweep_file() {
    local name="$1" algo="$2" steps="$3" set="$4"
    cat > "$WORK/$name.toml" <<EOF
name = "$name"
algos = ["$algo"]
envs = ["minatar/breakout"]
reprs = ["hr-tanh"]
seeds = [0, 1]
steps = $steps
$set
EOF
}

sweep_file ppo ppo "$PPO_STEPS" ""
sweep_file dqn dqn "$DQN_STEPS" $'[set]\ndqn.exploration_fraction = 0.2'

out="bench/results/sweep_split.md"
{
    echo "# Splitting $CORES cores between the runs of a sweep"
    echo
    echo "\`bench/sweep_split.sh\` on $(uname -m), $CORES cores, $(date -u +%Y-%m-%d): two runs of MinAtar Breakout"
    echo "(hr-tanh, seeds 0 and 1), PPO $PPO_STEPS and DQN $DQN_STEPS agent steps each; wall time of the whole sweep."
    echo
    echo "| algorithm | --jobs | --threads-per-job | wall seconds | agent steps per second, both runs |"
    echo "|---|---|---|---|---|"
} > "$out.tmp"
for algo in ppo dqn; do
    steps=$([[ $algo == ppo ]] && echo "$PPO_STEPS" || echo "$DQN_STEPS")
    for split in "$CORES 1" "1 $CORES"; do
        read -r jobs threads <<< "$split"
        root="$WORK/out-$algo-$jobs-$threads"
        start=$(date +%s.%N)
        "$HRL" sweep run "$WORK/$algo.toml" --jobs "$jobs" --threads-per-job "$threads" \
            --out "$root" > "$root.log" 2>&1
        end=$(date +%s.%N)
        awk -v a="$algo" -v j="$jobs" -v t="$threads" -v s="$start" -v e="$end" -v n="$steps" \
            'BEGIN { printf "| %s | %s | %s | %.1f | %.0f |\n", a, j, t, e - s, 2 * n / (e - s) }' \
            >> "$out.tmp"
    done
done
mv "$out.tmp" "$out"
cat "$out"
