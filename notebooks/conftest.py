"""nbval runs the notebooks against a fresh sandbox, in a fresh workshop home.

The sandbox must exist before nbval starts the first kernel (a collector
set-up, which runs before any fixture), so it is started from the first
test's set-up hook and stopped when the session ends.
"""

from __future__ import annotations

import contextlib
import os
import tempfile

import pytest

_stack = contextlib.ExitStack()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    if _stack._exit_callbacks or not str(item.fspath).endswith(".ipynb"):  # type: ignore[attr-defined]
        return
    from helpers.sandbox import SandboxSettings, running_sandbox

    home = _stack.enter_context(tempfile.TemporaryDirectory(prefix="workshop-nbval-"))
    os.environ.update({"WORKSHOP_HOME": home, "WORKSHOP_MODE": "sandbox"})
    for name in ("WORKSHOP_PREFIX", "WORKSHOP_DOMAIN", "WORKSHOP_PRIMARY_REGION",
                 "WORKSHOP_SECONDARY_REGION"):
        os.environ.pop(name, None)
    _stack.enter_context(running_sandbox(SandboxSettings()))


def pytest_sessionfinish(session, exitstatus):
    _stack.close()
