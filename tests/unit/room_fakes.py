"""Checklists made by hand, for the room's tests: which items pass, and what the rest say."""

from __future__ import annotations

from helpers.checklist.model import Item, Module, Status
from helpers.core import curriculum
from helpers.core.config import WorkshopConfig

CHECKED_AT = "2026-12-06T12:00:00+00:00"


def status(done: set[str] = frozenset(), details: dict[str, str] | None = None,
           prefix: str = "ada-1", set_up: bool = True) -> Status:
    """A participant's checklist in which the items ``done`` pass (``"1/api-stack"``, or a
    whole module: ``"1"``); an item's detail is ``details[item id]``, else ``"not yet"``."""
    details = details or {}
    modules = []
    for spec in curriculum.MODULES:
        items = [Item(key, f"the check {key}", key in done or spec.id in done,
                      details.get(key, "not yet"), spec.notebook) for key in spec.sections]
        modules.append(Module(spec.id, spec.title, spec.notebook, items))
    config = WorkshopConfig(mode="sandbox", prefix=prefix, domain=f"{prefix}.example.com")
    return Status(config, modules, cleaned_up=False, set_up=set_up, checked_at=CHECKED_AT)


def report(name: str = "ada", **marks: str) -> dict:
    """A valid report for ``name``: every module not started, except ``marks`` (module id with
    ``_`` for ``.``: ``m3_1="done"``); ``stuck`` and ``next`` as a kit sends them."""
    modules = {m.id: "not started" for m in curriculum.MODULES}
    for key, mark in marks.items():
        modules[key[1:].replace("_", ".")] = mark
    return {"schema": 1, "participant": name, "modules": modules,
            "stuck": "1 · API in eu-west-1 answers: /health 502", "next": "01-api-layer.ipynb"}
