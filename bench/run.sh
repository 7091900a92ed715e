#!/usr/bin/env bash
# Measures the companion on a real single-node Slurm and writes docs/PERFORMANCE.md.
#   bench/run.sh            (as root: starts the Slurm cluster, runs jobs as hpcuser)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --tests
export PATH="$PWD/.venv/bin:$PATH"
[ "$(id -u)" = 0 ] || { echo "bench/run.sh needs root (it starts Slurm and runs jobs as hpcuser)" >&2; exit 1; }
scripts/slurm-cluster.sh up
exec node --import tsx bench/bench.ts "$@"
