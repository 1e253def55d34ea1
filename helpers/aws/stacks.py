"""CloudFormation: upload the code, create-or-update a stack with progress, outputs, delete."""

from __future__ import annotations

import math
import re
import time
from typing import Any

from botocore.exceptions import ClientError, WaiterError

from helpers.aws.ownership import tags
from helpers.aws.packaging import build_zip, code_key
from helpers.base.errors import WorkshopError
from helpers.base.paths import TEMPLATES
from helpers.base.say import Say, or_quiet
from helpers.connect.session import client
from helpers.core.config import WorkshopConfig
from helpers.sandbox.clock import aws_seconds

# A stack wait reads DescribeStacks and DescribeStackEvents once per poll: every 2 s on AWS
# (scaled in the sandbox) keeps a room of participants under CloudFormation's request rate.
POLL_S = 2.0
TIMEOUT_S = 1800
# A stack deletion can fail on API Gateway's DeleteRestApi quota (one per 30 s per account
# and region, shared by the room): it is retried after the quota's window, saying so.
DELETE_REST_API_WINDOW_S = aws_seconds("apigateway_quota_window")  # AWS seconds
DELETE_PATIENCE_S = 45 * 60
_THROTTLE_REASON = re.compile(r"TooManyRequests|Throttl|Rate exceeded|Too Many Requests|"
                              r"Status Code: 429", re.IGNORECASE)

_DONE = {"CREATE_COMPLETE", "UPDATE_COMPLETE", "IMPORT_COMPLETE"}
# How AWS words a denial in a stack event's reason (the action follows).
_NOT_AUTHORIZED = re.compile(r"not authorized to perform:?\s*([a-z0-9-]+:[A-Za-z0-9]+)")


class StackError(WorkshopError):
    """A stack did not reach the state asked for; the message says why and what to do."""


def artifacts_bucket(config: WorkshopConfig, region: str) -> str:
    """The per-region bucket holding the Lambda code; created (private, tagged) if missing."""
    from helpers.connect.session import account_id

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
           progress: Say | None = None) -> dict[str, str]:
    """Create or update stack ``<prefix>-<kind>`` from ``templates/<kind>.yaml``; return outputs.

    A stack left in ROLLBACK_COMPLETE cannot be updated, so it is deleted (saying so)
    and created again. "No updates are to be performed" counts as success.
    """
    cfn = client("cloudformation", region)
    name = config.stack_name(kind)
    say = or_quiet(progress)
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


def delete(region: str, stack_name: str, progress: Say | None = None) -> bool:
    """Delete a stack and wait until it is gone. Returns False if it did not exist.

    A deletion that ends in DELETE_FAILED because a resource was throttled (API Gateway's
    DeleteRestApi quota, shared by everyone in the account) is retried after the quota's
    window, saying so on ``progress``; any other failure raises with the reason.
    """
    cfn = client("cloudformation", region)
    if stack_status(region, stack_name) is None:
        return False
    say = or_quiet(progress)
    scale = poll_scale()
    waited = 0.0
    while True:
        cfn.delete_stack(StackName=stack_name)
        try:
            cfn.get_waiter("stack_delete_complete").wait(StackName=stack_name, WaiterConfig={
                "Delay": POLL_S * scale, "MaxAttempts": math.ceil(TIMEOUT_S / POLL_S)})
            return True
        except WaiterError as exc:
            reasons = _delete_failures(cfn, stack_name)
            throttled = [r for r in reasons if _THROTTLE_REASON.search(r)]
            if not throttled or waited >= DELETE_PATIENCE_S * scale:
                detail = "; ".join(reasons[:3]) or str(exc)
                raise StackError(f"deleting {stack_name} in {region} failed: {detail}. Fix "
                                 "what the reason names (the CloudFormation console's Events "
                                 "tab shows it), then run the cleanup again") from None
        pause = DELETE_REST_API_WINDOW_S * scale
        say(f"waiting to delete {stack_name} again ({region}): {throttled[0]}; API Gateway "
            f"deletes one REST API per {DELETE_REST_API_WINDOW_S:g} s in an account, whatever the "
            "region, for everyone in the account")
        time.sleep(pause)
        waited += pause


def poll_scale() -> float:
    """The clock of the account: 1.0 on AWS, the sandbox's time scale in the sandbox."""
    from helpers.connect import net

    return net.time_scale()


def _now(cfn: Any, name: str) -> Any:
    events = cfn.describe_stack_events(StackName=name)["StackEvents"]
    return events[0]["Timestamp"] if events else None


def _wait(cfn: Any, name: str, since: Any, say: Say,
          allow_failed: bool = False) -> str:
    """Report each new stack event until the stack leaves *_IN_PROGRESS."""
    seen: set[str] = set()
    deadline = time.monotonic() + TIMEOUT_S
    scale = poll_scale()
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
        time.sleep(POLL_S * scale)


def _delete_failures(cfn: Any, name: str) -> list[str]:
    """``"<logical id>: <reason>"`` of the resources the last deletion could not delete."""
    reasons = []
    for event in cfn.describe_stack_events(StackName=name)["StackEvents"]:  # newest first
        if event["ResourceType"] == "AWS::CloudFormation::Stack":
            if event["ResourceStatus"] == "DELETE_IN_PROGRESS":
                break  # where the last deletion began
            continue
        if event["ResourceStatus"] == "DELETE_FAILED":
            reasons.append(f"{event['LogicalResourceId']}: "
                           f"{event.get('ResourceStatusReason', '')}")
    return reasons


def _failure_message(cfn: Any, name: str, status: str) -> str:
    reasons = [
        f"{e['LogicalResourceId']}: {e.get('ResourceStatusReason', '')}"
        for e in cfn.describe_stack_events(StackName=name)["StackEvents"]
        if e["ResourceStatus"].endswith("FAILED")
    ]
    detail = "; ".join(reasons[:3]) or "no failure reason recorded"
    denied = next((m.group(1) for r in reasons if (m := _NOT_AUTHORIZED.search(r))), None)
    if denied:  # CloudFormation acts with the participant's permissions
        return (f"stack {name} ended in {status}: CloudFormation was denied {denied} ({detail})."
                " Your credentials lack it: the permissions the whole workshop needs are the "
                "policy `workshop iam-policy` prints - attach it to your IAM user or role, then "
                "run the cell again")
    return (f"stack {name} ended in {status}: {detail}. Fix the cause and run the cell again "
            "(a stack in ROLLBACK_COMPLETE is deleted and recreated automatically)")
