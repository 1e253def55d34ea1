"""What a reader of the committed notebooks sees in a table is whole: pandas cuts a cell
past 50 characters to "..." (a URL, a check's detail, a price's conditions), so every
table a helper returns for a notebook draws itself whole (helpers/base/tables.py)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).parents[2] / "notebooks").glob("*.ipynb"))
CELL = re.compile(r"<t[dh][^>]*>(.*?)</t[dh]>", re.S)


def cut_cells(notebook: Path) -> list[str]:
    found = []
    for number, cell in enumerate(json.loads(notebook.read_text())["cells"]):
        for output in cell.get("outputs", []):
            html = "".join(output.get("data", {}).get("text/html", ""))
            found += [f"cell {number}: {text.strip()[:80]}" for text in CELL.findall(html)
                      if text.strip().endswith("...")]
    return found


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_no_table_cell_is_cut_short(notebook):
    assert cut_cells(notebook) == []
