"""Sandboxes of a test module's own, beside the session's (tests/conftest.py).

The session's sandbox runs a fast clock (0.05) so waits are short. Two kinds of module
need the workshop's own clock (0.1, what notebooks and rehearsals run at) instead:

- a room: a fresh account, as an instructor rehearses on, whose quotas start empty;
- failover timings (the drill, the end-to-end break): their bound is a few health-check
  intervals plus a TTL. At 0.05 that is 3.5 s, of the order of what a busy two-core machine
  adds by itself (a cold-started function answering in 5 s); at 0.1 it is 7 s, the bound
  notebook 04 asserts, so the tests check the same promise a learner sees.

While the module's sandbox runs, every client reaches it (``WORKSHOP_SANDBOX_FILE``); the
session's sandbox is back for the next module.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from helpers.sandbox import SandboxSettings, running_sandbox

WORKSHOP_TIME_SCALE = 0.1


def sandbox_at_workshop_clock() -> Iterator[dict[str, Any]]:
    """A fixture body: a fresh sandbox at the workshop's clock, keeping no state."""
    with running_sandbox(SandboxSettings(time_scale=WORKSHOP_TIME_SCALE, persist=False)) as info:
        yield info


@pytest.fixture(scope="module", name="sandbox")
def module_sandbox_at_workshop_clock(sandbox):
    """The ``sandbox`` of a module that imports this fixture, in place of the session's:
    failover timings asserted against the bound notebook 04 promises."""
    yield from sandbox_at_workshop_clock()
