"""Writes the workshop notebooks' cells (inputs only) from this one file.

The notebooks in notebooks/ are the product and carry recorded outputs. Edit
the cells here, run `python tools/build_notebooks.py`, then re-record the
outputs on a fresh sandbox with `workshop run --record`.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

ROOT = Path(__file__).resolve().parents[1]
NB = ROOT / "notebooks"

ORDER = [
    ("00-set-up.ipynb", "Set-up"),
    ("01-api-layer.ipynb", "Module 1 · API layer"),
    ("02-ui-layer.ipynb", "Module 2 · UI layer"),
    ("03.1-second-region.ipynb", "Module 3.1 · A second region"),
    ("03.2-replicate-data.ipynb", "Module 3.2 · Replicate the data"),
    ("03.3-route53-failover.ipynb", "Module 3.3 · Route 53 failover"),
    ("04-test-failover.ipynb", "Module 4 · Test failover"),
    ("05-clean-up.ipynb", "Module 5 · Clean up"),
]


def nav(name: str) -> str:
    names = [n for n, _ in ORDER]
    i = names.index(name)
    prev = f"[← {ORDER[i - 1][1]}]({names[i - 1]})" if i else ""
    nxt = f"[{ORDER[i + 1][1]} →]({names[i + 1]})" if i + 1 < len(names) else ""
    return " · ".join(p for p in (prev, "[Contents](index.ipynb)", nxt) if p)


SETUP = """from helpers import state
config = state.current_config()
print(config.describe())"""


def notebook(name: str, cells: list[tuple[str, str]]) -> None:
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
    nbformat.write(nb, path)


from notebook_cells import CELLS, INDEX  # noqa: E402

if __name__ == "__main__":
    NB.mkdir(exist_ok=True)
    for name, _title in ORDER:
        notebook(name, CELLS[name])
    index = new_notebook()
    index.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                    "language": "python"}
    index.cells = [new_markdown_cell(c) if k == "md" else new_code_cell(c) for k, c in INDEX]
    for i, cell in enumerate(index.cells):
        cell["id"] = f"index-{i:02d}"
    nbformat.write(index, NB / "index.ipynb")
    print(f"wrote {len(ORDER) + 1} notebooks to {NB}")
