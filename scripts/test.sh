#!/usr/bin/env bash
# Sets up (idempotently) and runs every test: type checks, unit tests,
# integration tests (real nbconvert, real companion, real Slurm when root),
# and the Galata UI tests (real JupyterLab in Debian's Chromium).
#   scripts/test.sh [unit|integration|ui]...   (default: all)
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
scripts/setup.sh --tests || exit 1
export PATH="$ROOT/.venv/bin:$PATH"
export HPC_SUBMIT_TEST_PYTHON="$ROOT/.venv/bin/python"
LOGS=.cache/test-logs
mkdir -p "$LOGS"
stages=("$@")
[ ${#stages[@]} -eq 0 ] && stages=(typecheck unit integration ui)
passed=0 failed=0 skipped=0 status=0

count() { # file regex -> sum of the first number on matching lines
  grep -aE "$2" "$1" | grep -oE '[0-9]+' | head -1 || true
}
node_counts() {
  local p f s
  p=$(grep -aE '^ℹ pass [0-9]+' "$1" | tail -1 | grep -oE '[0-9]+')
  f=$(grep -aE '^ℹ fail [0-9]+' "$1" | tail -1 | grep -oE '[0-9]+')
  s=$(grep -aE '^ℹ skipped [0-9]+' "$1" | tail -1 | grep -oE '[0-9]+')
  passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0})); skipped=$((skipped + ${s:-0}))
}
pw_counts() {
  local p f s
  p=$(grep -aE '^\s+[0-9]+ passed' "$1" | tail -1 | grep -oE '[0-9]+' | head -1)
  f=$(grep -aE '^\s+[0-9]+ failed' "$1" | tail -1 | grep -oE '[0-9]+' | head -1)
  s=$(grep -aE '^\s+[0-9]+ skipped' "$1" | tail -1 | grep -oE '[0-9]+' | head -1)
  passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0})); skipped=$((skipped + ${s:-0}))
}
run_stage() { # name log cmd...
  local name=$1 log=$2; shift 2
  echo "=== $name"
  "$@" 2>&1 | tee "$log"
  local rc=${PIPESTATUS[0]}
  [ "$rc" = 0 ] || { echo "=== $name FAILED (exit $rc)"; status=1; }
  return 0
}

for stage in "${stages[@]}"; do
  case $stage in
    typecheck)
      run_stage typecheck "$LOGS/typecheck.log" npm run --silent typecheck ;;
    unit)
      run_stage unit "$LOGS/unit.log" node --import tsx --test --test-reporter=spec \
        test/unit/*.test.ts
      node_counts "$LOGS/unit.log" ;;
    integration)
      if [ "$(id -u)" = 0 ]; then
        scripts/slurm-cluster.sh up || { echo "=== slurm cluster failed to start"; status=1; }
      else
        echo "=== not root: the real-Slurm tests will be skipped"
      fi
      run_stage integration "$LOGS/integration.log" node --import tsx --test \
        --test-concurrency=1 --test-reporter=spec test/integration/*.test.ts
      node_counts "$LOGS/integration.log" ;;
    ui)
      # As root with the cluster up, the UI runs against real Slurm, GPU profile included.
      if [ "$(id -u)" = 0 ] && sinfo -h >/dev/null 2>&1; then export HPC_SUBMIT_TEST_SLURM=1; fi
      run_stage ui "$LOGS/ui.log" npx playwright test -c ui-tests/playwright.config.ts \
        --reporter=list
      pw_counts "$LOGS/ui.log" ;;
    *) echo "unknown stage $stage (typecheck|unit|integration|ui)"; exit 2 ;;
  esac
done
echo
echo "tests: $passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ] || status=1
exit $status
