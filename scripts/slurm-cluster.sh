#!/usr/bin/env bash
# A real single-node Slurm cluster for the integration tests (a test harness,
# not a deployment): munge, slurmctld and slurmd on this machine, partitions
# `cpu` (default) and `gpu`, and two FAKE GPUs so that `--gres=gpu:1` jobs are
# scheduled and get CUDA_VISIBLE_DEVICES. The fake GPUs are a test double for
# real GPUs: character devices with /dev/null's numbers, nothing more.
#
# Accounting is real, as at most sites, so that `sacct` answers for ended jobs
# (State, ExitCode, Elapsed, TotalCPU, MaxRSS, ReqMem, AllocTRES: what a run's
# efficiency is read from): slurmdbd over a MariaDB server of its own (data in
# /var/spool/hpc-submit-slurm/mariadb, listening on 127.0.0.1:6830 only, so
# that a system MariaDB on this machine is never touched), cluster `hpcsubmit`,
# account `hpcsubmit` with the users root and hpcuser. Associations are not
# enforced: no job is refused for lack of one.
# Without Debian's slurmdbd + mariadb-server the cluster runs without
# accounting (sacct then says it is disabled) and says "accounting skipped".
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
DBD_PID=/run/slurmdbd.pid
DBD_CONF=$CONF_DIR/slurmdbd.conf
DB_DIR=$SPOOL/mariadb
DB_CONF=$SPOOL/mariadb.cnf
DB_RUN=/run/hpc-submit-mariadb
DB_PID=$DB_RUN/mariadbd.pid
DB_SOCKET=$DB_RUN/mariadbd.sock
DB_PORT=6830
DB_NAME=slurm_acct_db
DB_USER=slurm
# slurmdbd's database password: made once, readable by root only, never printed.
DB_PASS_FILE=$SPOOL/slurmdbd-db.pass
CLUSTER=hpcsubmit
ACCOUNT=hpcsubmit
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

accounting_missing() { # prints what accounting lacks here, nothing when all is there
  local bin
  for bin in /usr/sbin/slurmdbd /usr/sbin/mariadbd mariadb-install-db mariadb-admin mariadb sacctmgr; do
    command -v "$bin" > /dev/null 2>&1 || { echo "$bin is missing: apt-get install -y slurmdbd mariadb-server"; return 0; }
  done
}
ACCOUNTING_MISSING=$(accounting_missing)

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
  for pair in "munged:$MUNGE_PID" "mariadbd:$DB_PID" "slurmdbd:$DBD_PID" "slurmctld:$CTLD_PID" "slurmd:$SLURMD_PID"; do
    if alive "${pair#*:}"; then say "${pair%%:*} running (pid $(cat "${pair#*:}"))"; else say "${pair%%:*} not running"; fi
  done
  [ -n "$ACCOUNTING_MISSING" ] && say "accounting skipped ($ACCOUNTING_MISSING)"
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

replace_if_changed() { # new-file dest mode: moves new-file over dest when they differ, then prints "changed"
  if cmp -s "$1" "$2"; then
    rm -f "$1"
  else
    mv -f "$1" "$2" || die "cannot write $2"
    echo changed
  fi
  chmod "$3" "$2"
}

accounting_config() { # the accounting lines of slurm.conf
  if [ -n "$ACCOUNTING_MISSING" ]; then
    echo "# No slurmdbd/MariaDB on this machine: sacct says accounting is disabled."
    echo "AccountingStorageType=accounting_storage/none"
    return 0
  fi
  cat <<EOF
# slurmdbd (over MariaDB) records every job, so that sacct answers after its end.
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=$HOST
# The GPUs a job was given appear in its AllocTRES.
AccountingStorageTRES=gres/gpu
EOF
}

write_config() { # prints "changed" when a file changed
  local cpus mem_mb real tmp
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
$(accounting_config)
# One line per ended job, with or without accounting.
JobCompType=jobcomp/filetxt
JobCompLoc=$LOG_DIR/jobcomp.log
SchedulerType=sched/backfill
# scrontab, for the schedules' tests (sites enable it the same way).
ScronParameters=enable
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
  replace_if_changed "$tmp" "$CONF_DIR/slurm.conf" 0644
  tmp=$(mktemp)
  cat > "$tmp" <<EOF
# Fake GPUs (a test double): two character devices, no driver behind them.
AutoDetect=off
NodeName=$HOST Name=gpu File=$FAKE_GPU_DIR/fakegpu[0-1]
EOF
  replace_if_changed "$tmp" "$CONF_DIR/gres.conf" 0644
}

db_password() {
  if [ ! -s "$DB_PASS_FILE" ]; then
    (umask 077 && head -c 32 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' > "$DB_PASS_FILE") \
      || die "cannot create $DB_PASS_FILE"
  fi
  cat "$DB_PASS_FILE"
}

write_dbd_config() { # prints "changed" when slurmdbd.conf changed
  local tmp pass
  pass=$(db_password) || exit 1
  # Made in place and 0600 from the start: the file holds the database password.
  tmp=$(umask 077 && mktemp "$CONF_DIR/.slurmdbd.conf.XXXXXX") || die "cannot write in $CONF_DIR"
  cat > "$tmp" <<EOF
# Written by scripts/slurm-cluster.sh (jupyterlab-hpc-submit test harness).
AuthType=auth/munge
DbdHost=$HOST
SlurmUser=root
PidFile=$DBD_PID
LogFile=$LOG_DIR/slurmdbd.log
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort=$DB_PORT
StorageUser=$DB_USER
StoragePass=$pass
StorageLoc=$DB_NAME
EOF
  chown root:root "$tmp"
  replace_if_changed "$tmp" "$DBD_CONF" 0600
}

write_db_config() { # prints "changed" when MariaDB's options changed
  local tmp
  tmp=$(mktemp) || die "cannot create a temporary file"
  cat > "$tmp" <<EOF
# Written by scripts/slurm-cluster.sh: the MariaDB server of slurmdbd, nothing else.
[mysqld]
user=mysql
datadir=$DB_DIR
pid-file=$DB_PID
socket=$DB_SOCKET
bind-address=127.0.0.1
port=$DB_PORT
skip-name-resolve
log-error=$LOG_DIR/mariadb.log
# The least slurmdbd accepts without an error at each start. The buffer pool is
# only reserved: the pages are used as the small test database grows.
innodb_buffer_pool_size=512M
innodb_log_file_size=64M
innodb_lock_wait_timeout=900
EOF
  replace_if_changed "$tmp" "$DB_CONF" 0644
}

sql() { mariadb --no-defaults --socket="$DB_SOCKET" --user=root --batch --skip-column-names "$@"; }

db_answers() { mariadb-admin --no-defaults --socket="$DB_SOCKET" --user=root ping > /dev/null 2>&1; }

init_db_dir() {
  local fresh=$DB_DIR.new
  [ -d "$DB_DIR/mysql" ] && return 0
  # Made aside and moved into place: an interrupted run leaves no half-made directory.
  rm -rf "$fresh"
  install -d -o mysql -g mysql -m 0750 "$fresh"
  mariadb-install-db --no-defaults --datadir="$fresh" --user=mysql --skip-test-db \
    --auth-root-authentication-method=socket > "$LOG_DIR/mariadb-install.log" 2>&1 \
    || die "MariaDB's data directory could not be created (see $LOG_DIR/mariadb-install.log)"
  rm -rf "$DB_DIR"
  mv "$fresh" "$DB_DIR" || die "cannot move $fresh to $DB_DIR"
  say "created MariaDB's data directory $DB_DIR"
}

start_mariadb() {
  local pid started=''
  if alive "$DB_PID"; then
    pid=$(cat "$DB_PID")
  else
    install -d -o mysql -g mysql -m 0755 "$DB_RUN"
    init_db_dir
    touch "$LOG_DIR/mariadb.log" && chown mysql:mysql "$LOG_DIR/mariadb.log"
    # Its own session and no inherited output: it outlives this script and its caller.
    setsid /usr/sbin/mariadbd --defaults-file="$DB_CONF" < /dev/null > /dev/null 2>&1 &
    pid=$!
    started=1
  fi
  for _ in $(seq 1 150); do
    if db_answers; then
      [ -n "$started" ] && say "mariadbd started"
      return 0
    fi
    kill -0 "$pid" 2> /dev/null || break
    sleep 0.2
  done
  die "MariaDB does not answer (see $LOG_DIR/mariadb.log)"
}

# The password goes through stdin, never on a command line.
grant_slurmdbd() {
  sql <<EOF || die "cannot create the database $DB_NAME for slurmdbd (see $LOG_DIR/mariadb.log)"
CREATE DATABASE IF NOT EXISTS $DB_NAME;
CREATE USER IF NOT EXISTS '$DB_USER'@'127.0.0.1';
ALTER USER '$DB_USER'@'127.0.0.1' IDENTIFIED BY '$(db_password)';
GRANT ALL ON $DB_NAME.* TO '$DB_USER'@'127.0.0.1';
EOF
}

dbd_answers() { timeout 10 sacctmgr -n -P show cluster format=cluster > /dev/null 2>&1; }

start_slurmdbd() {
  grant_slurmdbd
  /usr/sbin/slurmdbd || die "slurmdbd did not start (see $LOG_DIR/slurmdbd.log)"
  for _ in $(seq 1 150); do
    if dbd_answers; then
      say "slurmdbd started"
      return 0
    fi
    sleep 0.2
  done
  die "slurmdbd does not answer (see $LOG_DIR/slurmdbd.log)"
}

users_of_account() { sacctmgr -n -P show assoc cluster="$CLUSTER" account="$ACCOUNT" format=user 2> /dev/null; }

register_users() {
  local users
  users=$(users_of_account)
  grep -qx root <<< "$users" && grep -qx "$TEST_USER" <<< "$users" && return 0
  if ! sacctmgr -n -P show cluster format=cluster | grep -qx "$CLUSTER"; then
    sacctmgr -i add cluster "$CLUSTER" > /dev/null || die "sacctmgr could not add the cluster $CLUSTER"
  fi
  if ! sacctmgr -n -P show account "$ACCOUNT" format=account | grep -qx "$ACCOUNT"; then
    sacctmgr -i add account "$ACCOUNT" cluster="$CLUSTER" description="jupyterlab-hpc-submit tests" \
      organization=hpcsubmit > /dev/null || die "sacctmgr could not add the account $ACCOUNT"
  fi
  sacctmgr -i add user root account="$ACCOUNT" cluster="$CLUSTER" > /dev/null
  sacctmgr -i add user "$TEST_USER" account="$ACCOUNT" defaultaccount="$ACCOUNT" cluster="$CLUSTER" > /dev/null
  users=$(users_of_account)
  grep -qx root <<< "$users" && grep -qx "$TEST_USER" <<< "$users" \
    || die "sacctmgr could not add the users root and $TEST_USER to the account $ACCOUNT"
  say "registered the cluster $CLUSTER, the account $ACCOUNT and the users root and $TEST_USER"
}

# slurmdbd before slurmctld: the controller registers with it at start.
start_accounting() { # database-config-changed slurmdbd-config-changed
  if [ -n "$1$2" ]; then stop_pidfile "$DBD_PID" slurmdbd; fi
  if [ -n "$1" ]; then stop_pidfile "$DB_PID" mariadbd; fi
  start_mariadb
  alive "$DBD_PID" || start_slurmdbd
  register_users
}

ensure_user() {
  if ! getent passwd "$TEST_USER" > /dev/null; then
    useradd --create-home --shell /bin/bash "$TEST_USER" || die "cannot create the user $TEST_USER"
    say "created the user $TEST_USER"
  fi
}

up() {
  local changed db_changed='' dbd_changed='' state i
  ensure_user
  start_munge
  changed=$(write_config) || exit 1
  if [ -n "$ACCOUNTING_MISSING" ]; then
    say "accounting skipped ($ACCOUNTING_MISSING)"
  else
    db_changed=$(write_db_config) || exit 1
    dbd_changed=$(write_dbd_config) || exit 1
  fi
  if [ -n "$changed$db_changed$dbd_changed" ]; then
    stop_pidfile "$SLURMD_PID" slurmd
    stop_pidfile "$CTLD_PID" slurmctld
  fi
  if [ -z "$ACCOUNTING_MISSING" ]; then
    start_accounting "$db_changed" "$dbd_changed"
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
  stop_pidfile "$DBD_PID" slurmdbd
  stop_pidfile "$DB_PID" mariadbd
  if [ -s "$MUNGE_PID" ]; then stop_pidfile "$MUNGE_PID" munged; fi
  return 0
}

case $ACTION in
  up) up ;;
  down) down ;;
  status) status ;;
  *) die "usage: $0 up|down|status" ;;
esac
