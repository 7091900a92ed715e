#!/usr/bin/env bash
# Retakes the README's pictures (docs/*.png): the toolbar and the sidebar with
# a finished job, in JupyterLab's light and dark themes, from the JupyterLab
# in .venv and Debian's Chromium. No test run touches them; this does.
#   scripts/screenshots.sh [playwright test args...]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
command -v chromium >/dev/null || { echo "needs Debian's chromium: scripts/setup.sh --tests" >&2; exit 1; }
export PATH="$PWD/.venv/bin:$PATH" PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 HPC_SUBMIT_SCREENSHOTS=1
exec npx playwright test -c ui-tests/playwright.config.ts --reporter=list "$@"
