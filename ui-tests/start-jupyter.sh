#!/usr/bin/env bash
# Starts the one JupyterLab that all UI tests share (playwright.config.ts runs
# this as its webServer): the extension as `pip install .` put it into .venv
# (or HPC_SUBMIT_VENV: scripts/ui-matrix.sh's venv of another JupyterLab), the
# companion behind jupyter-server-proxy, a fresh temporary root dir with the
# sample notebook, test profiles whose "environment" is that venv, and the
# local executor (the slurm one with HPC_SUBMIT_TEST_SLURM=1).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
VENV=${HPC_SUBMIT_VENV:-$ROOT/.venv}
PY=$VENV/bin/python
WORK=${HPC_SUBMIT_UI_DIR:-${TMPDIR:-/tmp}/hpc-submit-ui-tests}
PORT=${HPC_SUBMIT_UI_PORT:-8931}
export HPC_SUBMIT_UI_DIR=$WORK

[ -x "$PY" ] || { echo "no $PY: run scripts/setup.sh first" >&2; exit 1; }
"$VENV/bin/jupyter" labextension list 2>&1 | grep -q 'jupyterlab-hpc-submit.*enabled.*OK' || {
  echo "jupyterlab-hpc-submit is not installed in $VENV: run scripts/setup.sh" >&2; exit 1; }

# Every run starts from nothing: no jobs, kernels or files of a previous run.
# Only ever remove a directory that this script made.
if [ -e "$WORK" ]; then
  [ -f "$WORK/.hpc-submit-ui-tests" ] || { echo "$WORK exists and is not ours" >&2; exit 1; }
  rm -rf "$WORK"
fi
mkdir -p "$WORK"/{root,data,config,runtime,state,workspaces}
touch "$WORK/.hpc-submit-ui-tests"
cp -r "$ROOT/examples/notebooks/." "$WORK/root/"

export PATH="$VENV/bin:$PATH"
# Isolated from the user's own Jupyter: config, kernels (`--user` installs land
# in JUPYTER_DATA_DIR), runtime files. The venv's share/ still provides the
# labextensions and the python3 kernel.
export JUPYTER_CONFIG_DIR=$WORK/config JUPYTER_DATA_DIR=$WORK/data JUPYTER_RUNTIME_DIR=$WORK/runtime
export HPC_SUBMIT_STATE_DIR=$WORK/state
export HPC_SUBMIT_PROFILES=$WORK/profiles.json
if [ "${HPC_SUBMIT_TEST_SLURM:-}" = 1 ]; then
  export HPC_SUBMIT_EXECUTOR=slurm
else
  export HPC_SUBMIT_EXECUTOR=local
fi

# TEST DOUBLE for NVIDIA's nvidia-smi: these machines have no GPU driver. It
# lists two GPUs (`-L`, so the gpu profile's "no GPU visible" guard passes
# under the local executor) and answers `--query-gpu=...` (once, or every
# `-lms`/`-l` period as the job's sampler asks) with fixed figures: utilization
# from $HPC_SUBMIT_TEST_GPU_UTIL_FILE (87 unless a test wrote another number
# there, read at every answer), 12390 of 81920 MiB used. Only the ui-tests'
# server has it on its PATH.
mkdir -p "$WORK/test-double-bin"
export HPC_SUBMIT_TEST_GPU_UTIL_FILE=$WORK/test-double-gpu-util
cat > "$WORK/test-double-bin/nvidia-smi" <<'SMIEOF'
#!/usr/bin/env bash
# Test double of nvidia-smi (ui-tests/start-jupyter.sh): fixed answers, no driver.
query='' format='csv' ids='' loop_ms=''
while [ $# -gt 0 ]; do
  case $1 in
    -L | --list-gpus) query=list ;;
    --query-gpu=*) query=${1#--query-gpu=} ;;
    --query-*) exit 0 ;; # compute apps and the like: none
    --format=*) format=${1#--format=} ;;
    -i | --id) ids=${2:-}; shift ;;
    --id=*) ids=${1#--id=} ;;
    -lms | --loop-ms) loop_ms=${2:-1000}; shift ;;
    --loop-ms=*) loop_ms=${1#--loop-ms=} ;;
    -l | --loop) loop_ms=$(( ${2:-5} * 1000 )); shift ;;
    --loop=*) loop_ms=$(( ${1#--loop=} * 1000 )) ;;
  esac
  shift
done
gpus=(0 1)
[ -n "$ids" ] && IFS=, read -r -a gpus <<< "$ids"
if [ "$query" = list ] || [ -z "$query" ]; then
  for i in "${gpus[@]}"; do echo "GPU $i: Test Double GPU (UUID: GPU-test-double-$i)"; done
  exit 0
fi
unit() { case ,$format, in *,nounits,*) ;; *) printf ' %s' "$1" ;; esac; }
IFS=, read -r -a fields <<< "$query"
answer() {
  local util=87 i f out
  if [ -n "${HPC_SUBMIT_TEST_GPU_UTIL_FILE:-}" ] && [ -r "$HPC_SUBMIT_TEST_GPU_UTIL_FILE" ]; then
    read -r util < "$HPC_SUBMIT_TEST_GPU_UTIL_FILE" || true
    case $util in '' | *[!0-9]*) util=87 ;; esac
  fi
  case ,$format, in *,noheader,*) ;; *) (IFS=,; echo "${fields[*]}") | sed 's/,/, /g' ;; esac
  for i in "${gpus[@]}"; do
    i=${i#GPU-test-double-}
    out=()
    for f in "${fields[@]}"; do
      case ${f// /} in
        index) out+=("$i") ;;
        uuid | gpu_uuid) out+=("GPU-test-double-$i") ;;
        name | gpu_name) out+=("Test Double GPU") ;;
        pci.bus_id) out+=("00000000:0$i:00.0") ;;
        utilization.gpu) out+=("$util$(unit %)") ;;
        utilization.memory) out+=("0$(unit %)") ;;
        memory.used) out+=("12390$(unit MiB)") ;;
        memory.total) out+=("81920$(unit MiB)") ;;
        memory.free) out+=("69530$(unit MiB)") ;;
        *) out+=("[N/A]") ;;
      esac
    done
    (IFS=,; echo "${out[*]}") | sed 's/,/, /g'
  done
}
answer || exit 0
# A reader that went away ends the loop (the write fails).
while [ -n "$loop_ms" ]; do
  sleep "$(printf '%d.%03d' $((loop_ms / 1000)) $((loop_ms % 1000)))"
  answer || exit 0
done
SMIEOF
chmod +x "$WORK/test-double-bin/nvidia-smi"
export PATH="$WORK/test-double-bin:$PATH"
# STAND-IN for pixi (test/fixtures/stand-in-pixi/pixi; pixi cannot be
# installed here): pixi-project.spec.ts's project is installed and run through
# it, each call recorded in $PIXI_STAND_IN_LOG.
export PATH="$ROOT/test/fixtures/stand-in-pixi:$PATH" PIXI_STAND_IN_LOG=$WORK/pixi-calls.jsonl

# Samples every 2 s and an idle-GPU warning after 15 s: usage.spec.ts sees
# both within a test's time (the defaults, 10 s and 5 min, are for people).
export HPC_SUBMIT_SAMPLE_SECONDS=2 HPC_SUBMIT_GPU_IDLE_MINUTES=0.25

# The profiles' kernels: hpc-test-cpu and hpc-test-gpu exist, hpc-test-fresh
# does not (the "kernel missing" test creates it through the sidebar).
for k in hpc-test-cpu hpc-test-gpu; do
  "$PY" -m ipykernel install --user --name "$k" --display-name "Python ($k)" >/dev/null
done
"$PY" - "$PY" "$HPC_SUBMIT_PROFILES" <<'PYEOF'
import json, sys
python, out = sys.argv[1], sys.argv[2]
def profile(id, label, kernel, resources, **extra):
    return {"id": id, "label": label, "kernel": kernel, "launcher": [], "python": python,
            "resources": resources, **extra}
json.dump({"profiles": [
    profile("gpu", "GPU node", "hpc-test-gpu",
            {"partition": "gpu", "gpus": 1, "cpus": 1, "memory": "500M", "time": "00:10:00"},
            requireGpu=True),
    profile("cpu", "CPU node", "hpc-test-cpu",
            {"partition": "cpu", "cpus": 1, "memory": "500M", "time": "00:10:00"}),
    profile("fresh", "Fresh env", "hpc-test-fresh",
            {"partition": "cpu", "cpus": 1, "memory": "500M", "time": "00:10:00"}),
]}, open(out, "w"), indent=2)
PYEOF

LOG=$WORK/jupyter.log
echo "[ui-tests] JupyterLab on port $PORT, root $WORK/root, executor $HPC_SUBMIT_EXECUTOR; log (server and companion): $LOG"
cd "$WORK/root"
exec "$VENV/bin/jupyter" lab --config "$HERE/jupyter_server_test_config.py" \
  --ServerApp.port="$PORT" --ServerApp.root_dir="$WORK/root" >>"$LOG" 2>&1
