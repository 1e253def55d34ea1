"""Waiting for a condition: one polling loop with a deadline, for the kit and its tests.

boto3's waiters come first where AWS has one (stacks, certificates, record
changes); this is for everything else: a ticket reaching the other region, a
health check turning, DNS answering another region, a sandbox stopping.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_until(predicate: Callable[[], T], timeout: float, interval: float = 0.1,
               what: str = "condition", *, between: Callable[[], object] | None = None,
               detail: Callable[[], object] | None = None) -> T:
    """Call ``predicate`` every ``interval`` s until it returns a truthy value; return it.

    Raises TimeoutError naming ``what`` (and ``detail()``, e.g. the last sample)
    once ``timeout`` s have passed. ``between`` runs after each falsy answer,
    before the pause (a redraw, a message).
    """
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            extra = f"; {detail()}" if detail is not None else ""
            raise TimeoutError(f"timed out after {timeout:.1f} s waiting for {what}{extra}")
        if between is not None:
            between()
        time.sleep(interval)
