#!/usr/bin/env bash
# Renders the parity reports from what bench/parity/pqn.sh and bench/parity/sb3.sh wrote:
# results/parity/{pqn,ppo,dqn}/report.md, curves.png and finals.csv (bench/parity/report.py).
#
# Usage: bench/parity/report.sh [DIR]   (default results/parity)
# Environment: PYTHON, a Python with numpy and matplotlib (default: the SB3 parity venv,
#   /tmp/hrl-parity-sb3-venv, which bench/parity/sb3.sh makes).
set -euo pipefail
cd "$(dirname "$0")/../.."
DIR="${1:-results/parity}"
PYTHON="${PYTHON:-/tmp/hrl-parity-sb3-venv/bin/python}"
declare -A titles=(
    [pqn]="PQN: hadamard-rl against purejaxql's pqn_minatar.py"
    [ppo]="PPO: hadamard-rl against Stable-Baselines3"
    [dqn]="DQN: hadamard-rl against Stable-Baselines3"
)
for algo in pqn ppo dqn; do
    if compgen -G "$DIR/$algo/*.csv" >/dev/null; then
        "$PYTHON" bench/parity/report.py --title "${titles[$algo]}" --out "$DIR/$algo" "$DIR/$algo" >/dev/null
        echo "$DIR/$algo/report.md"
    fi
done
