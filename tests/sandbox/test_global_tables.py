"""DynamoDB global tables (version 2019.11.21) in the sandbox (`sandbox.dynamodb.global_tables`):
UpdateTable ReplicaUpdates with AWS's requirements, replica status, the replica's schema and
items, replication both ways one round trip late, last writer wins, replica deletion, and
replication that resumes after a restart."""

from __future__ import annotations

import time
import uuid

import pytest
from botocore.exceptions import ClientError

from helpers.connect.net import wait_until
from helpers.connect.sandbox_admin import SandboxAdmin
from helpers.sandbox import SandboxSettings, process
from helpers.sandbox.inter_region_latency import round_trip_ms
from workshop_sandboxes import (
    FAST_TIME_SCALE,
    module_sandbox_at_fast_clock,  # noqa: F401  (our `sandbox`)
)

HOME, AWAY = "eu-west-1", "ap-southeast-1"  # 181 ms apart
RTT_S = round_trip_ms(HOME, AWAY) / 1000
NEW_AND_OLD = {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}


def make_table(aws, region: str, name: str, stream: dict | None = NEW_AND_OLD) -> None:
    extra = {"StreamSpecification": stream} if stream else {}
    aws("dynamodb", region).create_table(
        TableName=name, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"},
                              {"AttributeName": "listKey", "AttributeType": "S"},
                              {"AttributeName": "createdAt", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        GlobalSecondaryIndexes=[{
            "IndexName": "byCreatedAt", "Projection": {"ProjectionType": "ALL"},
            "KeySchema": [{"AttributeName": "listKey", "KeyType": "HASH"},
                          {"AttributeName": "createdAt", "KeyType": "RANGE"}]}],
        **extra)


def ticket(key: str, text: str) -> dict:
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    return {"id": {"S": key}, "listKey": {"S": "ticket"}, "createdAt": {"S": now},
            "updatedAt": {"S": now}, "text": {"S": text}}


def replica_status(aws, region: str, name: str, of: str) -> str | None:
    try:
        table = aws("dynamodb", region).describe_table(TableName=name)["Table"]
    except ClientError:
        return None
    return next((r["ReplicaStatus"] for r in table.get("Replicas", [])
                 if r["RegionName"] == of), None)


def add_replica(aws, name: str, wait: bool = True) -> dict:
    answer = aws("dynamodb", HOME).update_table(
        TableName=name, ReplicaUpdates=[{"Create": {"RegionName": AWAY}}])["TableDescription"]
    if wait:
        wait_until(lambda: replica_status(aws, HOME, name, AWAY) == "ACTIVE", timeout=60,
                   interval=0.2, what=f"the replica of {name} in {AWAY} to be ACTIVE")
    return answer


def item(aws, region: str, name: str, key: str) -> dict | None:
    return aws("dynamodb", region).get_item(TableName=name, Key={"id": {"S": key}},
                                            ConsistentRead=True).get("Item")


@pytest.fixture()
def global_table(aws):
    """A table in HOME holding two tickets, with a replica in AWAY; deleted afterwards."""
    name = f"gt-{uuid.uuid4().hex[:8]}"
    make_table(aws, HOME, name)
    for key in ("before-1", "before-2"):
        aws("dynamodb", HOME).put_item(TableName=name, Item=ticket(key, "written before"))
    add_replica(aws, name)
    yield name
    db = aws("dynamodb", HOME)
    if replica_status(aws, HOME, name, AWAY) == "ACTIVE":
        db.update_table(TableName=name, ReplicaUpdates=[{"Delete": {"RegionName": AWAY}}])
    wait_until(lambda: replica_status(aws, HOME, name, AWAY) is None, timeout=60,
               interval=0.2, what="the replica to be deleted")
    db.delete_table(TableName=name)


def test_a_replica_starts_creating_then_is_active_with_the_schema_and_every_item(aws):
    name = f"gt-{uuid.uuid4().hex[:8]}"
    make_table(aws, HOME, name)
    aws("dynamodb", HOME).put_item(TableName=name, Item=ticket("old", "kept"))
    answer = add_replica(aws, name, wait=False)
    assert answer["Replicas"] == [{"RegionName": AWAY, "ReplicaStatus": "CREATING"}]
    assert answer["TableStatus"] == "UPDATING" and answer["GlobalTableVersion"] == "2019.11.21"
    wait_until(lambda: replica_status(aws, HOME, name, AWAY) == "ACTIVE", timeout=60,
               interval=0.2, what="the replica to be ACTIVE")
    home = aws("dynamodb", HOME).describe_table(TableName=name)["Table"]
    away = aws("dynamodb", AWAY).describe_table(TableName=name)["Table"]
    assert home["TableStatus"] == "ACTIVE"
    assert away["Replicas"] == [{"RegionName": HOME, "ReplicaStatus": "ACTIVE"}]
    for same in ("KeySchema", "AttributeDefinitions", "BillingModeSummary"):
        assert away[same] == home[same], same
    assert [i["IndexName"] for i in away["GlobalSecondaryIndexes"]] == ["byCreatedAt"]
    assert away["StreamSpecification"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert item(aws, AWAY, name, "old")["text"] == {"S": "kept"}
    listed = aws("dynamodb", AWAY).query(
        TableName=name, IndexName="byCreatedAt", KeyConditionExpression="listKey = :t",
        ExpressionAttributeValues={":t": {"S": "ticket"}})["Items"]
    assert [i["id"]["S"] for i in listed] == ["old"]
    aws("dynamodb", HOME).update_table(TableName=name,
                                       ReplicaUpdates=[{"Delete": {"RegionName": AWAY}}])
    assert replica_status(aws, HOME, name, AWAY) == "DELETING"
    wait_until(lambda: replica_status(aws, HOME, name, AWAY) is None, timeout=60,
               interval=0.2, what="the replica to be deleted")
    with pytest.raises(ClientError, match="ResourceNotFoundException"):
        aws("dynamodb", AWAY).describe_table(TableName=name)
    home = aws("dynamodb", HOME).describe_table(TableName=name)["Table"]
    assert "Replicas" not in home and item(aws, HOME, name, "old")  # a plain table again
    aws("dynamodb", HOME).delete_table(TableName=name)


@pytest.mark.parametrize("case", ["no stream", "new image only", "table in the region",
                                  "same region"])
def test_a_replica_needs_what_aws_requires(aws, case):
    name = f"gt-{uuid.uuid4().hex[:8]}"
    stream = {"no stream": None, "new image only": {
        "StreamEnabled": True, "StreamViewType": "NEW_IMAGE"}}.get(case, NEW_AND_OLD)
    make_table(aws, HOME, name, stream)
    if case == "table in the region":
        make_table(aws, AWAY, name)
    region = HOME if case == "same region" else AWAY
    with pytest.raises(ClientError) as raised:
        aws("dynamodb", HOME).update_table(
            TableName=name, ReplicaUpdates=[{"Create": {"RegionName": region}}])
    error = raised.value.response["Error"]
    assert error["Code"] == "ValidationException", error
    expected = {"no stream": "NEW_AND_OLD_IMAGES", "new image only": "NEW_AND_OLD_IMAGES",
                "table in the region": "already existed as tables",
                "same region": "already has a replica"}[case]
    assert expected in error["Message"]
    assert "Replicas" not in aws("dynamodb", HOME).describe_table(TableName=name)["Table"]
    aws("dynamodb", HOME).delete_table(TableName=name)
    if case == "table in the region":
        aws("dynamodb", AWAY).delete_table(TableName=name)


def test_no_second_replica_change_while_one_is_under_way(aws):
    name = f"gt-{uuid.uuid4().hex[:8]}"
    make_table(aws, HOME, name)
    add_replica(aws, name, wait=False)
    with pytest.raises(ClientError, match="ResourceInUseException"):
        aws("dynamodb", HOME).update_table(
            TableName=name, ReplicaUpdates=[{"Delete": {"RegionName": AWAY}}])
    with pytest.raises(ClientError, match="ResourceInUseException"):
        aws("dynamodb", HOME).delete_table(TableName=name)
    wait_until(lambda: replica_status(aws, HOME, name, AWAY) == "ACTIVE", timeout=60,
               interval=0.2, what="the replica to be ACTIVE")
    aws("dynamodb", AWAY).delete_table(TableName=name)  # DeleteTable deletes one replica
    assert "Replicas" not in aws("dynamodb", HOME).describe_table(TableName=name)["Table"]
    aws("dynamodb", HOME).delete_table(TableName=name)


def test_writes_replicate_both_ways_one_round_trip_later(aws, global_table):
    name = global_table
    for source, target in ((HOME, AWAY), (AWAY, HOME)):
        key = f"{source}-{uuid.uuid4().hex[:6]}"
        aws("dynamodb", source).put_item(TableName=name, Item=ticket(key, source))
        written = time.monotonic()
        wait_until(lambda k=key, t=target: item(aws, t, name, k), timeout=10, interval=0.01,
                   what=f"{key} in {target}")
        assert time.monotonic() - written >= RTT_S * 0.9  # it crossed the distance
        aws("dynamodb", source).delete_item(TableName=name, Key={"id": {"S": key}})
        wait_until(lambda k=key, t=target: item(aws, t, name, k) is None, timeout=10,
                   interval=0.01, what=f"{key} deleted in {target}")
    assert item(aws, AWAY, name, "before-1")  # the items it was created with


@pytest.mark.parametrize("last", [HOME, AWAY])
def test_the_same_ticket_written_in_both_regions_at_once_last_writer_wins(aws, global_table,
                                                                         last):
    """DynamoDB's documented rule: concurrent updates of one item in different regions are
    settled by last writer wins, and every replica ends with that same version."""
    name, key = global_table, f"clash-{uuid.uuid4().hex[:6]}"
    first = AWAY if last == HOME else HOME
    started = time.monotonic()
    aws("dynamodb", first).put_item(TableName=name, Item=ticket(key, f"from {first}"))
    aws("dynamodb", last).put_item(TableName=name, Item=ticket(key, f"from {last}"))
    # Both writes landed within one replication interval: neither had seen the other.
    assert time.monotonic() - started < RTT_S
    assert item(aws, first, name, key)["text"] == {"S": f"from {first}"}
    time.sleep(RTT_S * 3)
    for region in (HOME, AWAY):
        assert item(aws, region, name, key)["text"] == {"S": f"from {last}"}, region


def test_replication_resumes_after_a_restart(aws, tmp_path, monkeypatch):
    status = tmp_path / "sandbox.json"
    monkeypatch.setenv("WORKSHOP_SANDBOX_FILE", str(status))
    settings = SandboxSettings(time_scale=FAST_TIME_SCALE, quotas=False)
    try:
        process.up(settings, status_file=status, stop_with_parent=True)
        name = f"gt-{uuid.uuid4().hex[:8]}"
        make_table(aws, HOME, name)
        add_replica(aws, name)
        aws("dynamodb", HOME).put_item(TableName=name, Item=ticket("last-before", "sent?"))
        process.down(status)  # a last save: the change and how far replication got
        info = process.up(settings, status_file=status, stop_with_parent=True)
        assert replica_status(aws, HOME, name, AWAY) == "ACTIVE"
        wait_until(lambda: item(aws, AWAY, name, "last-before"), timeout=10, interval=0.05,
                   what="the change made before the restart in the replica")
        for source, target in ((HOME, AWAY), (AWAY, HOME)):
            aws("dynamodb", source).put_item(TableName=name, Item=ticket(f"after-{source}", ""))
            wait_until(lambda s=source, t=target: item(aws, t, name, f"after-{s}"), timeout=10,
                       interval=0.05, what=f"a change in {source} after the restart")
        stats = SandboxAdmin(info["endpoint_url"]).global_tables()[name]
        assert stats[HOME]["sent"] <= 2 and stats[AWAY]["sent"] == 1  # nothing sent twice
    finally:
        process.down(status)
