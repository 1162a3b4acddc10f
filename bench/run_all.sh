#!/usr/bin/env bash
# Every benchmark against the peers, on this machine, in one run: environment throughput
# (MinAtar against the minatar package, Atari against ale-py's AtariVectorEnv and envpool),
# end-to-end training throughput (`hrl train` against Stable-Baselines3 with the same
# hyperparameters, network and threads; PQN against our PPO and DQN), and network
# microbenchmarks (`hrl bench net` against PyTorch, beside the sgemm peak). Writes
# bench/results/benchmarks.json (raw numbers, CPU, cores, date, commit) and BENCHMARKS.md.
#
# Usage: bench/run_all.sh            the full run (about 15-25 minutes on 2 cores; installs the
#                                    peers into $VENV with pip on the first run)
#        bench/run_all.sh --smoke    seconds: tiny budgets, no peers, our side of every row
#                                    and the rendering only; writes into target/bench/smoke
# Environment: THREADS (default: all cores), VENV (default /tmp/hrl-bench-venv), HRL (default:
#              build target/release/hrl), WORK (scratch folder, default target/bench/run).
#
# PyTorch: PyPI's only Linux x86-64 torch wheel is the CUDA build, whose dependencies add about
# 4 GB of NVIDIA libraries, and its libtorch links against them, so `pip install --no-deps torch`
# alone does not import. The smallest set that works is torch itself plus the NVIDIA wheels its
# shared libraries link against (no triton, cusolver, cuda-bindings or the cuda-toolkit
# meta-package): 4.1 GB installed instead of 5.4 GB. That is what this script installs.
set -euo pipefail
cd "$(dirname "$0")/.."

SMOKE=0
case "${1:-}" in
    --smoke) SMOKE=1 ;;
    "") ;;
    *) echo "usage: bench/run_all.sh [--smoke]" >&2; exit 2 ;;
esac
THREADS="${THREADS:-$(nproc)}"
VENV="${VENV:-/tmp/hrl-bench-venv}"
if (( SMOKE )); then
    WORK="${WORK:-target/bench/smoke}"
    JSON_OUT="$WORK/benchmarks.json"
    MD_OUT="$WORK/BENCHMARKS.md"
else
    WORK="${WORK:-target/bench/run}"
    JSON_OUT=bench/results/benchmarks.json
    MD_OUT=BENCHMARKS.md
fi
rm -rf "$WORK"
mkdir -p "$WORK/train"
echo "$THREADS" > "$WORK/threads"
cut -d' ' -f1-3 /proc/loadavg > "$WORK/loadavg.before"
date -u '+%Y-%m-%d %H:%M UTC' > "$WORK/date"
commit="$(git rev-parse HEAD)"
[[ -n "$(git status --porcelain --untracked-files=no)" ]] && commit+=" (with uncommitted changes)"
echo "$commit" > "$WORK/commit"

if [[ -z "${HRL:-}" ]]; then
    cargo build --release --quiet -p hrl-cli
    HRL="${CARGO_TARGET_DIR:-target}/release/hrl"
fi
export HRL
PY="$VENV/bin/python"
# PyTorch's OpenMP threads busy-wait between parallel regions by default; on a machine shared
# with other work that made Stable-Baselines3 several times slower here, so the peers run with
# passive waiting, like rayon's workers, which sleep when idle, on our side.
export OMP_WAIT_POLICY=PASSIVE

install_peers() {
    if [[ -x "$PY" ]] && "$PY" -c "import torch, stable_baselines3, minatar, ale_py, cv2" 2>/dev/null; then
        return
    fi
    echo "installing the peers into $VENV with pip (about 4.5 GB, a few minutes) ..." >&2
    bash bench/peers_venv.sh "$VENV" minatar==1.0.15 ale-py==0.12.1 opencv-python-headless
}

# Runs a measurement: records its exact command in $WORK/NAME.cmd and its standard output in
# $WORK/NAME.json. The command is shown with the scratch folder as $WORK, the venv as $VENV.
measure() {
    local name="$1"
    shift
    local shown="$*"
    shown="${shown//$WORK/\$WORK}"
    shown="${shown//$VENV/\$VENV}"
    shown="${shown//$HRL/hrl}"
    echo "$shown" > "$WORK/$name.cmd"
    echo "== $shown" >&2
    "$@" > "$WORK/$name.json"
}

# ---- environment throughput
if (( SMOKE )); then
    measure env_minatar_single "$HRL" bench env --env minatar/breakout --steps 20000 --json
    measure env_minatar_vec "$HRL" bench env --env minatar/breakout --num-envs 64 \
        --threads "$THREADS" --steps 20000 --json
    measure env_atari_hrl "$HRL" bench env --env atari/breakout --num-envs 8 \
        --threads "$THREADS" --steps 400 --json
    python3 - "$WORK" <<'PY'
import json, os, sys
work = sys.argv[1]
load = lambda n: json.load(open(os.path.join(work, n + ".json")))
single, vec, atari = load("env_minatar_single"), load("env_minatar_vec"), load("env_atari_hrl")
json.dump({"game": "breakout", "python_steps_per_second": None,
           "hrl_steps_per_second": single["steps_per_second"],
           "hrl_vec_num_envs": vec["num_envs"], "hrl_vec_threads": vec["threads"],
           "hrl_vec_steps_per_second": vec["steps_per_second"],
           "hrl_vec_1_thread_steps_per_second": vec["steps_per_second"]},
          open(os.path.join(work, "env_minatar.json"), "w"))
json.dump({"num_envs": atari["num_envs"], "threads": atari["threads"],
           "steps_per_second": {"hadamard-rl": atari["steps_per_second"]}},
          open(os.path.join(work, "env_atari.json"), "w"))
for n in ("env_minatar", "env_atari"):
    os.replace(os.path.join(work, n + "_single.cmd" if n == "env_minatar" else n + "_hrl.cmd"),
               os.path.join(work, n + ".cmd"))
PY
else
    install_peers
    echo "VENV=\$VENV bench/env_minatar.sh 100000" > "$WORK/env_minatar.cmd"
    VENV="$VENV" OUT="$WORK/env_minatar.json" bench/env_minatar.sh 100000 >&2
    echo "VENV=\$VENV NUM_ENVS=8 THREADS=$THREADS STEPS=40000 bench/env_atari.sh" \
        > "$WORK/env_atari.cmd"
    VENV="$VENV" NUM_ENVS=8 THREADS="$THREADS" STEPS=40000 OUT="$WORK/env_atari.json" \
        bench/env_atari.sh >&2
fi

# ---- end-to-end training: NAME ALGO ENV STEPS WARMUP REPEATS [--set ...]
# Ours logs no evaluations and one diagnostics point (at the end, outside the window); it does
# write its usual checkpoints (10 per run). MinAtar uses the minimal action set, as
# `MinAtar/Breakout-v1` does, and steps its environments on the calling thread as its presets
# say (num_threads = 1: a step is too short for worker threads to pay) with THREADS compute
# threads (RAYON_NUM_THREADS), as SB3 steps its environments in-process with THREADS torch
# threads; Atari uses THREADS for both (--threads).
TRAIN_SPEC="$WORK/train.json"
echo "[]" > "$TRAIN_SPEC"
dqn_works=""
train_case() {
    local name="$1" algo="$2" env="$3" steps="$4" warmup="$5" repeats="$6"
    shift 6
    local extra=(--set eval.points=0 --set log.diag_points=1 "$@")
    [[ "$env" == minatar/* ]] && extra+=(--set env_options.minimal_action_set=true)
    local peer_name="Stable-Baselines3 2.9.2"
    [[ "$algo" == pqn ]] && peer_name="none"
    python3 - "$TRAIN_SPEC" "$name" "$algo" "$env" "$steps" "$warmup" "$repeats" "$peer_name" <<'PY'
import json, sys
path, name, algo, env, steps, warmup, repeats, peer = sys.argv[1:]
spec = json.load(open(path))
spec.append({"name": name, "algo": algo, "env": env, "steps": int(steps),
             "warmup_steps": int(warmup), "repeats": int(repeats), "peer_name": peer})
json.dump(spec, open(path, "w"))
PY
    for ((i = 0; i < repeats; i++)); do
        local out="$WORK/train/$name.hrl.$i"
        local cmd=("$HRL" train --algo "$algo" --env "$env" --steps "$steps" --threads "$THREADS")
        [[ "$env" == minatar/* ]] && cmd=(env "RAYON_NUM_THREADS=$THREADS" "$HRL" train \
            --algo "$algo" --env "$env" --steps "$steps")
        cmd+=("${extra[@]}" --out "$out")
        local shown="${cmd[*]}"
        shown="${shown//$WORK/\$WORK}"
        echo "${shown//$HRL/hrl}" > "$WORK/$name.hrl.cmd"
        echo "== ${shown//$HRL/hrl}" >&2
        if ! "${cmd[@]}" > "$out.log" 2>&1; then
            if [[ "$algo" == dqn ]]; then
                echo "\`hrl train --algo dqn\` does not run yet: $(grep -m1 '^error' "$out.log" || tail -n1 "$out.log")" \
                    > "$WORK/$name.pending"
                return
            fi
            cat "$out.log" >&2
            return 1
        fi
        if (( ! SMOKE )) && [[ "$algo" != pqn ]]; then
            local peer=("$PY" bench/train_sb3.py --algo "$algo" --env "$env" --steps "$steps" \
                --warmup-steps "$warmup" --threads "$THREADS")
            [[ "$algo" == dqn ]] && peer+=(--hrl-config "$out/config.toml")
            shown="${peer[*]}"
            shown="${shown//$WORK/\$WORK}"
            echo "${shown//$VENV/\$VENV}" > "$WORK/$name.peer.cmd"
            echo "== ${shown//$VENV/\$VENV}" >&2
            "${peer[@]}" 2> "$WORK/$name.peer.$i.log" > "$WORK/$name.peer.$i.json"
        fi
    done
}

if (( SMOKE )); then
    # One or two tiny updates each.
    small_ppo=(--set ppo.num_steps=16)
    small_pqn=(--set pqn.num_envs=8 --set pqn.num_steps=16 --set pqn.num_minibatches=2)
    train_case ppo-minatar ppo minatar/breakout 256 128 1 "${small_ppo[@]}"
    train_case ppo-atari ppo atari/breakout 256 128 1 "${small_ppo[@]}"
    train_case pqn-minatar pqn minatar/breakout 256 128 1 "${small_pqn[@]}"
    train_case pqn-atari pqn atari/breakout 256 128 1 "${small_pqn[@]}"
    train_case dqn-minatar dqn minatar/breakout 256 128 1 --set dqn.learning_starts=64 --set dqn.steps_per_report=32
    train_case dqn-atari dqn atari/breakout 256 128 1 --set dqn.learning_starts=64 --set dqn.steps_per_report=32
else
    train_case ppo-minatar ppo minatar/breakout 65536 8192 3
    train_case pqn-minatar pqn minatar/breakout 65536 8192 3
    train_case dqn-minatar dqn minatar/breakout 65536 8192 1 --set dqn.learning_starts=4096
    train_case ppo-atari ppo atari/breakout 5120 1024 1
    train_case pqn-atari pqn atari/breakout 12288 4096 1
    # A 50k-transition replay on both sides: Stable-Baselines3 keeps observations and next
    # observations unpacked, so the preset's 1M transitions would need 26 GiB there; the run
    # stores 5120 transitions either way, and sampling costs the same at any capacity.
    train_case dqn-atari dqn atari/breakout 5120 1024 1 --set dqn.learning_starts=512 \
        --set dqn.buffer_size=50000
fi

# ---- network microbenchmarks and the sgemm peak
# The training step DQN takes on MinAtar (and burn's autodiff step beside it) on one thread,
# against the one-thread sgemm rate of the same run.
sgemm_case=(bench net --threads 1 --network minatar --mode train,train-autodiff --batch 32 --json)
if (( SMOKE )); then
    measure net_hrl "$HRL" bench net --threads "$THREADS" --warmup 0 --repeats 1 --round-ms 0 \
        --matmul 256 --json
    measure net_hrl_sgemm "$HRL" "${sgemm_case[@]}" --warmup 0 --repeats 1 --round-ms 0 \
        --matmul 256
else
    measure net_hrl_sgemm "$HRL" "${sgemm_case[@]}"
    measure net_hrl "$HRL" bench net --threads "$THREADS" --json
    measure net_hrl_1 "$HRL" bench net --threads 1 --network minatar --mode forward --batch 1 \
        --json
    measure net_torch "$PY" bench/net_torch.py --threads "$THREADS"
fi

cut -d' ' -f1-3 /proc/loadavg > "$WORK/loadavg.after"
smoke_flag=()
(( SMOKE )) && smoke_flag=(--smoke)
python3 bench/report.py --work "$WORK" --json "$JSON_OUT" --markdown "$MD_OUT" \
    --notes bench/notes.md "${smoke_flag[@]}"
echo "wrote $MD_OUT and $JSON_OUT" >&2
