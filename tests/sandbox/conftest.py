"""Fixtures of the sandbox tests; the started sandbox itself is in tests/conftest.py."""

from __future__ import annotations

import pytest


@pytest.fixture()
def aws(sandbox):
    """boto3 clients for the test sandbox: ``aws("lambda", "eu-west-1")``."""
    from helpers.session import client

    return client


@pytest.fixture(scope="module")
def full_workshop(sandbox, tmp_path_factory):
    """The workshop deployed through module 3.3, once per test module, then cleaned up.

    Both API stacks, both UI stacks, replication, and Route 53 failover (zone,
    certificates, custom domains, health check, failover records) for a
    participant and domain of its own, so the module shares nothing with any
    other. Yields the :class:`~helpers.config.WorkshopConfig`.
    """
    import secrets

    from helpers.config import WorkshopConfig
    from workshop_steps import deploy_regions, set_up_failover, tear_down

    token = secrets.token_hex(3)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("WORKSHOP_HOME", str(tmp_path_factory.mktemp("workshop-home")))
        config = WorkshopConfig(mode="sandbox", prefix=f"fw-{token}",
                                domain=f"fw-{token}.example.com")
        try:
            deploy_regions(config)
            set_up_failover(config, republish_ui=True)
            yield config
        finally:
            tear_down(config)  # fails the run if anything is left in the shared sandbox


@pytest.fixture(scope="module")
def room_sandbox(sandbox):  # the session's sandbox sets the mode; this one is the room's
    """A sandbox of the room's own at the workshop's time scale (0.1), quotas on: a fresh
    account, as an instructor rehearses on, whose scaled health-check timeouts a loaded
    two-core machine running two participants at once still meets."""
    from workshop_sandboxes import sandbox_at_workshop_clock

    yield from sandbox_at_workshop_clock()
