"""A participant as an IAM user holding exactly `workshop iam-policy`'s policy (the sandbox).

:func:`create` makes, with the instructor's (administrator's) credentials, the user
``workshop-<prefix>``, the participant's policy as customer managed policies
``workshop-<prefix>-<n>`` (in parts, as AWS limits a managed policy to 6,144 characters:
:func:`helpers.aws.iam_policy.parts`), attached to the user, and an access key, written
to a credentials file (:func:`helpers.base.paths.credentials_file`). A process that sets
``WORKSHOP_SANDBOX_CREDENTIALS`` to that file signs every call with the user's key, and
the sandbox holds the user to its policies (:mod:`helpers.sandbox.iam.authorization`).
:func:`delete` removes all of it again; a :func:`create` that fails removes what it made.

Sandbox only: on AWS an instructor creates users, or better roles, the account's own way
(README, "Preparing a room on AWS"); the kit never creates IAM users or access keys in a
real account.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from helpers.aws import iam_policy, ownership
from helpers.base import paths
from helpers.base.errors import UsageError
from helpers.base.say import Say, quiet
from helpers.connect.session import client
from helpers.core.config import WorkshopConfig
from helpers.core.target import LOCAL_SANDBOX, SANDBOX_CREDENTIALS_VARIABLE

IAM_REGION = "us-east-1"  # IAM is global; its endpoint signs as us-east-1


def user_name(config: WorkshopConfig) -> str:
    return f"workshop-{config.prefix}"


def policy_names(config: WorkshopConfig, count: int) -> list[str]:
    return [f"workshop-{config.prefix}-{n}" for n in range(1, count + 1)]


def _require_sandbox(config: WorkshopConfig) -> None:
    if not config.target.supports(LOCAL_SANDBOX):
        raise UsageError(
            f"the kit creates participants' IAM users only in the sandbox, not in {config.mode} "
            "mode: on AWS, write the policy with `workshop iam-policy --out policy.json` and "
            "attach it to each participant's user or role yourself (README, \"Preparing a "
            "room on AWS\")")
    if os.environ.get(SANDBOX_CREDENTIALS_VARIABLE):
        raise UsageError(f"{SANDBOX_CREDENTIALS_VARIABLE} is set, so this would run as a "
                         "participant: unset it to create or delete users as the sandbox's "
                         "administrator")


def create(config: WorkshopConfig, say: Say = quiet, document: dict[str, Any] | None = None,
           out: Path | None = None) -> Path:
    """The participant's IAM user with the policy attached (``document``: another policy, as
    a test removes one action from it) and an access key, written to ``out`` (default: the
    workshop home's :func:`~helpers.base.paths.credentials_file`); returns that file.
    Refuses a user that exists (delete it first: `--delete-user`)."""
    _require_sandbox(config)
    iam = client("iam", IAM_REGION)
    name = user_name(config)
    document = document or iam_policy.policy(config)
    parts = iam_policy.parts(document)
    try:
        iam.create_user(UserName=name, Tags=ownership.tags(config))
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "EntityAlreadyExists":
            raise UsageError(f"IAM user {name} already exists: delete it first (`workshop "
                             f"iam-policy --delete-user --prefix {config.prefix}`)") from None
        raise
    try:
        for policy_name, part in zip(policy_names(config, len(parts)), parts, strict=True):
            arn = iam.create_policy(PolicyName=policy_name, PolicyDocument=json.dumps(part),
                                    Tags=ownership.tags(config))["Policy"]["Arn"]
            iam.attach_user_policy(UserName=name, PolicyArn=arn)
        key = iam.create_access_key(UserName=name)["AccessKey"]
        path = out or paths.credentials_file(config.prefix)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(json.dumps({"user": name, "aws_access_key_id": key["AccessKeyId"],
                                    "aws_secret_access_key": key["SecretAccessKey"]}, indent=2)
                        + "\n", encoding="utf-8")
    except BaseException:
        delete(config)  # nothing half-created
        raise
    say(f"created IAM user {name} with {len(parts)} managed policies "
        f"({', '.join(policy_names(config, len(parts)))}: `workshop iam-policy`'s policy for "
        f"{config.prefix} in {config.primary_region} and {config.secondary_region}) and an "
        f"access key, written to {path}")
    return path


def delete(config: WorkshopConfig, say: Say = quiet) -> list[str]:
    """Remove the participant's user, its access keys and its policies; what was removed."""
    _require_sandbox(config)
    iam = client("iam", IAM_REGION)
    name = user_name(config)
    removed: list[str] = []
    try:
        for key in iam.list_access_keys(UserName=name)["AccessKeyMetadata"]:
            iam.delete_access_key(UserName=name, AccessKeyId=key["AccessKeyId"])
            removed.append(f"access key {key['AccessKeyId']}")
        for attached in iam.list_attached_user_policies(UserName=name)["AttachedPolicies"]:
            iam.detach_user_policy(UserName=name, PolicyArn=attached["PolicyArn"])
        iam.delete_user(UserName=name)
        removed.append(f"IAM user {name}")
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "NoSuchEntity":
            raise
    prefix = f"workshop-{config.prefix}-"
    for found in iam.list_policies(Scope="Local")["Policies"]:
        if found["PolicyName"].startswith(prefix) and found["PolicyName"][len(prefix):].isdigit():
            iam.delete_policy(PolicyArn=found["Arn"])
            removed.append(f"policy {found['PolicyName']}")
    paths.credentials_file(config.prefix).unlink(missing_ok=True)
    if removed:
        say("deleted " + ", ".join(removed))
    return removed
