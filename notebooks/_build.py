"""Build the notebooks 01 ... 06 from their Python sources: `python notebooks/_build.py`.

Each notebook's source is a plain Python file in `notebooks/src/` ("tutobook" style, as
keras-io writes its examples), so linters, `git diff` and duplicate finders read it:

- the first docstring is the header: `Title:`, `Purpose:`, optionally `Accelerator: GPU`
  (Colab then opens the notebook with a GPU runtime) and `Extras: NAME` (the Setup cell
  installs `colorpast[NAME]`);
- every other top-level triple-quoted string is a markdown cell;
- the code between them is a code cell; a line `# %%` starts a new code cell, and
  `# %% parameters` starts the cell tagged "parameters" (papermill's convention), which
  holds `SMOKE = False`; tests/test_notebooks.py injects `SMOKE = True` after it.

This script adds what every notebook opens with and a .py file cannot hold: the title
with its "Open in Colab" badge, and the Setup cell that installs colorpast on Colab with
IPython's `%pip` from `REPO_URL` at `REF` (a branch, tag or commit), Colab form fields
filled from `colorpast.notebook.REPO_URL` and `REF`. The .ipynb files are written without outputs
(execution_count None) and with stable cell ids, so a rebuild changes nothing.
"""

from __future__ import annotations

import ast
import inspect
import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent
SRC = HERE / "src"
sys.path.insert(0, str(HERE.parent))
from colorpast.notebook import REF, REPO_URL, colab_badge, install_command  # noqa: E402

PARAMETERS = "parameters"
CELL = "# %%"


def setup_cells(gpu: bool, kaggle: bool, drive: bool = True, extras: str = "") -> list:
    """The Setup heading and the install cell every notebook has before its own setup call."""
    does = ["installs `colorpast` from the repository (`REPO_URL`: edit it to install from a fork) at `REF` "
            "(a branch, tag or commit: a tag or commit keeps every session on the same code)"]
    if drive:
        does.append("mounts Google Drive (prepared sets, runs and reports live in `MyDrive/colorpast`, "
                    "so they survive a disconnect)")
    else:
        does.append("works on the runtime's own disk (`/content/colorpast`), without asking for Google Drive")
    if kaggle:
        does.append("reads your Kaggle credentials from Colab secrets")
    text = (
        "## Setup\n\n"
        f"On Colab this {', '.join(does[:-1])} and {does[-1]}. Locally, install the package first "
        "(`pip install -e .` in the repository, see the README); the working folder is the repository root."
    )
    if gpu:
        text += " It checks for a GPU and says how to get one if there is none."
    install = (
        "import sys\n\n"
        "# Most users leave these two alone: the repository to install from (a fork's), and its branch, tag or commit\n"
        f'REPO_URL = "{REPO_URL}"  # @param {{type:"string"}}\n'
        f'REF = "{REF}"  # @param {{type:"string"}}\n'
        'IS_COLAB = "google.colab" in sys.modules\n'
        "if IS_COLAB:\n"
        f'    %pip install -q "{install_command("{REPO_URL}", "{REF}", extras)}"'
    )
    return [new_markdown_cell(text), new_code_cell(install)]


def parse(path: Path) -> tuple[dict, list]:
    """A tutobook source -> (header fields, [("markdown" | "code" | "parameters", text)])."""
    text = path.read_text()
    lines = text.splitlines()
    module = ast.parse(text, filename=str(path))
    body = module.body
    if not (body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)):
        raise SystemExit(f"{path}: must start with a header docstring (Title:, Purpose:)")
    header = {}
    for line in inspect.cleandoc(body[0].value.value).splitlines():
        key, _, value = line.partition(":")
        header[key.strip().lower()] = value.strip()
    blocks = []
    pos = body[0].end_lineno  # lines[pos:] is what follows the header

    def code_until(end: int) -> None:
        chunk, kind = [], "code"
        for line in lines[pos:end] + [CELL]:
            if line.startswith(CELL):
                source = "\n".join(chunk).strip("\n")
                if source.strip():
                    blocks.append((kind, source))
                chunk, kind = [], PARAMETERS if line[len(CELL):].strip() == PARAMETERS else "code"
            else:
                chunk.append(line)

    for node in body[1:]:
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str) \
                and lines[node.lineno - 1].lstrip().startswith('"""'):
            code_until(node.lineno - 1)
            blocks.append(("markdown", inspect.cleandoc(node.value.value)))
            pos = node.end_lineno
    code_until(len(lines))
    return header, blocks


def sources() -> dict[str, Path]:
    """``NN_name.ipynb`` -> its source ``src/NN_name.py``."""
    return {p.with_suffix(".ipynb").name: p for p in sorted(SRC.glob("[0-9][0-9]_*.py"))}


def build(file: str):
    header, blocks = parse(sources()[file])
    gpu = header.get("accelerator", "").upper() == "GPU"
    code = "".join(text for kind, text in blocks if kind == "code")
    nb = new_notebook()
    nb.cells = [new_markdown_cell(f"# {header['title']}\n\n*{header['purpose']}*\n\n{colab_badge(file)}"),
                *setup_cells(gpu, "kaggle=True" in code, "drive=False" not in code, header.get("extras", ""))]
    for kind, text in blocks:
        if kind == "markdown":
            nb.cells.append(new_markdown_cell(text))
        else:
            nb.cells.append(new_code_cell(text, metadata={"tags": [PARAMETERS]} if kind == PARAMETERS else {}))
    nb.metadata = {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    }
    if gpu:  # Colab opens these with a GPU runtime
        nb.metadata["accelerator"] = "GPU"
        nb.metadata["colab"] = {"gpuType": "T4"}
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"{Path(file).stem[:2]}-{i:02d}"  # stable ids: a rebuild changes nothing
    nbformat.validate(nb)
    return nb


def main() -> None:
    for file in sources():
        nbformat.write(build(file), HERE / file)
        print(HERE / file)


if __name__ == "__main__":
    main()
