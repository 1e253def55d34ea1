"""The sandbox's own control endpoints are spelled once (helpers/sandbox/admin_paths.py),
dispatched from it by the server, and called through one client (helpers/connect/sandbox_admin.py).

No AWS and no sandbox: the sources are read, not run.
"""

from __future__ import annotations

import ast
from pathlib import Path

from test_import_cycles import graph

from helpers.connect.sandbox_admin import SandboxAdmin
from helpers.sandbox import admin_paths

REPO = Path(__file__).resolve().parents[2]
TABLE = REPO / "helpers" / "sandbox" / "admin_paths.py"
ROOTS = ("helpers", "tests", "benchmarks", "tools", "notebook_sources", "lambda_src")
MARK = admin_paths.PREFIX.rstrip("/")  # "/_sandbox", never spelled here either


def sources() -> list[Path]:
    found = [REPO / "conftest.py"]
    for root in ROOTS:
        found += [p for p in sorted((REPO / root).rglob("*.py")) if ".peers" not in p.parts]
    return [p for p in found if p.exists()]


def _docstrings(tree: ast.AST) -> set[int]:
    """The ids of the docstring nodes: prose may name a path, code may not."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if (body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
                    and isinstance(body[0].value.value, str)):
                found.add(id(body[0].value))
    return found


def spelled_paths(path: Path) -> list[str]:
    """``line: text`` of every string in ``path``'s code (not its docstrings or comments)
    that holds an admin path."""
    tree = ast.parse(path.read_text(), str(path))
    prose = _docstrings(tree)
    return [f"{node.lineno}: {node.value!r}" for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and id(node) not in prose
            and isinstance(node.value, (str, bytes))
            and MARK in (node.value if isinstance(node.value, str) else node.value.decode(
                "latin-1"))]


def test_the_finder_sees_a_path_in_code_and_not_in_prose(tmp_path):
    source = tmp_path / "m.py"
    source.write_text(f'"""Serves {MARK}/x."""\n\ndef f(base):\n    """GET {MARK}/y."""\n'
                      f'    return f"{{base}}{MARK}/z/{{base}}"\n')
    assert spelled_paths(source) == [f"5: '{MARK}/z/'"]


def test_no_module_or_test_spells_an_admin_path_outside_the_table():
    spelled = {str(p.relative_to(REPO)): found for p in sources() if p != TABLE
               and (found := spelled_paths(p))}
    assert not spelled, (f"{MARK}/... spelled outside helpers/sandbox/admin_paths.py (use its "
                         f"constants, and connect.sandbox_admin.SandboxAdmin to call them): "
                         f"{spelled}")
    assert spelled_paths(TABLE)  # the table itself does spell them


def test_every_route_is_served_by_a_module_that_reads_the_table_and_has_a_client_method():
    edges = graph()
    for route in admin_paths.ROUTES:
        assert route.path.startswith(admin_paths.PREFIX), route
        assert "helpers.sandbox.admin_paths" in edges[f"helpers.sandbox.{route.served_by}"], route
        for method in route.client.split(", "):
            assert callable(getattr(SandboxAdmin, method, None)), (route, method)


def test_paths_below_a_route():
    assert admin_paths.under(admin_paths.REGIONS, admin_paths.REGIONS) == ""
    assert admin_paths.under(admin_paths.REGIONS + "/", admin_paths.REGIONS) == ""
    assert admin_paths.under(admin_paths.region("eu-west-1"), admin_paths.REGIONS) == "eu-west-1"
    assert admin_paths.under(admin_paths.REGIONS + "x", admin_paths.REGIONS) is None
    assert admin_paths.under(admin_paths.fault("a") + "/", admin_paths.FAULTS) == "a"
    assert admin_paths.is_admin(admin_paths.health_check("h")) and not admin_paths.is_admin("/")
