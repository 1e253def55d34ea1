"""Each notebook is paired with a text source, and the two hold the same cells.

notebooks/NN-name.ipynb carries the cells and their recorded outputs;
notebook_sources/NN-name.py (jupytext's percent format, paired by jupytext.toml)
carries the same cells as reviewable, linted text. A source edited without
syncing, or a notebook edited without its source, fails here. The cells that
repeat in every module notebook (navigation, settings, progress) are plain text
in each source; they are checked against the curriculum and each other here.
See docs/notebooks.md.
"""

from __future__ import annotations

import tomllib

import jupytext
import nbformat
import pytest

from helpers.base.paths import NOTEBOOKS, REPO_ROOT
from helpers.core import curriculum

SOURCES = REPO_ROOT / "notebook_sources"
SYNC = "make notebooks"
NOTEBOOK_NAMES = sorted(p.name for p in NOTEBOOKS.glob("*.ipynb"))

# The cells every module notebook after the set-up shares, word for word.
SETTINGS_CELL = ("code", "from helpers import state\n\n"
                         "config = state.current_config()\n"
                         "print(config.describe())")
PROGRESS_CELLS = [
    ("markdown", "## Your progress\n\n"
                 "What is now deployed and working, checked against the real resources (the\n"
                 "same list as `workshop status` in a terminal):"),
    ("code", "# NBVAL_IGNORE_OUTPUT\nfrom helpers import progress\n\nprogress.show(config)"),
]


def source_of(notebook: str):
    return SOURCES / notebook.replace(".ipynb", ".py")


def cells(notebook_node) -> list[tuple[str, str]]:
    """What a pair must agree on: each cell's type and text (not outputs or metadata)."""
    return [(cell.cell_type, cell.source) for cell in notebook_node.cells]


def source_cells(notebook: str) -> list[tuple[str, str]]:
    return cells(jupytext.read(source_of(notebook), fmt="py:percent"))


def notebook_cells(notebook: str) -> list[tuple[str, str]]:
    return cells(nbformat.read(NOTEBOOKS / notebook, as_version=4))


def navigation(notebook: str) -> str:
    """The navigation cell of a module notebook: previous · contents · next."""
    modules = curriculum.CURRICULUM
    i = [m.notebook for m in modules].index(notebook)
    links = [f"[← {modules[i - 1].label}]({modules[i - 1].notebook})"] if i else []
    links.append("[Contents](index.ipynb)")
    if i + 1 < len(modules):
        links.append(f"[{modules[i + 1].label} →]({modules[i + 1].notebook})")
    return "<!--NAVIGATION-->\n" + " · ".join(links)


def test_jupytext_pairs_the_two_folders():
    config = tomllib.loads((REPO_ROOT / "jupytext.toml").read_text())
    assert config["formats"] == "notebooks///ipynb,notebook_sources///py:percent"


def test_every_notebook_has_a_source_and_every_source_a_notebook():
    notebooks = {p.stem for p in NOTEBOOKS.glob("*.ipynb")}
    sources = {p.stem for p in SOURCES.glob("*.py")}
    assert notebooks == {m.notebook.removesuffix(".ipynb")
                         for m in curriculum.CURRICULUM} | {"index"}
    assert not notebooks - sources, (
        f"notebooks without a source in notebook_sources/: {sorted(notebooks - sources)}; "
        "create them with `jupytext --sync notebooks/NAME.ipynb`")
    assert not sources - notebooks, (
        f"sources without a notebook in notebooks/: {sorted(sources - notebooks)}; "
        f"create them with `{SYNC}`")
    assert not [p.name for p in NOTEBOOKS.iterdir() if p.suffix != ".ipynb"
                and p.name != ".ipynb_checkpoints"], "notebooks/ shows notebooks only"


@pytest.mark.parametrize("notebook", NOTEBOOK_NAMES)
def test_the_source_and_its_notebook_hold_the_same_cells(notebook):
    expected, found = source_cells(notebook), notebook_cells(notebook)
    where = next((i for i, (a, b) in enumerate(zip(expected, found, strict=False)) if a != b),
                 min(len(expected), len(found)))
    assert found == expected, (
        f"notebooks/{notebook} differs from {source_of(notebook).relative_to(REPO_ROOT)} "
        f"from cell {where} on ({len(found)} cells against {len(expected)}): run `{SYNC}` "
        "after editing a source, then re-record the outputs with `workshop run --record`")


@pytest.mark.parametrize("module", curriculum.CURRICULUM, ids=lambda m: m.notebook)
def test_the_navigation_cells_follow_the_curriculum(module):
    found = source_cells(module.notebook)
    expected = ("markdown", navigation(module.notebook))
    assert found[0] == expected, f"first cell should be:\n{expected[1]}"
    assert found[-1] == expected, f"last cell should be:\n{expected[1]}"
    assert sum(cell == expected for cell in found) == 2


def test_the_index_table_follows_the_curriculum():
    table = "\n".join(
        ["| notebook | what you do | time | cost on AWS |", "|---|---|---|---|"]
        + [f"| [{m.number} · {m.title}]({m.notebook}) | {m.what_you_do} | {m.minutes} min "
           f"| {m.cost} |" for m in curriculum.CURRICULUM])
    first = source_cells("index.ipynb")[0]
    assert first[0] == "markdown"
    assert f"\n\n{table}\n\n" in first[1], f"the index's table should be:\n{table}"


@pytest.mark.parametrize("module", curriculum.CURRICULUM[1:], ids=lambda m: m.notebook)
def test_the_shared_cells_are_the_same_in_every_module_notebook(module):
    found = source_cells(module.notebook)
    assert found[2] == SETTINGS_CELL, "the third cell loads the settings"
    assert sum(cell == SETTINGS_CELL for cell in found) == 1
    at = [i for i in range(len(found)) if found[i:i + 2] == PROGRESS_CELLS]
    assert len(at) == 1, "the progress checklist closes each module, once"
