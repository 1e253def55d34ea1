"""A started sandbox, shared by the sandbox tests of one pytest session."""

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


@pytest.fixture()
def aws(sandbox):
    """boto3 clients for the test sandbox: ``aws("lambda", "eu-west-1")``."""
    from helpers.session import client

    return client
