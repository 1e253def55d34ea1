"""The CloudFormation templates: valid for AWS, least privilege, and true to
the names, tags, parameters and outputs fixed in docs/CONVENTIONS.md.

Templates are parsed with cfn-lint's own decoder, which turns the short forms
(!Ref, !Sub, !GetAtt) into their long forms ({"Ref": ...}, {"Fn::Sub": ...}).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from cfnlint.api import ManualArgs, lint
from cfnlint.decode import decode
from cfnlint.schema import PROVIDER_SCHEMA_MANAGER

TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "templates"
TEMPLATE_NAMES = ("api", "ui", "replication")

# The default workshop regions plus cfn-lint's reference region.
LINT_REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-1"]

WORKSHOP_TAGS = {
    "workshop:kit": "multi-region-resilience",
    "workshop:participant": {"Ref": "Prefix"},
}

CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Headers": "Content-Type",
    "Access-Control-Allow-Methods": "GET,POST,OPTIONS",
    "Access-Control-Expose-Headers": "X-Workshop-Region",
}

# A statement may grant on Resource "*" only where AWS offers nothing narrower, and the
# template must say why, machine-readably: a YAML comment starting "# wildcard-resource:"
# followed by the reason (at least three words), on the line of the "*" itself or on the
# line directly above it, e.g.
#       # wildcard-resource: xray:PutTraceSegments has no resource-level ARN
#       Resource: "*"
# The kit's templates have none today: every action they grant has a resource-level ARN.
WILDCARD_JUSTIFICATION = re.compile(r"#\s*wildcard-resource:\s*(\S+\s+){2,}\S+")

# Every IAM role of every template, and the test that pins its grants exactly.
PINNED_ROLES = {
    ("api", "GetFunctionRole"): "test_get_function_role_may_only_read_the_table_and_its_index",
    ("api", "PostFunctionRole"): "test_post_function_role_may_only_put_items",
    ("api", "HealthFunctionRole"): "test_health_function_role_may_only_read_the_table",
    ("replication", "ReplicatorRole"):
        "test_replicator_role_reads_only_the_source_stream_and_writes_only_the_target",
}

EXPECTED_PARAMETERS = {
    "api": {"Prefix", "CodeBucket", "CodeKey", "TableSource"},
    "ui": {"Prefix"},
    "replication": {
        "Prefix",
        "CodeBucket",
        "CodeKey",
        "SourceStreamArn",
        "SourceTableName",
        "TargetRegion",
        "TargetTableName",
        "BatchSize",
        "MaximumRetryAttempts",
    },
}

EXPECTED_OUTPUTS = {
    "api": {
        "ApiUrl",
        "ApiId",
        "TableName",
        "TableArn",
        "StreamArn",
        "GetFunctionName",
        "PostFunctionName",
        "HealthFunctionName",
    },
    "ui": {"BucketName", "BucketURL"},
    "replication": {
        "ReplicatorFunctionName",
        "FailureQueueUrl",
        "FailureQueueArn",
        "EventSourceMappingId",
    },
}


# ------------------------------------------------------------------ helpers


@cache
def load(name: str) -> dict[str, Any]:
    template, matches = decode(str(TEMPLATES_DIR / f"{name}.yaml"))
    assert not matches, [str(m) for m in matches]
    assert template is not None
    return template


def resources(name: str, type_: str | None = None) -> dict[str, dict[str, Any]]:
    return {
        logical_id: resource
        for logical_id, resource in load(name)["Resources"].items()
        if type_ is None or resource["Type"] == type_
    }


def props(name: str, logical_id: str) -> dict[str, Any]:
    return load(name)["Resources"][logical_id].get("Properties", {})


def sub(value: Any) -> str:
    """The template string of a Fn::Sub (either form)."""
    assert isinstance(value, dict) and "Fn::Sub" in value, value
    body = value["Fn::Sub"]
    return body[0] if isinstance(body, list) else body


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def policy_statements(name: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every statement of every policy document in a template, found
    wherever it sits (role trust and inline policies, bucket policies...)."""

    def walk(node: Any, logical_id: str) -> Iterator[tuple[str, dict[str, Any]]]:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("PolicyDocument", "AssumeRolePolicyDocument"):
                    for statement in as_list(value["Statement"]):
                        yield logical_id, statement
                else:
                    yield from walk(value, logical_id)
        elif isinstance(node, list):
            for item in node:
                yield from walk(item, logical_id)

    for logical_id, resource in resources(name).items():
        yield from walk(resource.get("Properties", {}), logical_id)


IAM_POLICY_TYPES = ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy", "AWS::IAM::RolePolicy")


def roles() -> list[tuple[str, str]]:
    """(template, logical id) of every IAM role in every template."""
    return [(name, logical_id) for name in TEMPLATE_NAMES
            for logical_id in resources(name, "AWS::IAM::Role")]


def role_grants(name: str, role_id: str) -> set[tuple[str, str]]:
    """(action, resource) pairs a role is allowed: its inline ``Policies`` and every policy
    resource of the template attached to it (``Roles`` / ``RoleName``). Intrinsic resources
    are shown as their Sub string, Ref name or GetAtt path. A role with a managed policy
    (AWS's or the template's own through ``ManagedPolicyArns``) or with no grant at all
    fails here, so no caller can pass vacuously."""

    def show(resource: Any) -> str:
        if isinstance(resource, str):
            return resource
        if "Fn::Sub" in resource:
            return sub(resource)
        if "Ref" in resource:
            return f"Ref {resource['Ref']}"
        getatt = resource["Fn::GetAtt"]
        return "GetAtt " + (getatt if isinstance(getatt, str) else ".".join(getatt))

    role = props(name, role_id)
    assert "ManagedPolicyArns" not in role, (
        f"{name}:{role_id} attaches managed policies {role['ManagedPolicyArns']}: their "
        "grants are not pinned by any test; give the role inline statements instead")
    documents = [policy["PolicyDocument"] for policy in role.get("Policies", [])]
    for resource in resources(name).values():
        if resource["Type"] not in IAM_POLICY_TYPES:
            continue
        attached = resource.get("Properties", {})
        targets = [*as_list(attached.get("Roles", [])), attached.get("RoleName")]
        if {"Ref": role_id} in targets or role_id in targets:
            documents.append(attached["PolicyDocument"])
    grants = set()
    for document in documents:
        for statement in as_list(document["Statement"]):
            assert statement["Effect"] == "Allow"
            for action in as_list(statement["Action"]):
                for resource in as_list(statement["Resource"]):
                    grants.add((action, show(resource)))
    assert grants, f"{name}:{role_id} grants nothing"
    return grants


def logs_grants(log_group_id: str) -> set[tuple[str, str]]:
    arn = (
        "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}"
        f":log-group:${{{log_group_id}}}:*"
    )
    return {("logs:CreateLogStream", arn), ("logs:PutLogEvents", arn)}


@cache
def is_taggable(resource_type: str) -> bool:
    schema = PROVIDER_SCHEMA_MANAGER.get_resource_schema("us-east-1", resource_type)
    tagging = schema.schema.get("tagging")
    if tagging is not None:
        return bool(tagging.get("taggable"))
    return "Tags" in schema.schema.get("properties", {})


def tags_of(resource: dict[str, Any]) -> dict[str, Any]:
    tags = resource.get("Properties", {}).get("Tags", {})
    if isinstance(tags, list):
        return {tag["Key"]: tag["Value"] for tag in tags}
    return dict(tags)


# ------------------------------------------------------------ every template


def test_the_kit_has_exactly_the_three_templates():
    assert sorted(p.stem for p in TEMPLATES_DIR.glob("*.yaml")) == sorted(TEMPLATE_NAMES)


@pytest.mark.parametrize("name", TEMPLATE_NAMES)
def test_cfn_lint_reports_nothing_not_even_informational(name):
    text = (TEMPLATES_DIR / f"{name}.yaml").read_text()
    matches = lint(text, config=ManualArgs(regions=LINT_REGIONS, include_checks=["I"]))
    assert [str(m) for m in matches] == []


@pytest.mark.parametrize("name", TEMPLATE_NAMES)
def test_template_is_plain_cloudformation_without_transform(name):
    template = load(name)
    assert "Transform" not in template
    assert not [r["Type"] for r in template["Resources"].values() if "Serverless" in r["Type"]]


def unjustified_wildcard_resources(name: str) -> list[str]:
    """Statements granting on Resource "*" without a ``# wildcard-resource:`` comment."""
    lines = (TEMPLATES_DIR / f"{name}.yaml").read_text().splitlines()
    found = []
    for logical_id, statement in policy_statements(name):
        for resource in as_list(statement.get("Resource", [])):
            if resource != "*":
                continue
            line = resource.start_mark.line  # 0-based, from cfn-lint's decoder
            nearby = [lines[line], lines[line - 1].strip() if line else ""]
            if not (WILDCARD_JUSTIFICATION.search(nearby[0])
                    or (nearby[1].startswith("#") and WILDCARD_JUSTIFICATION.match(nearby[1]))):
                found.append(f"{name}:{logical_id} line {line + 1} grants "
                             f"{as_list(statement['Action'])} on '*'")
    return found


@pytest.mark.parametrize("name", TEMPLATE_NAMES)
def test_iam_statements_name_every_action_and_wildcard_resources_say_why(name):
    for logical_id, statement in policy_statements(name):
        assert "NotAction" not in statement, logical_id
        assert "NotResource" not in statement, logical_id
        actions = as_list(statement["Action"])
        for action in actions:
            assert isinstance(action, str) and "*" not in action, (logical_id, action)
    assert unjustified_wildcard_resources(name) == []


def test_a_wildcard_resource_without_its_reason_is_refused(tmp_path, monkeypatch):
    """The convention above, checked on a template that breaks it and one that keeps it."""
    role = """Resources:
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument: {Statement: [{Effect: Allow, Action: sts:AssumeRole,
                                              Principal: {Service: lambda.amazonaws.com}}]}
      Policies:
        - PolicyName: p
          PolicyDocument:
            Statement:
              - Effect: Allow
                Action: xray:PutTraceSegments
%s
"""
    monkeypatch.setattr(f"{__name__}.TEMPLATES_DIR", tmp_path)
    for name, resource_lines in (
            ("bare", '                Resource: "*"'),
            ("short", '                Resource: "*"  # wildcard-resource: needed'),
            ("said", '                # wildcard-resource: X-Ray has no resource-level ARN\n'
                     '                Resource: "*"'),
            ("inline", '                Resource: "*"  # wildcard-resource: no resource ARN '
                       'exists')):
        (tmp_path / f"{name}.yaml").write_text(role % resource_lines)
    load.cache_clear()
    try:
        assert unjustified_wildcard_resources("bare") == [
            "bare:Role line 13 grants ['xray:PutTraceSegments'] on '*'"]
        assert len(unjustified_wildcard_resources("short")) == 1
        assert unjustified_wildcard_resources("said") == []
        assert unjustified_wildcard_resources("inline") == []
    finally:
        load.cache_clear()


def test_every_role_in_every_template_has_its_grants_pinned_by_a_test():
    """A new role, or a role moved between templates, needs a grants test of its own."""
    assert sorted(roles()) == sorted(PINNED_ROLES)


@pytest.mark.parametrize(("name", "role_id"), sorted(PINNED_ROLES))
def test_no_role_has_a_managed_policy_or_grants_nothing(name, role_id):
    assert "ManagedPolicyArns" not in props(name, role_id)
    assert role_grants(name, role_id)


@pytest.mark.parametrize("name", TEMPLATE_NAMES)
def test_only_the_website_bucket_policy_grants_anything_to_the_public(name):
    for logical_id, statement in policy_statements(name):
        principal = statement.get("Principal")
        public = principal == "*" or (
            isinstance(principal, dict) and "*" in as_list(principal.get("AWS", []))
        )
        if public:
            assert (name, logical_id) == ("ui", "BucketPolicy")
            assert statement["Effect"] == "Allow"
            assert as_list(statement["Action"]) == ["s3:GetObject"]
            assert [sub(r) for r in as_list(statement["Resource"])] == ["${Bucket.Arn}/*"]
            assert "Condition" not in statement


def test_website_bucket_policy_makes_objects_publicly_readable():
    statements = as_list(props("ui", "BucketPolicy")["PolicyDocument"]["Statement"])
    assert props("ui", "BucketPolicy")["Bucket"] == {"Ref": "Bucket"}
    assert [(s["Principal"], s["Action"]) for s in statements] == [("*", "s3:GetObject")]


@pytest.mark.parametrize("name", TEMPLATE_NAMES)
def test_every_taggable_resource_carries_both_workshop_tags(name):
    untagged = {
        logical_id: tags_of(resource)
        for logical_id, resource in resources(name).items()
        if is_taggable(resource["Type"])
        and any(tags_of(resource).get(k) != v for k, v in WORKSHOP_TAGS.items())
    }
    assert untagged == {}


def test_taggability_comes_from_the_resource_schema():
    # Guards the tag test itself: a taggable and an untaggable type.
    assert is_taggable("AWS::Lambda::EventSourceMapping")
    assert not is_taggable("AWS::Lambda::Permission")


@pytest.mark.parametrize("name", TEMPLATE_NAMES)
def test_parameters_are_those_the_helpers_pass(name):
    assert set(load(name)["Parameters"]) == EXPECTED_PARAMETERS[name]


@pytest.mark.parametrize("name", TEMPLATE_NAMES)
def test_outputs_are_exactly_those_in_conventions(name):
    assert set(load(name)["Outputs"]) == EXPECTED_OUTPUTS[name]


@pytest.mark.parametrize("name", TEMPLATE_NAMES)
@pytest.mark.parametrize(
    ("prefix", "valid"),
    [
        ("wildrydes", True),
        ("abc", True),
        ("team-7", True),
        ("a" * 20, True),
        ("ab", False),
        ("a" * 21, False),
        ("7team", False),
        ("-team", False),
        ("WildRydes", False),
        ("wild_rydes", False),
        ("wild.rydes", False),
    ],
)
def test_prefix_parameter_enforces_the_prefix_rule(name, prefix, valid):
    parameter = load(name)["Parameters"]["Prefix"]
    assert parameter["Default"] == "wildrydes"
    assert bool(re.fullmatch(parameter["AllowedPattern"], prefix)) is valid


@pytest.mark.parametrize("name", TEMPLATE_NAMES)
def test_each_function_logs_to_its_own_week_long_log_group(name):
    groups = {
        sub(r["Properties"]["LogGroupName"]): r["Properties"]["RetentionInDays"]
        for r in resources(name, "AWS::Logs::LogGroup").values()
    }
    functions = resources(name, "AWS::Lambda::Function").values()
    assert groups == {"/aws/lambda/" + sub(f["Properties"]["FunctionName"]): 7 for f in functions}


# ----------------------------------------------------------------- api.yaml

API_FUNCTIONS = {
    # logical id: (name, handler, role, log group)
    "GetFunction": (
        "${Prefix}-ticket-get",
        "get_tickets.handler",
        "GetFunctionRole",
        "GetLogGroup",
    ),
    "PostFunction": (
        "${Prefix}-ticket-post",
        "post_ticket.handler",
        "PostFunctionRole",
        "PostLogGroup",
    ),
    "HealthFunction": (
        "${Prefix}-health-check",
        "health_check.handler",
        "HealthFunctionRole",
        "HealthLogGroup",
    ),
}


def test_tickets_table_has_the_key_index_and_stream_the_code_relies_on():
    table = props("api", "Table")
    assert sub(table["TableName"]) == "${Prefix}-tickets"
    assert table["BillingMode"] == "PAY_PER_REQUEST"
    assert table["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]
    assert {(a["AttributeName"], a["AttributeType"]) for a in table["AttributeDefinitions"]} == {
        ("id", "S"),
        ("listKey", "S"),
        ("createdAt", "S"),
    }
    assert table["GlobalSecondaryIndexes"] == [
        {
            "IndexName": "byCreatedAt",
            "KeySchema": [
                {"AttributeName": "listKey", "KeyType": "HASH"},
                {"AttributeName": "createdAt", "KeyType": "RANGE"},
            ],
            "Projection": {"ProjectionType": "ALL"},
        }
    ]
    assert table["StreamSpecification"] == {"StreamViewType": "NEW_AND_OLD_IMAGES"}
    assert table["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}


@pytest.mark.parametrize("logical_id", API_FUNCTIONS)
def test_api_function_runs_its_handler_from_the_shared_zip(logical_id):
    name, handler, role, _ = API_FUNCTIONS[logical_id]
    fn = props("api", logical_id)
    assert sub(fn["FunctionName"]) == name
    assert fn["Handler"] == handler
    assert fn["Runtime"] == "python3.12"
    assert fn["Code"] == {"S3Bucket": {"Ref": "CodeBucket"}, "S3Key": {"Ref": "CodeKey"}}
    # By name: the same table whether the stack owns it or it is a global table's replica.
    assert fn["Environment"] == {"Variables": {"TABLE_NAME": {"Fn::Sub": "${Prefix}-tickets"}}}
    assert fn["Role"] == {"Fn::GetAtt": [role, "Arn"]}
    assert fn["Timeout"] == 10
    assert fn["MemorySize"] == 256


def test_each_api_function_has_a_role_of_its_own():
    roles = [props("api", fid)["Role"]["Fn::GetAtt"][0] for fid in API_FUNCTIONS]
    assert sorted(roles) == sorted(r for _, _, r, _ in API_FUNCTIONS.values())
    assert len(resources("api", "AWS::IAM::Role")) == len(API_FUNCTIONS)


# The tickets table of the stack's region, by name: the stack's own table, or (TableSource
# global-table-replica, notebook 04.1) the global table's replica in that region.
TABLE_ARN = ("arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:"
             "table/${Prefix}-tickets")


def test_the_table_is_the_stacks_unless_a_global_table_replica_took_its_place():
    template = load("api")
    assert template["Parameters"]["TableSource"]["AllowedValues"] == [
        "stack", "global-table-replica"]
    assert template["Conditions"]["OwnsTable"] == {
        "Fn::Equals": [{"Ref": "TableSource"}, "stack"]}
    assert template["Resources"]["Table"]["Condition"] == "OwnsTable"
    assert template["Outputs"]["StreamArn"]["Condition"] == "OwnsTable"


def test_get_function_role_may_only_read_the_table_and_its_index():
    assert role_grants("api", "GetFunctionRole") == {
        ("dynamodb:Query", f"{TABLE_ARN}/index/byCreatedAt"),
        ("dynamodb:GetItem", TABLE_ARN),
        ("dynamodb:Scan", TABLE_ARN),
    } | logs_grants("GetLogGroup")


def test_post_function_role_may_only_put_items():
    assert role_grants("api", "PostFunctionRole") == {
        ("dynamodb:PutItem", TABLE_ARN),
    } | logs_grants("PostLogGroup")


def test_health_function_role_may_only_read_the_table():
    assert role_grants("api", "HealthFunctionRole") == {
        ("dynamodb:GetItem", TABLE_ARN),
        ("dynamodb:Scan", TABLE_ARN),
    } | logs_grants("HealthLogGroup")


def test_function_roles_can_only_be_assumed_by_lambda():
    for name in TEMPLATE_NAMES:
        for logical_id in resources(name, "AWS::IAM::Role"):
            trust = props(name, logical_id)["AssumeRolePolicyDocument"]["Statement"]
            assert [(s["Principal"], s["Action"]) for s in as_list(trust)] == [
                ({"Service": "lambda.amazonaws.com"}, "sts:AssumeRole")
            ]


def test_rest_api_is_regional_and_named_after_the_prefix():
    api = props("api", "Api")
    assert sub(api["Name"]) == "${Prefix}-api"
    assert api["EndpointConfiguration"] == {"Types": ["REGIONAL"]}


def _routes() -> dict[tuple[str, str], dict[str, Any]]:
    paths = {
        logical_id: r["Properties"]["PathPart"]
        for logical_id, r in resources("api", "AWS::ApiGateway::Resource").items()
    }
    return {
        (paths[m["Properties"]["ResourceId"]["Ref"]], m["Properties"]["HttpMethod"]): m[
            "Properties"
        ]
        for m in resources("api", "AWS::ApiGateway::Method").values()
    }


def test_api_routes_are_ticket_and_health_with_cors_preflight():
    assert set(_routes()) == {
        ("ticket", "GET"),
        ("ticket", "POST"),
        ("ticket", "OPTIONS"),
        ("health", "GET"),
        ("health", "OPTIONS"),
    }
    for logical_id, r in resources("api", "AWS::ApiGateway::Resource").items():
        assert r["Properties"]["ParentId"] == {"Fn::GetAtt": ["Api", "RootResourceId"]}, logical_id


@pytest.mark.parametrize(
    ("route", "function"),
    [
        (("ticket", "GET"), "GetFunction"),
        (("ticket", "POST"), "PostFunction"),
        (("health", "GET"), "HealthFunction"),
    ],
)
def test_lambda_routes_are_proxy_integrations_to_their_function(route, function):
    method = _routes()[route]
    assert method["AuthorizationType"] == "NONE"
    integration = method["Integration"]
    assert integration["Type"] == "AWS_PROXY"
    assert integration["IntegrationHttpMethod"] == "POST"
    assert sub(integration["Uri"]) == (
        "arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/2015-03-31"
        f"/functions/${{{function}.Arn}}/invocations"
    )


@pytest.mark.parametrize("path", ["ticket", "health"])
def test_preflight_answers_200_with_the_conventions_cors_headers(path):
    method = _routes()[(path, "OPTIONS")]
    assert method["AuthorizationType"] == "NONE"
    integration = method["Integration"]
    assert integration["Type"] == "MOCK"
    assert integration["RequestTemplates"] == {"application/json": '{"statusCode": 200}'}
    [response] = integration["IntegrationResponses"]
    assert response["StatusCode"] == "200"
    parameters = response["ResponseParameters"]
    for header, value in CORS_HEADERS.items():
        assert parameters[f"method.response.header.{header}"] == f"'{value}'"
    assert sub(parameters["method.response.header.X-Workshop-Region"]) == ("'${AWS::Region}'")
    # API Gateway only returns headers the method response declares.
    [declared] = method["MethodResponses"]
    assert declared["StatusCode"] == "200"
    assert set(declared["ResponseParameters"]) == set(parameters)


def test_deployment_follows_every_method_and_prod_stage_serves_it():
    deployment = resources("api", "AWS::ApiGateway::Deployment")["Deployment"]
    assert set(deployment["DependsOn"]) == set(resources("api", "AWS::ApiGateway::Method"))
    assert "StageName" not in deployment["Properties"]
    [stage] = resources("api", "AWS::ApiGateway::Stage").values()
    assert stage["Properties"]["StageName"] == "prod"
    assert stage["Properties"]["DeploymentId"] == {"Ref": "Deployment"}
    assert stage["Properties"]["RestApiId"] == {"Ref": "Api"}


def test_api_gateway_may_invoke_each_function_only_through_this_api():
    permissions = resources("api", "AWS::Lambda::Permission").values()
    assert sorted(p["Properties"]["FunctionName"]["Fn::GetAtt"][0] for p in permissions) == (
        sorted(API_FUNCTIONS)
    )
    for permission in permissions:
        p = permission["Properties"]
        assert p["Action"] == "lambda:InvokeFunction"
        assert p["Principal"] == "apigateway.amazonaws.com"
        assert sub(p["SourceArn"]) == (
            "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${Api}/*"
        )


def test_api_outputs_point_at_the_prod_stage_table_stream_and_functions():
    outputs = {k: v["Value"] for k, v in load("api")["Outputs"].items()}
    assert sub(outputs["ApiUrl"]) == (
        "https://${Api}.execute-api.${AWS::Region}.${AWS::URLSuffix}/prod/"
    )
    assert outputs["ApiId"] == {"Ref": "Api"}
    assert sub(outputs["TableName"]) == "${Prefix}-tickets"
    assert sub(outputs["TableArn"]) == TABLE_ARN
    assert outputs["StreamArn"] == {"Fn::GetAtt": ["Table", "StreamArn"]}
    assert outputs["GetFunctionName"] == {"Ref": "GetFunction"}
    assert outputs["PostFunctionName"] == {"Ref": "PostFunction"}
    assert outputs["HealthFunctionName"] == {"Ref": "HealthFunction"}


# ------------------------------------------------------------------ ui.yaml


def test_website_bucket_serves_index_and_error_pages_and_blocks_acls():
    bucket = props("ui", "Bucket")
    assert sub(bucket["BucketName"]) == "${Prefix}-ui-${AWS::AccountId}-${AWS::Region}"
    assert bucket["WebsiteConfiguration"] == {
        "IndexDocument": "index.html",
        "ErrorDocument": "error.html",
    }
    assert bucket["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "IgnorePublicAcls": True,
        "BlockPublicPolicy": False,
        "RestrictPublicBuckets": False,
    }
    assert bucket["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}


def test_ui_outputs_are_the_bucket_name_and_website_url():
    outputs = {k: v["Value"] for k, v in load("ui")["Outputs"].items()}
    assert outputs == {
        "BucketName": {"Ref": "Bucket"},
        "BucketURL": {"Fn::GetAtt": ["Bucket", "WebsiteURL"]},
    }


# --------------------------------------------------------- replication.yaml


def test_failure_queue_keeps_discarded_batch_descriptions_for_14_days_encrypted():
    queue = props("replication", "FailureQueue")
    assert sub(queue["QueueName"]) == "${Prefix}-replicator-dlq"
    assert queue["MessageRetentionPeriod"] == 14 * 24 * 3600
    assert queue["SqsManagedSseEnabled"] is True


def test_replicator_writes_to_the_configured_secondary_table():
    fn = props("replication", "ReplicatorFunction")
    assert sub(fn["FunctionName"]) == "${Prefix}-replicator"
    assert fn["Handler"] == "replicator.handler"
    assert fn["Runtime"] == "python3.12"
    assert fn["Timeout"] == 60
    assert fn["Code"] == {"S3Bucket": {"Ref": "CodeBucket"}, "S3Key": {"Ref": "CodeKey"}}
    assert fn["Role"] == {"Fn::GetAtt": ["ReplicatorRole", "Arn"]}
    assert fn["Environment"] == {
        "Variables": {
            "TABLE_NAME": {"Ref": "SourceTableName"},
            "TARGET_REGION": {"Ref": "TargetRegion"},
            "TARGET_TABLE_NAME": {"Ref": "TargetTableName"},
        }
    }


SOURCE_STREAMS = ("arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}"
                  ":table/${SourceTableName}/stream/*")


def test_replicator_role_reads_only_the_source_stream_and_writes_only_the_target():
    target = (
        "arn:${AWS::Partition}:dynamodb:${TargetRegion}:${AWS::AccountId}:table/${TargetTableName}"
    )
    assert role_grants("replication", "ReplicatorRole") == {
        ("dynamodb:DescribeStream", "Ref SourceStreamArn"),
        ("dynamodb:GetShardIterator", "Ref SourceStreamArn"),
        ("dynamodb:GetRecords", "Ref SourceStreamArn"),
        ("dynamodb:ListStreams", SOURCE_STREAMS),
        ("dynamodb:BatchWriteItem", target),
        ("dynamodb:BatchGetItem", target),
        ("dynamodb:PutItem", target),
        ("dynamodb:DeleteItem", target),
        ("dynamodb:GetItem", target),
        ("sqs:SendMessage", "GetAtt FailureQueue.Arn"),
    } | logs_grants("ReplicatorLogGroup")


def test_stream_mapping_retries_bisects_reports_partial_failures_then_gives_up():
    [mapping] = resources("replication", "AWS::Lambda::EventSourceMapping").values()
    p = mapping["Properties"]
    assert p["EventSourceArn"] == {"Ref": "SourceStreamArn"}
    assert p["FunctionName"] == {"Ref": "ReplicatorFunction"}
    assert p["StartingPosition"] == "TRIM_HORIZON"
    assert p["BatchSize"] == {"Ref": "BatchSize"}
    assert p["MaximumBatchingWindowInSeconds"] == 0
    assert p["BisectBatchOnFunctionError"] is True
    assert p["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert p["MaximumRetryAttempts"] == {"Ref": "MaximumRetryAttempts"}
    assert p["MaximumRecordAgeInSeconds"] == -1
    assert p["DestinationConfig"] == {
        "OnFailure": {"Destination": {"Fn::GetAtt": ["FailureQueue", "Arn"]}}
    }


def test_replication_tuning_parameters_default_to_the_documented_values():
    parameters = load("replication")["Parameters"]
    assert parameters["BatchSize"]["Default"] == 100
    assert parameters["MaximumRetryAttempts"]["Default"] == 5


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        (
            "arn:aws:dynamodb:eu-west-1:123456789012:table/wildrydes-tickets"
            "/stream/2026-11-27T17:23:38.123",
            True,
        ),
        ("arn:aws:dynamodb:eu-west-1:123456789012:table/wildrydes-tickets", False),
        ("wildrydes-tickets", False),
    ],
)
def test_source_stream_parameter_accepts_only_a_stream_arn(value, valid):
    pattern = load("replication")["Parameters"]["SourceStreamArn"]["AllowedPattern"]
    assert bool(re.fullmatch(pattern, value)) is valid


def test_replication_outputs_name_the_function_queue_and_mapping():
    outputs = {k: v["Value"] for k, v in load("replication")["Outputs"].items()}
    assert outputs == {
        "ReplicatorFunctionName": {"Ref": "ReplicatorFunction"},
        "FailureQueueUrl": {"Ref": "FailureQueue"},
        "FailureQueueArn": {"Fn::GetAtt": ["FailureQueue", "Arn"]},
        "EventSourceMappingId": {"Ref": "StreamMapping"},
    }


# --------------------------------------------------- wildcards inside ARNs

# A "*" inside a granted ARN, and why nothing narrower exists: (template, logical id,
# the ARN's Sub string) -> reason.
WILDCARD_ARN_ALLOWLIST = {
    ("api", role, f"arn:${{AWS::Partition}}:logs:${{AWS::Region}}:${{AWS::AccountId}}"
     f":log-group:${{{group}}}:*"): "the log streams of one log group; Lambda names them"
    for role, group in (("GetFunctionRole", "GetLogGroup"), ("PostFunctionRole", "PostLogGroup"),
                        ("HealthFunctionRole", "HealthLogGroup"))
} | {
    ("replication", "ReplicatorRole", "arn:${AWS::Partition}:logs:${AWS::Region}"
     ":${AWS::AccountId}:log-group:${ReplicatorLogGroup}:*"):
        "the log streams of one log group; Lambda names them",
    ("replication", "ReplicatorRole", SOURCE_STREAMS):
        "the source table's streams; ListStreams takes no single stream's ARN",
    ("ui", "BucketPolicy", "${Bucket.Arn}/*"): "every object of the website bucket",
}


def _arn_strings(resource: Any) -> list[str]:
    if isinstance(resource, str):
        return [resource]
    if isinstance(resource, dict) and "Fn::Sub" in resource:
        return [sub(resource)]
    return []  # Ref / GetAtt: one whole resource, no wildcard possible


@pytest.mark.parametrize("name", TEMPLATE_NAMES)
def test_a_wildcard_inside_a_granted_arn_is_one_named_resources_children(name):
    for logical_id, statement in policy_statements(name):
        for resource in as_list(statement.get("Resource", [])):
            for arn in _arn_strings(resource):
                if "*" in arn and arn != "*":
                    assert (name, logical_id, arn) in WILDCARD_ARN_ALLOWLIST, (
                        f"{name}:{logical_id} grants on {arn}")
                    # Only the last segment, under a resource the stack itself names.
                    assert arn.count("*") == 1 and arn.endswith(("/*", ":*"))
                    assert "${" in arn[:-2]


def test_lambda_permissions_name_their_api_not_every_api():
    for permission in resources("api", "AWS::Lambda::Permission").values():
        source = sub(permission["Properties"]["SourceArn"])
        assert source.endswith(":${Api}/*") and source.count("*") == 1
