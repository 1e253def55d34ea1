"""IAM enforced in the sandbox (issue 24): a participant who is an IAM user holding exactly
`workshop iam-policy`'s policy deploys the workshop; with one action removed, the step of a
module that needs it fails with the kit's one sentence naming the action and
`workshop iam-policy`, and changes nothing (the clean-up at the end leaves nothing).

Deployed once, through module 3.3, by the participant's IAM user with the whole policy
(the helpers' steps, as the notebooks take them); each step is then tried by a user whose
policy lacks one action of that module's own calls: the step fails at its first call that
needs it, before changing anything. The whole workshop as IAM users, through the notebooks,
is the long tier's rehearsal (``test_rehearse.py``); its stand-in there is a room of two
through notebook 01 as IAM users.
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from helpers.aws import (
    cleanup,
    deployment,
    failover,
    global_tables,
    iam_policy,
    iam_users,
    replication,
)
from helpers.base import environ
from helpers.base.errors import PermissionDenied
from helpers.core.config import WorkshopConfig
from helpers.core.target import SANDBOX_CREDENTIALS_VARIABLE


def without(document: dict[str, Any], action: str) -> dict[str, Any]:
    """``document`` with ``action`` taken out of every statement (and no statement left
    empty)."""
    reduced = copy.deepcopy(document)
    statements = []
    for statement in reduced["Statement"]:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [
            statement["Action"]]
        kept = [a for a in actions if a != action]
        if kept:
            statements.append({**statement, "Action": kept})
    reduced["Statement"] = statements
    assert iam_policy.allowed_actions(reduced) == iam_policy.allowed_actions(document) - {action}
    return reduced


@contextlib.contextmanager
def acting_as(config: WorkshopConfig, lacking: str | None = None) -> Iterator[None]:
    """The kit's clients sign as the participant's IAM user, holding the policy (less
    ``lacking``), for the ``with`` block; the user is deleted after it."""
    document = iam_policy.policy(config)
    path = iam_users.create(config, document=without(document, lacking) if lacking
                            else document)
    try:
        with environ.scoped({SANDBOX_CREDENTIALS_VARIABLE: str(path)}):
            yield
    finally:
        iam_users.delete(config)


@pytest.fixture(scope="module")
def deployed_as_participant(sandbox, tmp_path_factory, new_participant):
    from workshop_steps import deploy_regions, set_up_failover, tear_down

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("WORKSHOP_HOME", str(tmp_path_factory.mktemp("workshop-home")))
        config = new_participant("iam")
        try:
            with acting_as(config):
                deploy_regions(config)
                set_up_failover(config)
            yield config
        finally:
            tear_down(config)  # as the administrator: fails the run if anything is left


# (module, the action removed, the module's step that needs it). Each action is one of that
# module's own calls, met before the step changes anything.
STEPS: list[tuple[str, str, Callable[[WorkshopConfig], Any]]] = [
    ("01", "cloudformation:DescribeStacks",
     lambda c: deployment.deploy_api(c, c.primary_region)),
    ("01", "s3:ListBucket", lambda c: deployment.deploy_api(c, c.primary_region)),
    ("02", "s3:PutObject",
     lambda c: deployment.deploy_ui(c, c.primary_region, failover.api_url(c))),
    ("03.2", "dynamodb:Scan", lambda c: replication.item_counts(c)),
    ("03.3", "acm:ListCertificates", lambda c: failover.request_certificates(c)),
    # answered by the sandbox itself, not moto: authorised by its own intercept
    ("03.3", "route53:GetHealthCheckStatus", lambda c: failover.health_check_status(c)),
    ("04", "apigateway:GET", lambda c: failover.break_primary(c)),
    ("04", "lambda:GetFunctionConfiguration", lambda c: failover.break_primary(c)),
    ("04.1", "dynamodb:UpdateTable", lambda c: global_tables.add_replica(c)),
    ("05", "tag:GetResources", lambda c: cleanup.leftovers(c)),
]


@pytest.mark.parametrize(("module", "action", "step"), STEPS,
                         ids=[f"{m}-{a}" for m, a, _ in STEPS])
def test_a_step_whose_action_the_policy_lacks_fails_with_one_sentence_naming_it(
        deployed_as_participant, module, action, step):
    config = deployed_as_participant
    with acting_as(config, lacking=action), pytest.raises(PermissionDenied) as denied:
        step(config)

    sentence = str(denied.value)
    assert f"({action})" in sentence, sentence
    assert f"your credentials lack {action}" in sentence
    assert "`workshop iam-policy`" in sentence
    assert "helpers.aws." in sentence  # the kit's function that made the call
    assert "\n" not in sentence


def test_notebook_00s_preflight_names_a_missing_permission_in_its_check(
        deployed_as_participant):
    """Notebook 00 reports what it could not check instead of stopping: the check says the
    sentence."""
    from helpers.aws import preflight

    config = deployed_as_participant
    action = "s3:GetAccountPublicAccessBlock"
    with acting_as(config, lacking=action):
        checks = {check.name: check for check in preflight.run(config)}
    detail = checks["S3 Block Public Access (account)"].detail
    assert f"your credentials lack {action}" in detail and "`workshop iam-policy`" in detail


def test_the_participant_with_the_whole_policy_takes_those_steps(deployed_as_participant):
    """The same steps with nothing removed pass (the read-only ones: the others would change
    the shared deployment)."""
    from helpers.aws import preflight

    config = deployed_as_participant
    with acting_as(config):
        assert sum(replication.item_counts(config).values()) >= 0
        healthy, observations = failover.health_check_status(config)
        assert observations
        assert failover.request_certificates(config)
        assert cleanup.leftovers(config)  # deployed: its resources are found
        checks = {check.name: check for check in preflight.run(config)}
        assert "could not read" not in checks["S3 Block Public Access (account)"].detail


# ------------------------------------------------------- the authoriser, by protocol


@pytest.fixture()
def user_without_policy(sandbox):
    """An IAM user of the account with an access key and no policy at all."""
    from helpers.connect.session import client

    iam = client("iam", "us-east-1")
    name = f"nobody-{id(object()):x}"
    iam.create_user(UserName=name)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    yield key
    iam.delete_access_key(UserName=name, AccessKeyId=key["AccessKeyId"])
    iam.delete_user(UserName=name)


def _raw_client(sandbox, service: str, key_id: str, secret: str) -> Any:
    return boto3.client(service, region_name="eu-west-1", endpoint_url=sandbox["endpoint_url"],
                        aws_access_key_id=key_id, aws_secret_access_key=secret,
                        config=Config(retries={"max_attempts": 1}))


# Each protocol's denial as the service's API reference names it.
DENIALS = [
    ("dynamodb", "list_tables", {}, "AccessDeniedException", "dynamodb:ListTables"),
    ("lambda", "list_functions", {}, "AccessDeniedException", "lambda:ListFunctions"),
    ("apigateway", "get_rest_apis", {}, "AccessDeniedException", "apigateway:GET"),
    ("route53", "list_health_checks", {}, "AccessDenied", "route53:ListHealthChecks"),
    ("cloudformation", "list_stacks", {}, "AccessDenied", "cloudformation:ListStacks"),
    ("resourcegroupstaggingapi", "get_resources", {}, "AccessDeniedException",
     "tag:GetResources"),
]


@pytest.mark.parametrize(("service", "method", "kwargs", "code", "action"), DENIALS,
                         ids=[d[0] for d in DENIALS])
def test_a_user_without_policy_is_denied_in_the_services_own_words(
        sandbox, user_without_policy, service, method, kwargs, code, action):
    key = user_without_policy
    user = _raw_client(sandbox, service, key["AccessKeyId"], key["SecretAccessKey"])
    with pytest.raises(ClientError) as denied:
        getattr(user, method)(**kwargs)
    error = denied.value.response["Error"]
    assert error["Code"] == code
    assert f"is not authorized to perform: {action}" in error["Message"]
    # The sandbox's own credentials, the account's administrator, are not held to anything.
    admin = _raw_client(sandbox, service, "testing", "testing")
    getattr(admin, method)(**kwargs)


def test_a_users_key_with_a_wrong_secret_is_refused(sandbox, user_without_policy):
    user = _raw_client(sandbox, "dynamodb", user_without_policy["AccessKeyId"], "not-the-secret")
    with pytest.raises(ClientError) as refused:
        user.list_tables()
    assert refused.value.response["Error"]["Code"] == "SignatureDoesNotMatch"


def test_creating_a_participants_user_is_refused_on_aws():
    config = WorkshopConfig(mode="aws", prefix="alice", domain="example.com")
    with pytest.raises(ValueError, match="only in the sandbox"):
        iam_users.create(config)


def test_iam_policy_create_user_acts_as_the_participant_then_delete_user_removes_it(
        sandbox, tmp_path, monkeypatch, capsys, new_participant):
    from helpers import cli
    from helpers.connect.session import client

    monkeypatch.setenv("WORKSHOP_HOME", str(tmp_path))
    config = new_participant("cu")
    args = ["iam-policy", "--prefix", config.prefix, "--domain", config.domain]
    assert cli.main([*args, "--create-user"]) == 0
    out = capsys.readouterr().out
    path = tmp_path / f"credentials-{config.prefix}.json"
    assert f"{SANDBOX_CREDENTIALS_VARIABLE}={path}" in out
    assert oct(path.stat().st_mode & 0o777) == "0o600"

    with environ.scoped({SANDBOX_CREDENTIALS_VARIABLE: str(path)}):
        arn = client("sts", "eu-west-1").get_caller_identity()["Arn"]
    assert arn.endswith(f":user/workshop-{config.prefix}")

    assert cli.main([*args, "--create-user"]) == 2  # one user per participant
    assert "already exists: delete it first" in capsys.readouterr().err

    assert cli.main([*args, "--delete-user"]) == 0
    iam = client("iam", "us-east-1")
    assert f"workshop-{config.prefix}" not in {u["UserName"] for u in iam.list_users()["Users"]}
    assert not [p for p in iam.list_policies(Scope="Local")["Policies"]
                if p["PolicyName"].startswith(f"workshop-{config.prefix}-")]
    assert not path.exists()
