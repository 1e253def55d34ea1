"""The checklist's pointers into the notebooks, and how it picks the next step."""

from __future__ import annotations

import nbformat
import pytest

from helpers import checklist
from helpers.base.paths import NOTEBOOKS
from helpers.core import curriculum
from helpers.core.config import WorkshopConfig


def headings(notebook: str) -> set[str]:
    cells = nbformat.read(NOTEBOOKS / notebook, as_version=4).cells
    return {line.lstrip("#").strip() for cell in cells if cell.cell_type == "markdown"
            for line in cell.source.splitlines() if line.startswith("#")}


@pytest.mark.parametrize("key", sorted(checklist.SECTIONS))
def test_every_hint_names_a_heading_that_exists_in_its_notebook(key):
    notebook = curriculum.module(key.split("/")[0]).notebook
    assert checklist.SECTIONS[key] in headings(notebook), (
        f"{key}: section {checklist.SECTIONS[key]!r} is not a heading of {notebook}")


def test_modules_map_to_the_numbered_notebooks_in_order():
    assert [m.id for m in checklist.MODULES] == ["1", "2", "3.1", "3.2", "3.3", "4", "4.1", "5"]
    for spec in checklist.MODULES:
        assert (NOTEBOOKS / spec.notebook).exists()
        assert checklist.module_for(spec.notebook) == spec.id
    assert checklist.module_for("00-set-up.ipynb") is None


def status(done: set[str], cleaned: bool = False, live: bool = True) -> checklist.Status:
    modules = []
    for spec in checklist.MODULES:
        keys = [k for k in checklist.SECTIONS if k.split("/")[0] == spec.id]
        items = [checklist.Item(k, k, k in done, "", spec.notebook) for k in keys]
        modules.append(checklist.Module(spec.id, spec.title, spec.notebook, items,
                                        live=live or spec.id == "5"))
    return checklist.Status(WorkshopConfig(), modules, cleaned_up=cleaned, set_up=True,
                            checked_at="now")


def all_of(*module_ids: str) -> set[str]:
    return {k for k in checklist.SECTIONS if k.split("/")[0] in module_ids}


def test_next_is_the_first_unchecked_item_of_the_first_unfinished_module():
    found = status(all_of("1", "2", "3.1") | {"3.2/stack"})
    assert found.done == ["1", "2", "3.1"] and found.reached == "3.1"
    assert found.next["section"] == "Deploy the replicator"
    assert found.next["hint"] == "open 03.2-replicate-data.ipynb, section 'Deploy the replicator'"


def test_a_primary_left_broken_by_module_4_is_restored_first():
    found = status(all_of("2", "3.1", "3.2") | {"4/broken", "1/api-stack"})
    assert found.next["notebook"] == "04-test-failover.ipynb"
    assert found.next["section"] == "Restore the primary"


def test_after_an_early_clean_up_the_next_step_says_to_rebuild_first():
    found = status(all_of("1", "2", "3.1", "3.2", "5"), cleaned=True, live=False)
    assert found.next["module"] == "3.3"
    assert "workshop run --until 03.2" in found.next["hint"]
    assert not found.live_done("1")  # history only: a catch-up run must not skip it


def test_turned_done_lists_only_new_items():
    before, after = status(all_of("1")), status(all_of("1", "2"))
    assert checklist.turned_done(before, after) == ["2 · 2/ui-stack", "2 · 2/ui-answers"]


def test_room_table_marks_each_module_and_the_next_notebook():
    table = checklist.room_table([status(all_of("1", "2"))])
    row = table.splitlines()[2]
    assert row.split()[:2] == ["wildrydes", "example.com"]
    assert row.split()[-2:] == ["2", "03.1-second-region.ipynb"]
