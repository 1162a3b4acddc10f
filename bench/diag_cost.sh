#!/usr/bin/env bash
# What the per-layer health costs: the README's main command (PQN, hr-tanh, MinAtar Breakout,
# 500k agent steps, 100 diagnostics points) with `log.layer_health` on (the default: every
# hidden layer and branch measured into diagnostics.csv at each point) and off, alternated
# REPEATS times; prints each run's wall seconds from its summary.json, the medians and the
# slowdown. The runs train identically (measuring consumes no random numbers); only their time
# differs.
#
# Usage: bench/diag_cost.sh            (writes bench/results/diag_cost.md)
# Environment: HRL (default: build target/release/hrl), REPEATS (default 3), STEPS (default
#              500000), WORK (default target/bench/diag_cost).
set -euo pipefail
cd "$(dirname "$0")/.."
REPEATS="${REPEATS:-3}"
STEPS="${STEPS:-500000}"
WORK="${WORK:-target/bench/diag_cost}"
if [[ -z "${HRL:-}" ]]; then
    cargo build --release --quiet -p hrl-cli
    HRL="${CARGO_TARGET_DIR:-target}/release/hrl"
fi
rm -rf "$WORK"
mkdir -p "$WORK" bench/results
wall() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["wall_seconds"])' "$1/summary.json"; }
on=(); off=()
for i in $(seq 1 "$REPEATS"); do
    for mode in on off; do
        out="$WORK/$mode-$i"
        flag=true; [[ $mode == off ]] && flag=false
        "$HRL" train --env minatar/breakout --repr hr-tanh --steps "$STEPS" \
            --set "log.layer_health=$flag" --out "$out" > "$out.log" 2>&1
        seconds="$(wall "$out")"
        echo "$mode $i: $seconds s"
        if [[ $mode == on ]]; then on+=("$seconds"); else off+=("$seconds"); fi
    done
done
python3 - "${on[*]}" "${off[*]}" "$STEPS" "$REPEATS" <<'PY' | tee bench/results/diag_cost.md
import statistics, sys
on = [float(x) for x in sys.argv[1].split()]
off = [float(x) for x in sys.argv[2].split()]
steps, repeats = sys.argv[3], sys.argv[4]
m_on, m_off = statistics.median(on), statistics.median(off)
print(f"# Per-layer health cost: `hrl train --env minatar/breakout --repr hr-tanh --steps {steps}`")
print()
print("| log.layer_health | runs (wall s) | median (s) |")
print("|---|---|---|")
print(f"| true (default) | {', '.join(f'{x:.1f}' for x in on)} | {m_on:.1f} |")
print(f"| false | {', '.join(f'{x:.1f}' for x in off)} | {m_off:.1f} |")
print()
print(f"Slowdown with every per-layer metric on: {100 * (m_on / m_off - 1):+.1f}% "
      f"(medians of {repeats} alternated runs each; target <= 5%).")
PY
