"""Papermill's parameters, for the companion (server/jobs/parameters.ts).

    python parameterize.py inspect   < {"notebook": PATH}
    python parameterize.py inject    < {"notebook": PATH, "language": L?,
                                        "runs": [{"parameters": {...}, "path": OUT}]}

One process per call: the request as JSON on stdin, one JSON line on stdout.
papermill reads the cell tagged `parameters` (inspect_notebook) and writes
the `injected-parameters` cell (parameterize_notebook): its translator
writes each value as a literal, so a value is data, never code. A failure
answers {"error": sentence, "input": true when the request is at fault}.
"""

import json
import keyword
import os
import sys
import tempfile
from types import SimpleNamespace


class InputError(Exception):
    """The request's fault: the companion answers it as a 400."""


def load_papermill():
    # jsonschema imports rfc3987_syntax, where installed, for a format check
    # nbformat never asks for; building its grammar is most of a second.
    sys.modules.setdefault("rfc3987_syntax", None)
    try:
        import nbformat
        import papermill
        from papermill import iorw, parameterize, utils
        from papermill.exceptions import PapermillException
    except ImportError:
        raise RuntimeError(
            f"parameters need papermill in {sys.executable}: "
            f"{sys.executable} -m pip install papermill"
        ) from None
    return SimpleNamespace(
        nbformat=nbformat,
        inspect_notebook=papermill.inspect_notebook,
        load_notebook_node=iorw.load_notebook_node,
        parameterize_notebook=parameterize.parameterize_notebook,
        any_tagged_cell=utils.any_tagged_cell,
        PapermillException=PapermillException,
    )


def read_notebook(pm, path):
    """As papermill reads it: upgraded to the latest v4, each cell with its tags list."""
    try:
        return pm.load_notebook_node(path)
    except OSError as error:
        raise InputError(f"cannot read the notebook {path}: {error.strerror or error}") from None
    except Exception as error:  # nbformat's reader raises several types
        raise InputError(f"{path} is not a readable notebook: {error}") from None


def inspect(request):
    pm = load_papermill()
    path = request["notebook"]
    if not pm.any_tagged_cell(read_notebook(pm, path), "parameters"):
        return {"hasParametersCell": False, "parameters": []}
    # inspect_notebook formats the path with str.format: braces must be doubled.
    try:
        found = pm.inspect_notebook(path.replace("{", "{{").replace("}", "}}"))
    except (ValueError, pm.PapermillException) as error:
        raise InputError(f"papermill cannot read the parameters of {path}: {error}") from None
    parameters = [
        {
            "name": p["name"],
            "inferredType": p["inferred_type_name"],
            "default": p["default"],
            "help": p["help"],
        }
        for p in found.values()
    ]
    return {"hasParametersCell": True, "parameters": parameters}


def check_names(parameters):
    # The injected cell assigns `name = value`: a name is code, a value is not.
    for name in parameters:
        if not name.isidentifier() or keyword.iskeyword(name):
            raise InputError(f"{json.dumps(name)} is not a valid parameter name")


def cleared(nb):
    """Without outputs: each copy runs afresh, and 1,000 copies of old outputs would fill a disk."""
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    return nb


def one_copy(pm, nb):
    """parameterize_notebook replaces nb.cells and writes nb.metadata.papermill: copy those only."""
    copy = pm.nbformat.NotebookNode(nb)
    copy.metadata = pm.nbformat.NotebookNode(nb.metadata)
    copy.metadata["papermill"] = pm.nbformat.NotebookNode(nb.metadata.papermill)
    copy.cells = list(nb.cells)
    return copy


def notebook_text(pm, nb, validate):
    """
    nbformat.writes deep-copies, validates and pretty-prints (in pure Python)
    each notebook: two thirds of the time for 1,000 copies. The copies differ
    only in the injected cell and metadata.papermill, so nbformat validates
    the first and all are written as compact nbformat JSON.
    """
    if validate:
        try:
            pm.nbformat.validate(nb)
        except pm.nbformat.ValidationError as error:
            raise InputError(f"the parameterized notebook is not valid: {error.message}") from None
    return json.dumps(nb, ensure_ascii=False, sort_keys=True) + "\n"


def write_private(path, text):
    """Atomically, mode 0600: a half-written notebook is never run."""
    folder = os.path.dirname(path) or "."
    fd, temp = tempfile.mkstemp(dir=folder, prefix=".parameterize-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(temp, path)
    except BaseException:
        os.unlink(temp)
        raise


def inject(request):
    pm = load_papermill()
    nb = cleared(read_notebook(pm, request["notebook"]))
    language = request.get("language") or None
    kernel_name = nb.metadata.get("kernelspec", {}).get("name") or language
    runs = request["runs"]
    for run in runs:
        check_names(run["parameters"])
    for i, run in enumerate(runs):
        try:
            injected = pm.parameterize_notebook(
                one_copy(pm, nb),
                run["parameters"],
                kernel_name=kernel_name,
                language=language,
            )
        except (ValueError, pm.PapermillException) as error:
            path = request["notebook"]
            raise InputError(f"papermill cannot parameterize {path}: {error}") from None
        write_private(run["path"], notebook_text(pm, injected, validate=i == 0))
    return {"written": len(runs)}


COMMANDS = {"inspect": inspect, "inject": inject}


def main():
    command = COMMANDS.get(sys.argv[1] if len(sys.argv) > 1 else "")
    try:
        if command is None:
            raise RuntimeError(f"usage: parameterize.py {'|'.join(COMMANDS)} < request.json")
        answer = command(json.load(sys.stdin))
    except InputError as error:
        answer = {"error": str(error), "input": True}
    except Exception as error:
        answer = {"error": f"{type(error).__name__}: {error}"}
    print(json.dumps(answer))
    return 1 if "error" in answer else 0


if __name__ == "__main__":
    sys.exit(main())
