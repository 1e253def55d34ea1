"""Route 53 health checks probe for real, and failover records follow them.

The endpoint is a tiny HTTP server of the test's own on 127.0.0.1 (health
checks with ``IPAddress`` + ``Port``), so each test decides what every
checker gets; checkers are told apart by ``X-Forwarded-For`` (their address).
"""

from __future__ import annotations

import collections
import socket
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import dns.message
import dns.query
import pytest

from helpers.base.regions import sandbox_ip
from helpers.connect.net import wait_until
from helpers.connect.sandbox_admin import Refused, health_check_timeline
from helpers.sandbox.route53.health_checkers import REFUSED

CHECKER_REGIONS = {"us-east-1", "us-west-1", "us-west-2", "eu-west-1", "ap-southeast-1",
                   "ap-southeast-2", "ap-northeast-1", "sa-east-1"}


class Endpoint:
    """An HTTP endpoint whose answer the test switches; it logs every probe."""

    def __init__(self) -> None:
        self.status = 200
        self.body = b'{"message": "Successful response reading from DynamoDB table."}'
        self.failing: set[str] = set()  # checker addresses answered with 500 whatever status is
        # time, checker, status, host, user agent, path
        self.log: list[tuple[float, str, int, str, str, str]] = []
        self._lock = threading.Lock()
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                checker = self.headers.get("X-Forwarded-For", "")
                status = 500 if checker in endpoint.failing else endpoint.status
                with endpoint._lock:
                    endpoint.log.append((time.time(), checker, status,
                                         self.headers.get("Host", ""),
                                         self.headers.get("User-Agent", ""), self.path))
                body = endpoint.body if status < 400 else b'{"message": "broken"}'
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    def probes(self, since: float = 0.0, until: float = float("inf"), status: int | None = None):
        with self._lock:
            return [entry for entry in self.log
                    if since <= entry[0] < until and (status is None or entry[2] == status)]

    def counts_by_checker(self, since: float, until: float, status: int) -> list[int]:
        counts = collections.Counter(e[1] for e in self.probes(since, until, status))
        return sorted(counts.values(), reverse=True)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture()
def endpoint():
    server = Endpoint()
    yield server
    server.close()


@pytest.fixture()
def health_checks(aws):
    """Creates health checks and deletes them after the test."""
    route53 = aws("route53", "us-east-1")
    created: list[str] = []

    def create(**config) -> str:
        config.setdefault("Type", "HTTP")
        config.setdefault("ResourcePath", "/health")
        config.setdefault("RequestInterval", 10)
        config.setdefault("FailureThreshold", 1)
        hc_id = route53.create_health_check(CallerReference=uuid.uuid4().hex,
                                            HealthCheckConfig=config)["HealthCheck"]["Id"]
        created.append(hc_id)
        return hc_id

    yield create
    for hc_id in created:
        route53.delete_health_check(HealthCheckId=hc_id)


def interval_s(sandbox, request_interval: int = 10) -> float:
    return request_interval * sandbox["time_scale"]


def healthy(hc_id: str) -> bool:
    return health_check_timeline(hc_id)["Healthy"]


def first_change_after(hc_id: str, since: float, to: bool) -> float | None:
    for sample in health_check_timeline(hc_id)["History"]:
        if sample["Time"] >= since and sample["Healthy"] is to:
            return sample["Time"]
    return None


def observations(aws, hc_id: str) -> list[dict]:
    return aws("route53", "us-east-1").get_health_check_status(
        HealthCheckId=hc_id)["HealthCheckObservations"]


def checker_addresses(aws, hc_id: str) -> list[str]:
    return sorted(wait_until(lambda: len(obs := observations(aws, hc_id)) == 8 and
                             [o["IPAddress"] for o in obs],
                             timeout=10, what="all eight checkers to report"))


def test_healthy_endpoint_is_reported_by_every_checker(sandbox, aws, endpoint, health_checks):
    hc_id = health_checks(IPAddress="127.0.0.1", Port=endpoint.port)

    obs = wait_until(lambda: len(o := observations(aws, hc_id)) == 8 and o, timeout=10,
                     what="observations from all checkers")

    assert {o["Region"] for o in obs} == CHECKER_REGIONS
    assert len({o["IPAddress"] for o in obs}) == 8
    assert {o["StatusReport"]["Status"] for o in obs} == {"Success: HTTP Status Code 200, OK"}
    now = datetime.now(UTC)
    assert all(now - timedelta(seconds=10) < o["StatusReport"]["CheckedTime"] <= now
               for o in obs)
    assert healthy(hc_id)
    # The endpoint really was probed, by every checker, as AWS's checkers do it.
    probes = endpoint.probes()
    assert {p[1] for p in probes} == {o["IPAddress"] for o in obs}
    assert all(p[3] == f"127.0.0.1:{endpoint.port}" for p in probes)
    assert all(p[4].startswith("Amazon-Route53-Health-Check-Service") for p in probes)
    # ... and Route 53's CloudWatch metric says so, as on AWS.
    stats = aws("cloudwatch", "us-east-1").get_metric_statistics(
        Namespace="AWS/Route53", MetricName="HealthCheckStatus",
        Dimensions=[{"Name": "HealthCheckId", "Value": hc_id}],
        StartTime=now - timedelta(minutes=5), EndTime=now + timedelta(minutes=1), Period=60,
        Statistics=["Minimum"])
    assert stats["Datapoints"] and all(p["Minimum"] == 1.0 for p in stats["Datapoints"])


def test_checkers_are_not_in_step(sandbox, aws, endpoint, health_checks):
    hc_id = health_checks(IPAddress="127.0.0.1", Port=endpoint.port)
    checker_addresses(aws, hc_id)

    first = {}
    for when, checker, *_ in endpoint.probes():
        first.setdefault(checker, when)

    spread = max(first.values()) - min(first.values())
    assert spread > interval_s(sandbox) / 8  # random phases, not one burst


def test_unhealthy_only_after_failure_threshold_consecutive_failures(
        sandbox, aws, endpoint, health_checks):
    threshold, interval = 3, interval_s(sandbox)
    hc_id = health_checks(IPAddress="127.0.0.1", Port=endpoint.port, FailureThreshold=threshold)
    checker_addresses(aws, hc_id)
    assert healthy(hc_id)

    broken_at = time.time()
    endpoint.status = 500
    turned = wait_until(lambda: first_change_after(hc_id, broken_at, False), timeout=15,
                        what="the health check to turn unhealthy")

    # 8 checkers: unhealthy once at most 18 % (one) still say healthy, i.e. 7 flipped,
    # and a checker flips only after `threshold` consecutive failures.
    failures = endpoint.counts_by_checker(broken_at, turned, 500)
    assert len([n for n in failures if n >= threshold]) >= 7
    assert (threshold - 1) * interval * 0.8 <= turned - broken_at <= threshold * interval + 2
    assert any(o["StatusReport"]["Status"] == "Failure: HTTP Status Code 500, Internal Server "
               "Error" for o in observations(aws, hc_id))

    recovered_at = time.time()
    endpoint.status = 200
    back = wait_until(lambda: first_change_after(hc_id, recovered_at, True), timeout=15,
                      what="the health check to turn healthy again")

    # Healthy again once more than 18 % (two) checkers saw `threshold` successes in a row.
    successes = endpoint.counts_by_checker(recovered_at, back, 200)
    assert len([n for n in successes if n >= threshold]) >= 2
    assert back - recovered_at <= threshold * interval + 2


def test_endpoint_stays_healthy_while_more_than_18_percent_of_checkers_say_so(
        sandbox, aws, endpoint, health_checks):
    hc_id = health_checks(IPAddress="127.0.0.1", Port=endpoint.port)
    checkers = checker_addresses(aws, hc_id)

    since = time.time()
    endpoint.failing = set(checkers[:6])  # two of eight (25 %) still succeed

    def six_failed_twice() -> bool:
        counts = endpoint.counts_by_checker(since, time.time(), 500)
        return len(counts) == 6 and min(counts) >= 2

    wait_until(six_failed_twice, timeout=10, what="six checkers to see failures twice")
    failed = {o["IPAddress"] for o in observations(aws, hc_id)
              if o["StatusReport"]["Status"].startswith("Failure")}
    assert failed == set(checkers[:6])
    assert healthy(hc_id)
    assert first_change_after(hc_id, since, False) is None

    endpoint.failing = set(checkers[:7])  # one of eight (12.5 %): not enough
    wait_until(lambda: not healthy(hc_id), timeout=10, what="the health check to turn unhealthy")


def test_a_new_health_check_is_healthy_until_there_is_enough_data(
        sandbox, aws, endpoint, health_checks):
    endpoint.status = 503
    hc_id = health_checks(IPAddress="127.0.0.1", Port=endpoint.port, RequestInterval=30,
                          FailureThreshold=10)

    wait_until(lambda: len(observations(aws, hc_id)) == 8, timeout=10, what="first probes")

    assert healthy(hc_id)
    assert {o["StatusReport"]["Status"] for o in observations(aws, hc_id)} == {
        "Failure: HTTP Status Code 503, Service Unavailable"}


def test_refused_connections_and_tcp_checks(sandbox, aws, endpoint, health_checks):
    closed = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    closed_port = closed.server_address[1]
    closed.server_close()
    refused = health_checks(IPAddress="127.0.0.1", Port=closed_port)
    tcp = health_checks(Type="TCP", IPAddress="127.0.0.1", Port=endpoint.port)

    refused_obs = wait_until(lambda: observations(aws, refused), timeout=10, what="a probe")
    tcp_obs = wait_until(lambda: observations(aws, tcp), timeout=10, what="a probe")

    assert refused_obs[0]["StatusReport"]["Status"].startswith("Failure: Connection refused")
    assert tcp_obs[0]["StatusReport"]["Status"].startswith("Success")
    wait_until(lambda: not healthy(refused), timeout=10, what="refused to turn unhealthy")
    assert healthy(tcp)


def test_string_match_checks_search_the_body(sandbox, aws, endpoint, health_checks):
    found = health_checks(Type="HTTP_STR_MATCH", IPAddress="127.0.0.1", Port=endpoint.port,
                          SearchString="Successful response")
    missing = health_checks(Type="HTTP_STR_MATCH", IPAddress="127.0.0.1", Port=endpoint.port,
                            SearchString="not in the body")

    wait_until(lambda: not healthy(missing), timeout=10, what="string mismatch to be unhealthy")
    assert healthy(found)
    assert all(o["StatusReport"]["Status"].startswith("Success: HTTP Status Code 200, OK")
               for o in observations(aws, found))


def test_inverted_and_disabled_health_checks(sandbox, aws, endpoint, health_checks):
    route53 = aws("route53", "us-east-1")
    inverted = health_checks(IPAddress="127.0.0.1", Port=endpoint.port, Inverted=True)
    wait_until(lambda: not healthy(inverted), timeout=5, what="inverted check to be unhealthy")

    endpoint.status = 500
    wait_until(lambda: healthy(inverted), timeout=10, what="inverted check of a failing endpoint")

    failing = Endpoint()
    try:
        failing.status = 500
        disabled = health_checks(IPAddress="127.0.0.1", Port=failing.port, Disabled=True)
        assert healthy(disabled)
        # Disabled + Inverted is how AWS lets you force a failover.
        route53.update_health_check(HealthCheckId=disabled, Inverted=True)
        wait_until(lambda: not healthy(disabled), timeout=5,
                   what="disabled+inverted to be unhealthy")
        assert failing.probes() == []  # a disabled check is not probed
    finally:
        failing.close()


def test_updated_and_deleted_health_checks_are_picked_up(sandbox, aws, endpoint, health_checks):
    route53 = aws("route53", "us-east-1")
    hc_id = health_checks(IPAddress="127.0.0.1", Port=endpoint.port, ResourcePath="/health")
    checker_addresses(aws, hc_id)
    assert {entry[5] for entry in endpoint.probes()} == {"/health"}

    # A new path alone: the checkers ask for it from then on, and the check stays healthy.
    moved_at = time.time()
    route53.update_health_check(HealthCheckId=hc_id, ResourcePath="/elsewhere")
    wait_until(lambda: len({e[1] for e in endpoint.probes(since=moved_at)
                            if e[5] == "/elsewhere"}) == 8,
               timeout=10, what="every checker to probe the new path")
    settled = time.time()
    wait_until(lambda: len({e[1] for e in endpoint.probes(since=settled)}) == 8, timeout=10,
               what="every checker to probe again")
    assert {e[5] for e in endpoint.probes(since=settled)} == {"/elsewhere"}
    assert healthy(hc_id)

    # A new port alone (nothing listens there): connections are refused, the check fails.
    with socket.socket() as spare:
        spare.bind(("127.0.0.1", 0))
        closed_port = spare.getsockname()[1]
    route53.update_health_check(HealthCheckId=hc_id, Port=closed_port)
    wait_until(lambda: not healthy(hc_id), timeout=10, what="the moved check to fail")
    wait_until(lambda: {o["StatusReport"]["Status"] for o in observations(aws, hc_id)}
               == {REFUSED}, timeout=10, what="every checker to report the refusal")

    # Deleted: dropped from the sandbox, and nobody probes the endpoint any more.
    route53.delete_health_check(HealthCheckId=hc_id)
    wait_until(lambda: _gone(hc_id), timeout=5, what="the deleted check to be dropped")
    assert _gone(hc_id)
    with pytest.raises(route53.exceptions.NoSuchHealthCheck):
        route53.get_health_check(HealthCheckId=hc_id)


def _gone(hc_id: str) -> bool:
    try:
        health_check_timeline(hc_id)
    except Refused as exc:
        return exc.status == 404
    return False


# ------------------------------------------------------------------ failover


def _query_a(sandbox, name: str) -> list[str]:
    response = dns.query.udp(dns.message.make_query(name, "A"), sandbox["dns"]["host"],
                             port=sandbox["dns"]["port"], timeout=3)
    return [rd.to_text() for rrset in response.answer for rd in rrset if rrset.rdtype == 1]


def _upsert(aws, zone_id: str, *record_sets: dict) -> None:
    aws("route53", "us-east-1").change_resource_record_sets(
        HostedZoneId=zone_id,
        ChangeBatch={"Changes": [{"Action": "UPSERT", "ResourceRecordSet": r}
                                 for r in record_sets]})


def _regional_records(zone_id: str, domain: str) -> list[dict]:
    return [{"Name": f"{city}.{domain}", "Type": "A", "TTL": 60,
             "ResourceRecords": [{"Value": sandbox_ip(region)}]}
            for city, region in (("ireland", "eu-west-1"), ("singapore", "ap-southeast-1"))]


def _failover(zone_id: str, domain: str, primary_hc: str | None) -> list[dict]:
    records = []
    for role, city in (("PRIMARY", "ireland"), ("SECONDARY", "singapore")):
        record = {"Name": f"api.{domain}", "Type": "A", "SetIdentifier": role.lower(),
                  "Failover": role,
                  "AliasTarget": {"HostedZoneId": zone_id, "DNSName": f"{city}.{domain}",
                                  "EvaluateTargetHealth": True}}
        if role == "PRIMARY" and primary_hc:
            record["HealthCheckId"] = primary_hc
        records.append(record)
    return records


def test_failover_record_flips_to_secondary_and_back(
        sandbox, aws, endpoint, health_checks, zone):
    zone_id, domain = zone
    hc_id = health_checks(IPAddress="127.0.0.1", Port=endpoint.port)
    _upsert(aws, zone_id, *_regional_records(zone_id, domain),
            *_failover(zone_id, domain, hc_id))
    primary, secondary = [sandbox_ip("eu-west-1")], [sandbox_ip("ap-southeast-1")]
    assert _query_a(sandbox, f"api.{domain}") == primary

    endpoint.status = 500
    wait_until(lambda: _query_a(sandbox, f"api.{domain}") == secondary, timeout=10,
               what="DNS to answer the secondary")
    assert not healthy(hc_id)

    endpoint.status = 200
    wait_until(lambda: _query_a(sandbox, f"api.{domain}") == primary, timeout=10,
               what="DNS to answer the primary again")


def test_a_new_check_of_a_broken_endpoint_is_answered_until_its_checkers_have_data(
        sandbox, aws, endpoint, health_checks, zone):
    """Route 53 considers a new health check healthy until there is enough data: DNS answers
    the primary although the first reports are failures, and switches only once the checkers
    have each seen FailureThreshold of them."""
    zone_id, domain = zone
    endpoint.status = 503
    threshold, interval = 3, interval_s(sandbox, 30)
    created = time.monotonic()
    hc_id = health_checks(IPAddress="127.0.0.1", Port=endpoint.port, RequestInterval=30,
                          FailureThreshold=threshold)
    _upsert(aws, zone_id, *_regional_records(zone_id, domain),
            *_failover(zone_id, domain, hc_id))
    primary, secondary = [sandbox_ip("eu-west-1")], [sandbox_ip("ap-southeast-1")]

    wait_until(lambda: any(o["StatusReport"]["Status"].startswith("Failure")
                           for o in observations(aws, hc_id)),
               timeout=10, what="a checker to report the failure")
    assert _query_a(sandbox, f"api.{domain}") == primary  # failures seen, not enough yet
    assert healthy(hc_id)

    wait_until(lambda: _query_a(sandbox, f"api.{domain}") == secondary, timeout=20,
               what="DNS to answer the secondary once the checkers have data")
    # Each checker's first probe comes within one interval, its third two intervals later.
    assert time.monotonic() - created >= (threshold - 1) * interval


def test_when_both_records_are_unhealthy_the_primary_is_answered(
        sandbox, aws, endpoint, health_checks, zone):
    zone_id, domain = zone
    primary_hc = health_checks(IPAddress="127.0.0.1", Port=endpoint.port)
    secondary_hc = health_checks(IPAddress="127.0.0.1", Port=endpoint.port)
    records = _failover(zone_id, domain, primary_hc)
    records[1]["HealthCheckId"] = secondary_hc
    _upsert(aws, zone_id, *_regional_records(zone_id, domain), *records)

    endpoint.status = 500
    wait_until(lambda: not healthy(primary_hc) and not healthy(secondary_hc), timeout=10,
               what="both health checks to turn unhealthy")

    assert _query_a(sandbox, f"api.{domain}") == [sandbox_ip("eu-west-1")]


def test_evaluate_target_health_follows_the_alias_targets_health_check(
        sandbox, aws, endpoint, health_checks, zone):
    zone_id, domain = zone
    hc_id = health_checks(IPAddress="127.0.0.1", Port=endpoint.port)
    regional = _regional_records(zone_id, domain)
    # The health check sits on the target (ireland.), not on the failover record.
    regional[0] = {**regional[0], "SetIdentifier": "ireland", "Weight": 100,
                   "HealthCheckId": hc_id}
    _upsert(aws, zone_id, *regional, *_failover(zone_id, domain, None))
    assert _query_a(sandbox, f"api.{domain}") == [sandbox_ip("eu-west-1")]

    endpoint.status = 500
    wait_until(lambda: _query_a(sandbox, f"api.{domain}") == [sandbox_ip("ap-southeast-1")],
               timeout=10, what="DNS to answer the secondary")

    endpoint.status = 200
    wait_until(lambda: _query_a(sandbox, f"api.{domain}") == [sandbox_ip("eu-west-1")],
               timeout=10, what="DNS to answer the primary again")


def test_fqdn_health_check_resolves_through_sandbox_dns_and_sends_the_name(
        sandbox, aws, endpoint, health_checks, zone):
    zone_id, domain = zone
    _upsert(aws, zone_id, {"Name": f"web.{domain}", "Type": "A", "TTL": 60,
                           "ResourceRecords": [{"Value": "127.0.0.1"}]})
    hc_id = health_checks(FullyQualifiedDomainName=f"web.{domain}", Port=endpoint.port)

    wait_until(lambda: len(observations(aws, hc_id)) == 8, timeout=10, what="probes")

    hosts = {p[3] for p in endpoint.probes()}
    assert f"web.{domain}:{endpoint.port}" in hosts
    assert healthy(hc_id)


def _mock_health_api(aws, region: str, host: str, certificate_arn: str) -> None:
    """A REST API in ``region`` whose GET /health answers 200 (MOCK), behind custom domain
    ``host`` (regional, with ``certificate_arn``)."""
    apigw = aws("apigateway", region)
    api = apigw.create_rest_api(name=f"hc-{uuid.uuid4().hex[:8]}",
                                endpointConfiguration={"types": ["REGIONAL"]})["id"]
    root = next(r["id"] for r in apigw.get_resources(restApiId=api)["items"] if r["path"] == "/")
    health = apigw.create_resource(restApiId=api, parentId=root, pathPart="health")["id"]
    method = {"restApiId": api, "resourceId": health, "httpMethod": "GET"}
    apigw.put_method(authorizationType="NONE", **method)
    apigw.put_method_response(statusCode="200", **method)
    apigw.put_integration(type="MOCK", requestTemplates={"application/json": '{"statusCode": 200}'},
                          **method)
    apigw.put_integration_response(statusCode="200", selectionPattern="",
                                   responseTemplates={"application/json": '{"ok": true}'}, **method)
    apigw.create_deployment(restApiId=api, stageName="prod")
    apigw.create_domain_name(domainName=host, regionalCertificateArn=certificate_arn,
                             endpointConfiguration={"types": ["REGIONAL"]})
    apigw.create_base_path_mapping(domainName=host, restApiId=api, stage="prod")


def test_https_check_on_port_443_reaches_the_region_dns_names_and_ignores_the_certificate(
        sandbox, aws, health_checks, zone):
    """Two HTTPS checks on port 443, for names served by a custom domain in eu-west-1 only.
    The one whose name DNS sends to eu-west-1 succeeds; the one sent to ap-southeast-1 gets
    that region's 403 for an unknown domain. The domain's certificate was never issued: as
    on AWS, an HTTPS check does not validate the certificate."""
    zone_id, domain = zone
    unissued = aws("acm", "eu-west-1").request_certificate(
        DomainName=f"*.{domain}", ValidationMethod="DNS")["CertificateArn"]
    for name in ("ireland", "singapore"):
        _mock_health_api(aws, "eu-west-1", f"{name}.{domain}", unissued)
    _upsert(aws, zone_id, *({"Name": f"{name}.{domain}", "Type": "CNAME", "TTL": 60,
                             "ResourceRecords": [{"Value": f"d-0000000000.execute-api.{region}"
                                                           ".amazonaws.com"}]}
                            for name, region in (("ireland", "eu-west-1"),
                                                 ("singapore", "ap-southeast-1"))))
    ireland = health_checks(Type="HTTPS", FullyQualifiedDomainName=f"ireland.{domain}", Port=443)
    singapore = health_checks(Type="HTTPS", FullyQualifiedDomainName=f"singapore.{domain}",
                              Port=443)

    def statuses(hc_id: str) -> set[str]:
        obs = observations(aws, hc_id)
        return {o["StatusReport"]["Status"] for o in obs} if len(obs) == 8 else set()

    # (Waiting for every checker: a probe in the sandbox's first seconds may find the listener
    # still loading moto's API Gateway backend, and time out.)
    wait_until(lambda: statuses(ireland) == {"Success: HTTP Status Code 200, OK"}, timeout=10,
               what="every checker to reach eu-west-1's custom domain")
    wait_until(lambda: statuses(singapore) == {"Failure: HTTP Status Code 403, Forbidden"},
               timeout=10, what="every checker to get ap-southeast-1's 403")
    assert aws("acm", "eu-west-1").describe_certificate(CertificateArn=unissued)[
        "Certificate"]["Status"] == "PENDING_VALIDATION"
    wait_until(lambda: not healthy(singapore), timeout=10, what="singapore to turn unhealthy")
    assert healthy(ireland)
    for name in ("ireland", "singapore"):
        aws("apigateway", "eu-west-1").delete_domain_name(domainName=f"{name}.{domain}")


# ---------------------------------------------------------------- the kit watching its check


def test_watching_the_check_stays_within_route53s_shared_quota(sandbox, aws, tmp_path,
                                                               monkeypatch, new_participant):
    """A notebook samples the check four times a second; Route 53 allows GetHealthCheckStatus
    one call a second (a burst of four) for the whole account, so the kit must not ask for
    every sample: at most once per STATUS_REUSE_SECONDS (a second of AWS's clock)."""
    import json
    import os
    import subprocess
    import sys

    from helpers.aws import failover
    from helpers.base.paths import REPO_ROOT

    monkeypatch.setenv("WORKSHOP_HOME", str(tmp_path))
    config = new_participant("hq")
    route53 = aws("route53", "us-east-1")
    calls = collections.Counter()

    def count(model, **_):
        calls[model.name] += 1

    route53.meta.events.register("before-call.route53", count)
    try:
        first_id = failover.create_health_check(config)
        calls.clear()
        started = time.monotonic()
        while time.monotonic() - started < 1.0:
            failover.health_check_status(config)
            time.sleep(0.01)
        elapsed = time.monotonic() - started
        reuse = failover.STATUS_REUSE_SECONDS * sandbox["time_scale"]
        assert calls["ListHealthChecks"] == 0  # the id is known since it was created
        assert 2 <= calls["GetHealthCheckStatus"] <= elapsed / reuse + 1

        # Another process (a re-run notebook) replaces the check: the watcher follows it.
        route53.delete_health_check(HealthCheckId=first_id)
        script = ("import json; from helpers import failover; from helpers.core.config import "
                  f"WorkshopConfig; print(json.dumps(failover.create_health_check("
                  f"WorkshopConfig(prefix={config.prefix!r}, domain={config.domain!r}))))")
        made = subprocess.run([sys.executable, "-c", script], cwd=REPO_ROOT, env=os.environ.copy(),
                              capture_output=True, text=True, timeout=60, check=True)
        second_id = json.loads(made.stdout)
        assert second_id != first_id
        time.sleep(reuse)  # past the reuse period of the last answer about the first check
        failover.health_check_status(config)
        assert failover.health_check_id(config) == second_id

        # Deleted for good (clean-up): the learner is told what to do, not a botocore error.
        route53.delete_health_check(HealthCheckId=second_id)
        time.sleep(reuse)
        with pytest.raises(failover.FailoverSetupError, match="no health check yet"):
            failover.health_check_status(config)
    finally:
        route53.meta.events.unregister("before-call.route53", count)
        for check in failover.kit_health_checks(config):
            route53.delete_health_check(HealthCheckId=check["Id"])
