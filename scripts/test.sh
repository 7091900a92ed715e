#!/usr/bin/env bash
# Sets up (idempotently) and runs every check: lint, type checks, unit tests,
# integration tests (real nbconvert, real companion, real Slurm when root),
# and the Galata UI tests (real JupyterLab in Debian's Chromium).
#   scripts/test.sh [lint|typecheck|unit|integration|ui|ui-oldest|ui-newest]...
#   (default: all). ui runs on the build's JupyterLab (.venv); ui-oldest and
#   ui-newest run the same suite on the oldest JupyterLab 4 release the
#   extension declares and the newest both registries have (scripts/ui-matrix.sh).
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
scripts/setup.sh --tests || exit 1
export PATH="$ROOT/.venv/bin:$PATH"
export HPC_SUBMIT_TEST_PYTHON="$ROOT/.venv/bin/python"
LOGS=.cache/test-logs
mkdir -p "$LOGS"
stages=("$@")
[ ${#stages[@]} -eq 0 ] && stages=(lint typecheck unit integration ui ui-oldest ui-newest)
OLDEST_LAB=4.2.2 NEWEST_LAB=4.6.4
passed=0 failed=0 skipped=0 status=0 stage_logs=()

# --ci: no snapshot is written; --verbose: every test is named in the log.
JEST_FLAGS=(--ci --verbose)

count_of() { # summary word -> the number before word, 0 when absent
  local n
  n=$(grep -oE "[0-9]+ $2" <<<"$1" | tail -1)
  echo "${n%% *}" | grep -E '^[0-9]+$' || echo 0
}
add_counts() { # summary: add its passed, failed and skipped
  passed=$((passed + $(count_of "$1" passed)))
  failed=$((failed + $(count_of "$1" failed)))
  skipped=$((skipped + $(count_of "$1" skipped)))
}
plain() { sed 's/\x1b\[[0-9;]*m//g' "$1"; } # log without colours
jest_counts() { # jest's "Tests:  1 failed, 2 skipped, 50 passed, 53 total"
  add_counts "$(plain "$1" | grep -aE '^Tests: ' | tail -1)"
}
pw_counts() { # Playwright's "  3 passed (1.2m)", "  1 failed", ... one a line
  add_counts "$(plain "$1" | grep -aE '^\s+[0-9]+ (passed|failed|skipped)')"
}
run_stage() { # name log cmd...
  local name=$1 log=$2; shift 2
  echo "=== $name"
  stage_logs+=("$log")
  "$@" 2>&1 | tee "$log"
  local rc=${PIPESTATUS[0]}
  [ "$rc" = 0 ] || { echo "=== $name FAILED (exit $rc)"; status=1; }
  return 0
}

for stage in "${stages[@]}"; do
  case $stage in
    lint)
      run_stage lint "$LOGS/lint.log" npm run --silent lint:check ;;
    typecheck)
      run_stage typecheck "$LOGS/typecheck.log" npm run --silent typecheck ;;
    unit)
      run_stage unit "$LOGS/unit.log" npm run --silent test:unit -- "${JEST_FLAGS[@]}"
      jest_counts "$LOGS/unit.log" ;;
    integration)
      if [ "$(id -u)" = 0 ]; then
        scripts/slurm-cluster.sh up || { echo "=== slurm cluster failed to start"; status=1; }
      else
        echo "=== not root: the real-Slurm tests will be skipped"
      fi
      run_stage integration "$LOGS/integration.log" npm run --silent test:integration -- \
        "${JEST_FLAGS[@]}"
      jest_counts "$LOGS/integration.log" ;;
    ui)
      # As root with the cluster up, the UI runs against real Slurm, GPU profile included.
      if [ "$(id -u)" = 0 ] && sinfo -h >/dev/null 2>&1; then export HPC_SUBMIT_TEST_SLURM=1; fi
      run_stage ui "$LOGS/ui.log" npx playwright test -c ui-tests/playwright.config.ts \
        --reporter=list
      pw_counts "$LOGS/ui.log" ;;
    ui-oldest|ui-newest)
      version=$OLDEST_LAB; [ "$stage" = ui-newest ] && version=$NEWEST_LAB
      run_stage "ui on JupyterLab $version" "$LOGS/$stage.log" scripts/ui-matrix.sh "$version"
      pw_counts "$LOGS/$stage.log" ;;
    *) echo "unknown stage $stage (lint|typecheck|unit|integration|ui|ui-oldest|ui-newest)"; exit 2 ;;
  esac
done
echo
# The failures again at the end, so that the tail of a long log names them.
for log in "${stage_logs[@]}"; do
  plain "$log" | grep -aE '^\s+(✕|✘) ' | sed "s|^|$(basename "$log" .log): |"
done
echo "tests: $passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ] || status=1
exit $status
