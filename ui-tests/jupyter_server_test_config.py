"""Jupyter server configuration for the UI tests only: no token, no password.
Never use it for a real server. start-jupyter.sh gives the port and root dir."""

import os
from pathlib import Path

import jupyterlab

work = Path(os.environ.get("HPC_SUBMIT_UI_DIR", "/tmp/hpc-submit-ui-tests"))

# What jupyterlab.galata.configure_jupyter_server sets, minus its temporary
# directories outside ours and minus turning XSRF checks off: the extension's
# requests must pass them, as in a real deployment.
c.ServerApp.ip = "127.0.0.1"  # noqa: F821 (c is the config, given by Jupyter)
c.ServerApp.open_browser = False  # noqa: F821
c.ServerApp.port_retries = 0  # noqa: F821
c.IdentityProvider.token = ""  # noqa: F821
c.ServerApp.password = ""  # noqa: F821
c.ServerApp.allow_root = True  # noqa: F821  (CI containers run as root)
c.LabApp.expose_app_in_browser = True  # noqa: F821
# Galata's in-browser helpers ship with JupyterLab as a labextension.
c.LabServerApp.extra_labextensions_path = str(Path(jupyterlab.__file__).parent / "galata")  # noqa: F821
c.LabApp.workspaces_dir = str(work / "workspaces")  # noqa: F821
c.ServerApp.terminado_settings = {"shell_command": ["/bin/bash", "--norc"]}  # noqa: F821
# No update or news requests to the network.
c.LabApp.news_url = None  # noqa: F821
c.LabApp.check_for_updates_class = "jupyterlab.NeverCheckForUpdate"  # noqa: F821
