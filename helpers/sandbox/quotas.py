"""Account quotas: the control-plane request rates AWS enforces, on the sandbox clock.

A room shares one account, and the account's API quotas are where a real room
breaks first; the sandbox answers a request over a quota as AWS does, with the
service's own error code and HTTP status, so the kit's pacing and retries are
exercised before a real room meets them. Each quota is a token bucket per
account (and per region where AWS counts per region), the model Route 53's
throttling page describes: ``requests`` tokens come back every ``window`` (a row
of :mod:`helpers.sandbox.clock`, ``*_quota_window``, scaled: at time scale 0.1
one CreateDomainName per 3 s), the bucket holds at most ``burst`` of them, and a
request takes one token from every bucket that covers it -- the account's and
its operation's -- or is refused, taking none. A quota without a burst holds
one window's worth (``burst == requests``): "one request every 30 seconds" is a
bucket of one. :data:`QUOTAS` names the AWS page of each figure, and
docs/aws-limits.md cites them (figures AWS does not publish are marked there as
the kit's assumption).

Only the buckets are kept, in memory: a restarted sandbox starts with full
buckets, as an account whose last requests are long past.

``SandboxSettings.quotas=False`` (``serve --no-quotas``) lifts them, for unit
tests that are not about quotas only; the workshop and its tests run with them.

:func:`charge` lets a data-plane path that is not a control-plane request --
CloudFormation deleting a REST API while deleting a stack -- spend from the
same bucket (:mod:`helpers.sandbox.cloudformation.gaps`).
"""

from __future__ import annotations

import json
import logging
import math
import re
import threading
import time
from dataclasses import dataclass

from werkzeug.wrappers import Request, Response

from helpers.sandbox import admin_paths
from helpers.sandbox.clock import aws_seconds
from helpers.sandbox.context import SandboxContext
from helpers.sandbox.faults import _describe, _error

log = logging.getLogger("helpers.sandbox.quotas")

ANY_OPERATION = "*"


@dataclass(frozen=True)
class Quota:
    service: str  # SigV4 signing name
    operations: frozenset[str]  # operation names, or {"*"}: every request of the service
    requests: int  # this many tokens come back ...
    window: str  # ... every window of this duration (helpers.sandbox.clock's table)
    per_region: bool  # counted per account and region (else per account)
    code: str  # the error AWS answers with
    status: int
    message: str
    source: str  # the AWS page (and its section) that gives the figure
    burst: int = 0  # the bucket holds this many (0: ``requests``, one window's worth)
    retry_after: bool = False  # API Gateway names the wait in a Retry-After header
    endpoint_types: frozenset[str] = frozenset()  # CreateRestApi: only for these types

    @property
    def per_s(self) -> float:
        """The window in AWS seconds."""
        return aws_seconds(self.window)

    @property
    def size(self) -> int:
        """How many requests the bucket holds when full."""
        return self.burst or self.requests

    def covers(self, service: str, operation: str, endpoint_type: str = "") -> bool:
        return (service == self.service
                and (ANY_OPERATION in self.operations or operation in self.operations)
                and (not self.endpoint_types or endpoint_type in self.endpoint_types))


_ROUTE53_THROTTLING = ("Route 53 Developer Guide, \"Throttling of Route 53 API requests\" "
                       "(token buckets: per account, and per operation)")
_APIGATEWAY_QUOTAS = ("Amazon API Gateway quotas, \"API Gateway quotas for creating, deploying "
                      "and managing an API\" (\"per account\")")
_ACM_QUOTAS = "Quotas - AWS Certificate Manager, \"API rate quotas\" (per account and region)"


def _route53(operations: set[str], requests: int, window: str, burst: int = 0) -> Quota:
    # Route 53 is a global service: every quota is the account's, whatever the region signed.
    return Quota("route53", frozenset(operations), requests, window, False, "Throttling", 400,
                 "Rate exceeded", _ROUTE53_THROTTLING, burst=burst)


def _apigateway(operation: str, requests: int, window: str, burst: int = 0,
                endpoint_types: frozenset[str] = frozenset()) -> Quota:
    # AWS's table says "per account" for each of them, and none can be increased.
    return Quota("apigateway", frozenset({operation}), requests, window, False,
                 "TooManyRequestsException", 429, "Too Many Requests", _APIGATEWAY_QUOTAS,
                 burst=burst, retry_after=True, endpoint_types=endpoint_types)


QUOTAS: tuple[Quota, ...] = (
    # -- API Gateway: one request every 30 seconds per account.
    _apigateway("CreateDomainName", 1, "apigateway_quota_window"),
    _apigateway("DeleteDomainName", 1, "apigateway_quota_window"),
    _apigateway("DeleteRestApi", 1, "apigateway_quota_window"),
    # One CreateDeployment every 5 seconds; a Regional (or private) CreateRestApi every 3
    # seconds; GetResources 5 every 2 seconds.
    _apigateway("CreateDeployment", 1, "apigateway_create_deployment_quota_window"),
    _apigateway("CreateRestApi", 1, "apigateway_create_rest_api_quota_window",
                endpoint_types=frozenset({"REGIONAL", "PRIVATE"})),
    _apigateway("GetResources", 5, "apigateway_get_resources_quota_window"),
    # Every control-plane request together: 10 a second (the bucket holding one second's
    # worth is the kit's assumption).
    _apigateway(ANY_OPERATION, 10, "apigateway_total_quota_window"),
    # -- Route 53: the account, 10 a second with a burst of 50; and per operation.
    _route53({ANY_OPERATION}, 10, "route53_quota_window", burst=50),
    _route53({"GetHealthCheckStatus"}, 1, "route53_quota_window", burst=4),
    _route53({"CreateHealthCheck"}, 1, "route53_create_health_check_quota_window"),  # 0.5/s
    _route53({"DeleteHealthCheck"}, 3, "route53_quota_window"),
    # -- CloudFormation: AWS publishes no figure for the describe calls, only that they are
    # throttled ("Rate exceeded"); ten a second per account and region is the kit's.
    Quota("cloudformation", frozenset({"DescribeStacks", "DescribeStackEvents",
                                       "DescribeStackResource", "DescribeStackResources"}),
          10, "cloudformation_describe_quota_window", True, "Throttling", 400,
          "Rate exceeded", "none: the kit's assumption (re:Post: How do I avoid \"Rate "
          "exceeded\" errors in CloudFormation?)"),
    # -- ACM: RequestCertificate 5 a second, ListCertificates 1 a second.
    Quota("acm", frozenset({"RequestCertificate"}), 5, "acm_quota_window", True,
          "ThrottlingException", 400, "Rate exceeded", _ACM_QUOTAS),
    Quota("acm", frozenset({"ListCertificates"}), 1, "acm_quota_window", True,
          "ThrottlingException", 400, "Rate exceeded", _ACM_QUOTAS),
)

# API Gateway and Route 53 speak REST: the operation is the method and path.
_REST_OPERATIONS: dict[str, tuple[tuple[str, re.Pattern[str], str], ...]] = {
    "apigateway": (
        ("POST", re.compile(r"^/domainnames/?$"), "CreateDomainName"),
        ("DELETE", re.compile(r"^/domainnames/[^/]+/?$"), "DeleteDomainName"),
        ("POST", re.compile(r"^/restapis/?$"), "CreateRestApi"),
        ("DELETE", re.compile(r"^/restapis/[^/]+/?$"), "DeleteRestApi"),
        ("POST", re.compile(r"^/restapis/[^/]+/deployments/?$"), "CreateDeployment"),
        ("GET", re.compile(r"^/restapis/[^/]+/resources/?$"), "GetResources"),
    ),
    "route53": (
        ("POST", re.compile(r"^/2013-04-01/healthcheck/?$"), "CreateHealthCheck"),
        ("GET", re.compile(r"^/2013-04-01/healthcheck/[^/]+/status/?$"),
         "GetHealthCheckStatus"),
        ("DELETE", re.compile(r"^/2013-04-01/healthcheck/[^/]+/?$"), "DeleteHealthCheck"),
    ),
}


class _Bucket:
    """A token bucket: ``size`` tokens when full, ``rate`` tokens back per second. A request
    takes one; with none left it is refused (and takes nothing)."""

    def __init__(self, size: int, rate: float) -> None:
        self.size = size
        self.rate = rate
        self.tokens = float(size)
        self.at = time.monotonic()

    def wait(self, now: float) -> float:
        """0.0 if a token is there now, else the seconds until one is."""
        if now > self.at:
            self.tokens = min(self.size, self.tokens + (now - self.at) * self.rate)
            self.at = now
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate

    def spend(self) -> None:
        self.tokens -= 1


class QuotaExceeded(Exception):
    """A request over a quota (raised by :func:`charge` for paths that are not requests)."""

    def __init__(self, quota: Quota, retry_after_s: float) -> None:
        super().__init__(f"{quota.message} ({quota.code}; retry after {retry_after_s:.1f} s)")
        self.quota = quota
        self.retry_after_s = retry_after_s


class Quotas:
    """The buckets, and the intercept that answers a request over its quota."""

    def __init__(self, ctx: SandboxContext) -> None:
        self.ctx = ctx
        self._buckets: dict[tuple[int, str], _Bucket] = {}
        self._lock = threading.Lock()
        self.throttled = 0  # requests answered with a quota error, for reports

    def start(self) -> None:
        global _active
        if not self.ctx.settings.quotas:
            log.info("account quotas lifted (--no-quotas: for tests only)")
            return
        self.ctx.add_intercept(self.intercept)
        _active = self

    def stop(self) -> None:
        global _active
        if self.intercept in self.ctx.intercepts:
            self.ctx.intercepts.remove(self.intercept)
        if _active is self:
            _active = None

    def take(self, service: str, operation: str, region: str,
             endpoint_type: str = "") -> tuple[Quota, float] | None:
        """Count one request against every quota that covers it; the quota and the wait
        when it is over one (then nothing is counted), else None."""
        covering = [(index, quota) for index, quota in enumerate(QUOTAS)
                    if quota.covers(service, operation, endpoint_type)]
        if not covering:
            return None
        with self._lock:
            now = time.monotonic()
            buckets, over = [], None
            for index, quota in covering:
                key = (index, region if quota.per_region else "")
                bucket = self._buckets.get(key)
                if bucket is None:
                    bucket = self._buckets[key] = _Bucket(
                        quota.size, quota.requests / self.ctx.clock.seconds(quota.window))
                wait = bucket.wait(now)
                if wait and (over is None or wait > over[1]):
                    over = (quota, wait)
                buckets.append(bucket)
            if over is not None:
                self.throttled += 1
                return over
            for bucket in buckets:
                bucket.spend()
        return None

    def intercept(self, request: Request) -> Response | None:
        if admin_paths.is_admin(request.path) or request.path.startswith("/moto-api"):
            return None
        call = _describe(request)
        if not call.service:
            return None
        operation = call.operation or _rest_operation(call.service, call.method, call.path)
        over = self.take(call.service, operation, call.region,
                         _endpoint_type(call.body) if operation == "CreateRestApi" else "")
        if over is None:
            return None
        quota, wait = over
        log.info("quota: %s %s in %s over %d per %g s (burst %d); retry in %.2f s",
                 call.service, operation or call.path, call.region or "-", quota.requests,
                 self.ctx.clock.seconds(quota.window), quota.size, wait)
        response = _error(request, call, quota.status, quota.code, quota.message)
        if quota.retry_after:
            response.headers["Retry-After"] = str(max(1, math.ceil(wait)))
        return response


def _rest_operation(service: str, method: str, path: str) -> str:
    for verb, pattern, operation in _REST_OPERATIONS.get(service, ()):
        if method == verb and pattern.match(path):
            return operation
    return ""


def _endpoint_type(body: bytes) -> str:
    """CreateRestApi's endpoint type: its ``endpointConfiguration``, else EDGE (AWS's default)."""
    try:
        types = (json.loads(body or b"{}").get("endpointConfiguration") or {}).get("types")
    except (ValueError, AttributeError):
        types = None
    return str(types[0]).upper() if types else "EDGE"


_active: Quotas | None = None


def charge(service: str, operation: str, region: str) -> None:
    """Spend from the quota of ``operation`` for work the sandbox does itself (a stack
    deleting its REST API); raises :class:`QuotaExceeded` over it. No-op without quotas."""
    quotas = _active
    if quotas is None:
        return
    over = quotas.take(service, operation, region)
    if over is not None:
        raise QuotaExceeded(*over)
