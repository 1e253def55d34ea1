"""Probe what an AWS-compatible endpoint can do for the workshop (endpoint mode only).

Each probe does, in miniature and in the primary region, what a module relies
on, and cleans up after itself: a Python function importing boto3 runs; a
stream-triggered function writes back; a website bucket serves its index
document at ``/``; a health check of a closed port turns to failure; the
endpoint's DNS server answers a failover record. The verdicts are recorded per
endpoint (:mod:`helpers.core.capabilities`); AWS and the sandbox are never probed.
"""

from __future__ import annotations

import contextlib
import io
import json
import secrets
import time
import zipfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

from helpers.base.errors import explain
from helpers.connect.session import client, endpoint_url
from helpers.core import capabilities, endpoint_urls
from helpers.core.capabilities import Verdict
from helpers.core.config import WorkshopConfig

WAIT_S = 30  # for a stream poller or a health checker of the endpoint to act

_RUNS = "import boto3\n\ndef handler(event, context):\n    return {'boto3': boto3.__version__}\n"
_WRITES_BACK = """import os
import boto3

def handler(event, context):
    table = boto3.resource("dynamodb").Table(os.environ["TABLE"])
    for record in event["Records"]:
        key = record["dynamodb"]["Keys"]["pk"]["S"]
        if key != "seen":
            table.put_item(Item={"pk": "seen", "of": key})
"""


def ensure(config: WorkshopConfig) -> dict[str, Verdict]:
    """The endpoint's recorded verdicts, probing it first if it never was."""
    url = endpoint_url()
    assert url, "endpoint mode only"
    return capabilities.recorded(url) or probe(config)


def probe(config: WorkshopConfig) -> dict[str, Verdict]:
    """Probe every capability at once (each in its own thread) and record the verdicts."""
    url = endpoint_url()
    assert url, "endpoint mode only"
    region = config.primary_region
    name = f"{config.prefix}-probe-{secrets.token_hex(3)}"
    probes: dict[str, Callable[[], Verdict]] = {
        "lambda": lambda: _lambda(region, name),
        "streams": lambda: _streams(region, name + "-s"),
        "website": lambda: _website(url, region, name),
        "health-checks": lambda: _health_checks(name),
        "dns": lambda: _dns(url, name),
    }
    with ThreadPoolExecutor(max_workers=len(probes), thread_name_prefix="probe") as pool:
        futures = {cap: pool.submit(_verdict, run) for cap, run in probes.items()}
        verdicts = {cap: future.result() for cap, future in futures.items()}
    capabilities.record(url, verdicts)
    return verdicts


def _verdict(run: Callable[[], Verdict]) -> Verdict:
    try:
        return run()
    except Exception as exc:  # any failure is the endpoint's answer: it cannot do this
        return Verdict(False, explain(exc) or f"{type(exc).__name__}: {exc}"[:300])


def _zip(source: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("probe.py", source)
    return buffer.getvalue()


class _Function:
    """A probe function and its role, deleted on leaving."""

    def __init__(self, region: str, name: str, source: str, env: dict[str, str] | None = None):
        self.iam, self.lam, self.name = client("iam", region), client("lambda", region), name
        trust = {"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole"}]}
        role = self.iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))
        self.lam.create_function(
            FunctionName=name, Runtime="python3.12", Role=role["Role"]["Arn"],
            Handler="probe.handler", Code={"ZipFile": _zip(source)}, Timeout=30,
            Environment={"Variables": env or {}})

    def __enter__(self) -> _Function:
        return self

    def __exit__(self, *exc: object) -> None:
        for delete in (lambda: self.lam.delete_function(FunctionName=self.name),
                       lambda: self.iam.delete_role(RoleName=self.name)):
            with contextlib.suppress(Exception):  # leftovers must not hide the verdict
                delete()


def _lambda(region: str, name: str) -> Verdict:
    with _Function(region, name, _RUNS) as function:
        answer = function.lam.invoke(FunctionName=name, Payload=b"{}")
        payload = answer["Payload"].read().decode("utf-8", "replace")
    if answer.get("FunctionError") or "boto3" not in payload:
        return Verdict(False, f"a Python 3.12 function importing boto3 failed: {payload[:200]}")
    return Verdict(True, "ran a Python 3.12 function importing boto3")


def _streams(region: str, name: str) -> Verdict:
    ddb = client("dynamodb", region)
    ddb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                     KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                     StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"})
    try:
        ddb.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 1})
        stream = ddb.describe_table(TableName=name)["Table"]["LatestStreamArn"]
        with _Function(region, name, _WRITES_BACK, {"TABLE": name}) as function:
            mapping = function.lam.create_event_source_mapping(
                EventSourceArn=stream, FunctionName=name, StartingPosition="TRIM_HORIZON",
                BatchSize=10)["UUID"]
            try:
                ddb.put_item(TableName=name, Item={"pk": {"S": "probe"}})
                deadline = time.monotonic() + WAIT_S
                while time.monotonic() < deadline:
                    if "Item" in ddb.get_item(TableName=name, Key={"pk": {"S": "seen"}},
                                              ConsistentRead=True):
                        return Verdict(True, "a function on the table's stream ran and wrote back")
                    time.sleep(0.5)
                return Verdict(False, f"no function on the table's stream ran within {WAIT_S} s")
            finally:
                function.lam.delete_event_source_mapping(UUID=mapping)
    finally:
        ddb.delete_table(TableName=name)


def _website(endpoint: str, region: str, name: str) -> Verdict:
    s3 = client("s3", region)
    where = {} if region == "us-east-1" else {
        "CreateBucketConfiguration": {"LocationConstraint": region}}
    s3.create_bucket(Bucket=name, **where)
    marker = f"workshop probe {name}"
    try:
        s3.put_object(Bucket=name, Key="index.html", Body=marker.encode(),
                      ContentType="text/html")
        s3.put_bucket_website(Bucket=name, WebsiteConfiguration={
            "IndexDocument": {"Suffix": "index.html"}})
        page = endpoint_urls.request(endpoint, "GET",
                                     f"http://{name}.s3-website-{region}.amazonaws.com/",
                                     timeout=10)
        if marker in page.text:
            return Verdict(True, "a website bucket served its index document at /")
        return Verdict(False, f"a website bucket's / answered {page.status_code} "
                              f"{page.headers.get('Content-Type', '')}, not its index document")
    finally:
        s3.delete_object(Bucket=name, Key="index.html")
        s3.delete_bucket(Bucket=name)


def _health_checks(name: str) -> Verdict:
    route53 = client("route53", "us-east-1")
    check = route53.create_health_check(CallerReference=name, HealthCheckConfig={
        "IPAddress": "127.0.0.1", "Port": 9, "Type": "HTTP", "ResourcePath": "/",
        "RequestInterval": 10, "FailureThreshold": 1})["HealthCheck"]["Id"]
    try:
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            observations = route53.get_health_check_status(
                HealthCheckId=check)["HealthCheckObservations"]
            if any(not o.get("StatusReport", {}).get("Status", "").startswith("Success")
                   for o in observations):
                return Verdict(True, "a health check of a closed port turned to failure")
            time.sleep(1)
        return Verdict(False, f"a health check of a closed port still reported no failure "
                              f"after {WAIT_S} s: its checkers do not probe")
    finally:
        route53.delete_health_check(HealthCheckId=check)


def _dns(endpoint: str, name: str) -> Verdict:
    server = endpoint_urls.dns_server(endpoint)
    if server is None:
        return Verdict(False, f"no DNS server answers on {urlsplit(endpoint).hostname}:53")
    route53 = client("route53", "us-east-1")
    zone_name = f"{name}.example"
    zone = route53.create_hosted_zone(Name=zone_name, CallerReference=name)["HostedZone"]["Id"]
    records = [{"Name": f"www.{zone_name}", "Type": "A", "TTL": 1, "SetIdentifier": role,
                "Failover": role, "ResourceRecords": [{"Value": address}]}
               for role, address in (("PRIMARY", "192.0.2.1"), ("SECONDARY", "192.0.2.2"))]
    route53.change_resource_record_sets(HostedZoneId=zone, ChangeBatch={"Changes": [
        {"Action": "CREATE", "ResourceRecordSet": r} for r in records]})
    try:
        _, _, addresses = endpoint_urls.ask(server, f"www.{zone_name}")
        if addresses == ("192.0.2.1",):
            return Verdict(True, "its DNS server answered a failover record with the primary")
        return Verdict(False, f"its DNS server answered a failover record with "
                              f"{list(addresses) or 'nothing'}, not the primary")
    finally:
        route53.change_resource_record_sets(HostedZoneId=zone, ChangeBatch={"Changes": [
            {"Action": "DELETE", "ResourceRecordSet": r} for r in records]})
        route53.delete_hosted_zone(Id=zone)
