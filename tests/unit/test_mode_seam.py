"""One seam for the mode: only ``helpers/core/target.py`` compares the mode's name.

Every per-mode decision (where requests go, how HTTP and DNS reach the app, the
time scale, the preflight checks, the drill scenarios, ...) is the mode's target's
(:mod:`helpers.core.target`); every other module asks ``config.target`` or
``session.current_target()``. This test reads each module under ``helpers/``
with ``ast`` and fails on a comparison against a mode's name (``"sandbox"``,
``"aws"``, ``"endpoint"``), on a comparison of a mode (``.mode``, ``mode``,
``current_mode()``) with anything, and on a lookup keyed by the mode.
"""

from __future__ import annotations

import ast
import os
from pathlib import Path

import pytest

from helpers.core import target

HELPERS = Path(__file__).resolve().parents[2] / "helpers"
MODE_NAMES = frozenset({"sandbox", "aws", "endpoint"})
SEAM = "helpers/core/target.py"  # the one module that knows the modes by name
# The settings parser/validator that turns user input into a mode may list the valid
# names. Today none has to: helpers/core/config.py asks target.mode_problem and the CLI
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
    assert not found, ("decided by the mode's name outside helpers/core/target.py; ask "
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
    source = (HELPERS / "runs" / "runner.py").read_text()
    planted = source + '\n\ndef _planted(config):\n    return config.mode == "sandbox"\n'
    assert not violations(source, "helpers/runs/runner.py")
    found = violations(planted, "helpers/runs/runner.py")
    line = len(planted.splitlines())
    assert found == [f"helpers/runs/runner.py:{line}: compares with a mode's name: "
                     "config.mode == 'sandbox'"]


# ---------------------------------------------------------------- what each target decides


def test_each_mode_s_target_says_what_it_supports():
    sandbox, aws, endpoint = (target.for_mode(m) for m in ("sandbox", "aws", "endpoint"))
    assert all(sandbox.supports(f) for f in (target.SANDBOX_CONTROL, target.LOCAL_SANDBOX,
                                              target.SCALED_CLOCK, target.MODELLED_GLOBAL_TABLES))
    assert not any(t.supports(target.MODELLED_GLOBAL_TABLES) for t in (aws, endpoint))
    assert not sandbox.supports(target.CAPABILITY_PROBES)
    assert endpoint.supports(target.CAPABILITY_PROBES)
    assert not endpoint.supports(target.SANDBOX_CONTROL)
    assert not any(aws.supports(f) for f in (target.SANDBOX_CONTROL, target.LOCAL_SANDBOX,
                                             target.SCALED_CLOCK, target.CAPABILITY_PROBES))
    assert aws.endpoint_url() is None and aws.time_scale() == 1.0
    assert aws.session_arguments("dev") == {"profile_name": "dev"} and aws.account_in_host
    assert sandbox.session_arguments("dev") == target.SANDBOX_CREDENTIALS
    assert endpoint.session_arguments("dev") == {} and not endpoint.account_in_host
    assert [mode for _label, mode in target.choices()] == list(target.MODES)


def test_endpoint_mode_needs_its_url(monkeypatch):
    endpoint = target.for_mode("endpoint")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with pytest.raises(target.ModeError, match="needs AWS_ENDPOINT_URL"):
        endpoint.endpoint_url()
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://localhost:4566")
    assert endpoint.endpoint_url() == "http://localhost:4566"


def test_a_config_s_target_is_its_mode_s_and_an_unknown_mode_names_the_valid_ones():
    from helpers.core.config import ConfigError, WorkshopConfig

    assert WorkshopConfig(mode="aws").target is target.for_mode("aws")
    with pytest.raises(ConfigError, match="unknown mode 'cloud': choose one of sandbox, aws, "
                                          "endpoint"):
        WorkshopConfig(mode="cloud")
    with pytest.raises(target.ModeError, match="unknown mode 'cloud'"):
        target.for_mode("cloud")


# ---------------------------------------------------------------- the environment, the callback


def test_scoped_environment_puts_back_what_it_set_and_only_that(monkeypatch):
    from helpers.base import environ

    monkeypatch.setenv("WORKSHOP_HOME", "/before")
    monkeypatch.delenv("WORKSHOP_SANDBOX_FILE", raising=False)
    monkeypatch.delenv("WORKSHOP_PREFIX", raising=False)
    with environ.scoped({"WORKSHOP_HOME": "/inside", "WORKSHOP_SANDBOX_FILE": "/box.json"}):
        assert (os.environ["WORKSHOP_HOME"], os.environ["WORKSHOP_SANDBOX_FILE"]) == (
            "/inside", "/box.json")
        os.environ["WORKSHOP_PREFIX"] = "kept"  # not the block's to put back
    assert os.environ["WORKSHOP_HOME"] == "/before"
    assert "WORKSHOP_SANDBOX_FILE" not in os.environ
    assert os.environ.pop("WORKSHOP_PREFIX") == "kept"


def test_scoped_environment_with_every_variable_puts_back_all_of_them(monkeypatch):
    from helpers.base import environ

    monkeypatch.setenv("WORKSHOP_MODE", "aws")
    monkeypatch.delenv("WORKSHOP_PREFIX", raising=False)
    with environ.scoped({"WORKSHOP_MODE": None}, every_variable=True):
        assert "WORKSHOP_MODE" not in os.environ
        os.environ["WORKSHOP_PREFIX"] = "gone"
    assert os.environ["WORKSHOP_MODE"] == "aws"
    assert "WORKSHOP_PREFIX" not in os.environ
    with pytest.raises(ValueError, match="PATH is not a WORKSHOP_"):
        environ.apply({"PATH": "/nowhere"})


def test_no_progress_callback_says_nothing_and_one_is_used_as_given():
    from helpers.base.say import or_quiet, quiet

    assert or_quiet(None) is quiet and quiet("anything") is None
    heard: list[str] = []
    or_quiet(heard.append)("a line")
    assert heard == ["a line"]


ENVIRONMENT_SEAM = "helpers/base/environ.py"
# Not the kit's WORKSHOP_* environment: a Lambda function's own variables, in its worker.
OTHER_ENVIRONMENTS = {"helpers/sandbox/awslambda/lambda_zygote.py"}
CALLBACK_SEAM = "helpers/base/say.py"


def _is_environ(node: ast.AST) -> bool:
    return isinstance(node, ast.Attribute) and node.attr == "environ"


def _writes_environment(node: ast.AST) -> bool:
    targets = (node.targets if isinstance(node, ast.Assign | ast.Delete)
               else [node.target] if isinstance(node, ast.AugAssign) else [])
    if any(isinstance(t, ast.Subscript) and _is_environ(t.value) for t in targets):
        return True
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and _is_environ(node.func.value)
            and node.func.attr in ("update", "pop", "popitem", "setdefault", "clear"))


def environment_writes(source: str) -> list[int]:
    """Lines that change ``os.environ`` (assign, delete, update, pop, setdefault, clear)."""
    return [node.lineno for node in ast.walk(ast.parse(source)) if _writes_environment(node)]


def _spells_out_progress(node: ast.AST) -> bool:
    if isinstance(node, ast.Subscript):
        return ast.unparse(node).replace(" ", "") in ("Callable[[str],None]",
                                                      "Callable[[str],Any]")
    return (isinstance(node, ast.BoolOp) and isinstance(node.op, ast.Or)
            and isinstance(node.values[-1], ast.Lambda))


def progress_types(source: str) -> list[int]:
    """Lines that spell the progress callback's type, or its default, out again."""
    return [node.lineno for node in ast.walk(ast.parse(source)) if _spells_out_progress(node)]


def test_the_workshop_environment_is_set_in_one_place_and_progress_typed_in_one():
    written, typed = [], []
    for name, path in modules().items():
        source = path.read_text()
        if name != ENVIRONMENT_SEAM and name not in OTHER_ENVIRONMENTS:
            written += [f"{name}:{line}" for line in environment_writes(source)]
        if name != CALLBACK_SEAM:
            typed += [f"{name}:{line}" for line in progress_types(source)]
    assert not written, f"os.environ changed outside {ENVIRONMENT_SEAM}: {written}"
    assert not typed, f"the progress callback spelled out outside {CALLBACK_SEAM}: {typed}"


def test_the_one_place_checks_find_what_they_look_for():
    assert environment_writes('os.environ["WORKSHOP_HOME"] = home') == [1]
    assert environment_writes('del os.environ["X"]\nos.environ.pop("Y", None)') == [1, 2]
    assert environment_writes('value = os.environ.get("WORKSHOP_HOME")') == []
    assert progress_types("Progress = Callable[[str], None] | None") == [1]
    assert progress_types("say = progress or (lambda _msg: None)") == [1]
    assert progress_types("say = or_quiet(progress)") == []
