"""Fixtures shared by the test layers: one started sandbox per pytest session.

The sandbox end-to-end tests (tests/sandbox) and the browser test against the
sandbox (tests/browser/test_web_ui_sandbox.py) share it; each deploys under a
participant prefix and domain of its own, so they share nothing else.
"""

from __future__ import annotations

import os
import secrets
from typing import Any

import pytest

from helpers.core.config import WorkshopConfig
from helpers.sandbox import SandboxSettings, running_sandbox

# Fast clock for tests: a 10 s health-check interval becomes 0.5 s, a 60 s TTL 3 s.
TEST_TIME_SCALE = 0.05


def unique_participant(label: str, *, own_domain: bool = True, **fields: Any) -> WorkshopConfig:
    """A sandbox participant no other test shares: the prefix ``<label>-<6 hex digits>`` and,
    with ``own_domain``, the domain ``<that prefix>.example.com`` (``own_domain=False``: the
    kit's default domain); any other field by name (``domain=``, ``create_zone=False``)."""
    prefix = f"{label}-{secrets.token_hex(3)}"
    if own_domain:
        fields.setdefault("domain", f"{prefix}.example.com")
    return WorkshopConfig(mode="sandbox", prefix=prefix, **fields)



@pytest.fixture(autouse=True)
def _the_process_mode_is_put_back():
    """A test that runs a command (``cli.main([... "--mode", "aws"])``) chooses the mode for
    the whole process (``session.use_mode``); put it back, or every later test in this worker
    makes AWS clients with no credentials."""
    from helpers.connect import session

    chosen = session._chosen_mode
    yield
    session._chosen_mode = chosen

@pytest.fixture(scope="session")
def new_participant():
    """:func:`unique_participant`, for fixtures and tests of any scope:
    ``config = new_participant("e2e")``."""
    return unique_participant


@pytest.fixture(scope="session")
def sandbox():
    os.environ["WORKSHOP_MODE"] = "sandbox"
    with running_sandbox(SandboxSettings(time_scale=TEST_TIME_SCALE, persist=False)) as info:
        yield info


@pytest.fixture(scope="session")
def deployed_workshop(sandbox, new_participant):
    """One participant deployed through module 3.3 in the session's sandbox, once per test
    process (each xdist worker), for every test that only reads a deployed workshop: both
    API and UI stacks, replication, and Route 53 failover, the pages on api.<domain>.

    Deploy once, check many: a test using it may read anything, and may change something
    only if it puts it back before it ends (it shares the participant with the worker's
    other test files). Cleaned up at the end of the process; the clean-up must leave
    nothing. Yields the :class:`~helpers.core.config.WorkshopConfig`.
    """
    from workshop_steps import deploy_regions, set_up_failover, tear_down

    config = new_participant("dw")
    try:
        deploy_regions(config)
        set_up_failover(config, republish_ui=True)
        yield config
    finally:
        tear_down(config)


# ---------------------------------------------------------------- test order
#
# The suite runs in random order (pytest-randomly): modules are shuffled, and so are the
# tests inside a module, so no test may rely on another's leftovers. The exception is a
# module that tells one story in steps over one deployed participant (deploy, check, break,
# restore, clean up), as the workshop itself does: it says so with
# ``pytestmark = pytest.mark.story`` and its tests keep their file order, while the module
# itself still lands anywhere in the shuffled run. Such a module must share nothing with
# any other (a participant, domain and workshop home of its own).


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "story: the module's tests are steps of one story and run in file order")


def pytest_collection_modifyitems(config, items):
    """Put the tests of each ``story`` module back in file order, in the places the shuffle
    gave that module's tests (runs after pytest-randomly's reordering). The notebook cells
    keep their order by the top-level conftest.py."""
    by_module: dict[str, list[int]] = {}
    for index, item in enumerate(items):
        if item.get_closest_marker("story") is not None:
            by_module.setdefault(str(item.path), []).append(index)
    for places in by_module.values():
        tests = sorted((items[i] for i in places), key=lambda item: item.reportinfo()[1] or 0)
        for place, item in zip(places, tests, strict=True):
            items[place] = item
