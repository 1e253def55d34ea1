"""A global table's replica that fails (CREATION_FAILED, REGION_DISABLED,
INACCESSIBLE_ENCRYPTION_CREDENTIALS, made so by the sandbox's ``replica`` fault) ends the
conversion's and the clean-up's waits at once, with a sentence saying what happened and what
to do (helpers.aws.global_tables); a replica that failed to be created is still deleted."""

from __future__ import annotations

import time

import pytest

from helpers.aws import global_tables
from helpers.connect.net import wait_until
from helpers.connect.sandbox_admin import SandboxAdmin
from helpers.core.config import WorkshopConfig


@pytest.fixture()
def participant(sandbox, aws, new_participant, monkeypatch, tmp_path):
    """A participant whose primary holds the tickets table (stream with both images), as
    module 4.1 finds it; the table and any replica are deleted afterwards."""
    monkeypatch.setenv("WORKSHOP_HOME", str(tmp_path))
    config: WorkshopConfig = new_participant("rf")
    name = global_tables.table_name(config)
    aws("dynamodb", config.primary_region).create_table(
        TableName=name, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})
    admin = SandboxAdmin(sandbox["endpoint_url"])
    yield config
    admin.clear_faults()
    db = aws("dynamodb", config.primary_region)
    status = global_tables.replicas(config).get(config.secondary_region)
    if status not in (None, "DELETING"):
        db.update_table(TableName=name,
                        ReplicaUpdates=[{"Delete": {"RegionName": config.secondary_region}}])
    wait_until(lambda: not global_tables.replicas(config), timeout=60, interval=0.2,
               what="the replica to be deleted")
    db.delete_table(TableName=name)


def fail_replica(sandbox, config: WorkshopConfig, status: str) -> None:
    SandboxAdmin(sandbox["endpoint_url"]).add_faults({
        "action": "replica", "table": global_tables.table_name(config),
        "region": config.secondary_region, "code": status, "times": 1,
        "message": f"{status} (a sandbox fault)"})


def test_a_replica_that_cannot_be_created_ends_the_conversion_and_is_then_removed(
        sandbox, participant):
    config = participant
    fail_replica(sandbox, config, "CREATION_FAILED")
    started = time.monotonic()
    with pytest.raises(global_tables.ReplicaFailed) as failed:
        global_tables.add_replica(config)
    assert time.monotonic() - started < 10  # not the 30 minutes' patience (90 s here)
    sentence = str(failed.value)
    assert sentence.startswith(f"the replica of {global_tables.table_name(config)} in "
                               f"{config.secondary_region} is CREATION_FAILED: DynamoDB could "
                               "not create it (CREATION_FAILED (a sandbox fault))")
    assert "remove_replicas(config)" in sentence and "\n" not in sentence
    # The clean-up deletes a replica that failed to be created, and waits no longer for it.
    removed = global_tables.remove_replicas(config)
    assert removed == [f"replica of table {global_tables.table_name(config)} "
                       f"({config.secondary_region})"]
    assert global_tables.replicas(config) == {}


@pytest.mark.parametrize("status, says", [
    ("REGION_DISABLED", "enable the region for the account"),
    ("INACCESSIBLE_ENCRYPTION_CREDENTIALS", "make the key usable again"),
])
def test_a_replica_that_fails_once_active_ends_the_clean_ups_wait(sandbox, participant,
                                                                   status, says):
    config = participant
    global_tables.add_replica(config)
    fail_replica(sandbox, config, status)
    wait_until(lambda: global_tables.replicas(config).get(config.secondary_region) == status,
               timeout=10, interval=0.1, what=f"the replica to be {status}")
    started = time.monotonic()
    with pytest.raises(global_tables.ReplicaFailed) as failed:
        global_tables.remove_replicas(config)
    assert time.monotonic() - started < 10
    assert f"is {status}: " in str(failed.value) and says in str(failed.value)
    # The conversion says the same, at once, rather than waiting for ACTIVE.
    with pytest.raises(global_tables.ReplicaFailed):
        global_tables.add_replica(config)


def test_a_replica_rule_needs_its_table_region_and_a_failure_state(sandbox):
    from helpers.connect.sandbox_admin import Refused

    admin = SandboxAdmin(sandbox["endpoint_url"])
    with pytest.raises(Refused, match="'replica' rule needs"):
        admin.add_faults({"action": "replica", "table": "t", "region": "eu-west-1",
                          "code": "ACTIVE"})
