#!/bin/bash
# The body of every job's script (both executors run it: bash under Slurm's
# batch step, or a detached child locally). The companion writes the job's
# values above this body, each quoted once (jobScript.ts); the body only ever
# expands them in double quotes, so a file name can never become code.
#
# The job tells its own story through status.json in its job directory,
# because a site's accounting may be off and the scheduler forgets ended jobs.
# An end that is not a completion names its cause as a code ("gpu-missing",
# "nbconvert-exit", ...); the companion turns codes into sentences
# (server/jobs/endReasons.ts), so each sentence is written once.
export HPC_SUBMIT_JOB_ID="$JOB_ID"
export HPC_SUBMIT_JOB_DIR="$JOB_DIR"
export HPC_SUBMIT_OUTPUT="$OUTPUT_DIR/$OUTPUT_NAME"

now() { date -u +%Y-%m-%dT%H:%M:%SZ; }

json_str() {
  local s=$1
  s=${s//\\/\\\\}
  s=${s//\"/\\\"}
  s=${s//$'\n'/\\n}
  s=${s//$'\r'/\\r}
  s=${s//$'\t'/\\t}
  s=${s//[$'\001'-$'\037']/}
  printf '"%s"' "$s"
}

gpus_json() {
  local out='' g
  for g in "${GPUS[@]+"${GPUS[@]}"}"; do
    out+="${out:+,}$(json_str "$g")"
  done
  printf '[%s]' "$out"
}

write_status() {
  local tmp="$JOB_DIR/.status.json.$$"
  { printf '%s\n' "$1" > "$tmp" && mv -f -- "$tmp" "$JOB_DIR/status.json"; } ||
    echo "hpc-submit: cannot write $JOB_DIR/status.json" >&2
}

# finish OUTCOME EXIT_CODE [CAUSE [SUBJECT]]
# CAUSE: why an end is not a completion, as a code; SUBJECT: what it is about
# (a folder, a command). The signal and reason.txt's account go along.
finish() {
  trap '' USR1 TERM INT
  stop_sampler
  local json code=$2
  json="{\"phase\":\"ended\",\"jobId\":$(json_str "$JOB_ID"),\"host\":$(json_str "$HOST")"
  json+=",\"gpus\":$(gpus_json),\"startedAt\":\"$STARTED_AT\",\"endedAt\":\"$(now)\""
  json+=",\"exitCode\":$code,\"outcome\":\"$1\""
  [ -n "${3:-}" ] && json+=",\"cause\":\"$3\""
  [ -n "${4:-}" ] && json+=",\"subject\":$(json_str "$4")"
  [ "$1" = terminated ] && json+=",\"signal\":\"$SIGNAL\""
  [ -n "$REASON" ] && json+=",\"detail\":$(json_str "$REASON")"
  write_status "$json}"
  echo "hpc-submit: job ended on $HOST: $1${3:+ ($3)}, exit code $code" >&2
  if [ "$1" != completed ] && [ "$code" = 0 ]; then code=1; fi
  exit "$code"
}

# The job's own use of CPU, memory and GPUs, one line per sample in
# usage.jsonl (sampler.py). It runs with the node's python3 where there is
# one: a direct child that starts at once and sees the node's /proc, never
# waiting on a launcher that may still be installing the environment the
# notebook needs; else with the profile's python through its launcher, which
# must exist for the notebook to run at all. It stops when the script ends,
# and by itself should the script be killed.
SAMPLER_PID=''
start_sampler() {
  local python=("${LAUNCH[@]}")
  command -v python3 > /dev/null 2>&1 && python=(python3)
  "${python[@]}" "$SAMPLER" "$$" "$JOB_DIR/usage.jsonl" < /dev/null &
  SAMPLER_PID=$!
}
stop_sampler() {
  [ -n "$SAMPLER_PID" ] && kill "$SAMPLER_PID" 2> /dev/null
  SAMPLER_PID=''
}

HOST=${SLURMD_NODENAME:-$(hostname 2>/dev/null || uname -n)}
STARTED_AT=$(now)
# The executed notebook's run record starts when the job does.
export HPC_SUBMIT_STARTED_AT="$STARTED_AT"

# Visible GPUs: what the scheduler granted (CUDA_VISIBLE_DEVICES), else what
# the driver lists.
GPUS=()
if [ -n "${CUDA_VISIBLE_DEVICES:-}" ] && [ "$CUDA_VISIBLE_DEVICES" != NoDevFiles ]; then
  IFS=, read -r -a GPUS <<< "$CUDA_VISIBLE_DEVICES"
elif command -v nvidia-smi > /dev/null 2>&1; then
  while IFS= read -r line; do
    case $line in GPU\ *) GPUS+=("$line") ;; esac
  done < <(nvidia-smi -L 2> /dev/null)
fi

SIGNAL=''
PENDING=''
CHILD=''
REASON=''
on_signal() {
  # The time-limit warning (USR1) decides the outcome even when Slurm's TERM follows.
  [ "$SIGNAL" = USR1 ] || SIGNAL=$1
  PENDING=1
  if [ -n "$CHILD" ]; then
    kill -s "$1" -- "-$CHILD" 2> /dev/null || kill -s "$1" "$CHILD" 2> /dev/null
  fi
}
trap 'on_signal USR1' USR1
trap 'on_signal TERM' TERM
trap 'on_signal INT' INT

write_status "{\"phase\":\"started\",\"jobId\":$(json_str "$JOB_ID"),\"host\":$(json_str "$HOST"),\"gpus\":$(gpus_json),\"startedAt\":\"$STARTED_AT\",\"pid\":$$}"
echo "hpc-submit: job $JOB_ID started on $HOST at $STARTED_AT; GPUs: ${GPUS[*]+"${GPUS[*]}"}" >&2

cd -- "$WORK_DIR" || finish failed 1 workdir-unreachable "$WORK_DIR"

if [ "$REQUIRE_GPU" = 1 ] && [ "${#GPUS[@]}" -eq 0 ]; then
  echo "hpc-submit: no GPU visible on $HOST; the notebook was not run" >&2
  finish failed 1 gpu-missing
fi

mkdir -p -- "$OUTPUT_DIR" || finish failed 1 output-dir-uncreatable "$OUTPUT_DIR"
rm -f -- "$JOB_DIR/reason.txt"

if [ -n "$SIGNAL" ]; then
  if [ "$SIGNAL" = USR1 ]; then finish timeout 1 time-limit; fi
  finish terminated 1 signal-before-start
fi

start_sampler

# Its own process group, so that a forwarded signal reaches nbconvert even
# behind a launcher such as pixi. Every value is attached to its option with
# "=" and the notebook comes after "--": a name that begins with a dash is
# then never read as an option. A copy with injected parameters comes on
# stdin: named, it would make nbconvert start the kernel in the job's folder.
set -m
if [ -n "$EXECUTE" ]; then
  "${LAUNCH[@]}" -m nbconvert --to notebook --execute \
    "--output=$OUTPUT_BASE" "--output-dir=$OUTPUT_DIR" \
    --ExecutePreprocessor.timeout=-1 "--ExecutePreprocessor.kernel_name=$KERNEL" \
    "--config=$NBCONVERT_CONFIG" --stdin < "$EXECUTE" &
else
  "${LAUNCH[@]}" -m nbconvert --to notebook --execute \
    "--output=$OUTPUT_BASE" "--output-dir=$OUTPUT_DIR" \
    --ExecutePreprocessor.timeout=-1 "--ExecutePreprocessor.kernel_name=$KERNEL" \
    "--config=$NBCONVERT_CONFIG" -- "$NOTEBOOK_ARG" < /dev/null &
fi
CHILD=$!
set +m
printf '%s\n' "$CHILD" > "$JOB_DIR/child.pid" 2> /dev/null
[ -n "$SIGNAL" ] && on_signal "$SIGNAL"

rc=0
while :; do
  wait "$CHILD"
  code=$?
  if [ -n "$PENDING" ] && [ "$code" -gt 128 ]; then
    # wait was interrupted by a trapped signal: the child is still finishing.
    PENDING=''
    rc=$code
    continue
  fi
  [ "$code" = 127 ] && [ "$rc" -gt 128 ] || rc=$code
  break
done
# A launcher may exit before the nbconvert it started has saved its notebook.
for _ in $(seq 1 150); do
  kill -0 -- "-$CHILD" 2> /dev/null || break
  sleep 0.2
done

[ -s "$JOB_DIR/reason.txt" ] && REASON=$(head -c 1000 -- "$JOB_DIR/reason.txt")

if [ "$SIGNAL" = USR1 ]; then
  finish timeout "$rc" time-limit
elif [ -n "$SIGNAL" ]; then
  finish terminated "$rc" signal
elif [ "$rc" = 0 ]; then
  finish completed 0
elif [ -n "$REASON" ]; then
  finish failed "$rc" notebook-failed
elif [ "$rc" = 127 ] || [ "$rc" = 126 ]; then
  finish failed "$rc" launcher-unrunnable "${LAUNCH[0]}"
else
  finish failed "$rc" nbconvert-exit
fi
