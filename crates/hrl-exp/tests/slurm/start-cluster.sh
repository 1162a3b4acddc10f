#!/usr/bin/env bash
# Start a single-node localhost Slurm cluster (Debian bookworm, slurm-wlm 22.05) without systemd.
# Run as root. Idempotent: re-running with daemons already up is a no-op (just re-checks).
# Used by slurm_sweep_test.sh (the recipe is Debian bookworm's slurm-wlm 22.05.8 and munge 0.5.15;
# knobs: SLURM_CI_SCHED_PARAMS, SLURM_CI_PART_OPTS, SLURM_CI_LOG).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
LOG=${SLURM_CI_LOG:-${TMPDIR:-/tmp}/slurm-ci}
mkdir -p "$LOG"

# 1. install (skipped when already installed)
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v munged >/dev/null; then
  # Keep the packages' init scripts from starting daemons during install (Docker images already
  # ship an "exit 101" policy-rc.d; add a temporary one elsewhere), we start them ourselves below.
  PRC=/usr/sbin/policy-rc.d; ADDED_PRC=0
  if [ ! -e "$PRC" ]; then printf '#!/bin/sh\nexit 101\n' > "$PRC"; chmod +x "$PRC"; ADDED_PRC=1; fi
  apt-get update -q
  apt-get install -y -q --no-install-recommends slurmctld slurmd slurm-client munge
  if [ "$ADDED_PRC" = 1 ]; then rm -f "$PRC"; fi
fi

# 2. munge
if [ ! -s /etc/munge/munge.key ]; then
  mungekey --create --keyfile=/etc/munge/munge.key 2>/dev/null \
    || dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key 2>/dev/null
fi
chown munge:munge /etc/munge /etc/munge/munge.key; chmod 700 /etc/munge; chmod 400 /etc/munge/munge.key
install -d -o munge -g munge -m 0755 /run/munge          # /run is tmpfs: missing on a fresh boot
install -d -o munge -g munge -m 0700 /var/log/munge /var/lib/munge
if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
  runuser -u munge -- /usr/sbin/munged
  for _ in $(seq 50); do munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && break; sleep 0.1; done
fi
munge -n | unmunge >/dev/null   # fail loudly if munge is not working

# 3. slurm.conf (node name must be what slurmd sees as `hostname -s`)
HOST=$(hostname -s)
read -r NODELINE < <(slurmd -C | head -1)   # "NodeName=<host> CPUs=.. ... RealMemory=.."
NODELINE="$NODELINE NodeAddr=127.0.0.1"      # do not depend on the hostname resolving
# keep a bit of memory headroom below the detected RealMemory
MEM=$(sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p' <<<"$NODELINE")
NODELINE=$(sed "s/RealMemory=[0-9]*/RealMemory=$((MEM - 512))/" <<<"$NODELINE")
mkdir -p /etc/slurm
cat > /etc/slurm/slurm.conf.new <<CONF
ClusterName=ci
SlurmctldHost=$HOST(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=256
SchedulerType=sched/backfill
SchedulerParameters=${SLURM_CI_SCHED_PARAMS:-batch_sched_delay=0,sched_min_interval=0}
MailProg=/bin/true
ReturnToService=2
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldTimeout=30
SlurmdTimeout=60
InactiveLimit=0
MinJobAge=300
KillWait=5
Waittime=0
$NODELINE State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP ${SLURM_CI_PART_OPTS:-}
CONF
CONF_CHANGED=0
cmp -s /etc/slurm/slurm.conf.new /etc/slurm/slurm.conf || CONF_CHANGED=1
mv /etc/slurm/slurm.conf.new /etc/slurm/slurm.conf
# cgroup.conf is read by slurmd in 22.05 even with linuxproc/task none; keep it harmless
cat > /etc/slurm/cgroup.conf <<CONF
CgroupAutomount=no
ConstrainCores=no
ConstrainRAMSpace=no
ConstrainDevices=no
CONF
install -d -m 0755 /var/spool/slurmctld /var/spool/slurmd /var/log/slurm

# 4. daemons
alive() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }
alive /run/slurmctld.pid || slurmctld   # daemonizes, writes /run/slurmctld.pid
for _ in $(seq 100); do scontrol ping 2>/dev/null | grep -q UP && break; sleep 0.2; done
scontrol ping | grep -q UP || { echo "slurmctld did not come up"; tail -50 /var/log/slurm/slurmctld.log; exit 1; }
alive /run/slurmd.pid || slurmd
if [ "$CONF_CHANGED" = 1 ]; then scontrol reconfigure; fi   # no-op for freshly started daemons, applies edits otherwise
# wait for node idle
for _ in $(seq 150); do
  st=$(sinfo -h -N -o '%T' 2>/dev/null | head -1)
  case "$st" in idle|mixed|allocated) break;; esac
  sleep 0.2
done
st=$(sinfo -h -N -o '%T' | head -1)
if [ "$st" != idle ] && [ "$st" != mixed ] && [ "$st" != allocated ]; then
  echo "node state is '$st'"; scontrol show node; tail -50 /var/log/slurm/slurmd.log; exit 1
fi
sinfo
echo "slurm cluster up (node $HOST, state $st)"
