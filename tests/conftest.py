"""Fixtures shared by the test layers: one started sandbox per pytest session.

The sandbox end-to-end tests (tests/sandbox) and the browser test against the
sandbox (tests/browser/test_web_ui_sandbox.py) share it; each deploys under a
participant prefix and domain of its own, so they share nothing else.
"""

from __future__ import annotations

import os

import pytest

from helpers.sandbox import SandboxSettings, running_sandbox

# Fast clock for tests: a 10 s health-check interval becomes 0.5 s, a 60 s TTL 3 s.
TEST_TIME_SCALE = 0.05


@pytest.fixture(scope="session")
def sandbox():
    os.environ["WORKSHOP_MODE"] = "sandbox"
    with running_sandbox(SandboxSettings(time_scale=TEST_TIME_SCALE)) as info:
        yield info
