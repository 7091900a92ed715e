#!/usr/bin/env bash
# Runs the Galata UI suite against another JupyterLab 4 release, with this
# package installed into it as a hub installs it (its wheel, next to
# `jupyterlab==VERSION`), driven by the Galata release made for that JupyterLab.
#   scripts/ui-matrix.sh VERSION [playwright test args...]   e.g. 4.2.4, 4.6.4
# Galata 5.N.P goes with JupyterLab 4.N.P; GALATA_VERSION names another one when
# the npm registry lacks that patch. Both are set up once, under .cache/ui-matrix/;
# later runs install nothing unless the package or the version changed.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
VERSION=${1:?usage: scripts/ui-matrix.sh JUPYTERLAB_VERSION [playwright args...]}
shift
[[ $VERSION =~ ^4\.([0-9]+)\.([0-9]+)$ ]] \
  || { echo "not a JupyterLab 4 release: $VERSION (e.g. 4.2.4)" >&2; exit 2; }
GALATA=${GALATA_VERSION:-5.${BASH_REMATCH[1]}.${BASH_REMATCH[2]}}
CACHE=$ROOT/.cache/ui-matrix
VENV=$CACHE/lab-$VERSION
NODE=$CACHE/galata-$GALATA
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
say() { printf '[ui-matrix %s] %s\n' "$VERSION" "$*"; }
# A stamp file holds what its step was last done for.
fresh() { [ -f "$1" ] && [ "$(cat "$1")" = "$2" ]; }

# --- the wheel, built from what scripts/setup.sh built ----------------------
scripts/setup.sh
export PATH="$ROOT/.venv/bin:$PATH"
# The version file is written by every build, so it is left out of the hash.
WHEEL_HASH=$(find jupyterlab_hpc_submit -type f ! -name _version.py ! -name '*.pyc' \
  | sort | xargs cat pyproject.toml install.json package.json | sha256sum | cut -c1-16)
WHEEL_DIR=$CACHE/wheel-$WHEEL_HASH
if ! ls "$WHEEL_DIR"/*.whl >/dev/null 2>&1; then
  say "building the wheel"
  rm -rf "$CACHE"/wheel-*
  # The labextension and companion exist, so the wheel packs them as they are.
  .venv/bin/pip wheel -q --disable-pip-version-check --no-build-isolation --no-deps \
    -w "$WHEEL_DIR" .
fi
WHEEL=$(ls "$WHEEL_DIR"/*.whl)

# --- JupyterLab VERSION with the package, as a user installs them ------------
DEPS="jupyterlab==$VERSION nbconvert>=7.16,<8 ipykernel>=6.29,<8"
if ! fresh "$VENV/.deps" "$DEPS"; then
  say "creating a venv with $DEPS and the wheel"
  rm -rf "$VENV"
  .venv/bin/python -m venv "$VENV"
  # shellcheck disable=SC2086 # DEPS is a list of requirements
  "$VENV/bin/pip" install -q --disable-pip-version-check $DEPS "$WHEEL"
  echo "$DEPS" >"$VENV/.deps"
  echo "$WHEEL_HASH" >"$VENV/.wheel"
elif ! fresh "$VENV/.wheel" "$WHEEL_HASH"; then
  say "reinstalling the wheel"
  "$VENV/bin/pip" install -q --disable-pip-version-check --no-deps --force-reinstall "$WHEEL"
  # and whatever the package now depends on that the venv lacks (papermill came so).
  "$VENV/bin/pip" install -q --disable-pip-version-check "$WHEEL"
  echo "$WHEEL_HASH" >"$VENV/.wheel"
fi
say "$("$VENV/bin/jupyter" labextension list 2>&1 | grep 'jupyterlab-hpc-submit' | sed 's/^ *//')"

# --- Galata GALATA and its Playwright ---------------------------------------
if ! fresh "$NODE/.galata" "$GALATA"; then
  say "installing @jupyterlab/galata@$GALATA"
  rm -rf "$NODE"
  mkdir -p "$NODE"
  npm install --prefix "$NODE" --no-audit --no-fund --loglevel=error "@jupyterlab/galata@$GALATA"
  echo "$GALATA" >"$NODE/.galata"
fi

# --- the suite ---------------------------------------------------------------
# A copy of ui-tests/ beside that node_modules, so that the specs and the
# config import this Galata and its Playwright, not the checkout's.
rm -rf "$NODE/ui-tests"
mkdir -p "$NODE/ui-tests"
cp -r ui-tests/playwright.config.ts ui-tests/tsconfig.json ui-tests/tests ui-tests/notebooks \
  "$NODE/ui-tests/"
# The executor does not depend on JupyterLab: the default suite covers Slurm.
unset HPC_SUBMIT_TEST_SLURM
export HPC_SUBMIT_REPO_ROOT=$ROOT HPC_SUBMIT_VENV=$VENV
export HPC_SUBMIT_UI_DIR=${TMPDIR:-/tmp}/hpc-submit-ui-tests-$VERSION
export HPC_SUBMIT_UI_PORT=${HPC_SUBMIT_UI_PORT:-8932}
say "JupyterLab $("$VENV/bin/jupyter" lab --version), Galata $GALATA," \
  "Playwright $(node -p "require('$NODE/node_modules/@playwright/test/package.json').version")"
exec "$NODE/node_modules/.bin/playwright" test -c "$NODE/ui-tests/playwright.config.ts" \
  --reporter=list "$@"
