"""Sandboxes of a test module's own, beside the session's (tests/conftest.py).

Each test runs at the clock its assertions need. The session's sandbox runs a fast clock
(0.05) so waits are short. A module whose waits are only generous timeouts around long AWS
delays (a global table's replica is CREATING for 120 AWS seconds) runs faster still
(``module_sandbox_at_fast_clock``, 0.02; the health checkers never probe more often than
their floor, so a faster clock costs no more CPU). Two kinds of module need the workshop's
own clock (0.1, what notebooks and rehearsals run at) instead:

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
FAST_TIME_SCALE = 0.02


def sandbox_at_workshop_clock() -> Iterator[dict[str, Any]]:
    """A fixture body: a fresh sandbox at the workshop's clock, keeping no state."""
    with running_sandbox(SandboxSettings(time_scale=WORKSHOP_TIME_SCALE, persist=False)) as info:
        yield info


@pytest.fixture(scope="module", name="sandbox")
def module_sandbox_at_workshop_clock(sandbox):
    """The ``sandbox`` of a module that imports this fixture, in place of the session's:
    failover timings asserted against the bound notebook 04 promises."""
    yield from sandbox_at_workshop_clock()


@pytest.fixture(scope="module", name="sandbox")
def module_sandbox_at_fast_clock(sandbox):
    """The ``sandbox`` of a module that imports this fixture, in place of the session's: a
    fresh one at ``FAST_TIME_SCALE``, for waits that are generous timeouts, not bounds."""
    with running_sandbox(SandboxSettings(time_scale=FAST_TIME_SCALE, persist=False)) as info:
        yield info
