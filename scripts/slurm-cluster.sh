#!/usr/bin/env bash
# A real single-node Slurm cluster for the integration tests (a test harness,
# not a deployment): munge, slurmctld and slurmd on this machine, partitions
# `cpu` (default) and `gpu`, and two FAKE GPUs so that `--gres=gpu:1` jobs are
# scheduled and get CUDA_VISIBLE_DEVICES. The fake GPUs are a test double for
# real GPUs: character devices with /dev/null's numbers, nothing more.
#
#   scripts/slurm-cluster.sh up       start (idempotent), wait until the node is idle
#   scripts/slurm-cluster.sh down     stop the daemons (by their pid files)
#   scripts/slurm-cluster.sh status   say what runs
#
# Needs root and Debian's slurm-wlm + munge; otherwise says "skipped" and exits 0.
# Also creates the ordinary user `hpcuser` the tests submit as.
set -uo pipefail

ACTION=${1:-up}
CONF_DIR=/etc/slurm
SPOOL=/var/spool/hpc-submit-slurm
LOG_DIR=/var/log/slurm
FAKE_GPU_DIR=$SPOOL/fake-gpus
CTLD_PID=/run/slurmctld.pid
SLURMD_PID=/run/slurmd.pid
MUNGE_PID=/run/munge/munged.pid
TEST_USER=hpcuser

say() { echo "slurm: $*"; }
die() { echo "slurm: $*" >&2; exit 1; }

if [ "$(id -u)" != 0 ]; then
  say "skipped (not root / no slurm packages): the cluster needs root"
  exit 0
fi
for bin in /usr/sbin/slurmctld /usr/sbin/slurmd /usr/sbin/munged sinfo scontrol munge unmunge; do
  if ! command -v "$bin" > /dev/null 2>&1; then
    say "skipped (not root / no slurm packages): $bin is missing (apt-get install -y slurm-wlm munge)"
    exit 0
  fi
done

HOST=$(hostname)

alive() { # pidfile
  local pid
  [ -s "$1" ] || return 1
  pid=$(cat "$1" 2> /dev/null) || return 1
  [ -n "$pid" ] && kill -0 "$pid" 2> /dev/null
}

stop_pidfile() { # pidfile name
  local pid i
  alive "$1" || { rm -f "$1"; return 0; }
  pid=$(cat "$1")
  kill "$pid" 2> /dev/null
  for i in $(seq 1 50); do
    kill -0 "$pid" 2> /dev/null || break
    sleep 0.2
  done
  if kill -0 "$pid" 2> /dev/null; then
    kill -9 "$pid" 2> /dev/null
    sleep 0.2
  fi
  rm -f "$1"
  say "stopped $2 (pid $pid)"
}

node_state() { sinfo -h -n "$HOST" -o '%T' 2> /dev/null | head -1; }

status() {
  local s
  for pair in "munged:$MUNGE_PID" "slurmctld:$CTLD_PID" "slurmd:$SLURMD_PID"; do
    if alive "${pair#*:}"; then say "${pair%%:*} running (pid $(cat "${pair#*:}"))"; else say "${pair%%:*} not running"; fi
  done
  s=$(node_state)
  say "node $HOST: ${s:-unknown}"
  [ -n "$s" ]
}

start_munge() {
  if munge -n 2> /dev/null | unmunge > /dev/null 2>&1; then
    return 0
  fi
  install -d -o munge -g munge -m 0700 /etc/munge /var/lib/munge /var/log/munge
  install -d -o munge -g munge -m 0755 /run/munge
  if [ ! -s /etc/munge/munge.key ]; then
    dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none || die "cannot create the munge key"
  fi
  chown munge:munge /etc/munge/munge.key
  chmod 0400 /etc/munge/munge.key
  runuser -u munge -- /usr/sbin/munged || die "munged did not start (see /var/log/munge/munged.log)"
  for _ in $(seq 1 25); do
    munge -n 2> /dev/null | unmunge > /dev/null 2>&1 && { say "munged started"; return 0; }
    sleep 0.2
  done
  die "munge does not answer (see /var/log/munge/munged.log)"
}

write_config() { # prints "changed" when a file changed
  local cpus mem_mb real tmp changed=''
  # At least 4 CPUs (config_overrides below): the tests run a few small jobs at
  # once even on a 2-core machine.
  cpus=$(nproc)
  [ "$cpus" -lt 4 ] && cpus=4
  mem_mb=$(awk '/MemTotal/ {print int($2 / 1024)}' /proc/meminfo)
  real=$((mem_mb > 2048 ? mem_mb - 1024 : mem_mb / 2))
  install -d -m 0755 "$CONF_DIR" "$SPOOL" "$SPOOL/ctld" "$SPOOL/d" "$LOG_DIR" "$FAKE_GPU_DIR"
  # The test double for GPUs: gres needs character devices (plain files are refused).
  for i in 0 1; do
    [ -c "$FAKE_GPU_DIR/fakegpu$i" ] || mknod "$FAKE_GPU_DIR/fakegpu$i" c 1 3 || die "cannot create the fake GPU device $FAKE_GPU_DIR/fakegpu$i"
  done
  tmp=$(mktemp)
  cat > "$tmp" <<EOF
# Written by scripts/slurm-cluster.sh (jupyterlab-hpc-submit test harness).
ClusterName=hpcsubmit
SlurmctldHost=$HOST
SlurmUser=root
AuthType=auth/munge
StateSaveLocation=$SPOOL/ctld
SlurmdSpoolDir=$SPOOL/d
SlurmctldPidFile=$CTLD_PID
SlurmdPidFile=$SLURMD_PID
SlurmctldLogFile=$LOG_DIR/slurmctld.log
SlurmdLogFile=$LOG_DIR/slurmd.log
# No systemd cgroup control on these machines.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
# Memory is enforced without cgroups: slurmstepd samples the job's processes
# every second and kills a job over its --mem (a real out-of-memory kill).
JobAcctGatherType=jobacct_gather/linux
JobAcctGatherParams=OverMemoryKill,UsePss
JobAcctGatherFrequency=task=1
# No slurmdbd: a job's end must be known without sacct, as at some sites.
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$LOG_DIR/jobcomp.log
SchedulerType=sched/backfill
SelectType=select/cons_tres
# Memory is a consumable resource (needed for --mem to be enforced); a job that
# names none gets 1000M per CPU.
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=1000
ReturnToService=2
# Ended jobs stay visible to squeue for a minute; the tests stay short.
MinJobAge=60
KillWait=10
MessageTimeout=10
SlurmdParameters=config_overrides
GresTypes=gpu
NodeName=$HOST CPUs=$cpus RealMemory=$real Gres=gpu:2 State=UNKNOWN
PartitionName=cpu Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
PartitionName=gpu Nodes=$HOST MaxTime=INFINITE State=UP
EOF
  if ! cmp -s "$tmp" "$CONF_DIR/slurm.conf"; then
    mv -f "$tmp" "$CONF_DIR/slurm.conf"
    changed=1
  else
    rm -f "$tmp"
  fi
  chmod 0644 "$CONF_DIR/slurm.conf"
  tmp=$(mktemp)
  cat > "$tmp" <<EOF
# Fake GPUs (a test double): two character devices, no driver behind them.
AutoDetect=off
NodeName=$HOST Name=gpu File=$FAKE_GPU_DIR/fakegpu[0-1]
EOF
  if ! cmp -s "$tmp" "$CONF_DIR/gres.conf"; then
    mv -f "$tmp" "$CONF_DIR/gres.conf"
    changed=1
  else
    rm -f "$tmp"
  fi
  chmod 0644 "$CONF_DIR/gres.conf"
  if [ -n "$changed" ]; then echo changed; fi
  return 0
}

ensure_user() {
  if ! getent passwd "$TEST_USER" > /dev/null; then
    useradd --create-home --shell /bin/bash "$TEST_USER" || die "cannot create the user $TEST_USER"
    say "created the user $TEST_USER"
  fi
}

up() {
  local changed state i
  ensure_user
  start_munge
  changed=$(write_config) || exit 1
  if [ -n "$changed" ]; then
    stop_pidfile "$SLURMD_PID" slurmd
    stop_pidfile "$CTLD_PID" slurmctld
  fi
  if ! alive "$CTLD_PID"; then
    /usr/sbin/slurmctld || die "slurmctld did not start (see $LOG_DIR/slurmctld.log)"
    say "slurmctld started"
  fi
  if ! alive "$SLURMD_PID"; then
    /usr/sbin/slurmd || die "slurmd did not start (see $LOG_DIR/slurmd.log)"
    say "slurmd started"
  fi
  for i in $(seq 1 60); do
    state=$(node_state)
    case $state in
      idle | mixed | allocated | completing)
        say "up: node $HOST is $state (partitions: $(sinfo -h -o '%R' | tr '\n' ' '))"
        return 0 ;;
      down* | drain* | drained* | fail*)
        scontrol update NodeName="$HOST" State=RESUME > /dev/null 2>&1 ;;
    esac
    sleep 0.5
  done
  die "the node did not become idle within 30 s (state: ${state:-none}; see $LOG_DIR/slurmctld.log and slurmd.log)"
}

down() {
  stop_pidfile "$SLURMD_PID" slurmd
  stop_pidfile "$CTLD_PID" slurmctld
  if [ -s "$MUNGE_PID" ]; then stop_pidfile "$MUNGE_PID" munged; fi
  return 0
}

case $ACTION in
  up) up ;;
  down) down ;;
  status) status ;;
  *) die "usage: $0 up|down|status" ;;
esac
