"""What every sandbox component shares: settings, moto's backends, the clock.

The sandbox is one process. moto keeps the control plane in memory; the data
plane components (Lambda runtime, API execution, stream pollers, website
hosting, health checkers, DNS) read those same in-memory backends directly.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from helpers.base.errors import UsageError
from helpers.base.regions import CITY_LABELS, sandbox_ip
from helpers.sandbox.clock import Clock

if TYPE_CHECKING:  # pragma: no cover
    from werkzeug.wrappers import Request, Response

ACCOUNT_ID = "123456789012"
LOOPBACK = "127.0.0.1"

# An intercept sees a control-plane request before moto does and may answer it.
Intercept = Callable[["Request"], "Response | None"]


def signing_service(request: Request) -> str:
    """The AWS service a control-plane request is signed for ("" if unsigned).

    SigV4: ``Authorization: ... Credential=<key>/<date>/<region>/<service>/aws4_request``.
    Lets a component patch moto lazily, on the first request that needs it.
    """
    _, found, rest = request.headers.get("Authorization", "").partition("Credential=")
    scope = rest.split(",", 1)[0].split("/")
    return scope[3] if found and len(scope) > 3 else ""


@dataclass
class SandboxSettings:
    time_scale: float = 0.1  # 1.0 = AWS timings; 0.1 = scaled durations (sandbox.clock) 10x faster
    endpoint_port: int = 0  # 0 = any free port
    http_port: int = 0
    dns_port: int = 0
    resolver_port: int = 0  # the caching resolver clients use (0 = any free port)
    regions: tuple[str, ...] = tuple(sorted(CITY_LABELS))
    state_file: Path | None = None  # where the account's state is kept (None: see persist)
    # Keep the state at all: a sandbox started for one test run has nothing to keep, and
    # saving it costs a forked pickle of moto's backends up to once a second.
    persist: bool = True
    fresh: bool = False  # discard the saved state instead of restoring it
    quotas: bool = True  # AWS's account quotas (helpers.sandbox.quotas); False only for tests

    def __post_init__(self) -> None:
        if not 0.001 <= self.time_scale <= 1.0:
            raise UsageError(
                f"time_scale must be between 0.001 and 1.0 (1.0 = real AWS timings), "
                f"got {self.time_scale}"
            )


@dataclass
class SandboxContext:
    settings: SandboxSettings
    endpoint_url: str = ""
    http_port: int = 0
    dns_port: int = 0
    resolver_port: int = 0
    stop_event: threading.Event = field(default_factory=threading.Event)
    intercepts: list[Intercept] = field(default_factory=list)
    # Components, set by helpers.sandbox.server in start order.
    lambda_runtime: Any = None  # helpers.sandbox.awslambda.runtime.LambdaRuntime
    resolver: Any = None  # helpers.sandbox.route53.dns_records.Resolver
    http_front: Any = None  # helpers.sandbox.http_front.HttpFront
    health_checkers: Any = None  # helpers.sandbox.route53.health_checkers.HealthCheckers
    api_executor: Any = None  # helpers.sandbox.apigateway.executor.ApiExecutor
    faults: Any = None  # helpers.sandbox.faults.Faults
    quotas: Any = None  # helpers.sandbox.quotas.Quotas
    stream_pollers: Any = None  # helpers.sandbox.dynamodb.streams.StreamPollers
    state: Any = None  # helpers.sandbox.persistence.SandboxState
    # Restored stream positions (mapping UUID -> counters), for the pollers to resume from.
    stream_checkpoints: dict[str, dict[str, Any]] = field(default_factory=dict)

    account_id: str = ACCOUNT_ID

    @property
    def time_scale(self) -> float:
        return self.settings.time_scale

    @property
    def clock(self) -> Clock:
        """The sandbox's clock: every AWS duration, scaled or in real time
        (:mod:`helpers.sandbox.clock` declares which)."""
        return Clock(self.settings.time_scale)

    @staticmethod
    def backend(service: str, region: str) -> Any:
        """moto's in-memory backend of one service in one region."""
        from moto.backends import get_backend

        return get_backend(service)[ACCOUNT_ID][region]

    @staticmethod
    def global_backend(service: str) -> Any:
        """Backends of global services (route53, iam) live under the partition name."""
        from moto.backends import get_backend

        return get_backend(service)[ACCOUNT_ID]["aws"]

    @staticmethod
    def region_ip(region: str) -> str:
        return sandbox_ip(region)

    def add_intercept(self, intercept: Intercept) -> None:
        self.intercepts.append(intercept)

    def state_changed(self) -> None:
        """A data-plane component changed state that no control-plane request did (a
        stream position): the sandbox saves it with the rest."""
        if self.state is not None:
            self.state.changed()
