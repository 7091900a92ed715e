"""Run a notebook on a cluster's GPU node from JupyterLab.

The Python side holds no logic of its own: it tells JupyterLab where the
prebuilt labextension is, and tells jupyter-server-proxy how to start the
bundled Node companion (see ``proxy.py``).
"""

try:
    # Written by every build from package.json's version (pyproject.toml).
    from ._version import __version__
except ImportError:  # a checkout that was never built
    __version__ = "dev"


def _jupyter_labextension_paths():
    return [{"src": "labextension", "dest": "jupyterlab-hpc-submit"}]
