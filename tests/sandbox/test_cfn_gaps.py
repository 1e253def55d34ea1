"""CloudFormation in the sandbox creates (and deletes) every resource a template declares."""

from __future__ import annotations

import json
import time
import uuid

import pytest
import yaml

from helpers.aws.packaging import build_zip, code_key
from helpers.base.paths import TEMPLATES

REGION = "eu-west-1"
SECONDARY = "ap-southeast-1"
ACCOUNT = "123456789012"


def unique_prefix() -> str:
    return f"cfn{uuid.uuid4().hex[:8]}"


def deploy(cfn, name: str, template: str, **parameters: str) -> dict[str, str]:
    cfn.create_stack(
        StackName=name, TemplateBody=template, Capabilities=["CAPABILITY_IAM"],
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()])
    return wait_for(cfn, name, "CREATE_COMPLETE")


def wait_for(cfn, name: str, status: str) -> dict[str, str]:
    deadline = time.monotonic() + 60
    while True:
        stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
        if stack["StackStatus"] == status:
            return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
        assert not stack["StackStatus"].endswith(("FAILED", "ROLLBACK_COMPLETE")), stack
        assert time.monotonic() < deadline, stack["StackStatus"]
        time.sleep(0.1)


def declared(template: str) -> set[str]:
    return set(yaml.load(template, Loader=_CfnLoader)["Resources"])


class _CfnLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short-form tags (!Ref, !Sub, ...) read as plain values."""


_CfnLoader.add_multi_constructor("!", lambda loader, suffix, node: None)


def stack_resources(cfn, name: str) -> dict[str, dict]:
    return {r["LogicalResourceId"]: r
            for r in cfn.list_stack_resources(StackName=name)["StackResourceSummaries"]}


def deploy_kit_stacks() -> dict:
    """The kit's three templates deployed in the sandbox under a fresh prefix."""
    from helpers.connect.session import client

    prefix = unique_prefix()
    s3, cfn = client("s3", REGION), client("cloudformation", REGION)
    bucket = f"{prefix}-artifacts-{ACCOUNT}-{REGION}"
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    code = build_zip()
    s3.put_object(Bucket=bucket, Key=code_key(code), Body=code)
    templates = {t: (TEMPLATES / f"{t}.yaml").read_text() for t in ("api", "ui", "replication")}
    names = {t: f"{prefix}-{t}" for t in templates}
    kit = {"prefix": prefix, "templates": templates, "names": names, "bucket": bucket,
           "outputs": {}}
    try:
        api = deploy(cfn, names["api"], templates["api"], Prefix=prefix, CodeBucket=bucket,
                     CodeKey=code_key(code))
        kit["outputs"]["api"] = api
        kit["outputs"]["ui"] = deploy(cfn, names["ui"], templates["ui"], Prefix=prefix)
        kit["outputs"]["replication"] = deploy(
            cfn, names["replication"], templates["replication"], Prefix=prefix,
            CodeBucket=bucket, CodeKey=code_key(code), SourceStreamArn=api["StreamArn"],
            SourceTableName=api["TableName"], TargetRegion=SECONDARY,
            TargetTableName=f"{prefix}-tickets")
    except BaseException:
        remove_kit_stacks(kit)
        raise
    return kit


def remove_kit_stacks(kit: dict) -> None:
    """Delete what :func:`deploy_kit_stacks` made (stacks still there, then the code bucket).
    Nothing is swallowed: a deletion that fails fails the test's teardown."""
    from helpers.connect.session import client

    cfn, s3 = client("cloudformation", REGION), client("s3", REGION)
    for kind in ("replication", "ui", "api"):
        delete_stack(cfn, kit["names"][kind])
    for entry in s3.list_objects_v2(Bucket=kit["bucket"]).get("Contents", []):
        s3.delete_object(Bucket=kit["bucket"], Key=entry["Key"])
    s3.delete_bucket(Bucket=kit["bucket"])


@pytest.fixture(scope="module")
def kit_stacks(sandbox):
    """The kit's stacks for the tests that read them; deleted when the module ends."""
    if not all((TEMPLATES / f"{t}.yaml").exists() for t in ("api", "ui", "replication")):
        pytest.skip("the kit's templates are not there yet")
    kit = deploy_kit_stacks()
    yield kit
    remove_kit_stacks(kit)


def test_every_declared_resource_of_the_kit_templates_is_created(kit_stacks, aws):
    cfn = aws("cloudformation", REGION)
    for kind, template in kit_stacks["templates"].items():
        resources = stack_resources(cfn, kit_stacks["names"][kind])
        assert set(resources) == declared(template), kind
        assert {r["ResourceStatus"] for r in resources.values()} == {"CREATE_COMPLETE"}


def test_website_bucket_gets_its_policy_website_and_access_settings(kit_stacks, aws):
    s3 = aws("s3", REGION)
    bucket = kit_stacks["outputs"]["ui"]["BucketName"]

    policy = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
    statement = policy["Statement"][0]
    assert statement["Action"] == "s3:GetObject"
    assert statement["Principal"] == "*"
    assert statement["Resource"] == f"arn:aws:s3:::{bucket}/*"
    website = s3.get_bucket_website(Bucket=bucket)
    assert website["IndexDocument"] == {"Suffix": "index.html"}
    assert website["ErrorDocument"] == {"Key": "error.html"}
    block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert block["BlockPublicAcls"] is True and block["BlockPublicPolicy"] is False
    ownership = s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]
    assert ownership["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]


def test_api_has_its_prod_stage_mock_options_and_regional_endpoint(kit_stacks, aws):
    apigw = aws("apigateway", REGION)
    api_id = kit_stacks["outputs"]["api"]["ApiId"]
    resources = stack_resources(aws("cloudformation", REGION), kit_stacks["names"]["api"])

    stage = apigw.get_stage(restApiId=api_id, stageName="prod")
    assert stage["deploymentId"] == resources["Deployment"]["PhysicalResourceId"]
    assert resources["ProdStage"]["PhysicalResourceId"] == "prod"
    assert stage["tags"]["workshop:participant"] == kit_stacks["prefix"]
    assert apigw.get_rest_api(restApiId=api_id)["endpointConfiguration"]["types"] == ["REGIONAL"]
    ticket = next(r for r in apigw.get_resources(restApiId=api_id)["items"]
                  if r["path"] == "/ticket")
    options = apigw.get_method(restApiId=api_id, resourceId=ticket["id"], httpMethod="OPTIONS")
    assert options["methodIntegration"]["type"] == "MOCK"
    headers = options["methodIntegration"]["integrationResponses"]["200"]["responseParameters"]
    assert headers["method.response.header.X-Workshop-Region"] == f"'{REGION}'"
    assert "200" in options["methodResponses"]


def test_log_groups_table_and_functions_are_configured_as_declared(kit_stacks, aws):
    prefix = kit_stacks["prefix"]
    groups = {g["logGroupName"]: g for g in aws("logs", REGION).describe_log_groups(
        logGroupNamePrefix=f"/aws/lambda/{prefix}-")["logGroups"]}
    assert set(groups) == {f"/aws/lambda/{prefix}-{f}"
                           for f in ("ticket-get", "ticket-post", "health-check", "replicator")}
    assert {g["retentionInDays"] for g in groups.values()} == {7}
    backups = aws("dynamodb", REGION).describe_continuous_backups(TableName=f"{prefix}-tickets")
    pitr = backups["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]
    assert pitr["PointInTimeRecoveryStatus"] == "ENABLED"
    function = aws("lambda", REGION).get_function(FunctionName=f"{prefix}-ticket-get")
    assert function["Tags"]["workshop:kit"] == "multi-region-resilience"


def test_replication_mapping_has_the_declared_error_handling(kit_stacks, aws):
    outputs = kit_stacks["outputs"]
    mapping = aws("lambda", REGION).get_event_source_mapping(
        UUID=outputs["replication"]["EventSourceMappingId"])

    assert mapping["EventSourceArn"] == outputs["api"]["StreamArn"]
    assert mapping["StartingPosition"] == "TRIM_HORIZON"
    assert mapping["BatchSize"] == 100
    assert mapping["BisectBatchOnFunctionError"] is True
    assert mapping["MaximumRetryAttempts"] == 5
    assert mapping["MaximumRecordAgeInSeconds"] == -1
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["DestinationConfig"] == {
        "OnFailure": {"Destination": outputs["replication"]["FailureQueueArn"]}}


def test_stack_update_reapplies_the_website_configuration(kit_stacks, aws):
    cfn, s3 = aws("cloudformation", REGION), aws("s3", REGION)
    name = kit_stacks["names"]["ui"]
    original = kit_stacks["templates"]["ui"]
    bucket = kit_stacks["outputs"]["ui"]["BucketName"]
    template = original.replace("ErrorDocument: error.html", "ErrorDocument: oops.html")
    assert template != original
    try:
        cfn.update_stack(StackName=name, TemplateBody=template,
                         Parameters=[{"ParameterKey": "Prefix", "UsePreviousValue": True}])
        wait_for(cfn, name, "UPDATE_COMPLETE")
        assert s3.get_bucket_website(Bucket=bucket)["ErrorDocument"] == {"Key": "oops.html"}
        assert "PublicReadForWebsite" in s3.get_bucket_policy(Bucket=bucket)["Policy"]
    finally:  # the stack as the template declares it, for the module's other tests
        cfn.update_stack(StackName=name, TemplateBody=original,
                         Parameters=[{"ParameterKey": "Prefix", "UsePreviousValue": True}])
        wait_for(cfn, name, "UPDATE_COMPLETE")
    assert s3.get_bucket_website(Bucket=bucket)["ErrorDocument"] == {"Key": "error.html"}


def test_deleting_the_kit_stacks_removes_their_resources(sandbox, aws):
    """On stacks of its own: the module's other tests keep theirs, in any order."""
    kit = deploy_kit_stacks()
    try:
        cfn = aws("cloudformation", REGION)
        prefix, outputs = kit["prefix"], kit["outputs"]
        for kind in ("replication", "ui", "api"):
            delete_stack(cfn, kit["names"][kind])

        buckets = {b["Name"] for b in aws("s3", REGION).list_buckets()["Buckets"]}
        assert outputs["ui"]["BucketName"] not in buckets
        apis = {a["id"] for a in aws("apigateway", REGION).get_rest_apis()["items"]}
        assert outputs["api"]["ApiId"] not in apis
        assert not aws("logs", REGION).describe_log_groups(
            logGroupNamePrefix=f"/aws/lambda/{prefix}-")["logGroups"]
        mappings = aws("lambda", REGION).list_event_source_mappings()["EventSourceMappings"]
        assert outputs["replication"]["EventSourceMappingId"] not in {
            m["UUID"] for m in mappings}
        queues = aws("sqs", REGION).list_queues(QueueNamePrefix=prefix).get("QueueUrls", [])
        assert queues == []
        assert f"{prefix}-tickets" not in aws("dynamodb", REGION).list_tables()["TableNames"]
    finally:
        remove_kit_stacks(kit)


def delete_stack(cfn, name: str) -> None:
    """Delete and wait; a deletion the account's DeleteRestApi quota failed is retried, as
    AWS users (and helpers/aws/stacks.py) do."""
    cfn.delete_stack(StackName=name)
    deadline = time.monotonic() + 30
    while True:
        states = {s["StackStatus"] for s in cfn.list_stacks()["StackSummaries"]
                  if s["StackName"] == name} - {"DELETE_COMPLETE"}
        if not states:
            return
        assert time.monotonic() < deadline, f"{name} was not deleted ({states})"
        if states == {"DELETE_FAILED"}:
            cfn.delete_stack(StackName=name)
        time.sleep(0.1)


BUCKET_AND_STAGE = """
Resources:
  Bucket:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: {bucket}
      WebsiteConfiguration:
        IndexDocument: start.html
  Policy:
    Type: AWS::S3::BucketPolicy
    Properties:
      Bucket: !Ref Bucket
      PolicyDocument:
        Statement:
          - Effect: Allow
            Principal: "*"
            Action: s3:GetObject
            Resource: !Sub "${{Bucket.Arn}}/*"
  Api:
    Type: AWS::ApiGateway::RestApi
    Properties:
      Name: {bucket}
  Ping:
    Type: AWS::ApiGateway::Method
    Properties:
      RestApiId: !Ref Api
      ResourceId: !GetAtt Api.RootResourceId
      HttpMethod: GET
      AuthorizationType: NONE
      Integration:
        Type: MOCK
        RequestTemplates:
          application/json: '{{"statusCode": 200}}'
  Deployment:
    Type: AWS::ApiGateway::Deployment
    DependsOn: Ping
    Properties:
      RestApiId: !Ref Api
  Stage:
    Type: AWS::ApiGateway::Stage
    Properties:
      RestApiId: !Ref Api
      DeploymentId: !Ref Deployment
      StageName: live
Outputs:
  PolicyRef:
    Value: !Ref Policy
  StageRef:
    Value: !Ref Stage
  ApiId:
    Value: !Ref Api
"""


def test_refs_follow_aws_and_removed_resources_are_deleted(aws):
    cfn, s3, apigw = aws("cloudformation", REGION), aws("s3", REGION), aws("apigateway", REGION)
    bucket = unique_prefix()
    name = f"{bucket}-stack"
    template = BUCKET_AND_STAGE.format(bucket=bucket)

    outputs = deploy(cfn, name, template)

    assert outputs["PolicyRef"] == bucket
    assert outputs["StageRef"] == "live"
    assert apigw.get_stage(restApiId=outputs["ApiId"], stageName="live")["stageName"] == "live"
    assert s3.get_bucket_website(Bucket=bucket)["IndexDocument"] == {"Suffix": "start.html"}
    assert "s3:GetObject" in s3.get_bucket_policy(Bucket=bucket)["Policy"]

    # An update that drops the policy and the stage deletes them, as on AWS.
    slimmer = yaml.load(template, Loader=_CfnLoader)
    kept = {k: v for k, v in slimmer["Resources"].items() if k not in ("Policy", "Stage")}
    cfn.update_stack(StackName=name, TemplateBody=_without(template, ("Policy", "Stage")))
    wait_for(cfn, name, "UPDATE_COMPLETE")
    assert set(stack_resources(cfn, name)) == set(kept)
    with pytest.raises(s3.exceptions.ClientError, match="NoSuchBucketPolicy"):
        s3.get_bucket_policy(Bucket=bucket)
    assert apigw.get_stages(restApiId=outputs["ApiId"])["item"] == []

    delete_stack(cfn, name)
    assert bucket not in {b["Name"] for b in s3.list_buckets()["Buckets"]}
    assert outputs["ApiId"] not in {a["id"] for a in apigw.get_rest_apis()["items"]}


def _without(template: str, logical_ids: tuple[str, ...]) -> str:
    """The template text minus some resources (and the outputs that refer to them)."""
    kept, skipping = [], False
    for line in template.splitlines():
        indent = len(line) - len(line.lstrip())
        name = line.strip().rstrip(":")
        if indent in (0, 2) and line.strip():
            skipping = indent == 2 and name in logical_ids or (
                indent == 2 and name in ("PolicyRef", "StageRef"))
        if not skipping:
            kept.append(line)
    return "\n".join(kept)
