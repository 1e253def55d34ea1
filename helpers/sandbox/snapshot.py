"""Writing the state file from a frozen copy of the process, so requests wait only for a fork.

Pickling the account takes about 0.1 s for a deployed workshop, but seconds with
tens of thousands of items (about 0.1-0.25 ms per item and stream record), and
nothing may change while it runs. So the sandbox forks: the child is a
copy-on-write image of the process at one instant, pickles it at leisure and
writes the file, while the parent -- after the few milliseconds of the fork --
serves requests again. (Redis saves the same way.)

The child runs only this thread's code, so it must not wait for anything another
thread could have held at the fork: it takes no lock (see
:mod:`helpers.sandbox.moto_state`), does not log, closes every inherited file
descriptor but stdin/stdout/stderr first (an inherited copy of a client's
socket would keep the connection open), and leaves with ``os._exit``. If the
sandbox dies meanwhile, the child does not replace the file: a new sandbox may
be using it already.

Without ``os.fork`` (Windows) the state is pickled in-process instead, while
requests wait.
"""

from __future__ import annotations

import contextlib
import gc
import os
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from helpers.sandbox import moto_state, state_file

CHILD_TIMEOUT_S = 300.0  # far beyond any save; a child still running then is stuck
POLL_S = 0.01
PICKLE_ATTEMPTS = 3  # in-process only: a data-plane thread may change a dict mid-pickle
EXIT_SAVED, EXIT_FAILED, EXIT_ABANDONED = 0, 1, 3


class SaveFailed(RuntimeError):
    pass


class Save:
    """A save under way (or done); :meth:`wait` returns the size of the file written."""

    def __init__(self, pid: int | None = None, size: int = 0) -> None:
        self.pid = pid
        self.size = size

    def wait(self, path: Path) -> int:
        if self.pid is None:
            return self.size
        deadline = time.monotonic() + CHILD_TIMEOUT_S
        while True:
            done, status = os.waitpid(self.pid, os.WNOHANG)
            if done:
                break
            if time.monotonic() >= deadline:
                os.kill(self.pid, 9)
                os.waitpid(self.pid, 0)
                raise SaveFailed(f"the process saving the state did not finish within "
                                 f"{CHILD_TIMEOUT_S:.0f} s and was stopped")
            time.sleep(POLL_S)
        code = os.waitstatus_to_exitcode(status)
        if code != EXIT_SAVED:
            raise SaveFailed(f"the process saving the state ended with status {code}; its "
                             "traceback is in the sandbox log")
        return path.stat().st_size


def start(path: Path, head: dict[str, Any], value: Callable[[], Any]) -> Save:
    """Begin saving ``value()`` (called in the child, on the state as it is now)."""
    if not hasattr(os, "fork"):
        return Save(size=state_file.write(path, _pickle(value), head))
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:
        _child(parent, path, head, value)  # never returns
    return Save(pid)


def _child(parent: int, path: Path, head: dict[str, Any], value: Callable[[], Any]) -> None:
    code = EXIT_FAILED
    try:
        gc.disable()  # no finalizer may close a descriptor number the file reuses
        os.closerange(3, os.sysconf("SC_OPEN_MAX"))
        payload = moto_state.dumps(value())
        written = state_file.write(path, payload, head,
                                   still_wanted=lambda: os.getppid() == parent)
        code = EXIT_SAVED if written else EXIT_ABANDONED
    except BaseException:  # noqa: BLE001 - report it in the log, then leave
        with contextlib.suppress(OSError):
            os.write(2, ("saving the sandbox state failed:\n" + traceback.format_exc()).encode())
    finally:
        os._exit(code)


def _pickle(value: Callable[[], Any]) -> bytes:
    for attempt in range(PICKLE_ATTEMPTS):
        try:
            return moto_state.dumps(value())
        except RuntimeError:  # "dictionary changed size during iteration"
            if attempt == PICKLE_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")
