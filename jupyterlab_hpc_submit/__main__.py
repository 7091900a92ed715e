"""``python -m jupyterlab_hpc_submit …``: the ``hpc-submit`` CLI, for terminal
and VS Code users where the package is installed (same commands as
``npx hpc-submit``: serve, run, list, status, logs, cancel, doctor)."""

import os
import subprocess
import sys

from .proxy import COMPANION, jupyter_config_path, node_executable


def main() -> int:
    if not COMPANION.is_file():
        print(f"hpc-submit: the companion bundle {COMPANION} is missing.", file=sys.stderr)
        return 1
    cmd = [node_executable(), str(COMPANION), *sys.argv[1:]]
    # Parameters are injected with papermill, a dependency of this package.
    os.environ.setdefault("HPC_SUBMIT_PYTHON", sys.executable)
    # Where the site's and the user's profiles files are (doctor names each).
    os.environ.setdefault("HPC_SUBMIT_CONFIG_PATH", jupyter_config_path())
    if os.name == "posix":
        # Become the companion, so signals (Ctrl-C, kill) reach it directly.
        os.execv(cmd[0], cmd)
    return subprocess.call(cmd)


if __name__ == "__main__":
    sys.exit(main())
