"""What the drill is held to: the theoretical failover bound, its margin, the recovery objective."""

from __future__ import annotations

from helpers.aws import failover
from helpers.connect import net
from helpers.core.config import WorkshopConfig

OBJECTIVE_SECONDS = 15 * 60  # the recovery time objective the workshop sets (AWS clock)

# How far a measured failover time may exceed the theoretical bound: the checkers probe out
# of step and their verdicts are polled (half the bound again), plus 2 s for a busy machine.
# tests/sandbox/test_drill.py and notebook 04 hold the drill to this.
BOUND_FACTOR = 1.5
BOUND_SLACK_SECONDS = 2.0


def within_bound(bound_seconds: float) -> float:
    """The most a failover step may take given the theoretical bound, with the margin above."""
    return BOUND_FACTOR * bound_seconds + BOUND_SLACK_SECONDS


def theoretical_bound(config: WorkshopConfig) -> dict[str, float]:
    """Request interval x failure threshold + the DNS TTL a client caches, on the sandbox clock."""
    check = failover.find_health_check(config)
    settings = check["HealthCheckConfig"] if check else {}
    interval = float(settings.get("RequestInterval", 30))
    threshold = float(settings.get("FailureThreshold", 3))
    ttl = float(failover.REGIONAL_TTL)
    zone_id = failover.find_hosted_zone(config)
    if zone_id:
        host = f"{config.regional_host(config.primary_region)}."
        ttl = next((float(r["TTL"]) for r in failover.records(zone_id)
                    if r["Name"] == host and "TTL" in r), ttl)
    # Each on the sandbox's clock as the sandbox runs it (helpers.sandbox.clock), floors too.
    on = net.clock()
    seconds = (on.seconds("health_check_interval", interval) * threshold
               + on.seconds("dns_record_ttl", ttl))
    return {"request_interval": interval, "failure_threshold": threshold, "ttl": ttl,
            "time_scale": on.time_scale, "seconds": round(seconds, 3)}
