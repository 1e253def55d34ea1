"""Writes the workshop notebooks' cells (inputs only) from this one file.

The notebooks in notebooks/ are the product and carry recorded outputs. Edit
the cells here, run `python tools/build_notebooks.py`, then re-record the
outputs on a fresh sandbox with `workshop run --record`. Which notebooks exist,
in which order and under which titles is the curriculum's (helpers/curriculum.py).

`python tools/build_notebooks.py --check` writes nothing: it lists the notebooks
whose cells (ids, types, text) differ from these sources, and exits 1 if any do.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

ROOT = Path(__file__).resolve().parents[1]
NB = ROOT / "notebooks"
sys.path.insert(0, str(ROOT))

from helpers.curriculum import CURRICULUM  # noqa: E402

# (notebook, the title its neighbours' navigation links show)
ORDER = [(m.notebook, m.label) for m in CURRICULUM]


def nav(name: str) -> str:
    names = [n for n, _ in ORDER]
    i = names.index(name)
    prev = f"[← {ORDER[i - 1][1]}]({names[i - 1]})" if i else ""
    nxt = f"[{ORDER[i + 1][1]} →]({names[i + 1]})" if i + 1 < len(names) else ""
    return " · ".join(p for p in (prev, "[Contents](index.ipynb)", nxt) if p)


SETUP = """from helpers import state
config = state.current_config()
print(config.describe())"""


def notebook(name: str, cells: list[tuple[str, str]]) -> nbformat.NotebookNode:
    """The notebook ``name`` from its cells, with the recorded outputs of unchanged code cells."""
    nb = new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    out = [new_markdown_cell(f"<!--NAVIGATION-->\n{nav(name)}")]
    for kind, text in cells:
        text = text.strip("\n")
        out.append(new_markdown_cell(text) if kind == "md" else new_code_cell(text))
    out.append(new_markdown_cell(f"<!--NAVIGATION-->\n{nav(name)}"))
    nb.cells = out
    path = NB / name
    if path.exists():  # keep recorded outputs of unchanged cells
        old = nbformat.read(path, as_version=4)
        previous = {c.source: c for c in old.cells if c.cell_type == "code"}
        for cell in nb.cells:
            if cell.cell_type == "code" and cell.source in previous:
                cell.outputs = previous[cell.source].outputs
                cell.execution_count = previous[cell.source].execution_count
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"{Path(name).stem.replace('.', '-')}-{i:02d}"
    return nb


def index_notebook() -> nbformat.NotebookNode:
    index = new_notebook()
    index.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                    "language": "python"}
    index.cells = [new_markdown_cell(c) if k == "md" else new_code_cell(c) for k, c in INDEX]
    for i, cell in enumerate(index.cells):
        cell["id"] = f"index-{i:02d}"
    return index


def built() -> dict[str, nbformat.NotebookNode]:
    """Every notebook as the sources say, by file name."""
    found = {name: notebook(name, CELLS[name]) for name, _title in ORDER}
    found["index.ipynb"] = index_notebook()
    return found


from notebook_cells import CELLS, INDEX  # noqa: E402


def _inputs(nb: nbformat.NotebookNode) -> list[tuple[str, str, str]]:
    """What the sources decide: each cell's id, type and text (not outputs or metadata)."""
    return [(cell.get("id", ""), cell.cell_type, cell.source) for cell in nb.cells]


def main(argv: list[str]) -> int:
    notebooks = built()
    if "--check" in argv:
        stale = [name for name, nb in notebooks.items()
                 if not (NB / name).exists() or _inputs(nbformat.read(NB / name, as_version=4))
                 != _inputs(nb)]
        for name in stale:
            print(f"{name} differs from tools/notebook_cells.py")
        return 1 if stale else 0
    NB.mkdir(exist_ok=True)
    for name, nb in notebooks.items():
        nbformat.write(nb, NB / name)
    print(f"wrote {len(notebooks)} notebooks to {NB}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
