"""Account quotas: the control-plane request rates AWS enforces, on the sandbox clock.

A room shares one account, and the account's API quotas are where a real room
breaks first; the sandbox answers a request over a quota as AWS does, with the
service's own error code and HTTP status, so the kit's pacing and retries are
exercised before a real room meets them. Each quota is a sliding window per
account (and per region where AWS counts per region): at most ``requests`` in
any ``per_s`` AWS seconds, the window scaled (:mod:`helpers.sandbox.clock`,
``*_quota_window``: at time scale 0.1 one CreateDomainName per 3 s).
docs/aws-limits.md cites the AWS page of each figure.

Only the recent requests are kept, in memory: a restarted sandbox starts with
empty windows, as an account whose last requests are a window old.

``SandboxSettings.quotas=False`` (``serve --no-quotas``) lifts them, for unit
tests that are not about quotas only; the workshop and its tests run with them.

:func:`charge` lets a data-plane path that is not a control-plane request --
CloudFormation deleting a REST API while deleting a stack -- spend from the
same window (:mod:`helpers.sandbox.cloudformation.gaps`).
"""

from __future__ import annotations

import collections
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
    requests: int  # at most this many requests ...
    window: str  # ... in any window of this duration (helpers.sandbox.clock's table)
    per_region: bool  # counted per account and region (else per account)
    code: str  # the error AWS answers with
    status: int
    message: str
    retry_after: bool = False  # API Gateway names the wait in a Retry-After header

    @property
    def per_s(self) -> float:
        """The window in AWS seconds."""
        return aws_seconds(self.window)

    def covers(self, service: str, operation: str) -> bool:
        return service == self.service and (
            ANY_OPERATION in self.operations or operation in self.operations)


def _apigateway(operation: str) -> Quota:
    # "API Gateway quotas for creating, deploying and managing an API": one request every
    # 30 seconds per account (per Region, as every quota on that page), not adjustable.
    return Quota("apigateway", frozenset({operation}), 1, "apigateway_quota_window", True,
                 "TooManyRequestsException", 429, "Too Many Requests", retry_after=True)


QUOTAS: tuple[Quota, ...] = (
    _apigateway("CreateDomainName"),
    _apigateway("DeleteDomainName"),
    _apigateway("DeleteRestApi"),
    # "Throttling for Amazon Route 53 API requests" / re:Post "avoid throttling errors":
    # five requests per second per account, all operations together; HTTP 400 Throttling.
    Quota("route53", frozenset({ANY_OPERATION}), 5, "route53_quota_window", False,
          "Throttling", 400, "Rate exceeded"),
    # AWS publishes no figure for CloudFormation's describe calls, only that they are
    # throttled ("Rate exceeded"); ten a second per account and region is the sandbox's.
    Quota("cloudformation", frozenset({"DescribeStacks", "DescribeStackEvents",
                                       "DescribeStackResource", "DescribeStackResources"}),
          10, "cloudformation_describe_quota_window", True, "Throttling", 400,
          "Rate exceeded"),
    # ACM "API rate quotas": RequestCertificate 5 requests per second (per account, region).
    Quota("acm", frozenset({"RequestCertificate"}), 5, "acm_request_certificate_quota_window",
          True, "ThrottlingException", 400, "Rate exceeded"),
)

# API Gateway and Route 53 speak REST: the operation is the method and path.
_REST_OPERATIONS: dict[str, tuple[tuple[str, re.Pattern[str], str], ...]] = {
    "apigateway": (
        ("POST", re.compile(r"^/domainnames/?$"), "CreateDomainName"),
        ("DELETE", re.compile(r"^/domainnames/[^/]+/?$"), "DeleteDomainName"),
        ("DELETE", re.compile(r"^/restapis/[^/]+/?$"), "DeleteRestApi"),
    ),
}


class _Window:
    """At most ``size`` requests in any ``window_s`` (a sliding window): "five requests per
    second" means a sixth within a second is refused, however the five were spread."""

    def __init__(self, size: int, window_s: float) -> None:
        self.size = size
        self.window_s = window_s
        self.accepted: collections.deque[float] = collections.deque()

    def take(self) -> float:
        """Count a request: 0.0, or the seconds until one more fits (nothing counted)."""
        now = time.monotonic()
        while self.accepted and now - self.accepted[0] >= self.window_s:
            self.accepted.popleft()
        if len(self.accepted) < self.size:
            self.accepted.append(now)
            return 0.0
        return self.accepted[0] + self.window_s - now


class QuotaExceeded(Exception):
    """A request over a quota (raised by :func:`charge` for paths that are not requests)."""

    def __init__(self, quota: Quota, retry_after_s: float) -> None:
        super().__init__(f"{quota.message} ({quota.code}; retry after {retry_after_s:.1f} s)")
        self.quota = quota
        self.retry_after_s = retry_after_s


class Quotas:
    """The windows, and the intercept that answers a request over its quota."""

    def __init__(self, ctx: SandboxContext) -> None:
        self.ctx = ctx
        self._windows: dict[tuple[int, str], _Window] = {}
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

    def take(self, service: str, operation: str, region: str) -> tuple[Quota, float] | None:
        """Count one request; the quota and the wait when it is over one, else None."""
        for index, quota in enumerate(QUOTAS):
            if not quota.covers(service, operation):
                continue
            key = (index, region if quota.per_region else "")
            with self._lock:
                bucket = self._windows.get(key)
                if bucket is None:
                    bucket = self._windows[key] = _Window(
                        quota.requests, self.ctx.clock.seconds(quota.window))
                wait = bucket.take()
                if wait:
                    self.throttled += 1
                    return quota, wait
        return None

    def intercept(self, request: Request) -> Response | None:
        if admin_paths.is_admin(request.path) or request.path.startswith("/moto-api"):
            return None
        call = _describe(request)
        if not call.service:
            return None
        operation = call.operation or _rest_operation(call.service, call.method, call.path)
        over = self.take(call.service, operation, call.region)
        if over is None:
            return None
        quota, wait = over
        log.info("quota: %s %s in %s over %d per %g s; retry in %.2f s", call.service,
                 operation or call.path, call.region or "-", quota.requests,
                 self.ctx.clock.seconds(quota.window), wait)
        response = _error(request, call, quota.status, quota.code, quota.message)
        if quota.retry_after:
            response.headers["Retry-After"] = str(max(1, math.ceil(wait)))
        return response


def _rest_operation(service: str, method: str, path: str) -> str:
    for verb, pattern, operation in _REST_OPERATIONS.get(service, ()):
        if method == verb and pattern.match(path):
            return operation
    return ""


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
