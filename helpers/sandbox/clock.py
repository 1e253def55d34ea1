"""The sandbox's one clock: every AWS duration it imposes or models, and which clock it runs on.

A sandbox runs some of AWS's durations faster than AWS, multiplied by its time
scale (``SandboxSettings.time_scale``, 0.1 in the workshop), so that a failover
fits a lesson: health-check intervals, DNS TTLs, quota windows, changes that are
``PENDING``. Others run in real time, at AWS's own value, because a learner
reads them as they are: the round trip between two regions, Lambda polling a
stream, the timeouts of code that runs at this machine's real speed. Which is
which is declared once, here, in :data:`DURATIONS`: each entry with AWS's
figure in seconds, its clock (:data:`SCALED` or :data:`REAL`) and the reason.

Components read a duration from a :class:`Clock` (``ctx.clock.seconds("route53_change_pending")``),
never from a constant of their own; a duration a user configures (a record's
TTL, a health check's ``RequestInterval``, a mapping's batching window) is put
on the clock of its entry (``clock.seconds("dns_record_ttl", aws_s=ttl)``).
:func:`describe` says a duration to a learner with its clock, and for a scaled
one what it stands for on AWS. ``docs/aws-limits.md`` lists the same table;
``tests/unit/test_clock.py`` holds the two to each other.

Imports nothing of the kit: notebooks' helpers (``helpers.views.charts``) use it too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

SCALED: Literal["scaled"] = "scaled"  # AWS's figure x the sandbox's time scale
REAL: Literal["real time"] = "real time"  # AWS's figure, whatever the time scale
ClockName = Literal["scaled", "real time"]


@dataclass(frozen=True)
class Duration:
    """One AWS duration the sandbox imposes or models."""

    name: str
    aws_s: float  # AWS's figure in seconds (the sandbox's own where AWS publishes none: reason)
    clock: ClockName
    where: str  # the module that applies it (under helpers/sandbox/)
    reason: str
    least_s: float = 0.0  # never shorter than this on the sandbox's clock (a non-zero duration)


_HEALTH = "route53/health_checkers.py"
_FAILOVER_FITS = "scaled so that a failover fits a lesson"

DURATIONS: tuple[Duration, ...] = (
    # -- Route 53 health checks
    Duration("health_check_interval", 30, SCALED, _HEALTH,
             f"Route 53's standard RequestInterval; {_FAILOVER_FITS}. A check's own interval is "
             "scaled alike, and so is detection (interval x FailureThreshold); the floor: "
             "eight checkers a check must not cost CPU at a fast scale", least_s=0.25),
    Duration("health_check_fast_interval", 10, SCALED, _HEALTH,
             "the fast RequestInterval, the kit's; as the standard one", least_s=0.25),
    Duration("health_check_connect_timeout", 4, SCALED, _HEALTH,
             "an HTTP(S) check's TCP connection; scaled with the interval it must fit in",
             least_s=0.5),
    Duration("health_check_tcp_connect_timeout", 10, SCALED, _HEALTH,
             "a TCP check's connection; as the HTTP(S) one", least_s=0.5),
    Duration("health_check_response_timeout", 2, REAL, _HEALTH,
             "the functions behind the endpoint answer at real speed: a loaded machine (a "
             "rehearsed room on two cores) must not fail a check AWS would pass"),
    # -- DNS
    Duration("dns_record_ttl", 60, SCALED, "route53/dns_records.py",
             "a record's own TTL (the kit's records: 60 s), in whole seconds (0 stays 0); "
             f"{_FAILOVER_FITS}", least_s=1),
    Duration("service_name_ttl", 60, SCALED, "route53/dns_records.py",
             "what AWS gives execute-api and S3 website names; as a record's TTL", least_s=1),
    Duration("name_server_ttl", 172800, SCALED, "route53/dns_records.py",
             "what Route 53 gives its name servers' records; as a record's TTL", least_s=1),
    Duration("dns_negative_ttl", 900, SCALED, "dns_server.py",
             "negative caching, min(SOA TTL 900, MINIMUM 86400) of a public zone: a name "
             "asked for before its record exists stays NXDOMAIN that long; every SOA timer "
             "is scaled, so negative caching is too", least_s=1),
    # -- Route 53 changes
    Duration("route53_change_pending", 60, SCALED, "route53/changes.py",
             "a change is PENDING, then INSYNC (\"within 60 seconds\"); scaled so the kit's "
             "waits fit a lesson"),
    Duration("prior_request_not_complete", 60, SCALED, "route53/changes.py",
             "a change to a record set still PENDING is refused (PriorRequestNotComplete) for "
             "as long as it is: the same window"),
    # -- account quotas
    Duration("apigateway_quota_window", 30, SCALED, "quotas.py",
             "CreateDomainName, DeleteDomainName, DeleteRestApi: one per 30 s; scaled so a "
             "room's clean-up fits a lesson, the quota still met"),
    Duration("apigateway_create_deployment_quota_window", 5, SCALED, "quotas.py",
             "CreateDeployment: one per 5 s; scaled with the kit's pace"),
    Duration("apigateway_create_rest_api_quota_window", 3, SCALED, "quotas.py",
             "a Regional (or private) CreateRestApi: one per 3 s; scaled with the kit's pace"),
    Duration("apigateway_get_resources_quota_window", 2, SCALED, "quotas.py",
             "GetResources: five per 2 s; scaled with the kit's pace"),
    Duration("apigateway_total_quota_window", 1, SCALED, "quotas.py",
             "every API Gateway control-plane request together: ten a second; scaled with "
             "the kit's pace"),
    Duration("route53_quota_window", 1, SCALED, "quotas.py",
             "Route 53's token buckets refill per second: the account's ten (burst 50), "
             "GetHealthCheckStatus's one (burst 4), DeleteHealthCheck's three; scaled with "
             "the kit's own pace"),
    Duration("route53_create_health_check_quota_window", 2, SCALED, "quotas.py",
             "CreateHealthCheck: 0.5 a second, one token per 2 s; scaled with the kit's pace"),
    Duration("cloudformation_describe_quota_window", 1, SCALED, "quotas.py",
             "ten describe calls a second (the kit's assumption); scaled with the kit's pace"),
    Duration("acm_quota_window", 1, SCALED, "quotas.py",
             "RequestCertificate five a second, ListCertificates one, per account and region; "
             "scaled with the kit's pace"),
    # -- certificates and custom domains
    Duration("certificate_validation_check", 0.25, REAL, "acm/validation.py",
             "how often the sandbox looks for a certificate's validation records (AWS "
             "publishes no figure; it takes minutes there): a certificate is issued as soon "
             "as its records resolve, the wait on AWS being the records' propagation "
             "(route53_change_pending)"),
    Duration("certificate_release", 60, SCALED, "apigateway/domains.py",
             "a deleted custom domain keeps its certificate in use (AWS gives no figure: a "
             "minute to half an hour); long enough that clean-up waits as on AWS, scaled so "
             "it does not dominate a run"),
    # -- DynamoDB global tables
    Duration("replica_creation", 120, SCALED, "dynamodb/global_tables.py",
             "a replica is CREATING (AWS: a few minutes for a small table); scaled so the "
             "conversion fits a lesson"),
    Duration("replica_deletion", 60, SCALED, "dynamodb/global_tables.py",
             "a replica is DELETING; as its creation"),
    # -- distance, streams, Lambda
    Duration("inter_region_round_trip", 0.181, REAL, "inter_region_latency.py",
             "per pair of regions (CloudPing p50; eu-west-1 to ap-southeast-1 here): distance "
             "does not shrink with the sandbox's clock, so a replication lag reads as on AWS"),
    Duration("stream_poll_interval", 0.25, REAL, "dynamodb/streams.py",
             "Lambda polls each shard about four times a second; real time so a replication "
             "lag reads as on AWS"),
    Duration("stream_retry_backoff_max", 4, REAL, "dynamodb/streams.py",
             "the longest wait between retries of a failed batch (the sandbox's figure); "
             "polling's clock"),
    Duration("stream_batching_window", 0, SCALED, "dynamodb/streams.py",
             "a mapping's MaximumBatchingWindowInSeconds (the kit's: 0) is a duration the "
             "learner configures: scaled like every configured AWS duration"),
    Duration("stream_retention", 86400, SCALED, "dynamodb/streams.py",
             "DynamoDB Streams keeps records 24 hours, and a mapping's "
             "MaximumRecordAgeInSeconds is scaled alike: a configured AWS duration"),
    Duration("lambda_cold_start", 0.3, SCALED, "awslambda/runtime.py",
             "the Init Duration of a small Python function importing boto3 (AWS gives no "
             "single figure); AWS's share of a failover, so on the failover's clock"),
    Duration("lambda_init_timeout", 10, REAL, "awslambda/runtime.py",
             "the init phase's limit: the code runs at this machine's real speed"),
    Duration("lambda_idle_environment", 300, REAL, "awslambda/runtime.py",
             "an unused environment is reclaimed (AWS: after a while; the sandbox's figure), "
             "this machine's memory being real"),
    Duration("lambda_async_retry_first", 60, SCALED, "awslambda/runtime.py",
             "a failed asynchronous invocation is retried after a minute; scaled like every "
             "wait AWS imposes between attempts"),
    Duration("lambda_async_retry_second", 120, SCALED, "awslambda/runtime.py",
             "and again two minutes later; as the first"),
    Duration("apigateway_integration_timeout", 29, REAL, "apigateway/executor.py",
             "API Gateway gives up on an integration after 29 s: the function runs at real "
             "speed"),
)

TABLE: dict[str, Duration] = {d.name: d for d in DURATIONS}


def aws_seconds(name: str) -> float:
    """AWS's figure of a duration of the table, in seconds (whatever the clock)."""
    return TABLE[name].aws_s


def real_seconds(name: str) -> float:
    """A real-time duration, the same on every clock: what a module may keep as a constant.

    Raises at import if the table puts ``name`` on the scaled clock, so a duration moved
    there is read from the sandbox's clock (``ctx.clock.seconds``), not a stale constant.
    """
    entry = TABLE[name]
    if entry.clock != REAL:
        raise ValueError(f"{name} is on the sandbox's scaled clock: read it from "
                         "ctx.clock.seconds(), not a constant")
    return entry.aws_s


@dataclass(frozen=True)
class Clock:
    """The account's clock at a time scale (1.0: AWS's own). ``sandbox``: its durations are
    the sandbox's, so a figure it models is said to be modelled (:meth:`say`)."""

    time_scale: float = 1.0
    sandbox: bool = False

    def seconds(self, name: str, aws_s: float | None = None) -> float:
        """Duration ``name`` on this clock; with ``aws_s``, that many AWS seconds of its kind
        (a record's own TTL, a health check's own interval)."""
        entry = TABLE[name]
        value = entry.aws_s if aws_s is None else float(aws_s)
        if entry.clock == REAL or value <= 0:
            return value
        return max(entry.least_s, value * self.time_scale)

    def describe(self, name: str) -> str:
        """Duration ``name`` for a learner, with its clock."""
        return describe(self.seconds(name), self.time_scale, TABLE[name].clock)

    def say(self, seconds: float, clock: ClockName = SCALED, digits: int = 1,
            modelled: str | None = None) -> str:
        """A measured duration for a learner (:func:`describe`); ``modelled`` names what the
        sandbox models instead of measuring (said in the sandbox only: on AWS it is real)."""
        return describe(seconds, self.time_scale, clock, digits,
                        modelled if self.sandbox else None)

    def on_aws(self, seconds: float, clock: ClockName = SCALED) -> float:
        """What ``seconds`` measured on this clock stand for on AWS's: a scaled duration
        divided by the time scale; a real-time one as it is."""
        return seconds if clock == REAL else seconds / self.time_scale


def describe(seconds: float, time_scale: float | None, clock: ClockName = SCALED,
             digits: int = 1, modelled: str | None = None) -> str:
    """A duration for a learner: which clock it is on and, scaled, what it is on AWS's.

    The kit's one formatter of a duration a learner reads (printed lines, tables, chart
    titles): ``describe(0.3, 0.1)`` -> ``"0.3 s on the sandbox's clock (3.0 s on AWS at
    time scale 0.1)"``; ``describe(0.18, 0.1, REAL, 2)`` -> ``"0.18 s in real time, as on
    AWS"``; on AWS (scale 1 or None) just ``"0.3 s"``. With ``modelled`` (what the sandbox
    models rather than runs, e.g. ``"one round trip between the regions"``) it says so:
    ``"0.18 s in real time, modelled (one round trip between the regions)"``. Fixed
    decimals, so notebook outputs compare stably.
    """
    said = f"{seconds:.{digits}f} s"
    if modelled:
        kind = "in real time" if clock == REAL else "on the sandbox's clock"
        said = f"{said} {kind}, modelled ({modelled})"
        if clock == REAL or time_scale is None or time_scale == 1.0:
            return said
        return f"{said}; {seconds / time_scale:.{digits}f} s on AWS at time scale {time_scale:g}"
    if time_scale is None or time_scale == 1.0:
        return said
    if clock == REAL:
        return f"{said} in real time, as on AWS"
    return (f"{said} on the sandbox's clock ({seconds / time_scale:.{digits}f} s on AWS "
            f"at time scale {time_scale:g})")


def scale_note(time_scale: float | None) -> str:
    """What seconds measured on the sandbox mean (an axis label's tail; "" on AWS)."""
    if time_scale is None or time_scale == 1.0:
        return ""
    return f"  (sandbox's clock, time scale {time_scale:g}: AWS durations x {time_scale:g})"


def explain(time_scale: float | None) -> str:
    """The two clocks in a few sentences, for a learner (notebook 00); on AWS, one line."""
    if time_scale is None or time_scale == 1.0:
        return ("Every duration here is AWS's own: health-check intervals, TTLs and waits "
                "run as AWS runs them (time scale 1).")
    return (f"The sandbox runs AWS's slow waits faster: at time scale {time_scale:g}, every "
            f"duration AWS imposes on the workshop (health-check intervals, DNS TTLs, quota "
            f"windows, changes that are PENDING) lasts {time_scale:g} x AWS's figure "
            f"here -- a 60 s TTL lasts {60 * time_scale:g} s. These are on the sandbox's "
            f"clock; each is printed with what it stands for on AWS (divided by "
            f"{time_scale:g}). The rest runs in real time, as on AWS: the round trip "
            "between two regions (modelled from a published table), Lambda polling a "
            "stream, your code's own speed. So a replication lag reads as on AWS, while a "
            "failover's seconds must be divided by the time scale.")
