"""How one `pytest` run holds every test layer, the notebooks included (see `make test`).

- Nothing a test does touches the checkout's own workshop home (a learner's
  saved settings and sandbox): each test process gets an empty one.
- With pytest-xdist's ``--dist loadfile`` a test file runs whole on one worker
  (its module fixtures deploy once), and the notebooks (nbval) run as one group:
  on one worker, first, in their numbered order and cell by cell, whatever
  order pytest-randomly gives the rest, against a fresh sandbox and workshop
  home of their own that are gone before the worker's next test file.
- Tests marked ``pytest.mark.long`` (minutes each: whole workshops, rooms) are the long
  tier, ``make test-long``; ``make test`` deselects them (``-m "not long"``).
- After the notebooks, test files go out longest first, by the durations the last runs
  recorded (``out/junit-*.xml``, else the committed ``tests/durations.json`` that
  ``make suite-times`` writes; files in neither first), so no worker starts a long file
  while the other is nearly done.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import tempfile
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path

import pytest

NOTEBOOKS_GROUP = "notebooks"
_home = tempfile.TemporaryDirectory(prefix="workshop-tests-home-")
_notebooks = contextlib.ExitStack()
_saved_environment: dict[str, str] = {}


def _is_notebook_cell(item: pytest.Item) -> bool:
    return str(getattr(item, "fspath", "")).endswith(".ipynb")


def pytest_configure(config: pytest.Config) -> None:
    os.environ["WORKSHOP_HOME"] = _home.name
    config.addinivalue_line(
        "markers", "long: takes minutes (whole workshops, rooms): only in `make test-long`, "
                   "with a fast stand-in in `make test`")


def pytest_unconfigure(config: pytest.Config) -> None:
    _notebooks.close()
    _home.cleanup()


def _last_durations(root: Path) -> dict[str, float]:
    """Seconds each test took in the last recorded runs (all its parameters together), by
    ``<JUnit class name>::<name>`` (``tests.sandbox.test_drill::test_...``): the reports
    `make test` and `make test-long` write, else the figures `make suite-times` committed."""
    reports = sorted((root / "out").glob("junit-*.xml"))
    if not reports:
        try:
            return json.loads((root / "tests" / "durations.json").read_text())
        except (FileNotFoundError, ValueError):
            return {}
    seconds: dict[str, float] = defaultdict(float)
    for report in reports:
        try:
            for case in ET.parse(report).getroot().iter("testcase"):
                name = case.get("name", "").split("[", 1)[0]
                seconds[f"{case.get('classname')}::{name}"] += float(case.get("time") or 0)
        except (ET.ParseError, ValueError):
            continue  # a report cut short by an interrupted run: order without it
    return seconds


def _junit_key(item: pytest.Item) -> str:
    """The item's key in :func:`_last_durations`, as pytest's JUnit report names it."""
    module = item.nodeid.split("::", 1)[0].removesuffix(".py").replace("/", ".")
    cls = getattr(item, "cls", None)
    name = getattr(item, "originalname", None) or item.name
    return f"{module}{'.' + cls.__name__ if cls else ''}::{name}"


# After pytest-randomly's shuffle, the story modules' file order (tests/conftest.py) and
# `-m`'s deselection, so only the tests that will run count.
@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    cells = sorted((i for i in items if _is_notebook_cell(i)),
                   key=lambda i: (str(i.fspath), getattr(i, "cell_num", 0)))
    rest = [i for i in items if not _is_notebook_cell(i)]
    # The longest files first: the last file to start decides the end.
    # A file's time is its selected tests' last durations (a new file, none known, first).
    last = _last_durations(Path(config.rootpath))
    seconds = seconds_per_file([(_file(i), _junit_key(i)) for i in rest], last)
    # sorted() is stable: a module's tests keep the order they were given.
    rest.sort(key=lambda i: (i.get_closest_marker("long") is None, -seconds[_file(i)],
                             _file(i)))
    items[:] = cells + rest


def seconds_per_file(file_and_key, last: dict[str, float]) -> dict[str, float]:
    """Each file's seconds: its selected tests' last durations (a file with none known, if any
    are known at all, first). Every xdist worker must reach the same figures, whatever order
    the tests come in: fsum is exact in any order, so 0.1 + 0.2 + 0.3 ties with 0.6."""
    keys: dict[str, set[str]] = defaultdict(set)
    for file, key in file_and_key:
        keys[file].add(key)
    return {file: math.fsum(last[k] for k in found if k in last)
            if any(k in last for k in found) else float("inf") if last else 0.0
            for file, found in keys.items()}


def _file(item: pytest.Item) -> str:
    return item.nodeid.split("::", 1)[0]


def pytest_xdist_make_scheduler(config: pytest.Config, log):
    """``--dist loadfile``, except that every notebook goes to one worker, in order."""
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    # xdist would hand out the files with the most tests first; keep the collection's order
    # instead (above: the notebooks, then the long files), whatever their number of tests.
    config.option.loadscopereorder = False

    class FilesAndNotebooks(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::", 1)[0]
            return NOTEBOOKS_GROUP if path.endswith(".ipynb") else path

    return FilesAndNotebooks(config, log)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """The notebooks' sandbox, started before nbval starts the first notebook's kernel.

    nbval starts a kernel in its collector's set-up, before any fixture runs,
    so this is a set-up hook rather than a fixture.
    """
    if not _is_notebook_cell(item) or _notebooks._exit_callbacks:  # type: ignore[attr-defined]
        return
    from helpers.sandbox import SandboxSettings, running_sandbox

    _saved_environment.clear()
    _saved_environment.update(os.environ)
    home = _notebooks.enter_context(tempfile.TemporaryDirectory(prefix="workshop-nbval-"))
    os.environ.update({"WORKSHOP_HOME": home, "WORKSHOP_MODE": "sandbox"})
    for name in ("WORKSHOP_PREFIX", "WORKSHOP_DOMAIN", "WORKSHOP_PRIMARY_REGION",
                 "WORKSHOP_SECONDARY_REGION"):
        os.environ.pop(name, None)
    _notebooks.enter_context(running_sandbox(SandboxSettings(persist=False)))


def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    """After the last notebook cell: the sandbox stops and the environment is as before."""
    if _is_notebook_cell(item) and (nextitem is None or not _is_notebook_cell(nextitem)):
        _notebooks.close()
        os.environ.clear()
        os.environ.update(_saved_environment)
