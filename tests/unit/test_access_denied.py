"""A denied AWS call becomes one sentence: the action, the notebook or command, the kit's
function that made the call, and `workshop iam-policy` (helpers/connect/permissions.py)."""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from helpers.aws import global_tables
from helpers.base.errors import PermissionDenied, explain
from helpers.connect import permissions, session
from helpers.core.config import WorkshopConfig
from helpers.core.target import for_mode

REGION = "ap-southeast-1"
AWS_SAYS = ("User: arn:aws:iam::123456789012:user/alice is not authorized to perform: "
            "dynamodb:CreateTableReplica on resource: arn:aws:dynamodb:ap-southeast-1:"
            "123456789012:table/alice-tickets because no identity-based policy allows the "
            "dynamodb:CreateTableReplica action")


@pytest.fixture()
def quiet(monkeypatch, tmp_path):
    monkeypatch.setenv("WORKSHOP_HOME", str(tmp_path))  # the call log goes there
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    monkeypatch.setattr("sys.argv", ["pytest"])


def _client(service: str = "dynamodb", kit_session: bool = False):
    made = (session._session(for_mode("aws"), None) if kit_session
            else boto3.session.Session())
    if not kit_session:
        permissions.attach(made)
    return made.client(service, region_name=REGION, aws_access_key_id="testing",
                       aws_secret_access_key="testing")


def _denied(client, operation: str, code: str = "AccessDeniedException", message: str = "",
            status: int = 400, **params):
    with Stubber(client) as stub:
        stub.add_client_error(operation, service_error_code=code, service_message=message,
                              http_status_code=status)
        with pytest.raises(ClientError) as caught:
            getattr(client, operation)(**params)
    return caught.value


def test_a_denial_in_a_notebook_names_the_action_the_notebook_and_the_policy(quiet,
                                                                            monkeypatch):
    monkeypatch.setenv("JPY_SESSION_NAME", "/home/me/notebooks/04.1-global-tables.ipynb")
    error = _denied(_client(kit_session=True), "update_table", message=AWS_SAYS,
                    TableName="alice-tickets",
                    ReplicaUpdates=[{"Create": {"RegionName": REGION}}])
    assert isinstance(error, PermissionDenied)
    assert error.response["Error"]["Code"] == "AccessDeniedException"  # AWS's answer kept
    sentence = explain(error)
    assert sentence == str(error) and "\n" not in sentence
    assert sentence.startswith("AWS denied UpdateTable (dynamodb:CreateTableReplica) in "
                               f"{REGION} for notebook 04.1-global-tables.ipynb")
    assert "`workshop iam-policy`" in sentence
    # The call log saw the denial first (the explanation runs last).
    from helpers.connect import calllog

    logged = calllog.read(calllog.participant())[-1]
    assert (logged["operation"], logged["outcome"]) == ("UpdateTable", "AccessDeniedException")


def test_without_aws_naming_the_action_the_kit_names_it(quiet):
    error = _denied(_client(), "describe_table", code="AccessDenied", TableName="t")
    assert "AWS denied DescribeTable (dynamodb:DescribeTable)" in str(error)


def test_a_command_is_named_and_so_is_the_kits_function(quiet, monkeypatch):
    monkeypatch.setattr("sys.argv", ["workshop", "cleanup", "--verify"])
    stubbed = _client()
    monkeypatch.setattr(global_tables, "client", lambda service, region: stubbed)
    config = WorkshopConfig(mode="aws", primary_region="eu-west-1", secondary_region=REGION,
                            domain="example.com", prefix="alice")
    with Stubber(stubbed) as stub:
        stub.add_client_error("describe_table", service_error_code="AccessDeniedException",
                              http_status_code=400)
        with pytest.raises(PermissionDenied) as caught:
            global_tables.describe(config, REGION)
    assert ("for `workshop cleanup` (helpers.aws.global_tables.describe)"
            in str(caught.value))


def test_ec2_style_unauthorized_operation_is_a_denial_too(quiet):
    error = _denied(_client("sts"), "get_caller_identity", code="UnauthorizedOperation")
    assert isinstance(error, PermissionDenied)
    assert "(sts:GetCallerIdentity)" in str(error)


def test_s3s_bare_403_to_a_head_names_both_causes(quiet):
    error = _denied(_client("s3"), "head_bucket", code="403", message="Forbidden", status=403,
                    Bucket="alice-artifacts-123456789012-ap-southeast-1")
    assert isinstance(error, PermissionDenied)
    assert "AWS denied HeadBucket (s3:ListBucket)" in str(error)
    assert "another account" in str(error)


def test_other_errors_pass_untouched(quiet):
    error = _denied(_client(), "describe_table", code="ResourceNotFoundException",
                    TableName="t")
    assert not isinstance(error, PermissionDenied)
    assert error.response["Error"]["Code"] == "ResourceNotFoundException"


def test_a_plain_client_error_still_points_at_the_policy():
    sentence = explain(ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}},
                                   "DeleteStack"))
    assert sentence.startswith("AWS denied DeleteStack (no)")
    assert "`workshop iam-policy`" in sentence


def test_a_denial_survives_pickling(quiet):
    import pickle

    error = _denied(_client(), "describe_table", code="AccessDenied", TableName="t")
    again = pickle.loads(pickle.dumps(error))
    assert str(again) == str(error) and again.response == error.response


def test_a_stack_that_cloudformation_could_not_create_for_want_of_a_permission_says_so():
    from helpers.aws import stacks

    class Events:
        def describe_stack_events(self, StackName):
            return {"StackEvents": [{
                "LogicalResourceId": "GetFunctionRole", "ResourceStatus": "CREATE_FAILED",
                "ResourceStatusReason": "Resource handler returned message: \"User: arn:aws:iam"
                "::123456789012:user/alice is not authorized to perform: iam:CreateRole on "
                "resource: arn:aws:iam::123456789012:role/alice-api-GetFunctionRole-X\""}]}

    sentence = stacks._failure_message(Events(), "alice-api", "ROLLBACK_COMPLETE")
    assert sentence.startswith("stack alice-api ended in ROLLBACK_COMPLETE: CloudFormation was "
                               "denied iam:CreateRole")
    assert "`workshop iam-policy`" in sentence
