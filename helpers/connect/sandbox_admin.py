"""Client side of the sandbox's own control endpoints (sandbox mode only): one method each.

The sandbox answers a few requests that AWS has no equivalent for, on its
control-plane endpoint (the paths: :mod:`helpers.sandbox.admin_paths`, the one
place they are spelled). :class:`SandboxAdmin` calls every one of them on a
sandbox given by its endpoint URL (tests and benchmarks that start their own):

* regions (:mod:`~helpers.sandbox.http_front`): :meth:`~SandboxAdmin.regions`,
  :meth:`~SandboxAdmin.region`, :meth:`~SandboxAdmin.set_region_available`, to
  play a whole-region outage;
* faults (:mod:`~helpers.sandbox.faults`): :meth:`~SandboxAdmin.add_faults`,
  :meth:`~SandboxAdmin.faults`, :meth:`~SandboxAdmin.remove_fault`,
  :meth:`~SandboxAdmin.clear_faults`;
* read-outs: :meth:`~SandboxAdmin.stream_mappings` (:mod:`~helpers.sandbox.dynamodb.streams`),
  :meth:`~SandboxAdmin.global_tables` (:mod:`~helpers.sandbox.dynamodb.global_tables`),
  :meth:`~SandboxAdmin.lambda_environments` (:mod:`~helpers.sandbox.awslambda.runtime`),
  :meth:`~SandboxAdmin.state` (:mod:`~helpers.sandbox.persistence`),
  :meth:`~SandboxAdmin.health_check_timeline` (:mod:`~helpers.sandbox.route53.api`).

The module-level functions call the sandbox of this process's session
(:func:`session_admin`), and say plainly when they are called outside sandbox
mode instead of doing nothing: no one can switch off an AWS region.
"""

from __future__ import annotations

from typing import Any

import requests

from helpers.connect.session import current_target, endpoint_url
from helpers.core.target import SANDBOX_CONTROL
from helpers.sandbox import admin_paths
from helpers.sandbox.errors import SandboxError

TIMEOUT_S = 15


class NotInSandbox(SandboxError):
    """A sandbox-only operation was asked for in ``aws`` or ``endpoint`` mode."""


class Refused(SandboxError):
    """The sandbox answered an admin request with an error status (``status``, ``message``)."""

    def __init__(self, what: str, status: int, message: str) -> None:
        super().__init__(f"the sandbox refused {what}: HTTP {status} {message}")
        self.status = status
        self.message = message


class SandboxAdmin:
    """Every ``/_sandbox/*`` endpoint of the sandbox at ``endpoint_url``, one method each."""

    def __init__(self, endpoint_url: str, timeout: float = TIMEOUT_S) -> None:
        self.endpoint_url = endpoint_url.rstrip("/")
        self.timeout = timeout

    def __repr__(self) -> str:
        return f"SandboxAdmin({self.endpoint_url!r})"

    # -- the wire
    def send(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """The raw answer to ``method path`` (``path`` from :mod:`admin_paths`), whatever its
        status: for tests of what the sandbox refuses (``data=`` sends a body as it is)."""
        kwargs.setdefault("timeout", self.timeout)
        return requests.request(method, self.endpoint_url + path, **kwargs)

    def _json(self, method: str, path: str, ok: int = 200, **kwargs: Any) -> Any:
        response = self.send(method, path, **kwargs)
        if response.status_code != ok:
            try:
                message = response.json().get("message", response.text)
            except (ValueError, AttributeError):
                message = response.text
            raise Refused(f"{method} {path}", response.status_code, str(message)[:300])
        return response.json()

    # -- regions (http_front)
    def regions(self) -> dict[str, bool]:
        """``{region: available}`` for every sandbox region."""
        return self._json("GET", admin_paths.REGIONS)

    def region(self, region: str) -> dict[str, Any]:
        """One region's view: ``region``, ``available``, ``address``."""
        return self._json("GET", admin_paths.region(region))

    def set_region_available(self, region: str, available: bool) -> dict[str, Any]:
        """Start (``available=False``) or end a whole-region outage of ``region``'s HTTP side;
        returns the sandbox's view of the region."""
        return self._json("PUT", admin_paths.region(region), json={"available": available})

    # -- faults
    def add_faults(self, *rules: dict[str, Any]) -> list[dict[str, Any]]:
        """Add fault rules; returns them with their ids."""
        return self._json("POST", admin_paths.FAULTS, ok=201, json={"rules": list(rules)})["rules"]

    def faults(self) -> dict[str, dict[str, Any]]:
        """The rules in place, by id, with their ``matched``/``fired`` counters."""
        return {rule["id"]: rule for rule in self._json("GET", admin_paths.FAULTS)["rules"]}

    def remove_fault(self, rule_id: str) -> int:
        """Remove one rule (:class:`Refused`, status 404, when there is none of that id)."""
        return self._json("DELETE", admin_paths.fault(rule_id))["removed"]

    def clear_faults(self) -> int:
        """Remove every rule; returns how many there were."""
        return self._json("DELETE", admin_paths.FAULTS)["removed"]

    # -- read-outs
    def stream_mappings(self) -> dict[str, dict[str, Any]]:
        """Counters per event source mapping UUID: ``records``, ``batches``, ``failures``, ..."""
        return self._json("GET", admin_paths.STREAMS)

    def global_tables(self) -> dict[str, dict[str, Any]]:
        """Each global table's replicas by region: ``status``, ``sent``, ``last_lag_ms``, ..."""
        return self._json("GET", admin_paths.GLOBAL_TABLES)

    def lambda_environments(self) -> dict[str, Any]:
        """The Lambda execution environments: ``workers``, ``zygote_pid``, ``cold_starts``."""
        return self._json("GET", admin_paths.LAMBDA)

    def state(self) -> dict[str, Any]:
        """Where the sandbox keeps its state and how the saving goes (``pending``, ...)."""
        return self._json("GET", admin_paths.STATE)

    def patches(self) -> dict[str, Any]:
        """The moto patches installed (``installed``: target and owner, in order) and whether
        installing them is ``complete``."""
        return self._json("GET", admin_paths.PATCHES)

    def health_check_timeline(self, health_check_id: str) -> dict[str, Any]:
        """A health check's verdict, each checker's and a bounded history of samples
        (:class:`Refused`, status 404, for a check the sandbox does not know)."""
        return self._json("GET", admin_paths.health_check(health_check_id))


# ---------------------------------------------------------------- this session's sandbox


def session_admin(what: str) -> SandboxAdmin:
    """The admin client of this session's sandbox; :class:`NotInSandbox` (saying ``what``
    was asked for) in any other mode."""
    target = current_target()
    if not target.supports(SANDBOX_CONTROL):
        raise NotInSandbox(
            f"{what} is played by the sandbox and is not available on AWS (mode "
            f"{target.name!r}): no one can switch off an AWS region on request. Use another "
            "scenario there, or run this against the sandbox (--mode sandbox)")
    url = endpoint_url()
    assert url is not None  # sandbox mode always has one
    return SandboxAdmin(url)


def set_region_available(region: str, available: bool) -> dict[str, Any]:
    """Start (``available=False``) or end a whole-region outage of ``region``'s HTTP side.

    While it lasts, every public name served by the region (its APIs, custom
    domains, website) refuses connections, so health checks fail and clients
    see "connection refused". The region's control plane (DynamoDB, Lambda,
    streams) keeps running. Returns the sandbox's view of the region.
    """
    return session_admin("a whole-region outage").set_region_available(region, available)


def regions_available() -> dict[str, bool]:
    """``{region: available}`` for every sandbox region."""
    return session_admin("the region outage switch").regions()


def stream_mappings() -> dict[str, dict[str, Any]]:
    """Counters per event source mapping UUID: ``records``, ``batches``, ``failures``, ..."""
    return session_admin("event source mapping counters").stream_mappings()


def health_check_timeline(health_check_id: str) -> dict[str, Any]:
    """Verdict, checkers and history of a health check (on AWS the same curve is
    CloudWatch's ``HealthCheckStatus``)."""
    return session_admin("a health check's timeline").health_check_timeline(health_check_id)
