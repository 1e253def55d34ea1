"""Route 53 control-plane calls the sandbox answers itself instead of moto.

* ``GetHealthCheckStatus`` (``GET /2013-04-01/healthcheck/{id}/status``): the
  real observations of the sandbox's health checkers (moto always reports one
  made-up success).
* ``TestDNSAnswer`` (``GET /2013-04-01/testdnsanswer?hostedzoneid=&recordname=&recordtype=``):
  what the hosted zone's name server answers, from the sandbox Resolver
  (moto returns 404).
* ``GET /_sandbox/route53/healthcheck/{id}`` (sandbox only, JSON): the health
  check's current verdict, each checker's verdict and a bounded history of
  (time, healthy) samples, for charts and tests.
  :meth:`helpers.connect.sandbox_admin.SandboxAdmin.health_check_timeline` is the client side.

Both AWS calls answer in Route 53's REST-XML shapes, so boto3 parses them as
it parses AWS's answers.
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime
from typing import Any
from xml.sax.saxutils import escape

from werkzeug.wrappers import Request, Response

from helpers.sandbox import admin_paths
from helpers.sandbox.context import SandboxContext
from helpers.sandbox.route53.dns_records import normalize_name

XMLNS = "https://route53.amazonaws.com/doc/2013-04-01/"
_STATUS = re.compile(r"^/2013-04-01/healthcheck/(?P<id>[^/]+)/status/?$")
_TEST_DNS = re.compile(r"^/2013-04-01/testdnsanswer/?$")
RECORD_TYPES = {"SOA", "A", "TXT", "NS", "CNAME", "MX", "NAPTR", "PTR", "SRV", "SPF", "AAAA",
                "CAA", "DS", "TLSA", "SSHFP", "SVCB", "HTTPS"}


class Route53Api:
    def __init__(self, ctx: SandboxContext) -> None:
        self.ctx = ctx

    def start(self) -> None:
        self.ctx.add_intercept(self.intercept)

    def stop(self) -> None:
        if self.intercept in self.ctx.intercepts:
            self.ctx.intercepts.remove(self.intercept)

    # -------------------------------------------------------------- dispatch

    def intercept(self, request: Request) -> Response | None:
        if request.method != "GET":
            return None
        path = request.path
        if admin_paths.is_admin(path):
            health_check_id = admin_paths.under(path, admin_paths.HEALTH_CHECKS)
            if not health_check_id or "/" in health_check_id:
                return None
            return self._sandbox_summary(health_check_id)
        if not path.startswith("/2013-04-01/") or not _is_route53(request):
            return None
        match = _STATUS.match(path)
        if match:
            return self._health_check_status(match["id"])
        if _TEST_DNS.match(path):
            return self._test_dns_answer(request)
        return None

    # ------------------------------------------------------------- handlers

    def _backend(self) -> Any:
        return self.ctx.global_backend("route53")

    def _health_check_status(self, health_check_id: str) -> Response | None:
        hc = self._backend().health_checks.get(health_check_id)
        checkers = self.ctx.health_checkers
        if hc is None or checkers is None:
            return None  # moto answers NoSuchHealthCheck (or, before start, its own status)
        if str(hc.type_).upper() == "CALCULATED":
            return error_response(400, "InvalidInput", "You can't use GetHealthCheckStatus to "
                                  "get the status of a calculated health check.")
        items = []
        for obs in checkers.observations(health_check_id):
            report = obs["StatusReport"]
            items.append(
                "<HealthCheckObservation>"
                f"<Region>{escape(obs['Region'])}</Region>"
                f"<IPAddress>{escape(obs['IPAddress'])}</IPAddress>"
                "<StatusReport>"
                f"<Status>{escape(report['Status'])}</Status>"
                f"<CheckedTime>{_timestamp(report['CheckedTime'])}</CheckedTime>"
                "</StatusReport>"
                "</HealthCheckObservation>")
        body = ("<GetHealthCheckStatusResponse xmlns=\"" + XMLNS + "\">"
                "<HealthCheckObservations>" + "".join(items) + "</HealthCheckObservations>"
                "</GetHealthCheckStatusResponse>")
        return xml_response(body)

    def _test_dns_answer(self, request: Request) -> Response:
        args = {k.lower(): v for k, v in request.args.items()}
        zone_id = (args.get("hostedzoneid") or "").split("/")[-1]
        record_name = args.get("recordname") or ""
        record_type = (args.get("recordtype") or "").upper()
        if not zone_id or not record_name or not record_type:
            return error_response(400, "InvalidInput", "HostedZoneId, RecordName and "
                                  "RecordType are required.")
        if record_type not in RECORD_TYPES:
            return error_response(400, "InvalidInput", f"Invalid record type: {record_type}")
        zone = self._backend().zones.get(zone_id)
        if zone is None:
            return error_response(404, "NoSuchHostedZone",
                                  f"No hosted zone found with ID: {zone_id}")
        resolver = self.ctx.resolver
        answer = resolver.resolve(record_name, record_type, zone_id=zone_id, chase=False)
        name_servers = zone.delegation_set.name_servers if zone.delegation_set else []
        nameserver = name_servers[0] if name_servers else "ns-2048.awsdns-64.com"
        owner = normalize_name(record_name)
        data = [r.value for r in answer.records if r.name == owner] or answer.values()
        entries = "".join(f"<RecordDataEntry>{escape(v)}</RecordDataEntry>" for v in data)
        body = ("<TestDNSAnswerResponse xmlns=\"" + XMLNS + "\">"
                f"<Nameserver>{escape(nameserver)}</Nameserver>"
                f"<RecordName>{escape(record_name)}</RecordName>"
                f"<RecordType>{escape(record_type)}</RecordType>"
                f"<RecordData>{entries}</RecordData>"
                f"<ResponseCode>{escape(answer.rcode)}</ResponseCode>"
                "<Protocol>UDP</Protocol>"
                "</TestDNSAnswerResponse>")
        return xml_response(body)

    def _sandbox_summary(self, health_check_id: str) -> Response:
        checkers = self.ctx.health_checkers
        summary = checkers.summary(health_check_id) if checkers is not None else None
        if summary is None:
            return Response(json.dumps({"message": f"no health check {health_check_id}"}),
                            status=404, content_type="application/json")
        return Response(json.dumps(summary), content_type="application/json")


def _is_route53(request: Request) -> bool:
    """Signed for route53 (or unsigned): /2013-04-01/ is Route 53's API version prefix."""
    auth = request.headers.get("Authorization", "")
    return not auth or "/route53/" in auth


def _timestamp(value: datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def xml_response(body: str, status: int = 200) -> Response:
    return Response('<?xml version="1.0" encoding="UTF-8"?>\n' + body, status=status,
                    content_type="text/xml",
                    headers={"x-amzn-RequestId": str(uuid.uuid4())})


def error_response(status: int, code: str, message: str) -> Response:
    request_id = str(uuid.uuid4())
    body = (f"<ErrorResponse xmlns=\"{XMLNS}\"><Error><Type>Sender</Type>"
            f"<Code>{escape(code)}</Code><Message>{escape(message)}</Message></Error>"
            f"<RequestId>{request_id}</RequestId></ErrorResponse>")
    return xml_response(body, status)
