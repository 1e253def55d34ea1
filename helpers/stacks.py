"""CloudFormation: upload the code, create-or-update a stack with progress, outputs, delete."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError, WaiterError

from helpers.config import WorkshopConfig
from helpers.errors import WorkshopError
from helpers.packaging import build_zip, code_key
from helpers.paths import TEMPLATES
from helpers.session import client

KIT_TAG = ("workshop:kit", "multi-region-resilience")
POLL_S = 0.5
TIMEOUT_S = 1800

_DONE = {"CREATE_COMPLETE", "UPDATE_COMPLETE", "IMPORT_COMPLETE"}


class StackError(WorkshopError):
    """A stack did not reach the state asked for; the message says why and what to do."""


def tags(config: WorkshopConfig) -> list[dict[str, str]]:
    return [{"Key": KIT_TAG[0], "Value": KIT_TAG[1]},
            {"Key": "workshop:participant", "Value": config.prefix}]


def artifacts_bucket(config: WorkshopConfig, region: str) -> str:
    """The per-region bucket holding the Lambda code; created (private, tagged) if missing."""
    from helpers.session import account_id

    s3 = client("s3", region)
    name = f"{config.prefix}-artifacts-{account_id(region)}-{region}"
    try:
        s3.head_bucket(Bucket=name)
        return name
    except ClientError as exc:
        if exc.response["Error"]["Code"] not in ("404", "NoSuchBucket", "NotFound"):
            raise
    kwargs: dict[str, Any] = {"Bucket": name}
    if region != "us-east-1":
        kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
    s3.create_bucket(**kwargs)
    s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration={
        "BlockPublicAcls": True, "IgnorePublicAcls": True,
        "BlockPublicPolicy": True, "RestrictPublicBuckets": True})
    s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": tags(config)})
    return name


def upload_code(config: WorkshopConfig, region: str) -> dict[str, str]:
    """Upload the Lambda bundle once per content; returns the CodeBucket/CodeKey parameters."""
    bundle = build_zip()
    bucket, key = artifacts_bucket(config, region), code_key(bundle)
    s3 = client("s3", region)
    try:
        s3.head_object(Bucket=bucket, Key=key)
    except ClientError:
        s3.put_object(Bucket=bucket, Key=key, Body=bundle)
    return {"CodeBucket": bucket, "CodeKey": key}


def stack_status(region: str, stack_name: str) -> str | None:
    try:
        stacks = client("cloudformation", region).describe_stacks(StackName=stack_name)["Stacks"]
    except ClientError as exc:
        if "does not exist" in exc.response["Error"]["Message"]:
            return None
        raise
    return stacks[0]["StackStatus"] if stacks else None


def deploy(config: WorkshopConfig, region: str, kind: str, parameters: dict[str, str],
           progress: Callable[[str], None] | None = None) -> dict[str, str]:
    """Create or update stack ``<prefix>-<kind>`` from ``templates/<kind>.yaml``; return outputs.

    A stack left in ROLLBACK_COMPLETE cannot be updated, so it is deleted (saying so)
    and created again. "No updates are to be performed" counts as success.
    """
    cfn = client("cloudformation", region)
    name = config.stack_name(kind)
    say = progress or (lambda _msg: None)
    status = stack_status(region, name)
    if status and status.endswith("_IN_PROGRESS"):
        say(f"{name} is busy ({status}); waiting for it to settle")
        status = _wait(cfn, name, since=None, say=say, allow_failed=True)
    if status == "ROLLBACK_COMPLETE":
        say(f"{name} is in ROLLBACK_COMPLETE (its first creation failed); deleting it to retry")
        delete(region, name)
        status = None
    body = (TEMPLATES / f"{kind}.yaml").read_text()
    request = {
        "StackName": name, "TemplateBody": body,
        "Parameters": [{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
        "Capabilities": ["CAPABILITY_NAMED_IAM", "CAPABILITY_IAM"], "Tags": tags(config),
    }
    started = _now(cfn, name) if status else None
    try:
        if status is None:
            say(f"creating stack {name} in {region}")
            cfn.create_stack(**request, OnFailure="ROLLBACK")
        else:
            say(f"updating stack {name} in {region}")
            cfn.update_stack(**request)
    except ClientError as exc:
        if "No updates are to be performed" in exc.response["Error"]["Message"]:
            say(f"{name} is already up to date")
            return outputs(region, name)
        raise
    final = _wait(cfn, name, since=started, say=say)
    if final not in _DONE:
        raise StackError(_failure_message(cfn, name, final))
    return outputs(region, name)


def outputs(region: str, stack_name: str) -> dict[str, str]:
    stack = client("cloudformation", region).describe_stacks(StackName=stack_name)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def delete(region: str, stack_name: str) -> bool:
    """Delete a stack and wait until it is gone. Returns False if it did not exist."""
    cfn = client("cloudformation", region)
    if stack_status(region, stack_name) is None:
        return False
    cfn.delete_stack(StackName=stack_name)
    try:
        cfn.get_waiter("stack_delete_complete").wait(
            StackName=stack_name, WaiterConfig={"Delay": 1, "MaxAttempts": 1800})
    except WaiterError as exc:
        raise StackError(f"deleting {stack_name} in {region} failed: {exc}. Open the "
                         "CloudFormation console's Events tab for the resource that "
                         "could not be deleted, remove it by hand, then run the cleanup "
                         "again") from None
    return True


def _now(cfn: Any, name: str) -> Any:
    events = cfn.describe_stack_events(StackName=name)["StackEvents"]
    return events[0]["Timestamp"] if events else None


def _wait(cfn: Any, name: str, since: Any, say: Callable[[str], None],
          allow_failed: bool = False) -> str:
    """Report each new stack event until the stack leaves *_IN_PROGRESS."""
    seen: set[str] = set()
    deadline = time.monotonic() + TIMEOUT_S
    while True:
        stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
        for event in reversed(cfn.describe_stack_events(StackName=name)["StackEvents"]):
            if event["EventId"] in seen or (since and event["Timestamp"] <= since):
                continue
            seen.add(event["EventId"])
            if event["ResourceType"] != "AWS::CloudFormation::Stack":
                say(f"{event['LogicalResourceId']}: {event['ResourceStatus']}")
        status = stack["StackStatus"]
        if not status.endswith("_IN_PROGRESS"):
            return status
        if time.monotonic() > deadline:
            raise StackError(f"{name} still {status} after {TIMEOUT_S} s")
        time.sleep(POLL_S)


def _failure_message(cfn: Any, name: str, status: str) -> str:
    reasons = [
        f"{e['LogicalResourceId']}: {e.get('ResourceStatusReason', '')}"
        for e in cfn.describe_stack_events(StackName=name)["StackEvents"]
        if e["ResourceStatus"].endswith("FAILED")
    ]
    detail = "; ".join(reasons[:3]) or "no failure reason recorded"
    return (f"stack {name} ended in {status}: {detail}. Fix the cause and run the cell again "
            "(a stack in ROLLBACK_COMPLETE is deleted and recreated automatically)")
