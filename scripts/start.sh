#!/usr/bin/env bash
# Sets up (idempotently) and starts JupyterLab with the extension and its
# companion, on a demo workspace with a sample notebook. The companion uses
# Slurm when `sbatch` is on PATH, else the embedded local executor.
#   scripts/start.sh [--port N] [extra jupyter lab args]
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
scripts/setup.sh
export PATH="$ROOT/.venv/bin:$PATH"

DEMO=${HPC_SUBMIT_DEMO_DIR:-$ROOT/.demo}
mkdir -p "$DEMO"
# Copy the samples once; never overwrite what the user changed.
cp -rn examples/notebooks/. "$DEMO/" 2>/dev/null || true

# Without pixi, the demo's "environments" are this virtual environment, and
# each profile's kernel is installed into it once.
if ! command -v pixi >/dev/null && [ -z "${HPC_SUBMIT_PROFILES:-}" ]; then
  export HPC_SUBMIT_PROFILES="$DEMO/.profiles.json"
  python - "$ROOT/.venv/bin/python" "$HPC_SUBMIT_PROFILES" <<'PY'
import json, sys
python, out = sys.argv[1], sys.argv[2]
profiles = {"profiles": [
  {"id": "gpu", "label": "GPU node", "kernel": "hpc-demo-gpu", "launcher": [], "python": python,
   "resources": {"partition": "gpu", "gpus": 1, "cpus": 1, "memory": "2G", "time": "00:30:00"},
   "requireGpu": True},
  {"id": "cpu", "label": "CPU node", "kernel": "hpc-demo-cpu", "launcher": [], "python": python,
   "resources": {"partition": "cpu", "cpus": 1, "memory": "1G", "time": "00:30:00"}},
]}
json.dump(profiles, open(out, "w"), indent=2)
PY
  for k in hpc-demo-cpu hpc-demo-gpu; do
    [ -d "$ROOT/.venv/share/jupyter/kernels/$k" ] || \
      python -m ipykernel install --sys-prefix --name "$k" --display-name "Python ($k)" >/dev/null
  done
fi
export HPC_SUBMIT_EXECUTOR=${HPC_SUBMIT_EXECUTOR:-auto}
echo "[start] JupyterLab on $DEMO (executor: $HPC_SUBMIT_EXECUTOR)"
# JupyterLab refuses root without --allow-root; a fresh test machine is often root.
[ "$(id -u)" = 0 ] && set -- --allow-root "$@"
exec jupyter lab --no-browser --ServerApp.root_dir="$DEMO" --ServerApp.ip=127.0.0.1 "$@"
