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
