"""The Route 53 health check on the primary's ``/health`` and its status (3.3, 4)."""

from __future__ import annotations

import threading
import time
import uuid
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from helpers.aws.failover.common import FailoverSetupError, remember, route53
from helpers.aws.ownership import tags
from helpers.base.regions import ROUTE53_REGION
from helpers.connect import net
from helpers.connect.session import client
from helpers.core.config import WorkshopConfig

if TYPE_CHECKING:
    pass


HEALTHY_FRACTION = 0.18  # Route 53: healthy while more than 18 % of checkers say so

def create_health_check(config: WorkshopConfig) -> str:
    """A fast HTTPS health check of ``https://<primary city>.<domain>/health``; returns its id.

    An existing check of the kit for the same endpoint is reused. Each new
    check gets a fresh ``CallerReference`` (Route 53 refuses to reuse the
    reference of a deleted check), marked ``workshop:<prefix>:`` so the kit
    recognises its own.
    """
    found = find_health_check(config)
    if found:
        remember(config, health_check_id=found["Id"])
        return found["Id"]
    r53 = route53()
    check = r53.create_health_check(
        CallerReference=f"{_caller_prefix(config)}{uuid.uuid4().hex[:16]}",
        HealthCheckConfig={
            "Type": "HTTPS", "FullyQualifiedDomainName": checked_host(config), "Port": 443,
            "ResourcePath": "/health", "RequestInterval": 10, "FailureThreshold": 1,
            "EnableSNI": True,  # API Gateway custom domains answer only with SNI
        })["HealthCheck"]
    name = f"{config.prefix}-{config.label(config.primary_region)}-api"
    r53.change_tags_for_resource(ResourceType="healthcheck", ResourceId=check["Id"],
                                 AddTags=[{"Key": "Name", "Value": name}, *tags(config)])
    remember(config, health_check_id=check["Id"])
    _check_ids[_check_key(config)] = check["Id"]
    return check["Id"]


def find_health_check(config: WorkshopConfig) -> dict[str, Any] | None:
    for check in kit_health_checks(config):
        if check["HealthCheckConfig"].get("FullyQualifiedDomainName") == checked_host(config):
            return check
    return None


def kit_health_checks(config: WorkshopConfig) -> list[dict[str, Any]]:
    """Every health check this participant's kit created (by its CallerReference mark)."""
    return [check for page in route53().get_paginator("list_health_checks").paginate()
            for check in page["HealthChecks"]
            if check["CallerReference"].startswith(_caller_prefix(config))]


# Route 53 gives GetHealthCheckStatus a bucket of its own in the account: one request a
# second, a burst of four ("Throttling of Route 53 API requests"), shared by everybody in the
# account (a room of participants). Watching a check costs one request per sample, so the
# check's id is looked up once, and an answer is shared by every caller in the process (a
# notebook's wait, the drill's probe) for a second, concurrent callers waiting for one request:
# one learner stays at or under one request a second. Each checker reports only every
# RequestInterval (10 s), so little is missed, while the drill's timings stay within that
# second. In AWS seconds; the sandbox scales it.
STATUS_REUSE_SECONDS = 1.0
_check_ids: dict[tuple[str, str], str] = {}
_recent_status: dict[str, tuple[float, dict[str, Any]]] = {}
_asking = threading.Lock()  # one GetHealthCheckStatus at a time: the others share its answer


def _check_key(config: WorkshopConfig) -> tuple[str, str]:
    return config.prefix, checked_host(config)


def health_check_id(config: WorkshopConfig) -> str:
    key = _check_key(config)
    if key not in _check_ids:
        found = find_health_check(config)
        if found is None:
            raise FailoverSetupError(
                "there is no health check yet: run create_health_check() first")
        _check_ids[key] = found["Id"]
    return _check_ids[key]


def _status_answer(config: WorkshopConfig, retries: bool = True) -> dict[str, Any]:
    check_id = health_check_id(config)
    with _asking:
        seen = _recent_status.get(check_id)
        if seen and time.monotonic() - seen[0] < STATUS_REUSE_SECONDS * net.time_scale():
            return seen[1]
        r53 = route53() if retries else client("route53", ROUTE53_REGION, retries=False)
        try:
            answer = r53.get_health_check_status(HealthCheckId=check_id)
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "NoSuchHealthCheck":
                raise
            # Deleted (clean-up) or replaced since it was looked up: look again, once.
            _check_ids.pop(_check_key(config), None)
            check_id = health_check_id(config)
            answer = r53.get_health_check_status(HealthCheckId=check_id)
        _recent_status[check_id] = (time.monotonic(), answer)
        return answer


def health_check_status(config: WorkshopConfig,
                        retries: bool = True) -> tuple[bool, list[dict[str, Any]]]:
    """``(healthy, observations)``: one observation per Route 53 checker location.

    Healthy, as Route 53 decides it, while more than 18 % of the checkers
    report success. ``retries=False``: a throttled request raises its ``ClientError``
    (``Throttling``) at once instead of being retried (the drill records it as throttled).
    """
    answer = _status_answer(config, retries)
    observations = []
    for o in answer["HealthCheckObservations"]:
        report = o.get("StatusReport", {})
        observations.append({
            "region": o.get("Region"), "ip": o.get("IPAddress"),
            "ok": report.get("Status", "").startswith("Success"),
            "status": report.get("Status", ""), "checked": report.get("CheckedTime")})
    return healthy_fraction(observations) > HEALTHY_FRACTION, observations


def healthy_fraction(observations: list[dict[str, Any]]) -> float:
    if not observations:
        return 0.0
    return sum(o["ok"] for o in observations) / len(observations)


def wait_until_healthy(config: WorkshopConfig, timeout: float = 300) -> list[dict[str, Any]]:
    """Wait for the health check to report healthy (on AWS: a minute or two after creation)."""
    return _wait_for_health(config, True, timeout)


def wait_until_unhealthy(config: WorkshopConfig, timeout: float = 300) -> list[dict[str, Any]]:
    return _wait_for_health(config, False, timeout)


def _wait_for_health(config: WorkshopConfig, healthy: bool,
                     timeout: float) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []

    def reached() -> bool:
        verdict, observations = health_check_status(config)
        seen[:] = observations
        return verdict == healthy

    what = "healthy" if healthy else "unhealthy"
    try:
        # Twice a second; the shared answer keeps it to one GetHealthCheckStatus a second.
        net.wait_until(reached, timeout, interval=0.5, what=f"the health check to turn {what}")
    except TimeoutError:
        statuses = "; ".join(sorted({o["status"] for o in seen})) or "no observations"
        raise TimeoutError(
            f"the health check of {checked_host(config)} is not {what} after "
            f"{net.duration(timeout, digits=0)} "
            f"(checkers report: {statuses}). Open https://{checked_host(config)}/health "
            "yourself to see what it answers") from None
    return seen


def _caller_prefix(config: WorkshopConfig) -> str:
    return f"workshop:{config.prefix}:"


def checked_host(config: WorkshopConfig) -> str:
    """The host the health check probes: the primary's ``<city>.<domain>``."""
    return config.regional_host(config.primary_region)
