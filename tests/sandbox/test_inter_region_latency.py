"""A call from one region to another pays the round trip between them, in real time
(helpers.sandbox.distance): the kit's replicator in eu-west-1 writing to a table in
ap-southeast-1 replicates no faster than its reads and writes cross that distance."""

from __future__ import annotations

import json
import statistics
import time
import uuid

import pytest

from helpers.aws.packaging import build_zip
from helpers.connect.net import wait_until
from helpers.sandbox.inter_region_latency import round_trip_ms

SOURCE_REGION = "eu-west-1"
FAR, NEAR = "ap-southeast-1", "eu-west-1"
ITEMS = 4


def test_the_latency_table_is_the_published_one():
    assert round_trip_ms("eu-west-1", "ap-southeast-1") == 181  # CloudPing p50 sample
    assert round_trip_ms("us-east-1", "us-east-2") == 13
    assert round_trip_ms("eu-west-1", "eu-west-1") == 0
    assert round_trip_ms("ap-southeast-3", "eu-west-1") == round_trip_ms("ap-southeast-1",
                                                                          "eu-west-1")


def table(aws, region: str, name: str, stream: bool) -> str | None:
    db = aws("dynamodb", region)
    extra = {"StreamSpecification": {"StreamEnabled": True,
                                     "StreamViewType": "NEW_AND_OLD_IMAGES"}} if stream else {}
    db.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                    AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                    KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}], **extra)
    return db.describe_table(TableName=name)["Table"].get("LatestStreamArn")


@pytest.fixture()
def replicate_to(aws):
    """A source table in eu-west-1 replicated by the kit's replicator into a target table
    in ``region``; returns a function that writes an item and measures its lag."""
    made: list[tuple[str, str, str]] = []
    role = aws("iam", "us-east-1").create_role(
        RoleName=f"lat-{uuid.uuid4().hex[:8]}", AssumeRolePolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole"}]}))["Role"]["Arn"]

    def make(region: str):
        token = uuid.uuid4().hex[:8]
        source, target = f"lat-src-{token}", f"lat-dst-{token}"
        stream = table(aws, SOURCE_REGION, source, stream=True)
        table(aws, region, target, stream=False)
        lam = aws("lambda", SOURCE_REGION)
        function = f"lat-replicator-{token}"
        lam.create_function(
            FunctionName=function, Runtime="python3.12", Role=role,
            Handler="replicator.handler", Code={"ZipFile": build_zip()}, Timeout=30,
            Environment={"Variables": {"TABLE_NAME": source, "TARGET_REGION": region,
                                       "TARGET_TABLE_NAME": target}})
        lam.invoke(FunctionName=function, Payload=b'{"Records": []}')  # the cold start
        mapping = lam.create_event_source_mapping(
            EventSourceArn=stream, FunctionName=function, StartingPosition="LATEST",
            BatchSize=100, FunctionResponseTypes=["ReportBatchItemFailures"])["UUID"]
        made.append((function, mapping, region))

        def lag() -> float:
            key = uuid.uuid4().hex
            aws("dynamodb", SOURCE_REGION).put_item(
                TableName=source, Item={"id": {"S": key}, "updatedAt": {"S": "2026-01-01"}})
            written = time.monotonic()
            wait_until(lambda: "Item" in aws("dynamodb", region).get_item(
                TableName=target, Key={"id": {"S": key}}, ConsistentRead=True),
                timeout=30, interval=0.01, what=f"{key} in {target} ({region})")
            return time.monotonic() - written

        return lag

    yield make
    for function, mapping, _ in made:
        aws("lambda", SOURCE_REGION).delete_event_source_mapping(UUID=mapping)
        aws("lambda", SOURCE_REGION).delete_function(FunctionName=function)


def test_replication_to_a_far_region_lags_by_the_round_trips_it_makes(replicate_to):
    far, near = replicate_to(FAR), replicate_to(NEAR)
    far_lags = [far() for _ in range(ITEMS)]
    near_lags = [near() for _ in range(ITEMS)]
    rtt = round_trip_ms(SOURCE_REGION, FAR) / 1000
    # The replicator reads the target's versions (BatchGetItem), then writes (BatchWriteItem):
    # two round trips to the far region for every batch, none to the near one.
    assert min(far_lags) >= 2 * rtt, far_lags
    assert statistics.median(far_lags) - statistics.median(near_lags) >= 1.5 * rtt, (
        far_lags, near_lags)
