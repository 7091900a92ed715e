/**
 * Renders job.sh: the one script both executors run (bash under Slurm's batch
 * step, or a detached child locally). The job tells its own story through
 * status.json in its job directory (see jobStatus.ts for the schema), because
 * a site's accounting may be off and the scheduler forgets ended jobs.
 *
 * Every value from the outside goes through shellQuote and is assigned once
 * at the top; the body below only ever expands those variables in double
 * quotes, so a file name can never become code.
 */
import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import { shellQuote } from './shellQuote';

export interface JobScriptInput {
  jobId: string;
  jobDir: string;
  /** Absolute path of the source notebook: what the run is of. */
  notebookPath: string;
  /**
   * Absolute path of the file nbconvert executes, when it is not the source:
   * the copy with the run's parameters injected. It is read from stdin, so
   * that the kernel still starts in `cwd` (nbconvert starts it in the folder
   * of a notebook named on its command line).
   */
  executePath?: string;
  /** Absolute: <notebook dir>/executed by default. */
  outputDir: string;
  /** File name only: <stem>_executed.ipynb. */
  outputName: string;
  cwd: string;
  launcher: string[];
  python: string;
  kernel: string;
  requireGpu: boolean;
  /** Absolute path to the runtime nbconvert_config.py. */
  nbconvertConfigPath: string;
  /** Absolute path to the runtime sampler.py; default: the one shipped with the companion. */
  samplerPath?: string;
}

/** "a b.ipynb" -> "a b_executed.ipynb" */
export function outputNameFor(notebookFileName: string): string {
  const name = basename(notebookFileName);
  const stem = name.toLowerCase().endsWith('.ipynb') ? name.slice(0, -'.ipynb'.length) : name;
  return `${stem}_executed.ipynb`;
}

/**
 * A file shipped with the companion: beside the bundle (hpc-submit.cjs and its
 * copies made by scripts/build-companion.mjs), or in the source tree when run
 * with tsx (this folder, schema/).
 */
export function runtimeFile(
  name: 'nbconvert_config.py' | 'sampler.py' | 'parameterize.py' | 'profiles.schema.json'
): string {
  const candidates = [join(__dirname, name), join(__dirname, '..', '..', 'schema', name)];
  for (const candidate of candidates) {
    if (existsSync(candidate)) {
      return candidate;
    }
  }
  throw new Error(
    `the companion's runtime file ${name} is missing (looked in ${candidates.join(', ')})`
  );
}

/**
 * nbconvert treats each notebook argument as a glob pattern; a name such as
 * "run[1].ipynb" would not match itself, and "a*.ipynb" would run its
 * neighbours too. Bracketing the magic characters, as Python's glob.escape
 * does, makes the pattern match exactly the one file. nbconvert also runs
 * the pattern + ".ipynb", which escaping cannot stop: resolveNotebook refuses
 * a notebook with such a sibling.
 */
export function globEscape(path: string): string {
  return path.replace(/[[*?]/g, c => `[${c}]`);
}

/**
 * The value of nbconvert's --output for an output file name. nbconvert runs
 * it through str.format (so braces are doubled) and traitlets through
 * expanduser (so a leading "~" is kept from it by "./", which nbconvert's
 * writer joins away).
 */
export function nbconvertOutputBase(outputName: string): string {
  return `./${outputName.replace(/[{}]/g, c => c + c)}`;
}

export function renderJobScript(input: JobScriptInput): string {
  const q = shellQuote;
  const launch = [...input.launcher, input.python || 'python'].map(q).join(' ');
  return `#!/bin/bash
# Job script of jupyterlab-hpc-submit, job ${q(input.jobId).replace(/\n/g, ' ')}.
# Runs the notebook with nbconvert and records the job's own account of its
# start and end in status.json (the scheduler forgets ended jobs; accounting
# may be off). Values are quoted once here and only expanded in quotes below.
set -u

JOB_ID=${q(input.jobId)}
JOB_DIR=${q(input.jobDir)}
NOTEBOOK=${q(input.notebookPath)}
NOTEBOOK_ARG=${q(globEscape(input.notebookPath))}
EXECUTE=${q(input.executePath ?? '')}
OUTPUT_DIR=${q(input.outputDir)}
OUTPUT_NAME=${q(input.outputName)}
OUTPUT_BASE=${q(nbconvertOutputBase(input.outputName))}
WORK_DIR=${q(input.cwd)}
KERNEL=${q(input.kernel)}
NBCONVERT_CONFIG=${q(input.nbconvertConfigPath)}
SAMPLER=${q(input.samplerPath ?? runtimeFile('sampler.py'))}
REQUIRE_GPU=${input.requireGpu ? 1 : 0}
LAUNCH=(${launch})

export HPC_SUBMIT_JOB_ID="$JOB_ID"
export HPC_SUBMIT_JOB_DIR="$JOB_DIR"
export HPC_SUBMIT_OUTPUT="$OUTPUT_DIR/$OUTPUT_NAME"

now() { date -u +%Y-%m-%dT%H:%M:%SZ; }

json_str() {
  local s=$1
  s=\${s//\\\\/\\\\\\\\}
  s=\${s//\\"/\\\\\\"}
  s=\${s//$'\\n'/\\\\n}
  s=\${s//$'\\r'/\\\\r}
  s=\${s//$'\\t'/\\\\t}
  s=\${s//[$'\\001'-$'\\037']/}
  printf '"%s"' "$s"
}

gpus_json() {
  local out='' g
  for g in "\${GPUS[@]+"\${GPUS[@]}"}"; do
    out+="\${out:+,}$(json_str "$g")"
  done
  printf '[%s]' "$out"
}

write_status() {
  local tmp="$JOB_DIR/.status.json.$$"
  { printf '%s\\n' "$1" > "$tmp" && mv -f -- "$tmp" "$JOB_DIR/status.json"; } ||
    echo "hpc-submit: cannot write $JOB_DIR/status.json" >&2
}

# finish OUTCOME EXIT_CODE [REASON] [SIGNAL]
finish() {
  trap '' USR1 TERM INT
  stop_sampler
  local json code=$2
  json="{\\"phase\\":\\"ended\\",\\"jobId\\":$(json_str "$JOB_ID"),\\"host\\":$(json_str "$HOST")"
  json+=",\\"gpus\\":$(gpus_json),\\"startedAt\\":\\"$STARTED_AT\\",\\"endedAt\\":\\"$(now)\\""
  json+=",\\"exitCode\\":$code,\\"outcome\\":\\"$1\\""
  [ -n "\${3:-}" ] && json+=",\\"reason\\":$(json_str "$3")"
  [ -n "\${4:-}" ] && json+=",\\"signal\\":\\"$4\\""
  write_status "$json}"
  echo "hpc-submit: job ended on $HOST: $1\${3:+ ($3)}, exit code $code" >&2
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
  local python=("\${LAUNCH[@]}")
  command -v python3 > /dev/null 2>&1 && python=(python3)
  "\${python[@]}" "$SAMPLER" "$$" "$JOB_DIR/usage.jsonl" < /dev/null &
  SAMPLER_PID=$!
}
stop_sampler() {
  [ -n "$SAMPLER_PID" ] && kill "$SAMPLER_PID" 2> /dev/null
  SAMPLER_PID=''
}

HOST=\${SLURMD_NODENAME:-$(hostname 2>/dev/null || uname -n)}
STARTED_AT=$(now)
# The executed notebook's run record starts when the job does.
export HPC_SUBMIT_STARTED_AT="$STARTED_AT"

# Visible GPUs: what the scheduler granted (CUDA_VISIBLE_DEVICES), else what
# the driver lists.
GPUS=()
if [ -n "\${CUDA_VISIBLE_DEVICES:-}" ] && [ "$CUDA_VISIBLE_DEVICES" != NoDevFiles ]; then
  IFS=, read -r -a GPUS <<< "$CUDA_VISIBLE_DEVICES"
elif command -v nvidia-smi > /dev/null 2>&1; then
  while IFS= read -r line; do
    case $line in GPU\\ *) GPUS+=("$line") ;; esac
  done < <(nvidia-smi -L 2> /dev/null)
fi

SIGNAL=''
PENDING=''
CHILD=''
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

write_status "{\\"phase\\":\\"started\\",\\"jobId\\":$(json_str "$JOB_ID"),\\"host\\":$(json_str "$HOST"),\\"gpus\\":$(gpus_json),\\"startedAt\\":\\"$STARTED_AT\\",\\"pid\\":$$}"
echo "hpc-submit: job $JOB_ID started on $HOST at $STARTED_AT; GPUs: \${GPUS[*]+"\${GPUS[*]}"}" >&2

cd -- "$WORK_DIR" || finish failed 1 "cannot enter the notebook's directory $WORK_DIR on $HOST"

if [ "$REQUIRE_GPU" = 1 ] && [ "\${#GPUS[@]}" -eq 0 ]; then
  echo "hpc-submit: no GPU visible on $HOST; the notebook was not run" >&2
  finish failed 1 "no GPU visible on $HOST"
fi

mkdir -p -- "$OUTPUT_DIR" || finish failed 1 "cannot create the output directory $OUTPUT_DIR on $HOST"
rm -f -- "$JOB_DIR/reason.txt"

if [ -n "$SIGNAL" ]; then
  if [ "$SIGNAL" = USR1 ]; then finish timeout 1 "time limit reached"; fi
  finish terminated 1 "stopped by signal $SIGNAL before the notebook started" "$SIGNAL"
fi

start_sampler

# Its own process group, so that a forwarded signal reaches nbconvert even
# behind a launcher such as pixi. Every value is attached to its option with
# "=" and the notebook comes after "--": a name that begins with a dash is
# then never read as an option. A copy with injected parameters comes on
# stdin: named, it would make nbconvert start the kernel in the job's folder.
set -m
if [ -n "$EXECUTE" ]; then
  "\${LAUNCH[@]}" -m nbconvert --to notebook --execute \\
    "--output=$OUTPUT_BASE" "--output-dir=$OUTPUT_DIR" \\
    --ExecutePreprocessor.timeout=-1 "--ExecutePreprocessor.kernel_name=$KERNEL" \\
    "--config=$NBCONVERT_CONFIG" --stdin < "$EXECUTE" &
else
  "\${LAUNCH[@]}" -m nbconvert --to notebook --execute \\
    "--output=$OUTPUT_BASE" "--output-dir=$OUTPUT_DIR" \\
    --ExecutePreprocessor.timeout=-1 "--ExecutePreprocessor.kernel_name=$KERNEL" \\
    "--config=$NBCONVERT_CONFIG" -- "$NOTEBOOK_ARG" < /dev/null &
fi
CHILD=$!
set +m
printf '%s\\n' "$CHILD" > "$JOB_DIR/child.pid" 2> /dev/null
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

REASON=''
[ -s "$JOB_DIR/reason.txt" ] && REASON=$(head -c 1000 -- "$JOB_DIR/reason.txt")

if [ "$SIGNAL" = USR1 ]; then
  finish timeout "$rc" "time limit reached"
elif [ -n "$SIGNAL" ]; then
  finish terminated "$rc" "stopped by signal $SIGNAL" "$SIGNAL"
elif [ "$rc" = 0 ]; then
  finish completed 0
elif [ "$rc" = 127 ] || [ "$rc" = 126 ]; then
  finish failed "$rc" "\${REASON:-cannot run \${LAUNCH[0]} on $HOST (exit code $rc): is the environment installed there?}"
else
  finish failed "$rc" "\${REASON:-nbconvert exited with code $rc}"
fi
`;
}
