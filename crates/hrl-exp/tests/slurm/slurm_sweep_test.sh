#!/usr/bin/env bash
# `hrl sweep slurm --submit` on a real Slurm cluster: starts a single-node cluster on localhost
# (installing Debian's slurmctld, slurmd, slurm-client and munge if needed; start-cluster.sh),
# submits a tiny sweep (PQN on CartPole, 2 representations x 2 seeds, 4096 agent steps each) as
# an array job, waits for it, checks that every task COMPLETED and every run has summary.json
# and metrics.csv, then requeues a finished task and checks that it skips its complete run.
# Stops the daemons it started on exit. Run as root on Debian bookworm; about 30 s once the
# packages and the release build are there.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../../.." && pwd)
[ "$(id -u)" = 0 ] || { echo "slurm_sweep_test.sh: run as root (it installs and starts Slurm)" >&2; exit 1; }
t0=$(date +%s)

(cd "$repo" && cargo build --release -q -p hrl-cli)
hrl=${CARGO_TARGET_DIR:-$repo/target}/release/hrl
hrl=$(cd "$(dirname "$hrl")" && pwd)/hrl
work=$(mktemp -d "${TMPDIR:-/tmp}/hrl-slurm-sweep.XXXXXX")

alive() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }
started_cluster=0
finish() {
  status=$?
  if [ "$started_cluster" = 1 ]; then "$here/stop-cluster.sh"; fi
  if [ "$status" = 0 ]; then rm -rf "$work"; else echo "FAILED; files kept in $work" >&2; fi
}
trap finish EXIT
if alive /run/slurmctld.pid && alive /run/slurmd.pid; then
  echo "using the Slurm cluster already running here (left running)"
else
  started_cluster=1
fi
SLURM_CI_LOG=$work/slurm-ci "$here/start-cluster.sh"

wait_job() {  # until no task of job $1 is pending or running (squeue lists only those)
  local waited=0
  while [ -n "$(squeue -h -j "$1" -o %i 2>/dev/null)" ]; do
    sleep 0.5; waited=$((waited + 1))
    [ "$waited" -lt 1200 ] || { echo "job $1 still not finished after 600 s" >&2; squeue; return 1; }
  done
}

cat > "$work/slurm-test.toml" <<TOML
name = "slurm-test"
algos = ["pqn"]
envs = ["cartpole"]
reprs = ["relu", "hr-tanh"]
seeds = [1, 2]
steps = 4096
TOML
root=$work/sweeps
runs=(pqn.cartpole.relu.s1 pqn.cartpole.relu.s2 pqn.cartpole.hr-tanh.s1 pqn.cartpole.hr-tanh.s2)

cd "$work"
jid=$("$hrl" sweep slurm "$work/slurm-test.toml" --submit --cpus 1 --time 0:10:00 --out "$root")
[[ "$jid" =~ ^[0-9]+$ ]] || { echo "sbatch job id is '$jid'" >&2; exit 1; }
echo "submitted array job $jid"
wait_job "$jid"
squeue -h -j "$jid" --states=all -o '%i %T'
not_completed=$(squeue -h -j "$jid" --states=all -o '%T' | grep -vc '^COMPLETED$' || true)
tasks=$(squeue -h -j "$jid" --states=all -o '%T' | wc -l)
if [ "$not_completed" != 0 ] || [ "$tasks" != 4 ]; then
  echo "expected 4 COMPLETED tasks" >&2
  tail -n 20 "$root"/slurm-test/slurm/*.log >&2
  exit 1
fi
for run in "${runs[@]}"; do
  for file in summary.json metrics.csv; do
    [ -s "$root/slurm-test/$run/$file" ] || { echo "$run/$file missing" >&2; exit 1; }
  done
done
"$hrl" sweep status "$work/slurm-test.toml" --out "$root" | tee "$work/status.txt"
grep -qx '4 runs: 4 done, 0 running, 0 failed, 0 partial, 0 pending' "$work/status.txt"

# A requeued task (after a node failure or preemption) finds its run complete and does nothing.
summary=$root/slurm-test/${runs[0]}/summary.json
before=$(stat -c %Y.%s "$summary")
scontrol requeue "${jid}_0"
scontrol update JobId="${jid}_0" StartTime=now   # a requeued job would otherwise wait ~120 s
wait_job "$jid"
scontrol show job "${jid}_0" | grep -q 'Restarts=1' || { echo "task 0 was not requeued" >&2; exit 1; }
scontrol show job "${jid}_0" | grep -q 'JobState=COMPLETED' || { echo "requeued task 0 did not complete" >&2; exit 1; }
grep -q "${runs[0]}: already complete" "$root/slurm-test/slurm/${jid}_0.log" \
  || { echo "requeued task 0 did not skip its run" >&2; cat "$root/slurm-test/slurm/${jid}_0.log" >&2; exit 1; }
[ "$(stat -c %Y.%s "$summary")" = "$before" ] || { echo "requeued task 0 rewrote its run" >&2; exit 1; }

echo "SLURM SWEEP TEST PASSED in $(( $(date +%s) - t0 )) s"
