"""API Gateway over HTTP in the sandbox: proxy events, MOCK, deployments, custom domains."""

from __future__ import annotations

import io
import json
import time
import uuid
import zipfile

import pytest
import requests
from botocore.exceptions import ClientError

from helpers.base.regions import sandbox_ip

REGION = "eu-west-1"
ACCOUNT = "123456789012"

ECHO = '''
import json
def handler(event, context):
    return {
        "statusCode": 201,
        "headers": {"Content-Type": "application/json", "X-Single": "one"},
        "multiValueHeaders": {"X-Multi": ["a", "b"]},
        "body": json.dumps(event),
    }
'''
FAILS = '''
def handler(event, context):
    raise ValueError("boom")
'''
MALFORMED = '''
def handler(event, context):
    return {"statusCode": 200, "body": {"not": "a string"}}
'''
BINARY = '''
import base64
def handler(event, context):
    return {"statusCode": 200, "headers": {"Content-Type": "image/png"},
            "body": base64.b64encode(b"\\x89PNG\\x00\\xff").decode(), "isBase64Encoded": True}
'''


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def code_zip(source: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("index.py", source)
    return buffer.getvalue()


def create_function(aws, region: str, source: str, permission: bool = True) -> str:
    iam = aws("iam", region)
    role_name = unique("role")
    role = iam.create_role(RoleName=role_name, AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                       "Action": "sts:AssumeRole"}]}))["Role"]["Arn"]
    name = unique("fn")
    arn = aws("lambda", region).create_function(
        FunctionName=name, Runtime="python3.12", Role=role, Handler="index.handler",
        Code={"ZipFile": code_zip(source)}, Timeout=10)["FunctionArn"]
    if permission:
        aws("lambda", region).add_permission(
            FunctionName=name, StatementId="apigw", Action="lambda:InvokeFunction",
            Principal="apigateway.amazonaws.com",
            SourceArn=f"arn:aws:execute-api:{region}:{ACCOUNT}:*/*")
    return arn


def lambda_uri(region: str, function_arn: str) -> str:
    return (f"arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/"
            f"{function_arn}/invocations")


class Api:
    """A REST API built resource by resource, as a notebook or the console would."""

    def __init__(self, aws, region: str) -> None:
        self.region = region
        self.client = aws("apigateway", region)
        self.id = self.client.create_rest_api(
            name=unique("api"), endpointConfiguration={"types": ["REGIONAL"]})["id"]
        self.resources = {"/": next(r["id"] for r in self.client.get_resources(
            restApiId=self.id)["items"] if r["path"] == "/")}

    def resource(self, path: str) -> str:
        if path not in self.resources:
            parent, _, part = path.rpartition("/")
            parent_id = self.resource(parent or "/")
            self.resources[path] = self.client.create_resource(
                restApiId=self.id, parentId=parent_id, pathPart=part)["id"]
        return self.resources[path]

    def proxy(self, path: str, method: str, function_arn: str, **integration) -> None:
        resource_id = self.resource(path)
        self.client.put_method(restApiId=self.id, resourceId=resource_id, httpMethod=method,
                               authorizationType="NONE")
        self.client.put_integration(
            restApiId=self.id, resourceId=resource_id, httpMethod=method, type="AWS_PROXY",
            integrationHttpMethod="POST", uri=lambda_uri(self.region, function_arn),
            **integration)

    def cors(self, path: str) -> None:
        resource_id = self.resource(path)
        kwargs = {"restApiId": self.id, "resourceId": resource_id, "httpMethod": "OPTIONS"}
        self.client.put_method(authorizationType="NONE", **kwargs)
        self.client.put_method_response(statusCode="200", responseParameters={
            "method.response.header.Access-Control-Allow-Origin": True,
            "method.response.header.Access-Control-Allow-Methods": True}, **kwargs)
        self.client.put_integration(type="MOCK",
                                    requestTemplates={"application/json": '{"statusCode": 200}'},
                                    **kwargs)
        self.client.put_integration_response(
            statusCode="200", selectionPattern="", responseTemplates={"application/json": ""},
            responseParameters={
                "method.response.header.Access-Control-Allow-Origin": "'*'",
                "method.response.header.Access-Control-Allow-Methods": "'GET,POST,OPTIONS'"},
            **kwargs)

    def deploy(self, stage: str = "prod") -> str:
        return self.client.create_deployment(restApiId=self.id, stageName=stage)["id"]

    @property
    def host(self) -> str:
        return f"{self.id}.execute-api.{self.region}.amazonaws.com"


def call(sandbox, region: str, host: str, method: str, path: str, **kwargs) -> requests.Response:
    """A request straight to a region's listener, with the public name as Host."""
    headers = {"Host": host, **kwargs.pop("headers", {})}
    url = f"http://{sandbox_ip(region)}:{sandbox['http_port']}{path}"
    return requests.request(method, url, headers=headers, timeout=30, **kwargs)


@pytest.fixture(scope="module")
def echo_api(sandbox):
    from helpers.connect.session import client as aws

    api = Api(aws, REGION)
    echo = create_function(aws, REGION, ECHO)
    api.proxy("/ticket", "GET", echo)
    api.proxy("/ticket", "POST", echo)
    api.proxy("/ticket/{id}", "GET", echo)
    api.proxy("/files/{proxy+}", "ANY", echo)
    api.proxy("/fails", "GET", create_function(aws, REGION, FAILS))
    api.proxy("/malformed", "GET", create_function(aws, REGION, MALFORMED))
    api.proxy("/binary", "GET", create_function(aws, REGION, BINARY))
    api.proxy("/denied", "GET", create_function(aws, REGION, ECHO, permission=False))
    api.cors("/ticket")
    api.deploy("prod")
    return api


def test_proxy_event_has_the_real_shape(sandbox, echo_api):
    response = call(sandbox, REGION, echo_api.host, "POST", "/prod/ticket?a=1&b=2&b=3",
                    data=b'{"description": "x"}',
                    headers={"Content-Type": "application/json", "X-Test": "yes"})
    assert response.status_code == 201, response.text
    event = response.json()
    assert event["resource"] == "/ticket"
    assert event["path"] == "/ticket"
    assert event["httpMethod"] == "POST"
    assert event["headers"]["X-Test"] == "yes"
    assert event["headers"]["Host"] == echo_api.host
    assert event["multiValueHeaders"]["X-Test"] == ["yes"]
    assert event["queryStringParameters"] == {"a": "1", "b": "3"}
    assert event["multiValueQueryStringParameters"] == {"a": ["1"], "b": ["2", "3"]}
    assert event["pathParameters"] is None
    assert event["stageVariables"] is None
    assert event["body"] == '{"description": "x"}'
    assert event["isBase64Encoded"] is False
    context = event["requestContext"]
    assert context["accountId"] == ACCOUNT
    assert context["apiId"] == echo_api.id
    assert context["stage"] == "prod"
    assert context["resourcePath"] == "/ticket"
    assert context["httpMethod"] == "POST"
    assert context["path"] == "/prod/ticket"
    assert context["domainName"] == echo_api.host
    assert context["identity"]["sourceIp"] == "127.0.0.1"
    assert context["identity"]["userAgent"].startswith("python-requests")
    assert abs(context["requestTimeEpoch"] / 1000 - time.time()) < 60
    assert context["requestId"] == response.headers["x-amzn-RequestId"]


def test_path_parameters_and_greedy_proxy(sandbox, echo_api):
    event = call(sandbox, REGION, echo_api.host, "GET", "/prod/ticket/abc-123").json()
    assert event["resource"] == "/ticket/{id}"
    assert event["pathParameters"] == {"id": "abc-123"}
    assert event["queryStringParameters"] is None
    assert event["body"] is None
    event = call(sandbox, REGION, echo_api.host, "DELETE", "/prod/files/a/b/c.txt").json()
    assert event["resource"] == "/files/{proxy+}"
    assert event["pathParameters"] == {"proxy": "a/b/c.txt"}
    assert event["httpMethod"] == "DELETE"


def test_result_translation(sandbox, echo_api):
    response = call(sandbox, REGION, echo_api.host, "GET", "/prod/ticket")
    assert response.status_code == 201
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["X-Single"] == "one"
    assert response.headers["X-Multi"] == "a, b"  # requests joins repeated headers
    assert response.headers["x-amzn-RequestId"]
    assert response.headers["x-amz-apigw-id"]
    binary = call(sandbox, REGION, echo_api.host, "GET", "/prod/binary")
    assert binary.status_code == 200
    assert binary.headers["Content-Type"] == "image/png"
    assert binary.content == b"\x89PNG\x00\xff"


def test_mock_options_answers_cors(sandbox, echo_api):
    response = call(sandbox, REGION, echo_api.host, "OPTIONS", "/prod/ticket",
                    headers={"Origin": "http://example.com",
                             "Access-Control-Request-Method": "POST"})
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.headers["Access-Control-Allow-Methods"] == "GET,POST,OPTIONS"
    assert response.headers["Content-Type"] == "application/json"
    assert response.content == b""


def test_unknown_route_and_method_are_missing_authentication_token(sandbox, echo_api):
    for method, path in (("GET", "/prod/nope"), ("PUT", "/prod/ticket"), ("GET", "/prod")):
        response = call(sandbox, REGION, echo_api.host, method, path)
        assert response.status_code == 403, (method, path)
        assert response.json() == {"message": "Missing Authentication Token"}
        assert response.headers["x-amzn-ErrorType"] == "MissingAuthenticationTokenException"
    unknown_stage = call(sandbox, REGION, echo_api.host, "GET", "/beta/ticket")
    assert unknown_stage.status_code == 403
    assert unknown_stage.json() == {"message": "Forbidden"}


def test_unknown_host_is_forbidden(sandbox):
    response = call(sandbox, REGION, "nothing-here.example.com", "GET", "/")
    assert response.status_code == 403
    assert response.json() == {"message": "Forbidden"}
    # An API is served only from its own region's address.
    other = call(sandbox, "us-east-1", f"abc123.execute-api.{REGION}.amazonaws.com", "GET", "/")
    assert other.status_code == 403


def test_function_errors_are_502_and_missing_permission_500(sandbox, echo_api):
    for path in ("/prod/fails", "/prod/malformed"):
        response = call(sandbox, REGION, echo_api.host, "GET", path)
        assert response.status_code == 502, path
        assert response.json() == {"message": "Internal server error"}
    denied = call(sandbox, REGION, echo_api.host, "GET", "/prod/denied")
    assert denied.status_code == 500
    assert denied.json() == {"message": "Internal server error"}


def test_integration_change_needs_a_new_deployment(sandbox, aws):
    api = Api(aws, REGION)
    api.proxy("/health", "GET", create_function(aws, REGION, ECHO))
    api.deploy("prod")
    assert call(sandbox, REGION, api.host, "GET", "/prod/health").status_code == 201


def test_only_the_deployment_a_stage_serves_cannot_be_deleted(sandbox, aws):
    """AWS: "Active stages pointing to this deployment must be moved or deleted"; a
    deployment the stage has moved away from can go (moto kept refusing it)."""
    api = Api(aws, REGION)
    api.proxy("/health", "GET", create_function(aws, REGION, ECHO))
    first = api.deploy("prod")
    second = api.deploy("prod")
    with pytest.raises(ClientError) as refused:
        api.client.delete_deployment(restApiId=api.id, deploymentId=second)
    assert refused.value.response["Error"]["Code"] == "BadRequestException"
    api.client.delete_deployment(restApiId=api.id, deploymentId=first)
    left = [d["id"] for d in api.client.get_deployments(restApiId=api.id)["items"]]
    assert left == [second]
    assert call(sandbox, REGION, api.host, "GET", "/prod/health").status_code == 201

    # Module 4: point GET /health at another function...
    api.client.put_integration(
        restApiId=api.id, resourceId=api.resource("/health"), httpMethod="GET",
        type="AWS_PROXY", integrationHttpMethod="POST",
        uri=lambda_uri(REGION, create_function(aws, REGION, FAILS)))
    # ...which changes nothing while prod still serves the old deployment,
    assert call(sandbox, REGION, api.host, "GET", "/prod/health").status_code == 201
    # and everything once prod is redeployed.
    second = api.deploy("prod")
    assert call(sandbox, REGION, api.host, "GET", "/prod/health").status_code == 502

    # A stage pointed back at the first deployment serves it again (UpdateStage).
    first = next(d["id"] for d in api.client.get_deployments(restApiId=api.id)["items"]
                 if d["id"] != second)
    api.client.update_stage(restApiId=api.id, stageName="prod", patchOperations=[
        {"op": "replace", "path": "/deploymentId", "value": first}])
    assert call(sandbox, REGION, api.host, "GET", "/prod/health").status_code == 201


def test_custom_domain_with_base_path_mappings(sandbox, aws, echo_api):
    client = echo_api.client
    domain = f"{unique('api')}.example.com"
    target = client.create_domain_name(
        domainName=domain, regionalCertificateArn=f"arn:aws:acm:{REGION}:{ACCOUNT}:certificate/x",
        endpointConfiguration={"types": ["REGIONAL"]})["regionalDomainName"]
    assert target.endswith(f".execute-api.{REGION}.amazonaws.com")
    assert client.get_base_path_mappings(domainName=domain).get("items", []) == []
    client.create_base_path_mapping(domainName=domain, restApiId=echo_api.id, stage="prod")
    client.create_base_path_mapping(domainName=domain, restApiId=echo_api.id, stage="prod",
                                    basePath="v1")

    whole = call(sandbox, REGION, domain, "GET", "/ticket/42")
    assert whole.status_code == 201
    event = whole.json()
    assert event["resource"] == "/ticket/{id}"
    assert event["path"] == "/ticket/42"
    assert event["requestContext"]["domainName"] == domain

    prefixed = call(sandbox, REGION, domain, "GET", "/v1/ticket/7")
    assert prefixed.status_code == 201
    event = prefixed.json()
    assert event["pathParameters"] == {"id": "7"}
    assert event["path"] == "/v1/ticket/7"  # API Gateway keeps the base path in `path`

    assert call(sandbox, REGION, domain, "GET", "/nope").status_code == 403
    # The custom domain lives in its region only.
    assert call(sandbox, "us-east-1", domain, "GET", "/ticket").json() == {"message": "Forbidden"}

    # Deleting the domain deletes its mappings; a new domain of that name starts empty.
    client.delete_domain_name(domainName=domain)
    assert call(sandbox, REGION, domain, "GET", "/ticket").status_code == 403
    client.create_domain_name(domainName=domain, endpointConfiguration={"types": ["REGIONAL"]},
                              regionalCertificateArn=f"arn:aws:acm:{REGION}:{ACCOUNT}:certificate/x")
    assert client.get_base_path_mappings(domainName=domain).get("items", []) == []
    assert call(sandbox, REGION, domain, "GET", "/ticket").json() == {"message": "Forbidden"}


def test_through_the_proxy(sandbox, echo_api):
    proxies = {"http": sandbox["http_proxy"]}
    response = requests.get(f"http://{echo_api.host}/prod/ticket/9", proxies=proxies,
                            timeout=30)
    assert response.status_code == 201, response.text
    assert response.json()["pathParameters"] == {"id": "9"}
    missing = requests.get(f"http://{echo_api.host}/prod/nope", proxies=proxies, timeout=30)
    assert missing.status_code == 403
    nowhere = requests.get("http://no-such-name.invalid/", proxies=proxies, timeout=30)
    assert nowhere.status_code == 502
    assert "cannot resolve" in nowhere.text


CFN_TEMPLATE = {
    "AWSTemplateFormatVersion": "2010-09-09",
    "Resources": {
        "Api": {"Type": "AWS::ApiGateway::RestApi", "Properties": {
            "Name": "cfn-api", "EndpointConfiguration": {"Types": ["REGIONAL"]}}},
        "Ping": {"Type": "AWS::ApiGateway::Resource",
                 "Properties": {"RestApiId": {"Ref": "Api"},
                                "ParentId": {"Fn::GetAtt": ["Api", "RootResourceId"]},
                                "PathPart": "ping"}},
        "PingGet": {"Type": "AWS::ApiGateway::Method", "Properties": {
            "RestApiId": {"Ref": "Api"}, "ResourceId": {"Ref": "Ping"}, "HttpMethod": "GET",
            "AuthorizationType": "NONE",
            "Integration": {
                "Type": "MOCK", "RequestTemplates": {"application/json": '{"statusCode": 200}'},
                "IntegrationResponses": [{
                    "StatusCode": "200",
                    "ResponseParameters": {"method.response.header.X-From": "'cloudformation'"},
                    "ResponseTemplates": {"application/json": '{"ok": true}'}}]},
            "MethodResponses": [{"StatusCode": "200", "ResponseParameters": {
                "method.response.header.X-From": True}}]}},
        "Deployment": {"Type": "AWS::ApiGateway::Deployment", "DependsOn": ["PingGet"],
                       "Properties": {"RestApiId": {"Ref": "Api"}}},
        "Prod": {"Type": "AWS::ApiGateway::Stage", "Properties": {
            "RestApiId": {"Ref": "Api"}, "DeploymentId": {"Ref": "Deployment"},
            "StageName": "prod"}},
    },
    "Outputs": {"ApiId": {"Value": {"Ref": "Api"}}},
}


def test_api_deployed_by_cloudformation(sandbox, aws):
    cfn = aws("cloudformation", REGION)
    name = unique("apistack")
    cfn.create_stack(StackName=name, TemplateBody=json.dumps(CFN_TEMPLATE))
    deadline = time.monotonic() + 30
    while True:
        stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
        if not stack["StackStatus"].endswith("IN_PROGRESS") or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert stack["StackStatus"] == "CREATE_COMPLETE", stack
    api_id = next(o["OutputValue"] for o in stack["Outputs"] if o["OutputKey"] == "ApiId")
    host = f"{api_id}.execute-api.{REGION}.amazonaws.com"
    response = call(sandbox, REGION, host, "GET", "/prod/ping")
    assert response.status_code == 200, response.text
    assert response.json() == {"ok": True}
    assert response.headers["X-From"] == "cloudformation"


# The function takes SLOW_S (its own timeout is 10 s); API Gateway must answer 504 at the
# integration's timeout, long before that. The margin is what a busy 2-core machine may add
# to a request (scheduling, a cold worker), and keeps the bound well below SLOW_S.
SLOW_S = 8
INTEGRATION_TIMEOUT_MS = 500
BUSY_MACHINE_MARGIN_S = 3
SLOW = f'''
import time
def handler(event, context):
    time.sleep({SLOW_S})
    return {{"statusCode": 200, "body": "late"}}
'''


def test_integration_timeout_is_504(sandbox, aws):
    api = Api(aws, REGION)
    api.proxy("/slow", "GET", create_function(aws, REGION, SLOW),
              timeoutInMillis=INTEGRATION_TIMEOUT_MS)
    api.deploy()
    started = time.monotonic()
    response = call(sandbox, REGION, api.host, "GET", "/prod/slow")
    assert response.status_code == 504
    assert response.json() == {"message": "Endpoint request timed out"}
    bound = INTEGRATION_TIMEOUT_MS / 1000 + BUSY_MACHINE_MARGIN_S
    assert bound < SLOW_S
    assert time.monotonic() - started < bound


def test_throttled_function_is_429(sandbox, aws):
    api = Api(aws, REGION)
    function = create_function(aws, REGION, ECHO)
    aws("lambda", REGION).put_function_concurrency(FunctionName=function,
                                                   ReservedConcurrentExecutions=0)
    api.proxy("/busy", "GET", function)
    api.deploy()
    response = call(sandbox, REGION, api.host, "GET", "/prod/busy")
    assert response.status_code == 429
    assert response.json() == {"message": "Rate Exceeded"}


def test_stage_variables_and_gateway_responses(sandbox, aws, echo_api):
    client = echo_api.client
    deployment = client.get_stage(restApiId=echo_api.id, stageName="prod")["deploymentId"]
    # A stage of its own, removed after: the module's other tests expect only prod.
    stage = unique("blue").replace("-", "_")
    client.create_stage(restApiId=echo_api.id, stageName=stage, deploymentId=deployment,
                        variables={"color": "blue"})
    try:
        event = call(sandbox, REGION, echo_api.host, "GET", f"/{stage}/ticket").json()
        assert event["stageVariables"] == {"color": "blue"}
        assert event["requestContext"]["stage"] == stage
    finally:
        client.delete_stage(restApiId=echo_api.id, stageName=stage)
    assert call(sandbox, REGION, echo_api.host, "GET", f"/{stage}/ticket").status_code == 403

    # A gateway response belongs to the deployment too: it counts after a redeploy.
    api = Api(aws, REGION)
    api.cors("/ticket")
    api.deploy()
    api.client.put_gateway_response(
        restApiId=api.id, responseType="DEFAULT_4XX",
        responseParameters={"gatewayresponse.header.Access-Control-Allow-Origin": "'*'"},
        responseTemplates={"application/json": '{"error": $context.error.messageString}'})
    before = call(sandbox, REGION, api.host, "GET", "/prod/nope")
    assert "Access-Control-Allow-Origin" not in before.headers
    api.deploy()
    after = call(sandbox, REGION, api.host, "GET", "/prod/nope")
    assert after.status_code == 403
    assert after.headers["Access-Control-Allow-Origin"] == "*"
    assert after.json() == {"error": "Missing Authentication Token"}
