"""How one `pytest` run holds every test layer, the notebooks included (see `make test`).

- Nothing a test does touches the checkout's own workshop home (a learner's
  saved settings and sandbox): each test process gets an empty one.
- With pytest-xdist's ``--dist loadfile`` a test file runs whole on one worker
  (its module fixtures deploy once), and the notebooks (nbval) run as one group:
  on one worker, first, in their numbered order and cell by cell, whatever
  order pytest-randomly gives the rest, against a fresh sandbox and workshop
  home of their own that are gone before the worker's next test file.
- Test files marked ``pytest.mark.long`` (minutes each: whole workshops, rooms) come
  right after the notebooks, so no worker starts one while the other is nearly done.
"""

from __future__ import annotations

import contextlib
import os
import tempfile

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
        "markers", "long: the file takes minutes (whole workshops); it is scheduled early")


def pytest_unconfigure(config: pytest.Config) -> None:
    _notebooks.close()
    _home.cleanup()


# pytest-randomly shuffles in a hook wrapper, before this.
@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    cells = sorted((i for i in items if _is_notebook_cell(i)),
                   key=lambda i: (str(i.fspath), getattr(i, "cell_num", 0)))
    rest = [i for i in items if not _is_notebook_cell(i)]
    long = [i for i in rest if i.get_closest_marker("long") is not None]
    # The longest groups first: with two workers, the last file to start decides the end.
    items[:] = cells + long + [i for i in rest if i.get_closest_marker("long") is None]


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
