"""Fixtures of the sandbox tests; the started sandbox itself is in tests/conftest.py."""

from __future__ import annotations

import uuid

import pytest


@pytest.fixture()
def aws(sandbox):
    """boto3 clients for the test sandbox: ``aws("lambda", "eu-west-1")``."""
    from helpers.connect.session import client

    return client


@pytest.fixture()
def new_zone(aws):
    """Make a fresh public hosted zone for a name no other test uses:
    ``zone_id, name = new_zone()`` (the id without ``/hostedzone/``)."""
    route53 = aws("route53", "us-east-1")

    def make() -> tuple[str, str]:
        name = f"zone-{uuid.uuid4().hex[:10]}.example.com"
        zone_id = route53.create_hosted_zone(Name=name, CallerReference=name)["HostedZone"]["Id"]
        return zone_id.split("/")[-1], name

    return make


@pytest.fixture()
def zone(new_zone):
    """A fresh public hosted zone: (zone id, domain name)."""
    return new_zone()


@pytest.fixture()
def participant_with_zone(sandbox, tmp_path, monkeypatch, new_participant):
    """Make a participant of its own (in a workshop home of its own) with a public hosted
    zone for its domain: ``config, zone_id = participant_with_zone("ad")``. The zone,
    emptied of its records, is deleted when the test ends."""
    from helpers.aws import failover

    monkeypatch.setenv("WORKSHOP_HOME", str(tmp_path))
    made: list[str] = []

    def make(label: str):
        config = new_participant(label)
        made.append(failover.hosted_zone(config, create=True)["Id"])
        return config, made[-1]

    yield make
    for zone_id in made:
        records = [r for r in failover.records(zone_id) if r["Type"] not in ("NS", "SOA")]
        failover.change_records(zone_id, [{"Action": "DELETE", "ResourceRecordSet": r}
                                          for r in records], "test clean-up")
        failover.route53().delete_hosted_zone(Id=zone_id)


@pytest.fixture(scope="module")
def full_workshop(sandbox, tmp_path_factory, new_participant):
    """The workshop deployed through module 3.3, once per test module, then cleaned up.

    Both API stacks, both UI stacks, replication, and Route 53 failover (zone,
    certificates, custom domains, health check, failover records) for a
    participant and domain of its own, so the module shares nothing with any
    other. Yields the :class:`~helpers.core.config.WorkshopConfig`.
    """
    from workshop_steps import deploy_regions, set_up_failover, tear_down

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("WORKSHOP_HOME", str(tmp_path_factory.mktemp("workshop-home")))
        config = new_participant("fw")
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
