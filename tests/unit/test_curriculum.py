"""The curriculum is written once; the checklist, runner, run site and notebooks follow it.

The notebooks' navigation and index table: tests/unit/test_notebook_sources.py.
"""

from __future__ import annotations

import nbformat

from helpers import checklist
from helpers.base.paths import NOTEBOOKS
from helpers.core import curriculum
from helpers.core.config import WorkshopConfig
from helpers.runs import run_index, runner


def test_every_notebook_of_the_curriculum_exists_and_is_numbered_in_order():
    numbers = [curriculum.number_key(m.number) for m in curriculum.CURRICULUM]
    assert numbers == sorted(numbers)
    for module in curriculum.CURRICULUM:
        assert (NOTEBOOKS / module.notebook).exists(), module.notebook
        assert module.done_when
    assert {p.name for p in NOTEBOOKS.glob("[0-9]*.ipynb")} == {
        m.notebook for m in curriculum.CURRICULUM}


def test_the_checklist_and_the_runner_read_the_curriculum():
    assert checklist.MODULES == curriculum.MODULES
    assert dict(checklist.SECTIONS) == dict(curriculum.SECTIONS)
    assert [p.name for p in runner.numbered_notebooks()] == [
        m.notebook for m in curriculum.CURRICULUM]
    assert [p.name for p in runner.select(runner.numbered_notebooks(), "03.1")] == [
        "00-set-up.ipynb", "01-api-layer.ipynb", "02-ui-layer.ipynb",
        "03.1-second-region.ipynb"]
    assert runner._module_of("03.2-replicate-data.ipynb") == "3.2"
    assert runner._module_of("00-set-up.ipynb") is None


def test_the_run_site_titles_each_notebook_as_the_curriculum_does(tmp_path):
    page = run_index.write(tmp_path, WorkshopConfig(),
                           [run_index.NotebookRun("03.1-second-region.ipynb", "skipped")])
    assert "Module 3.1 · A second region" in page.read_text()


def test_the_notebooks_navigation_and_index_follow_the_curriculum():
    for module in curriculum.MODULES[:-1]:
        nxt = curriculum.CURRICULUM[curriculum.CURRICULUM.index(module) + 1]
        first = nbformat.read(NOTEBOOKS / module.notebook, as_version=4).cells[0].source
        assert f"[{nxt.label} →]({nxt.notebook})" in first
    index = nbformat.read(NOTEBOOKS / "index.ipynb", as_version=4).cells[0].source
    for module in curriculum.CURRICULUM:
        assert f"| [{module.number} · {module.title}]({module.notebook}) |" in index
