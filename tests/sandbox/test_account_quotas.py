"""The sandbox enforces AWS's account quotas with AWS's own errors (helpers.sandbox.quotas).

The rates are checked on a sandbox of their own at time scale 1.0 (AWS's own
windows: Route 53's account bucket of 50 refilled ten a second, one CreateDomainName
per 30 s), where a handful of requests in a row is certain to fall inside one
window. One test per quota of helpers.sandbox.quotas.QUOTAS, each a few seconds.
What the kit does about them (pacing, retried stack deletion) runs on the session
sandbox.
"""

from __future__ import annotations

import contextlib
import http.client
import time
import uuid
from urllib.parse import urlsplit

import boto3
import pytest
from botocore import xform_name
from botocore.config import Config
from botocore.exceptions import ClientError
from botocore.parsers import create_parser

from helpers.sandbox import SandboxSettings, running_sandbox

NO_RETRIES = Config(retries={"mode": "standard", "total_max_attempts": 1})


@pytest.fixture(scope="module")
def aws_clock(sandbox):
    """A sandbox on AWS's own clock (time scale 1.0) beside the session's, and a factory of
    clients without retries for it. Only those clients reach it: the session's sandbox stays
    the current one for every other test (``aws``) of this module and process."""
    with running_sandbox(SandboxSettings(time_scale=1.0, persist=False),
                         current=False) as info:
        def make(service: str, region: str = "us-east-1"):
            return boto3.client(service, region_name=region, endpoint_url=info["endpoint_url"],
                                aws_access_key_id="testing", aws_secret_access_key="testing",
                                config=NO_RETRIES)
        yield make


@pytest.fixture(autouse=True)
def _a_full_account_bucket(request):
    """API Gateway's account-wide bucket (ten requests a second, every operation together)
    is shared by this module's tests on the AWS-clock sandbox: a test that spent it (a burst
    of 14) leaves the next one's first request refused, whatever that request is. One quiet
    second refills it, so each test starts where its own assertions begin."""
    if "aws_clock" in request.fixturenames:
        time.sleep(1.0)


def quiet_second(call, seconds: float = 1.0) -> None:
    """Load the service (moto builds a backend on its first request, which can take longer
    than a window), then let a whole one-second window pass (or ``seconds``): a full bucket."""
    call()
    time.sleep(seconds)


class _Captured(Exception):
    """Stops botocore right before it would send: the request is made, signed, not sent."""


def burst(client, operation: str, calls: list[dict]) -> list[tuple[str, int, str]]:
    """Make one request per ``calls`` entry (``operation``'s parameters) and have them all
    reach the sandbox at once: each is built and signed by botocore, then written to a
    connection opened beforehand, one after the other in well under a millisecond, before
    any answer is read. Threads calling boto3 each build and sign their request while the
    others are already being answered, which a busy machine can stretch past a one-second
    window. Answers, in call order: (code, HTTP status, message), ``("ok", 200, "")`` for
    a success, parsed by botocore as the client would."""
    requests = []

    def grab(request, **_):
        requests.append(request)
        raise _Captured

    event = f"before-send.{client.meta.service_model.service_id.hyphenize()}.{operation}"
    client.meta.events.register_first(event, grab)
    try:
        for params in calls:
            with pytest.raises(_Captured):
                getattr(client, xform_name(operation))(**params)
    finally:
        client.meta.events.unregister(event, grab)
    url = urlsplit(requests[0].url)
    connections = [http.client.HTTPConnection(url.hostname, url.port, timeout=60)
                   for _ in requests]
    for connection in connections:
        connection.connect()
    for connection, request in zip(connections, requests, strict=True):
        target = urlsplit(request.url)
        connection.request(request.method, target.path + (f"?{target.query}" if target.query
                                                          else ""),
                           body=request.body, headers=dict(request.headers.items()))
    model = client.meta.service_model
    parser = create_parser(model.protocol)
    answers = []
    for connection in connections:
        response = connection.getresponse()
        parsed = parser.parse({"status_code": response.status, "body": response.read(),
                               "headers": {k.lower(): v for k, v in response.getheaders()}},
                              model.operation_model(operation).output_shape)
        connection.close()
        if response.status < 300:
            answers.append(("ok", response.status, ""))
        else:
            answers.append((parsed["Error"]["Code"], response.status,
                            parsed["Error"]["Message"]))
    return answers


def error(exc: pytest.ExceptionInfo) -> tuple[str, int]:
    response = exc.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


def test_the_aws_clock_sandbox_leaves_every_other_client_on_the_session_sandbox(
        aws_clock, sandbox):
    """Otherwise this module's `aws` tests (and any module after it in the process) wait
    out real 30-second quota windows on the clock-1.0 sandbox."""
    from helpers.connect import net
    from helpers.sandbox import require_status

    assert aws_clock("sts").meta.endpoint_url != sandbox["endpoint_url"]
    assert require_status()["endpoint_url"] == sandbox["endpoint_url"]
    assert net.time_scale() == sandbox["time_scale"] < 1.0


def codes_of(answers: list[tuple[str, int, str]]) -> list[str]:
    """The answers' codes, sorted; every answer that is not a throttle counts as "ok" (a
    request over no quota may still be refused by the service: a health check not found)."""
    return sorted(code if code in ("Throttling", "TooManyRequestsException",
                                   "ThrottlingException") else "ok"
                  for code, _status, _message in answers)


# ---------------------------------------------------------------- Route 53 (per account)

def test_route53_takes_a_burst_of_50_then_throttles(aws_clock):
    """The account's bucket: 10 a second with a burst of 50 (no longer a flat five)."""
    route53 = aws_clock("route53")
    quiet_second(route53.list_hosted_zones, 5.0)  # 50 tokens at 10 a second: full

    answers = burst(route53, "ListHostedZones", [{}] * 60)
    ok = answers.count(("ok", 200, ""))
    # 50 from the bucket, and one more per tenth of a second the burst took to arrive.
    assert 50 <= ok <= 56, answers
    assert set(answers) - {("ok", 200, "")} == {("Throttling", 400, "Rate exceeded")}


def test_get_health_check_status_has_a_bucket_of_four_refilled_once_a_second(aws_clock):
    route53 = aws_clock("route53", "eu-west-1")  # a global service: the region does not matter
    quiet_second(route53.list_health_checks, 1.5)  # the account's bucket refilled too
    missing = {"HealthCheckId": str(uuid.uuid4())}  # past the quota: NoSuchHealthCheck

    answers = burst(route53, "GetHealthCheckStatus", [missing] * 6)
    # Four from the bucket (a fifth if the burst took a second to arrive on a busy machine).
    assert codes_of(answers) in (["Throttling"] * 2 + ["ok"] * 4,
                                 ["Throttling"] + ["ok"] * 5), answers
    assert ("Throttling", 400, "Rate exceeded") in answers


def test_create_health_check_is_half_a_request_a_second(aws_clock):
    route53 = aws_clock("route53")
    quiet_second(route53.list_health_checks, 1.5)
    calls = [{"CallerReference": f"quota-{uuid.uuid4().hex}",
              "HealthCheckConfig": {"Type": "TCP", "IPAddress": "192.0.2.1", "Port": 9,
                                    "RequestInterval": 30, "FailureThreshold": 3}}
             for _ in range(2)]
    answers = burst(route53, "CreateHealthCheck", calls)
    try:
        assert codes_of(answers) == ["Throttling", "ok"], answers
    finally:
        time.sleep(1.0)  # DeleteHealthCheck's bucket is its own; the account's refills
        for check in route53.list_health_checks()["HealthChecks"]:
            if check["CallerReference"].startswith("quota-"):
                with contextlib.suppress(ClientError):
                    route53.delete_health_check(HealthCheckId=check["Id"])


def test_delete_health_check_is_three_a_second(aws_clock):
    route53 = aws_clock("route53")
    quiet_second(route53.list_health_checks, 1.5)
    answers = burst(route53, "DeleteHealthCheck",
                    [{"HealthCheckId": str(uuid.uuid4())} for _ in range(5)])
    assert codes_of(answers) == ["Throttling"] * 2 + ["ok"] * 3, answers


# ---------------------------------------------------------------- API Gateway (per account)

def test_a_second_create_domain_name_within_30_s_is_too_many_requests(aws_clock):
    apigw = aws_clock("apigateway", "eu-west-3")
    first, second = (f"q{uuid.uuid4().hex[:8]}.example.com" for _ in range(2))
    apigw.create_domain_name(domainName=first, endpointConfiguration={"types": ["REGIONAL"]})
    with pytest.raises(ClientError) as exc:
        apigw.create_domain_name(domainName=second, endpointConfiguration={"types": ["REGIONAL"]})
    assert error(exc) == ("TooManyRequestsException", 429)
    # API Gateway names the wait: about the rest of the 30 s window.
    assert 25 <= int(exc.value.response["retryAfterSeconds"]) <= 30
    # "Per account", AWS's table says: another region shares the account's window.
    with pytest.raises(ClientError) as elsewhere:
        aws_clock("apigateway", "eu-south-1").create_domain_name(
            domainName=second, endpointConfiguration={"types": ["REGIONAL"]})
    assert error(elsewhere) == ("TooManyRequestsException", 429)


def test_create_deployment_is_one_per_5_s(aws_clock):
    apigw = aws_clock("apigateway", "sa-east-1")
    api = apigw.create_rest_api(name="q-deploy")  # edge-optimized: no CreateRestApi quota
    root = api.get("rootResourceId") or next(
        r["id"] for r in apigw.get_resources(restApiId=api["id"])["items"] if r["path"] == "/")
    apigw.put_method(restApiId=api["id"], resourceId=root, httpMethod="GET",
                     authorizationType="NONE")
    apigw.put_integration(restApiId=api["id"], resourceId=root, httpMethod="GET", type="MOCK")
    apigw.create_deployment(restApiId=api["id"], stageName="prod")
    with pytest.raises(ClientError) as exc:
        apigw.create_deployment(restApiId=api["id"], stageName="prod")
    assert error(exc) == ("TooManyRequestsException", 429)
    assert 1 <= int(exc.value.response["retryAfterSeconds"]) <= 5
    # Per account: the same API's region is not the point, another region waits too.
    with pytest.raises(ClientError) as elsewhere:
        aws_clock("apigateway", "us-east-2").create_deployment(restApiId=api["id"],
                                                               stageName="prod")
    assert error(elsewhere) == ("TooManyRequestsException", 429)


def test_a_regional_create_rest_api_is_one_per_3_s(aws_clock):
    apigw = aws_clock("apigateway", "ap-south-1")
    regional = {"endpointConfiguration": {"types": ["REGIONAL"]}}
    apigw.create_rest_api(name="q-regional-1", **regional)
    with pytest.raises(ClientError) as exc:
        apigw.create_rest_api(name="q-regional-2", **regional)
    assert error(exc) == ("TooManyRequestsException", 429)
    # The quota is the Regional (and private) one: an edge-optimized API is not refused.
    apigw.create_rest_api(name="q-edge")


def test_get_resources_is_five_per_2_s(aws_clock):
    apigw = aws_clock("apigateway", "ap-southeast-2")
    api = apigw.create_rest_api(name="q-resources")["id"]
    time.sleep(2.0)  # GetResources' bucket full (and the account's ten)
    answers = burst(apigw, "GetResources", [{"restApiId": api}] * 7)
    assert codes_of(answers) == ["TooManyRequestsException"] * 2 + ["ok"] * 5, answers


def test_api_gateway_takes_ten_control_plane_requests_a_second(aws_clock):
    apigw = aws_clock("apigateway", "eu-central-2")
    quiet_second(apigw.get_rest_apis)
    answers = burst(apigw, "GetRestApis", [{}] * 14)
    ok = codes_of(answers).count("ok")
    assert 10 <= ok <= 12, answers  # one more per tenth of a second the burst took
    assert set(answers) - {("ok", 200, "")} == {
        ("TooManyRequestsException", 429, "Too Many Requests")}


def test_a_delete_rest_api_within_30_s_is_too_many_requests(aws_clock):
    apigw = aws_clock("apigateway", "ca-central-1")
    apis = [apigw.create_rest_api(name=f"q-{n}")["id"] for n in range(2)]
    apigw.delete_rest_api(restApiId=apis[0])
    with pytest.raises(ClientError) as exc:
        apigw.delete_rest_api(restApiId=apis[1])
    assert error(exc) == ("TooManyRequestsException", 429)


def test_request_certificate_beyond_five_a_second_is_throttled(aws_clock):
    acm = aws_clock("acm", "eu-west-2")
    quiet_second(acm.list_certificates)

    # At once: one by one they would never be six in a second, as moto takes longer than a
    # fifth of a second to make a certificate. Five from the bucket, and one more per fifth
    # of a second the burst took to arrive.
    answers = burst(acm, "RequestCertificate",
                    [{"DomainName": f"q{n}.example.com", "ValidationMethod": "DNS"}
                     for n in range(10)])
    codes = codes_of(answers)
    assert 5 <= codes.count("ok") <= 7 and set(codes) == {"ThrottlingException", "ok"}, answers


def test_list_certificates_is_one_a_second_per_region(aws_clock):
    acm = aws_clock("acm", "eu-central-1")
    quiet_second(acm.list_certificates)
    answers = burst(acm, "ListCertificates", [{}] * 3)
    assert codes_of(answers) == ["ThrottlingException"] * 2 + ["ok"], answers
    assert ("ThrottlingException", 400, "Rate exceeded") in answers
    # Per account and region: another region has a bucket of its own.
    aws_clock("acm", "eu-north-1").list_certificates()


def test_cloudformation_describe_calls_are_rate_limited(aws_clock):
    cfn = aws_clock("cloudformation", "us-west-1")
    quiet_second(cfn.list_stacks)
    codes = set()
    for _ in range(25):
        try:
            cfn.describe_stacks()
        except ClientError as exc:
            codes.add((exc.response["Error"]["Code"],
                       exc.response["ResponseMetadata"]["HTTPStatusCode"]))
    assert codes == {("Throttling", 400)}


def test_a_custom_domain_name_is_unique_in_its_region(aws):
    apigw = aws("apigateway", "us-west-2")  # retries: the second call waits out the quota
    name = f"u{uuid.uuid4().hex[:8]}.example.com"
    apigw.create_domain_name(domainName=name, endpointConfiguration={"types": ["REGIONAL"]})
    try:
        with pytest.raises(ClientError) as exc:  # whoever asks: the sandbox is one account
            apigw.create_domain_name(domainName=name,
                                     endpointConfiguration={"types": ["REGIONAL"]})
        assert error(exc) == ("ConflictException", 409)
    finally:
        apigw.delete_domain_name(domainName=name)


# ---------------------------------------------------------------- the kit lives within them

TEMPLATE = """
Resources:
  Api:
    Type: AWS::ApiGateway::RestApi
    Properties:
      Name: {name}
"""


def test_a_stack_deletion_throttled_by_delete_rest_api_is_retried(aws):
    """Item 7: DELETE_FAILED on the DeleteRestApi quota is retried, saying so."""
    from helpers.aws import stacks

    region = "eu-north-1"
    name = f"quota-{uuid.uuid4().hex[:8]}"
    cfn = aws("cloudformation", region)
    cfn.create_stack(StackName=name, TemplateBody=TEMPLATE.format(name=name))
    spent = aws("apigateway", region).create_rest_api(name=f"{name}-other")["id"]
    aws("apigateway", region).delete_rest_api(restApiId=spent)  # the window's one request
    said: list[str] = []
    assert stacks.delete(region, name, said.append)
    assert stacks.stack_status(region, name) is None
    assert any("waiting to delete" in line and "Too Many Requests" in line for line in said), said


def test_custom_domain_creation_waits_out_the_quota_and_says_so(aws):
    """Item 2: a second CreateDomainName in the window is paced, with a line saying why."""
    from helpers.aws import pacing
    from helpers.connect import net
    from helpers.sandbox.clock import aws_seconds

    region = "ap-northeast-2"
    once = aws("apigateway", region, retries=False)
    # The quota is the account's: let a CreateDomainName of an earlier test's pass first.
    time.sleep(aws_seconds("apigateway_quota_window") * net.time_scale())
    said: list[str] = []
    for _ in range(2):
        host = f"p{uuid.uuid4().hex[:8]}.example.com"
        pacing.within_quota(
            lambda host=host: once.create_domain_name(
                domainName=host, endpointConfiguration={"types": ["REGIONAL"]}),
            window_s=30, patience_s=300, waiting_for=f"to create custom domain {host}",
            quota="one per 30 s", say=said.append)
    assert len(said) == 1 and said[0].startswith("waiting to create custom domain"), said
