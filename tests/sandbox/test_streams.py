"""DynamoDB Streams event source mappings in the sandbox behave like Lambda's."""

from __future__ import annotations

import io
import json
import time
import uuid
import zipfile

import pytest

from helpers.connect.sandbox_admin import SandboxAdmin

REGION = "eu-west-1"

# Records every batch it is given in a sink table, one item per invocation, so a
# test sees batches, their order and their contents. MODE picks a failure to act out.
RECORDER = '''
import json
import os
import boto3

ddb = boto3.client("dynamodb")


def handler(event, context):
    records = event["Records"]
    mode = os.environ.get("MODE", "record")
    if mode == "poison" and any("poison" in (r["dynamodb"].get("NewImage") or {})
                                for r in records):
        raise ValueError("poison record in batch")
    failures = []
    if mode == "partial":
        for record in records:
            seq = record["dynamodb"]["SequenceNumber"]
            if "failonce" in (record["dynamodb"].get("NewImage") or {}) and first_time(seq):
                failures.append({"itemIdentifier": seq})
    if mode == "malformed":
        return {"batchItemFailures": [{"itemIdentifier": ""}]}
    ddb.put_item(TableName=os.environ["SINK"], Item={
        "run": {"S": os.environ["RUN"]},
        "at": {"S": records[0]["dynamodb"]["SequenceNumber"] + "-" + context.aws_request_id},
        "event": {"S": json.dumps(event)},
    })
    return {"batchItemFailures": failures}


def first_time(seq):
    try:
        ddb.put_item(TableName=os.environ["SINK"],
                     Item={"run": {"S": os.environ["RUN"] + "-seen"}, "at": {"S": seq}},
                     ConditionExpression="attribute_not_exists(run)")
        return True
    except ddb.exceptions.ConditionalCheckFailedException:
        return False
'''


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def code_zip(source: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", source)
    return buffer.getvalue()


class Rig:
    """A table with a stream, a sink table and recorder functions mapped to the stream."""

    def __init__(self, aws) -> None:
        self.aws = aws
        self.ddb = aws("dynamodb", REGION)
        self.lam = aws("lambda", REGION)
        self.table = unique("tickets")
        self.stream_arn = self.ddb.create_table(
            TableName=self.table, BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        )["TableDescription"]["LatestStreamArn"]
        self.sink = unique("sink")
        self.ddb.create_table(
            TableName=self.sink, BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": "run", "KeyType": "HASH"},
                       {"AttributeName": "at", "KeyType": "RANGE"}],
            AttributeDefinitions=[{"AttributeName": "run", "AttributeType": "S"},
                                  {"AttributeName": "at", "AttributeType": "S"}])
        self.role = aws("iam", REGION).create_role(
            RoleName=unique("role"), AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        self.mappings: list[str] = []

    def function(self, mode: str = "record") -> str:
        name = unique("recorder")
        self.lam.create_function(
            FunctionName=name, Runtime="python3.12", Role=self.role, Handler="app.handler",
            Code={"ZipFile": code_zip(RECORDER)}, Timeout=30,
            Environment={"Variables": {"SINK": self.sink, "RUN": name, "MODE": mode}})
        return name

    def map(self, function: str, **options) -> str:
        options.setdefault("StartingPosition", "TRIM_HORIZON")
        uid = self.lam.create_event_source_mapping(
            EventSourceArn=self.stream_arn, FunctionName=function, **options)["UUID"]
        self.mappings.append(uid)
        return uid

    def put(self, key: str, **attributes: str) -> None:
        item = {"id": {"S": key}, **{k: {"S": v} for k, v in attributes.items()}}
        self.ddb.put_item(TableName=self.table, Item=item)

    def batches(self, function: str) -> list[list[dict]]:
        """The Records of every batch the function stored, in stream order."""
        items = self.ddb.query(
            TableName=self.sink, KeyConditionExpression="run = :r",
            ExpressionAttributeValues={":r": {"S": function}})["Items"]
        return [json.loads(item["event"]["S"])["Records"] for item in items]

    def wait_for_records(self, function: str, count: int, timeout: float = 20) -> list:
        deadline = time.monotonic() + timeout
        while True:
            batches = self.batches(function)
            if sum(len(b) for b in batches) >= count:
                return batches
            if time.monotonic() > deadline:
                pytest.fail(f"{function} got {sum(len(b) for b in batches)} of {count} records")
            time.sleep(0.1)

    def close(self) -> None:
        for uid in self.mappings:
            self.lam.delete_event_source_mapping(UUID=uid)


@pytest.fixture()
def rig(aws):
    stream_rig = Rig(aws)
    yield stream_rig
    stream_rig.close()


def keys(batches: list[list[dict]]) -> list[str]:
    return [r["dynamodb"]["Keys"]["id"]["S"] for batch in batches for r in batch]


def test_changes_arrive_in_order_with_both_images_and_the_lambda_event_shape(rig):
    fn = rig.function()
    rig.map(fn)

    rig.put("t1", status="open")
    rig.put("t1", status="resolved")
    rig.ddb.delete_item(TableName=rig.table, Key={"id": {"S": "t1"}})

    records = [r for batch in rig.wait_for_records(fn, 3) for r in batch]
    assert [r["eventName"] for r in records] == ["INSERT", "MODIFY", "REMOVE"]
    insert, modify, remove = (r["dynamodb"] for r in records)
    assert "OldImage" not in insert and insert["NewImage"]["status"] == {"S": "open"}
    assert modify["OldImage"]["status"] == {"S": "open"}
    assert modify["NewImage"]["status"] == {"S": "resolved"}
    assert remove["OldImage"]["status"] == {"S": "resolved"} and "NewImage" not in remove
    sequence = [int(r["SequenceNumber"]) for r in (insert, modify, remove)]
    assert sequence == sorted(sequence)
    first = records[0]
    assert first["eventSource"] == "aws:dynamodb"
    assert first["eventVersion"] == "1.1"
    assert first["awsRegion"] == REGION
    assert first["eventSourceARN"] == rig.stream_arn
    assert insert["Keys"] == {"id": {"S": "t1"}}
    assert insert["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert isinstance(insert["ApproximateCreationDateTime"], int)
    assert insert["SizeBytes"] > 0


def test_batch_size_bounds_each_invocation(rig):
    for n in range(5):
        rig.put(f"b{n}")
    fn = rig.function()
    rig.map(fn, BatchSize=2)

    batches = rig.wait_for_records(fn, 5)

    assert [len(b) for b in batches] == [2, 2, 1]
    assert keys(batches) == [f"b{n}" for n in range(5)]


def test_disabled_mapping_delivers_nothing_until_enabled(rig):
    fn = rig.function()
    uid = rig.map(fn, Enabled=False)
    rig.put("quiet")

    assert rig.lam.get_event_source_mapping(UUID=uid)["State"] == "Disabled"
    watch_until = time.monotonic() + 1.5  # six polling periods
    while time.monotonic() < watch_until:
        assert rig.batches(fn) == []
        time.sleep(0.1)

    rig.lam.update_event_source_mapping(UUID=uid, Enabled=True)

    assert keys(rig.wait_for_records(fn, 1)) == ["quiet"]
    assert rig.lam.get_event_source_mapping(UUID=uid)["State"] == "Enabled"


def test_partial_batch_failure_is_retried_from_the_failed_record(rig):
    rig.put("p0")
    rig.put("p1")
    rig.put("p2", failonce="yes")
    rig.put("p3")
    fn = rig.function(mode="partial")
    rig.map(fn, FunctionResponseTypes=["ReportBatchItemFailures"])

    batches = rig.wait_for_records(fn, 6)

    assert keys(batches[:1]) == ["p0", "p1", "p2", "p3"]
    # The retry starts at the failed record; the records before it are not sent again.
    assert keys(batches[1:]) == ["p2", "p3"]


def test_partial_batch_failures_retry_every_record_from_the_lowest_failed_one(rig):
    """Lambda checkpoints at the lowest failed sequence number and retries all records from
    there (Lambda Developer Guide, "Configuring partial batch response with DynamoDB and
    Lambda"): a record between two failed ones is sent again though it succeeded."""
    rig.put("q0")
    rig.put("q1", failonce="yes")
    rig.put("q2")
    rig.put("q3", failonce="yes")
    fn = rig.function(mode="partial")
    rig.map(fn, FunctionResponseTypes=["ReportBatchItemFailures"])

    batches = rig.wait_for_records(fn, 7)

    assert keys(batches[:1]) == ["q0", "q1", "q2", "q3"]
    assert keys(batches[1:]) == ["q1", "q2", "q3"]  # not just the failed q1 and q3


def test_malformed_batch_item_failures_fail_the_whole_batch(rig, sandbox):
    rig.put("m0")
    fn = rig.function(mode="malformed")
    uid = rig.map(fn, FunctionResponseTypes=["ReportBatchItemFailures"],
                  MaximumRetryAttempts=1)

    deadline = time.monotonic() + 20
    while True:
        stats = SandboxAdmin(sandbox["endpoint_url"], timeout=5).stream_mappings()
        if stats.get(uid, {}).get("discarded"):
            break
        assert time.monotonic() < deadline, stats.get(uid)
        time.sleep(0.1)
    assert stats[uid]["failures"] == 2  # the first invocation and one retry
    assert stats[uid]["records"] == 0


def test_bisect_isolates_a_poison_record_and_reports_it_to_the_failure_queue(rig, aws):
    sqs = aws("sqs", REGION)
    queue_url = sqs.create_queue(QueueName=unique("dlq"))["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(
        QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    for n in range(6):
        if n == 3:
            rig.put("k3", poison="yes")
        else:
            rig.put(f"k{n}")
    fn = rig.function(mode="poison")
    rig.map(fn, BatchSize=10, BisectBatchOnFunctionError=True, MaximumRetryAttempts=1,
            DestinationConfig={"OnFailure": {"Destination": queue_arn}})

    batches = rig.wait_for_records(fn, 5)
    deadline = time.monotonic() + 20
    messages: list[dict] = []
    while not messages and time.monotonic() < deadline:
        messages = sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=1).get("Messages", [])

    assert keys(batches) == ["k0", "k1", "k2", "k4", "k5"]  # each once, in order
    assert len(messages) == 1
    report = json.loads(messages[0]["Body"])
    info = report["DDBStreamBatchInfo"]
    assert info["batchSize"] == 1
    assert info["startSequenceNumber"] == info["endSequenceNumber"]
    assert info["streamArn"] == rig.stream_arn
    assert info["shardId"].startswith("shardId-")
    assert info["approximateArrivalOfFirstRecord"].endswith("Z")
    assert report["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert report["requestContext"]["approximateInvokeCount"] == 2
    assert report["requestContext"]["functionArn"].endswith(f":function:{fn}")
    assert report["responseContext"]["functionError"] == "Unhandled"
    delivered = {int(r["dynamodb"]["SequenceNumber"]) for batch in batches for r in batch}
    poison_seq = int(info["startSequenceNumber"])
    assert min(delivered) < poison_seq < max(delivered)
    assert poison_seq not in delivered


def test_batching_window_gathers_records_into_one_invocation(rig):
    fn = rig.function()
    # 20 s on the AWS clock; the test sandbox runs 20x faster.
    rig.map(fn, BatchSize=100, MaximumBatchingWindowInSeconds=20)

    for n in range(3):
        rig.put(f"w{n}")

    assert [len(b) for b in rig.wait_for_records(fn, 3)] == [3]


def test_records_past_the_maximum_age_go_to_the_failure_queue(rig, aws):
    sqs = aws("sqs", REGION)
    queue_url = sqs.create_queue(QueueName=unique("dlq"))["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(
        QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    rig.put("old", poison="yes")
    fn = rig.function(mode="poison")
    # Retried without limit, until the record is older than 60 s (3 s in the test sandbox).
    rig.map(fn, MaximumRecordAgeInSeconds=60,
            DestinationConfig={"OnFailure": {"Destination": queue_arn}})

    deadline = time.monotonic() + 30
    messages: list[dict] = []
    while not messages and time.monotonic() < deadline:
        messages = sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=1).get("Messages", [])

    report = json.loads(messages[0]["Body"])
    assert report["requestContext"]["condition"] == "RecordAgeExceeded"
    assert report["requestContext"]["approximateInvokeCount"] >= 2
    assert report["DDBStreamBatchInfo"]["batchSize"] == 1
    # The shard is no longer blocked: the next change is delivered.
    rig.put("next")
    assert keys(rig.wait_for_records(fn, 1)) == ["next"]


def test_latest_starts_after_the_mapping_while_trim_horizon_reads_from_the_start(rig):
    rig.put("before")
    oldest, newest = rig.function(), rig.function()
    rig.map(oldest, StartingPosition="TRIM_HORIZON")
    rig.map(newest, StartingPosition="LATEST")
    rig.put("after")

    assert keys(rig.wait_for_records(oldest, 2)) == ["before", "after"]
    assert keys(rig.wait_for_records(newest, 1)) == ["after"]


def test_mapping_keeps_its_error_handling_configuration(rig, aws):
    queue_arn = f"arn:aws:sqs:{REGION}:123456789012:{unique('dlq')}"
    aws("sqs", REGION).create_queue(QueueName=queue_arn.rsplit(":", 1)[1])
    fn = rig.function()
    configured = rig.map(
        fn, BatchSize=25, MaximumBatchingWindowInSeconds=1, BisectBatchOnFunctionError=True,
        MaximumRetryAttempts=3, MaximumRecordAgeInSeconds=3600,
        FunctionResponseTypes=["ReportBatchItemFailures"],
        DestinationConfig={"OnFailure": {"Destination": queue_arn}})
    plain = rig.map(rig.function(), StartingPosition="LATEST")

    got = rig.lam.get_event_source_mapping(UUID=configured)
    assert got["BatchSize"] == 25
    assert got["MaximumBatchingWindowInSeconds"] == 1
    assert got["BisectBatchOnFunctionError"] is True
    assert got["MaximumRetryAttempts"] == 3
    assert got["MaximumRecordAgeInSeconds"] == 3600
    assert got["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert got["DestinationConfig"] == {"OnFailure": {"Destination": queue_arn}}
    defaults = rig.lam.get_event_source_mapping(UUID=plain)
    assert defaults["BatchSize"] == 100
    assert defaults["MaximumRetryAttempts"] == -1
    assert defaults["MaximumRecordAgeInSeconds"] == -1
    assert defaults["BisectBatchOnFunctionError"] is False
    assert defaults["ParallelizationFactor"] == 1
    assert defaults["StartingPosition"] == "LATEST"
