"""The Route 53 health check on the primary's ``/health``, its settings and its status (3.3, 4).

Route 53's verdict, as the kit reads it from ``GetHealthCheckStatus``: the endpoint is
healthy while more than 18 % of the checkers call it healthy, and a checker with no report
yet counts as healthy - "Route 53 considers a new health check to be healthy until there's
enough data to determine the actual status" (*How Amazon Route 53 determines whether a
health check is healthy*; docs/aws-sources.md). With the kit's failure threshold of 1, a
checker's last report is its verdict.
"""

from __future__ import annotations

import functools
import threading
import time
import uuid
from typing import TYPE_CHECKING, Any

import botocore.session
from botocore.exceptions import ClientError

from helpers.aws.failover.common import FailoverSetupError, remember, route53
from helpers.aws.ownership import tags
from helpers.base.regions import ROUTE53_REGION
from helpers.connect import net
from helpers.connect.session import client
from helpers.core.config import WorkshopConfig

if TYPE_CHECKING:
    import pandas as pd


HEALTHY_FRACTION = 0.18  # Route 53: healthy while more than 18 % of checkers say so

# What the kit sets, and why (shown beside the values Route 53 holds: health_check_settings).
SETTINGS_WHY = {
    "Type": "API Gateway answers only over HTTPS; an HTTPS check does not validate the "
            "certificate",
    "FullyQualifiedDomainName": "the primary's own regional name (its custom domain), not "
                                "api.<domain>, which fails over",
    "Port": "the HTTPS port (the sandbox carries it as plain HTTP on its own port)",
    "ResourcePath": "the deep ping of module 1: the function reads the table",
    "EnableSNI": "the custom domain answers the TLS handshake only when the client names the "
                 "host (SNI)",
    "RequestInterval": "seconds between one checker's requests: 10 is the fast option "
                       "(default 30)",
    "FailureThreshold": "consecutive results a checker needs to change its verdict, either way "
                        "(default 3)",
    "Regions": "where the checkers are; none named: all of Route 53's checker regions",
}


def create_health_check(config: WorkshopConfig) -> str:
    """A fast HTTPS health check of ``https://<primary city>.<domain>/health``; returns its id.

    An existing check of the kit for the same endpoint is reused. Each new
    check gets a fresh ``CallerReference`` (Route 53 refuses to reuse the
    reference of a deleted check), marked ``workshop:<prefix>:`` so the kit
    recognises its own. :func:`health_check_settings` shows what Route 53 holds.
    """
    found = find_health_check(config)
    if found:
        remember(config, health_check_id=found["Id"])
        _known(config, found)
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
    _known(config, check)
    return check["Id"]


def health_check_settings(config: WorkshopConfig) -> pd.DataFrame:
    """The kit's health check as Route 53 holds it (``ListHealthChecks``): each setting with
    its value and why the kit sets it so; the checker regions spelled out."""
    import pandas as pd  # only notebooks show it; the CLI does not pay for the import

    from helpers.base.tables import whole

    check = find_health_check(config)
    if check is None:
        raise FailoverSetupError("there is no health check yet: run create_health_check() first")
    held = check["HealthCheckConfig"]
    rows = []
    for name, why in SETTINGS_WHY.items():
        if name == "Regions":
            value: Any = ", ".join(checker_regions(held))
            if not held.get("Regions"):
                value = f"(not set) {value}"
        else:
            value = held.get(name, "")
        rows.append({"setting": name, "value": str(value), "why": why})
    return whole(pd.DataFrame(rows).set_index("setting"))


def checker_regions(check_config: dict[str, Any]) -> list[str]:
    """Where the check's checkers are: its ``Regions``, or - none named - every checker region
    Route 53 has (the valid values of ``HealthCheckRegion``, from botocore's model)."""
    named = check_config.get("Regions") or []
    if named:
        return list(named)
    return list(_checker_region_values())


@functools.cache
def _checker_region_values() -> tuple[str, ...]:
    model = botocore.session.get_session().get_service_model("route53")
    return tuple(model.shape_for("HealthCheckRegion").enum)


def route53_verdict(observations: list[dict[str, Any]], checkers: int) -> bool:
    """Healthy as Route 53 decides it: more than 18 % of the ``checkers`` call the endpoint
    healthy, a checker that has not reported yet (no observation, or a status that is
    neither a success nor a failure) counting as healthy - a new check is healthy until
    there is enough data."""
    failed = sum(1 for o in observations if o["status"].startswith("Failure"))
    total = max(checkers, len(observations), 1)
    return (total - failed) / total > HEALTHY_FRACTION


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
_checker_counts: dict[str, int] = {}  # check id -> how many checkers probe it
_recent_status: dict[str, tuple[float, dict[str, Any]]] = {}
_asking = threading.Lock()  # one GetHealthCheckStatus at a time: the others share its answer


def _check_key(config: WorkshopConfig) -> tuple[str, str]:
    return config.prefix, checked_host(config)


def _known(config: WorkshopConfig, check: dict[str, Any]) -> None:
    """Remember a check's id and how many checkers it has (no call needed to watch it)."""
    _check_ids[_check_key(config)] = check["Id"]
    _checker_counts[check["Id"]] = len(checker_regions(check["HealthCheckConfig"]))


def health_check_id(config: WorkshopConfig) -> str:
    key = _check_key(config)
    if key not in _check_ids:
        found = find_health_check(config)
        if found is None:
            raise FailoverSetupError(
                "there is no health check yet: run create_health_check() first")
        _known(config, found)
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
    """``(healthy, observations)``: one observation per Route 53 checker that has reported.

    Healthy as Route 53 decides it (:func:`route53_verdict`): more than 18 % of the
    checkers call it healthy, those with no report yet counting as healthy, so a new
    check is healthy before its first report. ``retries=False``: a throttled request raises
    its ``ClientError`` (``Throttling``) at once instead of being retried (the drill records
    it as throttled).
    """
    answer = _status_answer(config, retries)
    observations = []
    for o in answer["HealthCheckObservations"]:
        report = o.get("StatusReport", {})
        observations.append({
            "region": o.get("Region"), "ip": o.get("IPAddress"),
            "ok": report.get("Status", "").startswith("Success"),
            "status": report.get("Status", ""), "checked": report.get("CheckedTime")})
    return route53_verdict(observations, checker_count(config)), observations


def checker_count(config: WorkshopConfig) -> int:
    """How many checkers probe the kit's check (known once its id is)."""
    check_id = health_check_id(config)  # remembers the count with the id (_known)
    return _checker_counts.get(check_id) or len(checker_regions({}))


def status_sample(config: WorkshopConfig) -> dict[str, Any]:
    """One sample of the check for a chart: Route 53's verdict (``healthy``), the share of
    all its checkers that report the endpoint healthy (``healthy_fraction``) and the share
    that have reported at all (``reported``)."""
    healthy, observations = health_check_status(config)
    checkers = max(checker_count(config), len(observations), 1)
    return {"healthy": healthy,
            "healthy_fraction": sum(o["ok"] for o in observations) / checkers,
            "reported": len(observations) / checkers}


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
