"""One seam for the mode: only ``helpers/target.py`` compares the mode's name.

Every per-mode decision (where requests go, how HTTP and DNS reach the app, the
time scale, the preflight checks, the drill scenarios, ...) is the mode's target's
(:mod:`helpers.target`); every other module asks ``config.target`` or
``session.current_target()``. This test reads each module under ``helpers/``
with ``ast`` and fails on a comparison against a mode's name (``"sandbox"``,
``"aws"``, ``"endpoint"``), on a comparison of a mode (``.mode``, ``mode``,
``current_mode()``) with anything, and on a lookup keyed by the mode.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from helpers import target

HELPERS = Path(__file__).resolve().parents[2] / "helpers"
MODE_NAMES = frozenset({"sandbox", "aws", "endpoint"})
SEAM = "helpers/target.py"  # the one module that knows the modes by name
# The settings parser/validator that turns user input into a mode may list the valid
# names. Today none has to: helpers/config.py asks target.mode_problem and the CLI
# offers target.MODES. A module that must would be named here, with why.
PARSERS: dict[str, str] = {}


def _is_mode_name(node: ast.AST) -> bool:
    if isinstance(node, ast.Constant):
        return node.value in MODE_NAMES
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        return any(_is_mode_name(e) for e in node.elts)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
            and node.func.id in ("frozenset", "set", "tuple") and node.args:
        return _is_mode_name(node.args[0])
    return False


def _is_a_mode(node: ast.AST) -> bool:
    """``x.mode``, a variable ``mode``, or ``current_mode()`` / ``session.current_mode()``."""
    if isinstance(node, ast.Attribute):
        return node.attr == "mode"
    if isinstance(node, ast.Name):
        return node.id == "mode"
    if isinstance(node, ast.Call):
        func = node.func
        return (isinstance(func, ast.Name) and func.id == "current_mode") or (
            isinstance(func, ast.Attribute) and func.attr == "current_mode")
    return False


def violations(source: str, filename: str = "<source>") -> list[str]:
    """Each place in ``source`` that decides something by the mode's name, as
    ``file:line: code``."""
    found = []

    def report(node: ast.AST, why: str) -> None:
        found.append(f"{filename}:{node.lineno}: {why}: {ast.unparse(node)}")

    for node in ast.walk(ast.parse(source, filename)):
        if isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
            if any(_is_mode_name(o) for o in operands):
                report(node, "compares with a mode's name")
            elif any(_is_a_mode(o) for o in operands):
                report(node, "compares the mode")
        elif isinstance(node, ast.Match):
            if _is_a_mode(node.subject) or any(
                    isinstance(case.pattern, ast.MatchValue) and _is_mode_name(case.pattern.value)
                    for case in node.cases):
                report(node.subject, "matches the mode")
        elif isinstance(node, ast.Subscript) and _is_a_mode(node.slice):
            report(node, "looks up by the mode")
    return found


def modules() -> dict[str, Path]:
    root = HELPERS.parent
    return {path.relative_to(root).as_posix(): path for path in sorted(HELPERS.rglob("*.py"))}


def test_no_module_but_the_seam_decides_by_the_mode_s_name():
    found = []
    for name, path in modules().items():
        if name == SEAM or name in PARSERS:
            continue
        found += violations(path.read_text(), name)
    assert not found, ("decided by the mode's name outside helpers/target.py; ask "
                       "config.target (or session.current_target()) instead:\n"
                       + "\n".join(found))


def test_the_seam_and_the_exceptions_exist_and_name_every_mode():
    assert set(target.MODES) == MODE_NAMES
    assert set(PARSERS) <= set(modules()), "an exception names a module that is gone"
    assert SEAM in modules()
    for mode in target.MODES:
        assert target.for_mode(mode).name == mode


@pytest.mark.parametrize("code", [
    'if config.mode == "sandbox":\n    pass',
    'if config.mode != "endpoint" or not url:\n    pass',
    'ok = base.mode in ("sandbox", "aws")',
    'ok = "aws" == self.mode',
    'mode = current_mode()\nif mode != "sandbox":\n    pass',
    'if session.current_mode() is None:\n    pass',
    'if kind == "endpoint":\n    pass',
    'ok = name in {"sandbox", "endpoint"}',
    'ok = name not in frozenset(("aws",))',
    'match config.mode:\n    case _:\n        pass',
    'match name:\n    case "sandbox":\n        pass',
    'url = {"aws": None}[config.mode]',
])
def test_the_check_finds_a_decision_by_the_mode(code):
    assert violations(code), code


@pytest.mark.parametrize("code", [
    'if config.target.supports(SANDBOX_CONTROL):\n    pass',
    'config = WorkshopConfig(mode="sandbox")',
    'session.use_mode("sandbox")',
    'results["sandbox"] = {}',
    'print(f"{config.mode} mode")',
    'choices = ("sandbox", "aws", "endpoint")',
    'retries = {"mode": "adaptive"}',
])
def test_the_check_leaves_what_decides_nothing(code):
    assert not violations(code), code


def test_a_violation_planted_in_a_module_fails_the_check():
    """The check as the suite runs it, on a real module with one comparison added: it
    must name the file and the line."""
    source = (HELPERS / "runner.py").read_text()
    planted = source + '\n\ndef _planted(config):\n    return config.mode == "sandbox"\n'
    assert not violations(source, "helpers/runner.py")
    found = violations(planted, "helpers/runner.py")
    line = len(planted.splitlines())
    assert found == [f"helpers/runner.py:{line}: compares with a mode's name: "
                     "config.mode == 'sandbox'"]
