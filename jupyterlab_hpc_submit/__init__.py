"""Run a notebook on a cluster's GPU node from JupyterLab.

The Python side holds no logic of its own: it tells JupyterLab where the
prebuilt labextension is, and tells jupyter-server-proxy how to start the
bundled Node companion (see ``proxy.py``).
"""

__version__ = "0.1.0"


def _jupyter_labextension_paths():
    return [{"src": "labextension", "dest": "jupyterlab-hpc-submit"}]
