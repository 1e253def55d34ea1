"""Imports run down the layers (docs/layout.md): a module imports its own layer or lower.

The layers are ``helpers/``'s folders, top to bottom. The import graph is the one
``test_import_cycles`` reads (imports inside functions count; ``TYPE_CHECKING`` ones do not).
"""

from __future__ import annotations

import pytest
from test_import_cycles import graph

# Top to bottom. ``helpers`` itself (its __init__) only names modules for the notebooks.
LAYERS = ("commands", "drill", "views", "checklist", "aws", "connect", "core", "sandbox", "base")
COMMANDS = {"helpers", "helpers.cli", "helpers.__main__"}


def layer_of(module: str) -> str:
    if module in COMMANDS or module.startswith("helpers.runs"):
        return "commands"
    folder = module.split(".")[1]
    assert folder in LAYERS, f"{module} is in no layer: put it in one of helpers/{LAYERS}"
    return folder


def upward_imports(edges: dict[str, set[str]]) -> list[str]:
    rank = {name: i for i, name in enumerate(LAYERS)}
    return sorted(f"{a} ({layer_of(a)}) imports {b} ({layer_of(b)})"
                  for a, targets in edges.items() for b in targets
                  if rank[layer_of(b)] < rank[layer_of(a)])


def test_every_module_is_in_a_layer():
    for module in graph():
        layer_of(module)


def test_no_module_imports_a_layer_above_its_own():
    assert upward_imports(graph()) == []


@pytest.mark.parametrize(("importer", "imported"), [
    ("helpers.sandbox.route53.api", "helpers.connect.session"),  # the server, up to the kit
    ("helpers.base.paths", "helpers.core.config"),
    ("helpers.core.state", "helpers.aws.stacks"),
])
def test_an_upward_import_is_caught(importer, imported):
    assert upward_imports({importer: {imported}}) != []
