"""Assembles the sandbox: moto's control plane plus the kit's data plane.

Each component is one module with one concern, started in dependency order
and stopped in reverse. They share a :class:`SandboxContext`.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from helpers.sandbox import memory
from helpers.sandbox.context import LOOPBACK, SandboxContext, SandboxSettings
from helpers.sandbox.control_plane import ControlPlane

log = logging.getLogger("helpers.sandbox")


class SandboxServer:
    def __init__(self, settings: SandboxSettings | None = None) -> None:
        self.ctx = SandboxContext(settings or SandboxSettings())
        self._started: list[Any] = []

    def start(self) -> SandboxServer:
        from helpers.sandbox.acm.validation import CertificateValidator
        from helpers.sandbox.apigateway.domains import CustomDomainNames
        from helpers.sandbox.apigateway.executor import ApiExecutor
        from helpers.sandbox.awslambda.runtime import LambdaRuntime
        from helpers.sandbox.distance import Distance
        from helpers.sandbox.dns_server import CachingResolver, DnsServer
        from helpers.sandbox.dynamodb.global_tables import GlobalTables
        from helpers.sandbox.dynamodb.streams import StreamPollers
        from helpers.sandbox.faults import Faults
        from helpers.sandbox.http_front import HttpFront
        from helpers.sandbox.iam.authorization import IamAuthorization
        from helpers.sandbox.patches import MotoPatches
        from helpers.sandbox.persistence import SandboxState
        from helpers.sandbox.quotas import Quotas
        from helpers.sandbox.route53.api import Route53Api
        from helpers.sandbox.route53.changes import Route53Changes
        from helpers.sandbox.route53.dns_records import Resolver
        from helpers.sandbox.route53.health_checkers import HealthCheckers
        from helpers.sandbox.route53.record_rules import Route53RecordRules
        from helpers.sandbox.s3.website import WebsiteHost

        ctx = self.ctx
        try:
            # Before all, after all: every patch of moto is undone once everything stopped.
            self._start(MotoPatches(ctx))
            # Restores moto's backends before anything reads them; the last save at stop.
            self._start(SandboxState(ctx))
            self._start(IamAuthorization(ctx))  # an IAM user's key held to its policies
            self._start(ControlPlane(ctx))
            self._start(Faults(ctx))  # tests and drills only; idle without rules
            ctx.quotas = self._start(Quotas(ctx))  # before any other intercept answers
            self._start(Distance(ctx))  # a call between regions pays their round trip
            ctx.lambda_runtime = self._start(LambdaRuntime(ctx))
            ctx.resolver = self._start(Resolver(ctx))
            self._start(Route53Api(ctx))
            self._start(Route53Changes(ctx))
            self._start(Route53RecordRules(ctx))  # what Route 53 refuses and moto accepts
            self._start(CustomDomainNames(ctx))
            ctx.api_executor = self._start(ApiExecutor(ctx))
            website = self._start(WebsiteHost(ctx))
            ctx.http_front = self._start(HttpFront(ctx, [ctx.api_executor, website]))
            self._start(DnsServer(ctx))
            self._start(CachingResolver(ctx))  # what clients ask; DnsServer stays for dig @
            ctx.stream_pollers = self._start(StreamPollers(ctx))
            self._start(GlobalTables(ctx))  # replicas and replication moto does not have
            ctx.health_checkers = self._start(HealthCheckers(ctx))
            self._start(CertificateValidator(ctx))
        except BaseException:
            self.stop()
            raise
        threading.Thread(target=_warm_up, name="sandbox-warm-up", daemon=True).start()
        return self

    def _start(self, component: Any) -> Any:
        component.start()
        self._started.append(component)
        return component

    def stop(self) -> None:
        self.ctx.stop_event.set()
        while self._started:
            component = self._started.pop()
            try:
                component.stop()
            except Exception:  # keep stopping the others
                log.exception("stopping %s failed", type(component).__name__)

    def info(self) -> dict[str, Any]:
        """What clients need to reach the sandbox (printed by `workshop sandbox status --json`)."""
        ctx = self.ctx
        return {
            "endpoint_url": ctx.endpoint_url,
            "dns": {"host": LOOPBACK, "port": ctx.dns_port},  # authoritative
            # The caching resolver a learner's machine has: clients resolve through it.
            "resolver": {"host": LOOPBACK, "port": ctx.resolver_port},
            "quotas": ctx.settings.quotas,
            "http_port": ctx.http_port,
            "http_proxy": f"http://{LOOPBACK}:{ctx.http_port}",
            # The proxy answers https:// URLs (CONNECT) with certificates of this local CA.
            "ca_cert": ctx.http_front.ca_cert if ctx.http_front else "",
            "time_scale": ctx.time_scale,
            "account_id": ctx.account_id,
            # Where the account's state is kept, and when the restored one was saved (or None).
            "state": {"file": str(ctx.state.path) if ctx.state and ctx.state.path else None,
                      "restored_from": ctx.state.restored_from if ctx.state else None},
        }

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


# moto builds these backends on first use, and importing them takes seconds (API Gateway's
# OpenAPI validator pulls in jsonschema's format checkers; CloudFormation imports every model
# it can create). Doing it right after start, beside the learner's first steps, keeps that
# wait out of the first deploy and out of the first request a region's listener answers.
WARM_UP_SERVICES = ("apigateway", "cloudformation")


def _warm_up() -> None:
    from moto.backends import get_backend

    from helpers.sandbox.patches import MotoPatches

    MotoPatches.install_in_background()  # first, and in this thread: imports one at a time
    started = time.monotonic()
    for service in WARM_UP_SERVICES:
        try:
            get_backend(service)
        except Exception:  # only an optimisation: first use would load it anyway
            log.debug("warming up %s failed", service, exc_info=True)
    log.info("backends loaded in %.1f s: %s", time.monotonic() - started,
             ", ".join(WARM_UP_SERVICES))
    memory.release_catalogues_the_workshop_never_reads()
