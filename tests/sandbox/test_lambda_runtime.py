"""Lambda in the sandbox runs the deployed code: results, errors, timeouts, throttling."""

from __future__ import annotations

import base64
import io
import json
import threading
import time
import uuid
import zipfile

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

REGION = "eu-west-1"
OTHER_REGION = "ap-southeast-1"

ECHO = '''
import os
def handler(event, context):
    return {"event": event, "name": context.function_name,
            "remaining_ms": context.get_remaining_time_in_millis()}
'''
ENVIRONMENT = '''
import os
def handler(event, context):
    return {k: v for k, v in os.environ.items()
            if k.startswith(("AWS_", "GREETING", "LAMBDA_", "_HANDLER"))}
'''
RAISES = '''
def handler(event, context):
    raise ValueError("the wheels came off")
'''
SLEEPS = '''
import time
def handler(event, context):
    time.sleep(event.get("sleep", 0))
    return "done"
'''
PRINTS = '''
import logging
def handler(event, context):
    print("processing ride", event["ride"])
    logging.getLogger().warning("running late")
    return "ok"
'''
WRITES = '''
import os
import boto3
def handler(event, context):
    # No endpoint in the code: the default chain must lead to the sandbox.
    boto3.client("dynamodb").put_item(TableName=event["table"], Item={
        "id": {"S": event["id"]}, "region": {"S": os.environ["AWS_REGION"]}})
    return "stored"
'''


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def code_zip(source: str, module: str = "app") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(f"{module}.py", source)
    return buffer.getvalue()


def create_function(aws, source: str, region: str = REGION, **config) -> str:
    role = aws("iam", region).create_role(
        RoleName=unique("role"),
        AssumeRolePolicyDocument=json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                           "Principal": {"Service": "lambda.amazonaws.com"}}]}),
    )["Role"]["Arn"]
    name = unique("fn")
    aws("lambda", region).create_function(
        FunctionName=name, Runtime="python3.12", Role=role, Handler="app.handler",
        Code={"ZipFile": code_zip(source)}, **config)
    return name


def invoke(aws, name: str, event=None, region: str = REGION, **kwargs) -> dict:
    response = aws("lambda", region).invoke(
        FunctionName=name, Payload=json.dumps(event or {}), **kwargs)
    response["body"] = json.loads(response["Payload"].read() or b"null")
    return response


def no_retry_client(sandbox, region: str = REGION):
    """A Lambda client that shows a 429 instead of retrying it away."""
    return boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name=region,
    ).client("lambda", endpoint_url=sandbox["endpoint_url"],
             config=Config(retries={"max_attempts": 1, "mode": "standard"}))


def test_invoke_returns_the_handlers_result(aws):
    name = create_function(aws, ECHO, Timeout=7)

    response = invoke(aws, name, {"ride": 42})

    assert response["StatusCode"] == 200
    assert "FunctionError" not in response
    assert response["ExecutedVersion"] == "$LATEST"
    assert response["body"]["event"] == {"ride": 42}
    assert response["body"]["name"] == name
    assert 0 < response["body"]["remaining_ms"] <= 7000


def test_function_sees_its_environment_and_region_and_nothing_of_the_host(aws):
    name = create_function(aws, ENVIRONMENT, region=OTHER_REGION,
                           Environment={"Variables": {"GREETING": "hello"}})

    env = invoke(aws, name, region=OTHER_REGION)["body"]

    assert env["GREETING"] == "hello"
    assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == OTHER_REGION
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == name
    assert env["_HANDLER"] == "app.handler"
    assert env["AWS_ENDPOINT_URL"].startswith("http://127.0.0.1:")
    assert env["AWS_ACCESS_KEY_ID"] == "testing"
    assert "AWS_PROFILE" not in env


def test_boto3_inside_the_function_reaches_the_sandbox(aws):
    table = unique("rides")
    aws("dynamodb", OTHER_REGION).create_table(
        TableName=table, BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}])
    name = create_function(aws, WRITES, region=OTHER_REGION, Timeout=30)

    response = invoke(aws, name, {"table": table, "id": "r-1"}, region=OTHER_REGION)

    assert response["body"] == "stored", response["body"]
    item = aws("dynamodb", OTHER_REGION).get_item(TableName=table, Key={"id": {"S": "r-1"}})
    assert item["Item"]["region"]["S"] == OTHER_REGION


def test_uncaught_exception_is_an_unhandled_function_error(aws):
    name = create_function(aws, RAISES)

    response = invoke(aws, name, LogType="Tail")

    assert response["StatusCode"] == 200
    assert response["FunctionError"] == "Unhandled"
    assert response["body"]["errorType"] == "ValueError"
    assert response["body"]["errorMessage"] == "the wheels came off"
    assert any('app.py", line 3, in handler' in line for line in response["body"]["stackTrace"])
    log = base64.b64decode(response["LogResult"]).decode()
    assert "[ERROR] ValueError: the wheels came off" in log


def test_missing_handler_module_is_reported_like_lambda(aws):
    name = create_function(aws, ECHO)
    aws("lambda", REGION).update_function_configuration(FunctionName=name,
                                                        Handler="nowhere.handler")

    response = invoke(aws, name)

    assert response["FunctionError"] == "Unhandled"
    assert response["body"]["errorType"] == "Runtime.ImportModuleError"
    assert "Unable to import module 'nowhere'" in response["body"]["errorMessage"]


def test_timeout_stops_the_invocation_and_the_function_keeps_working(aws):
    name = create_function(aws, SLEEPS, Timeout=1)

    started = time.monotonic()
    response = invoke(aws, name, {"sleep": 30})
    elapsed = time.monotonic() - started

    assert response["FunctionError"] == "Unhandled"
    assert "Task timed out after 1.00 seconds" in response["body"]["errorMessage"]
    assert elapsed < 1 + 9  # the 1 s timeout, not the 30 s sleep; 9 s for a busy machine
    assert invoke(aws, name, {"sleep": 0})["body"] == "done"


def test_printed_lines_and_warnings_are_in_the_log_tail(aws):
    name = create_function(aws, PRINTS)

    response = invoke(aws, name, {"ride": "r-7"}, LogType="Tail")

    log = base64.b64decode(response["LogResult"]).decode()
    assert "processing ride r-7" in log
    assert "running late" in log
    assert log.startswith("START RequestId: ")
    assert "END RequestId: " in log and "REPORT RequestId: " in log


def test_reserved_concurrency_zero_throttles_with_429(aws, sandbox):
    name = create_function(aws, ECHO)
    aws("lambda", REGION).put_function_concurrency(FunctionName=name,
                                                   ReservedConcurrentExecutions=0)

    with pytest.raises(ClientError) as raised:
        no_retry_client(sandbox).invoke(FunctionName=name, Payload=b"{}")

    assert raised.value.response["Error"]["Code"] == "TooManyRequestsException"
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 429
    aws("lambda", REGION).delete_function_concurrency(FunctionName=name)
    assert invoke(aws, name, {"ok": 1})["body"]["event"] == {"ok": 1}


def test_reserved_concurrency_caps_simultaneous_invocations(aws, sandbox):
    name = create_function(aws, SLEEPS, Timeout=10)
    aws("lambda", REGION).put_function_concurrency(FunctionName=name,
                                                   ReservedConcurrentExecutions=1)
    invoke(aws, name)  # warm up, so the slow call below starts at once
    # The one slot stays taken for HOLD_S; another invocation is tried until HOLD_S minus a
    # busy machine's margin for the slow call to start.
    hold_s, margin_s = 5, 2
    slow = threading.Thread(target=invoke, args=(aws, name, {"sleep": hold_s}))
    slow.start()
    try:
        deadline = time.monotonic() + hold_s - margin_s
        throttled = False
        while time.monotonic() < deadline and not throttled:
            try:
                no_retry_client(sandbox).invoke(FunctionName=name, Payload=b"{}")
            except ClientError as exc:
                throttled = exc.response["Error"]["Code"] == "TooManyRequestsException"
        assert throttled
    finally:
        slow.join()


def test_unreserved_invocations_run_in_parallel(aws):
    name = create_function(aws, SLEEPS, Timeout=10)
    results: list[str] = []
    calls, sleep_s = 3, 3

    def call():
        results.append(invoke(aws, name, {"sleep": sleep_s})["body"])

    started = time.monotonic()
    threads = [threading.Thread(target=call) for _ in range(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert results == ["done"] * calls
    # Had any two run one after the other, it would take (calls - 1) x sleep_s at least; all
    # at once takes sleep_s, which leaves sleep_s of margin for starting workers.
    assert time.monotonic() - started < (calls - 1) * sleep_s


def test_new_code_and_configuration_take_effect_on_the_next_invoke(aws):
    lam = aws("lambda", REGION)
    name = create_function(aws, "def handler(event, context):\n    return 'v1'\n")
    assert invoke(aws, name)["body"] == "v1"

    lam.update_function_code(FunctionName=name, ZipFile=code_zip(
        "import os\ndef handler(event, context):\n    return 'v2 ' + os.environ.get('X', '-')\n"))
    assert invoke(aws, name)["body"] == "v2 -"

    lam.update_function_configuration(FunctionName=name, Environment={"Variables": {"X": "y"}})
    assert invoke(aws, name)["body"] == "v2 y"


def test_event_invocation_is_accepted_and_runs_in_the_background(aws):
    table = unique("events")
    aws("dynamodb", REGION).create_table(
        TableName=table, BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}])
    name = create_function(aws, WRITES, Timeout=30)

    response = aws("lambda", REGION).invoke(
        FunctionName=name, InvocationType="Event",
        Payload=json.dumps({"table": table, "id": "async"}))

    assert response["StatusCode"] == 202
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        item = aws("dynamodb", REGION).get_item(TableName=table, Key={"id": {"S": "async"}})
        if "Item" in item:
            break
        time.sleep(0.1)
    else:
        pytest.fail("the asynchronous invocation never ran")


def test_payload_that_is_not_json_is_refused(aws, sandbox):
    name = create_function(aws, ECHO)

    with pytest.raises(ClientError) as raised:
        no_retry_client(sandbox).invoke(FunctionName=name, Payload=b"not json")

    assert raised.value.response["Error"]["Code"] == "InvalidRequestContentException"
