#!/usr/bin/env bash
# Sets up everything the project needs, idempotently: safe to run again, and
# a second run installs nothing that is already there.
#   scripts/setup.sh            node packages, .venv, build, `pip install .`
#   scripts/setup.sh --tests    also Debian's chromium, slurm-wlm, munge, slurmdbd
#                               and mariadb-server
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
WANT_TEST_TOOLS=0
[ "${1:-}" = "--tests" ] && WANT_TEST_TOOLS=1
STAMPS=.cache/stamps
mkdir -p "$STAMPS"
say() { printf '[setup] %s\n' "$*"; }
# Files that are listed but gone (a move not yet committed) count as absent.
hash_of() { for f in "$@"; do [ -f "$f" ] && cat "$f"; done | sha256sum | cut -c1-16; }
fresh() { [ -f "$STAMPS/$1" ] && [ "$(cat "$STAMPS/$1")" = "$2" ]; }

# --- Debian packages (tests only; needs root) -------------------------------
if [ "$WANT_TEST_TOOLS" = 1 ]; then
  missing=()
  command -v chromium >/dev/null || missing+=(chromium)
  command -v slurmctld >/dev/null || missing+=(slurm-wlm)
  command -v munged >/dev/null 2>&1 || [ -x /usr/sbin/munged ] || missing+=(munge)
  # Slurm's accounting (sacct) in the test cluster: slurmdbd over MariaDB.
  [ -x /usr/sbin/slurmdbd ] || missing+=(slurmdbd)
  [ -x /usr/sbin/mariadbd ] || missing+=(mariadb-server)
  if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      say "installing ${missing[*]} from Debian"
      apt-get update -qq
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    else
      say "missing ${missing[*]} (install them as root); the tests that need them will be skipped"
    fi
  fi
  # Debian's slurm-client has no scrontab: the schedules' tests build it (about 25 s, once).
  scripts/build-scrontab.sh || say "scrontab could not be built; the schedules' Slurm test will be skipped"
fi

# --- node ------------------------------------------------------------------
command -v node >/dev/null || { echo "node >= 20 is needed on PATH" >&2; exit 1; }
node -e 'process.exit(+process.versions.node.split(".")[0] >= 20 ? 0 : 1)' \
  || { echo "node >= 20 is needed (found $(node --version))" >&2; exit 1; }
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
h=$(hash_of package.json package-lock.json)
if ! fresh npm "$h" || [ ! -d node_modules ]; then
  say "npm ci"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$h" > "$STAMPS/npm"
fi

# --- python environment ----------------------------------------------------
# The system's python when there is one: the job of a test user (Slurm, the
# multi-user hub) must be able to run this environment, and a python under
# root's home (pyenv) is not readable by anyone else.
if [ -z "${PYTHON:-}" ] && [ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import ensurepip' 2>/dev/null; then
  PY=/usr/bin/python3
else
  PY=${PYTHON:-python3}
fi
if ! fresh venv-python "$PY" || [ ! -x .venv/bin/python ]; then
  say "creating .venv with $PY"
  rm -rf .venv "$STAMPS/venv"
  "$PY" -m venv .venv
  echo "$PY" > "$STAMPS/venv-python"
fi
h=$(hash_of requirements-dev.txt)
if ! fresh venv "$h"; then
  say "installing requirements-dev.txt into .venv"
  .venv/bin/pip install -q --disable-pip-version-check -r requirements-dev.txt
  echo "$h" > "$STAMPS/venv"
fi
export PATH="$ROOT/.venv/bin:$PATH"

# --- build and install the package as a user would -------------------------
h=$(hash_of package.json tsconfig.json pyproject.toml install.json scripts/build-companion.mjs \
      $(git ls-files -co --exclude-standard src server style schema jupyterlab_hpc_submit | sort))
if ! fresh build "$h" || [ ! -f jupyterlab_hpc_submit/companion/hpc-submit.cjs ]; then
  say "building the labextension and the companion"
  rm -rf lib tsconfig.tsbuildinfo jupyterlab_hpc_submit/labextension
  npm run --silent build:prod
  say "pip install . (into .venv)"
  .venv/bin/pip install -q --disable-pip-version-check --no-build-isolation --force-reinstall --no-deps .
  echo "$h" > "$STAMPS/build"
fi
say "ready"
