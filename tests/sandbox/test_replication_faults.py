"""Replication under faults: 10,000 changes reach the secondary intact, except one
record the target rejects, which the failure queue identifies and a re-drive repairs.
The long tier runs the 10,000; `make test` runs the same story with 2,000 changes and
every fault's counts scaled with them, so each fault still fires.

The source table gets a mix of inserts, updates and deletes through
BatchWriteItem while the sandbox's fault injection (helpers/sandbox/faults.py)
makes the secondary's table throttle, fail, answer late (past the replicator's
read timeout), return unprocessed items, reject one ticket for good, and makes
the event source mapping deliver some batches twice and a worker die mid-batch.
The replicator (lambda_src/replicator.py) runs unchanged.
"""

from __future__ import annotations

import json
import random
import time
from datetime import UTC, datetime, timedelta

import pytest

from helpers.aws import deployment, replication
from helpers.connect.sandbox_admin import SandboxAdmin
from helpers.connect.session import client
from helpers.core.config import WorkshopConfig
from workshop_cli import workshop
from workshop_steps import tear_down

INSERTS, UPDATES, DELETES = 6_000, 2_500, 1_500
WRITE_BATCH = 25
# Each batch pays real inter-region round trips (eu-west-1 -> ap-southeast-1, 181 ms,
# helpers/sandbox/inter_region_latency.py) besides the injected faults: measured at about
# 45 records/s on a busy two-core machine, so 10,000 changes get 400 s.
SETTLE_TIMEOUT_S = 400
TIMEOUT_DELAY_S = 10.5  # the replicator's read timeout is 10 s (lambda_src/common.py)


@pytest.fixture()
def config(sandbox, tmp_path_factory, new_participant):
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("WORKSHOP_HOME", str(tmp_path_factory.mktemp("workshop-home")))
        config = new_participant("rf")
        for region in config.regions:
            deployment.deploy_api(config, region)
        deployment.deploy_replication(config)
        try:
            yield config
        finally:
            try:
                SandboxAdmin(sandbox["endpoint_url"]).clear_faults()
            finally:
                tear_down(config)


def scaled(count: int, share: float, least: int = 1) -> int:
    """A count of the 10,000-change story at ``share`` of its size."""
    return max(least, round(count * share))


def plan(share: float = 1.0, seed: int = 7) -> tuple[list[tuple[str, dict]], str]:
    """10,000 changes (6,000 inserts, 2,500 updates, 1,500 deletes, interleaved), or
    ``share`` of each, and the id of the one ticket the target will reject (inserted once,
    never changed after)."""
    rng = random.Random(seed)
    inserts, updates, deletes = (scaled(n, share) for n in (INSERTS, UPDATES, DELETES))
    first = scaled(300, share)
    kinds = ["update"] * updates + ["delete"] * deletes + ["insert"] * (inserts - first)
    rng.shuffle(kinds)
    kinds = ["insert"] * first + kinds  # something to update or delete from the start
    clock = datetime.now(UTC)
    live: list[str] = []
    items: dict[str, dict] = {}
    changes: list[tuple[str, dict]] = []
    rejected = ""
    for step, kind in enumerate(kinds):
        stamp = (clock + timedelta(microseconds=10 * step)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        if kind == "insert":
            ticket_id = f"{rng.getrandbits(128):032x}"
            # Four attributes, not a whole ticket: the replicator copies images whatever
            # their shape, and moto's (de)serialisation costs time per attribute value.
            items[ticket_id] = {"id": {"S": ticket_id}, "description": {"S": f"ticket {step}"},
                                "status": {"S": "open"}, "updatedAt": {"S": stamp}}
            changes.append(("put", dict(items[ticket_id])))
            if step == scaled(2_500, share):
                rejected = ticket_id  # never touched again
            else:
                live.append(ticket_id)
        elif kind == "update":
            ticket_id = rng.choice(live)
            items[ticket_id] = {**items[ticket_id], "updatedAt": {"S": stamp},
                                "status": {"S": rng.choice(["in-progress", "resolved"])},
                                "description": {"S": f"edited at step {step}"}}
            changes.append(("put", dict(items[ticket_id])))
        else:
            ticket_id = live.pop(rng.randrange(len(live)))
            changes.append(("delete", {"id": {"S": ticket_id}}))
    assert len(changes) == inserts + updates + deletes and rejected
    return changes, rejected


def write_all(ddb, table: str, changes: list[tuple[str, dict]]) -> None:
    """BatchWriteItem, 25 at a time; a key appears at most once per call."""
    batch: list[dict] = []
    keys: set[str] = set()

    def flush() -> None:
        pending = {table: list(batch)}
        while pending:
            pending = ddb.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
        batch.clear()
        keys.clear()

    for kind, data in changes:
        key = data["id"]["S"]
        if key in keys or len(batch) == WRITE_BATCH:
            flush()
        keys.add(key)
        batch.append({"PutRequest": {"Item": data}} if kind == "put"
                     else {"DeleteRequest": {"Key": data}})
    if batch:
        flush()


def scan(region: str, table: str) -> dict[str, dict]:
    pages = client("dynamodb", region).get_paginator("scan").paginate(
        TableName=table, ConsistentRead=True)
    return {item["id"]["S"]: item for page in pages for item in page["Items"]}


def differences(source: dict[str, dict], target: dict[str, dict]) -> dict[str, list[str]]:
    return {
        "lost": sorted(set(source) - set(target)),
        "extra": sorted(set(target) - set(source)),
        "stale": sorted(k for k in set(source) & set(target) if source[k] != target[k]),
    }


def mapping_stats(endpoint_url: str, function_name: str) -> dict:
    stats = SandboxAdmin(endpoint_url).stream_mappings()
    [found] = [s for s in stats.values() if s["function_arn"].endswith(f":{function_name}")]
    return found


def log_lines(config: WorkshopConfig, function: str) -> list[str]:
    logs = client("logs", config.primary_region)
    pages = logs.get_paginator("filter_log_events").paginate(
        logGroupName=f"/aws/lambda/{function}")
    return [event["message"] for page in pages for event in page["events"]]


@pytest.mark.long
def test_ten_thousand_changes_survive_faults_and_the_rejected_one_is_redriven(config, sandbox):
    changes_survive_faults_and_the_rejected_one_is_redriven(config, sandbox, share=1.0)


def test_two_thousand_changes_survive_the_same_faults_scaled_and_the_rejected_one_is_redriven(
        config, sandbox):
    """The fast tier's stand-in: a fifth of the changes, each fault's counts a fifth too."""
    changes_survive_faults_and_the_rejected_one_is_redriven(config, sandbox, share=0.2)


def changes_survive_faults_and_the_rejected_one_is_redriven(config, sandbox, share: float):
    started = time.monotonic()
    endpoint = sandbox["endpoint_url"]
    primary, secondary = config.regions
    source = deployment.stack_outputs(config, "api", primary)["TableName"]
    target = deployment.stack_outputs(config, "api", secondary)["TableName"]
    function = deployment.stack_outputs(config, "replication", primary)[
        "ReplicatorFunctionName"]
    changes, rejected = plan(share)
    at_target = {"service": "dynamodb", "region": secondary, "table": target}

    def every(n: int) -> int:
        """Per-batch faults (one BatchGetItem a batch, a worker a batch) come as often per
        change: their spacing scales with the changes. Per-request faults on BatchWriteItem
        keep their spacing: a batch makes as many writes whatever the number of changes."""
        return scaled(n, share, least=2)

    SandboxAdmin(endpoint).add_faults(
        # The ticket the target refuses for good (until the cause is "fixed" below).
        {**at_target, "id": "reject-one", "operation": "BatchWriteItem", "contains": rejected,
         "action": "error", "status": 400, "code": "ValidationException",
         "message": "Item size has exceeded the maximum allowed size"},
        {**at_target, "id": "throttle", "operation": "BatchWriteItem", "action": "throttle",
         "every": 40},
        {**at_target, "id": "unprocessed", "operation": "BatchWriteItem",
         "action": "unprocessed", "every": 15, "after": scaled(3, share)},
        {**at_target, "id": "failing-reads", "operation": "BatchGetItem", "action": "error",
         "every": every(30)},
        # 6 failures in a row: more than the SDK's 5 attempts, so a whole batch fails
        # and the event source mapping has to retry it.
        {**at_target, "id": "outage", "operation": "BatchWriteItem", "action": "error",
         "after": scaled(200, share), "times": 6},
        {**at_target, "id": "timeout", "operation": "BatchWriteItem", "action": "delay",
         "seconds": TIMEOUT_DELAY_S, "after": scaled(100, share), "times": 1},
        {**at_target, "id": "kill-worker", "operation": "BatchWriteItem", "action": "kill",
         "function": function, "after": scaled(300, share), "every": every(50), "times": 2},
        {"id": "duplicates", "action": "duplicate", "function": function, "every": 7},
    )

    write_all(client("dynamodb", primary), source, changes)
    written_s = time.monotonic() - started
    deadline = time.monotonic() + scaled(SETTLE_TIMEOUT_S, share, least=120)
    while mapping_stats(endpoint, function)["position"] < len(changes):
        assert time.monotonic() < deadline, mapping_stats(endpoint, function)
        time.sleep(0.5)
    settled_s = time.monotonic() - started

    # Every fault really happened.
    fired = {rule_id: rule["fired"] for rule_id, rule in SandboxAdmin(endpoint).faults().items()}
    assert all(fired.values()), fired
    stats = mapping_stats(endpoint, function)
    assert stats["duplicates"] >= 1 and stats["failures"] >= 1

    # 0 lost, 0 stale, nothing extra - apart from the rejected ticket.
    source_items, target_items = scan(primary, source), scan(secondary, target)
    assert len(source_items) == scaled(INSERTS, share) - scaled(DELETES, share)
    assert differences(source_items, target_items) == {
        "lost": [rejected], "extra": [], "stale": []}

    # The failure queue describes the discarded batch as Lambda does: shard and range.
    [batch] = replication.failed_batches(config)
    assert batch["condition"] == "RetryAttemptsExhausted"
    assert batch["batchSize"] == stats["discarded"]
    streams = client("dynamodbstreams", primary)
    iterator = streams.get_shard_iterator(
        StreamArn=batch["streamArn"], ShardId=batch["shardId"],
        ShardIteratorType="AT_SEQUENCE_NUMBER",
        SequenceNumber=batch["startSequenceNumber"])["ShardIterator"]
    records = streams.get_records(ShardIterator=iterator, Limit=batch["batchSize"])["Records"]
    assert records[0]["dynamodb"]["Keys"] == {"id": {"S": rejected}}
    assert records[-1]["dynamodb"]["SequenceNumber"] == batch["endSequenceNumber"]

    # ... and the replicator's log names the key and the reason.
    lines = log_lines(config, function)
    refused = [json.loads(line) for line in lines
               if '"record not replicated"' in line and rejected in line]
    assert refused and "ValidationException" in refused[-1]["reason"]
    assert refused[-1]["key"] == {"id": {"S": rejected}}
    assert any("Runtime exited with error" in line for line in lines)  # the killed worker

    # The cause is fixed; the re-drive re-reads the range from the stream and applies it.
    SandboxAdmin(endpoint).clear_faults()
    listed = workshop("replication", "failed", "--prefix", config.prefix)
    assert listed.returncode == 0, listed.stderr
    assert "1 failed batch(es)" in listed.stdout and batch["startSequenceNumber"] in listed.stdout
    redriven = workshop("replication", "redrive", "--prefix", config.prefix)
    assert redriven.returncode == 0, redriven.stdout + redriven.stderr
    assert "re-drove 1 failed batch(es)" in redriven.stdout
    assert differences(scan(primary, source), scan(secondary, target)) == {
        "lost": [], "extra": [], "stale": []}
    assert replication.failed_batches(config) == []
    again = workshop("replication", "redrive", "--prefix", config.prefix)
    assert again.returncode == 0 and "the failure queue is empty" in again.stdout
    print(f"\nfaults test: {len(changes)} changes written in {written_s:.1f} s, replicated in "
          f"{settled_s:.1f} s, total {time.monotonic() - started:.1f} s; faults fired {fired}; "
          f"mapping {stats}")


def test_an_unprocessed_fault_applies_the_first_half_and_returns_the_rest(sandbox,
                                                                          new_participant):
    """The fault the replicator's retries of UnprocessedItems depend on: it once answered 500
    instead (the SDK retried the whole call), so dropping them went unnoticed above."""
    region, table = "ap-southeast-1", f"{new_participant('uf').prefix}-unprocessed"
    ddb = client("dynamodb", region)
    ddb.create_table(TableName=table, BillingMode="PAY_PER_REQUEST",
                     KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}])
    admin = SandboxAdmin(sandbox["endpoint_url"])
    admin.add_faults({"id": "unprocessed-once", "service": "dynamodb", "region": region,
                      "table": table, "operation": "BatchWriteItem", "action": "unprocessed",
                      "times": 1})
    try:
        puts = [{"PutRequest": {"Item": {"id": {"S": f"t{n}"}}}} for n in range(4)]
        answer = ddb.batch_write_item(RequestItems={table: puts})
        stored = ddb.scan(TableName=table, ConsistentRead=True)["Items"]
    finally:
        admin.clear_faults()
        ddb.delete_table(TableName=table)
    assert answer["UnprocessedItems"] == {table: puts[2:]}
    assert sorted(item["id"]["S"] for item in stored) == ["t0", "t1"]
