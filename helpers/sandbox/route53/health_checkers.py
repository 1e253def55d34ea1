"""Route 53 health checkers: real probes of every health check's endpoint.

As on AWS (Route 53 Developer Guide, "How Amazon Route 53 determines whether
a health check is healthy"):

* Each health check is probed by one checker per location (the eight
  locations Route 53 reports: us-east-1, us-west-1, us-west-2, eu-west-1,
  ap-southeast-1, ap-southeast-2, ap-northeast-1, sa-east-1; or the health
  check's ``Regions`` when it names at least three). Checkers do not
  coordinate: each starts at a random phase of the request interval.
* Every ``RequestInterval`` (10 or 30 s, scaled: :mod:`helpers.sandbox.clock`) a
  checker probes: HTTP/HTTPS — a TCP connection within 4 s, then a 2xx/3xx
  status within 2 s; ``*_STR_MATCH`` — also ``SearchString`` in the first
  5,120 bytes of the body; TCP — a connection within 10 s. Connection
  timeouts are scaled too, with a floor of 0.5 s; the response keeps AWS's 2 s:
  the functions behind it run at real speed, and a loaded machine (a rehearsed
  room on two cores) must not fail checks that AWS would pass.
* A checker changes its own verdict only after ``FailureThreshold``
  consecutive results that disagree with it (in both directions).
* The health check is healthy while **more than 18 %** of its checkers say
  so. ``Inverted`` flips the result; a ``Disabled`` check is healthy (then
  inverted if asked, which is how AWS lets you force a failover). CALCULATED
  checks count healthy children against ``HealthThreshold``; CloudWatch-alarm
  and recovery-control checks are always healthy here.
* A new health check is healthy until there is enough data ("Route 53
  considers a new health check to be healthy until there's enough data to
  determine the actual status"): every checker starts with a healthy verdict.

Sandbox network model: the endpoint is ``IPAddress`` or
``FullyQualifiedDomainName`` resolved through the sandbox :class:`Resolver`
(never the system resolver); port 80 or 443 means the region listeners'
shared ``http_port``; HTTPS is plain HTTP on loopback with the Host header
AWS would send (the FQDN, ``:port`` added for other ports). Addresses outside
127.0.0.0/8 are never contacted (the sandbox is offline): they time out.
Requests carry AWS's health-checker User-Agent and the checker's address in
``X-Forwarded-For`` (stable, made-up public addresses per location).

Besides :meth:`HealthCheckers.is_healthy` (used by the Resolver for failover)
and :meth:`~HealthCheckers.observations` (GetHealthCheckStatus), each health
check keeps a bounded history of (time, healthy) samples (every change, and
about one per request interval), served at ``/_sandbox/route53/healthcheck/{id}``
(see :mod:`helpers.sandbox.route53.api`), and every sample is also published
as CloudWatch metrics ``AWS/Route53`` ``HealthCheckStatus`` (1/0) and
``HealthCheckPercentageHealthy`` (dimension ``HealthCheckId``, us-east-1),
as Route 53 does on AWS, so charts can read them with plain boto3.
"""

from __future__ import annotations

import collections
import contextlib
import http.client
import ipaddress
import logging
import random
import socket
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any

from helpers.sandbox.context import SandboxContext

log = logging.getLogger("helpers.sandbox.route53.health_checkers")

# (location, checker address) -- the regions GetHealthCheckStatus reports.
CHECKER_LOCATIONS: tuple[tuple[str, str], ...] = (
    ("us-east-1", "54.243.31.196"),
    ("us-west-1", "54.183.255.132"),
    ("us-west-2", "54.244.52.196"),
    ("eu-west-1", "54.228.16.4"),
    ("ap-southeast-1", "54.255.254.196"),
    ("ap-southeast-2", "54.252.254.196"),
    ("ap-northeast-1", "54.248.220.4"),
    ("sa-east-1", "177.71.207.132"),
)
HEALTHY_FRACTION = 0.18  # healthy while MORE than 18 % of checkers say healthy
MIN_REGIONS = 3
# The interval, the connection and response timeouts and their floors are on the sandbox's
# clock (helpers.sandbox.clock: health_check_*). No checker probes more often than every
# 0.25 s, whatever the time scale: eight checkers a health check, so a faster clock (tests)
# would otherwise cost CPU without testing anything more.
SEARCH_BYTES = 5120
HISTORY_LEN = 2000
METRICS_REGION = "us-east-1"  # where Route 53 publishes health-check metrics
SYNC_EVERY_S = 0.1  # how often new / changed / deleted health checks are picked up
USER_AGENT = "Amazon-Route53-Health-Check-Service (ref {ref}; report http://amzn.to/1vsZADi)"
_FIREWALL_HINT = ("The endpoint or the internet connection is down, or requests are being "
                  "blocked by your firewall. See https://docs.aws.amazon.com/Route53/latest/"
                  "DeveloperGuide/dns-failover-router-firewall-rules.html")
TIMED_OUT = f"Failure: Connection timed out. {_FIREWALL_HINT}"
REFUSED = f"Failure: Connection refused. {_FIREWALL_HINT}"
ENDPOINT_TYPES = ("HTTP", "HTTPS", "HTTP_STR_MATCH", "HTTPS_STR_MATCH", "TCP")


@dataclass(frozen=True)
class HealthCheckConfig:
    """The settings of one moto HealthCheck that the checkers use."""

    type: str
    ip_address: str | None
    port: int
    fqdn: str | None
    resource_path: str
    search_string: str | None
    request_interval: int
    failure_threshold: int
    inverted: bool
    disabled: bool
    regions: tuple[str, ...]
    children: tuple[str, ...]
    health_threshold: int

    @classmethod
    def from_moto(cls, hc: Any) -> HealthCheckConfig:
        known = {region for region, _ in CHECKER_LOCATIONS}
        regions = tuple(r for r in (hc.regions or []) if r in known)
        return cls(
            type=str(hc.type_ or "HTTP").upper(),
            ip_address=hc.ip_address or None,
            port=int(hc.port or 80),
            fqdn=(hc.fqdn or None),
            resource_path=hc.resource_path or "/",
            search_string=hc.search_string,
            request_interval=int(hc.request_interval or 30),
            failure_threshold=min(10, max(1, int(hc.failure_threshold or 3))),
            inverted=_flag(hc.inverted),
            disabled=_flag(hc.disabled),
            regions=regions if len(regions) >= MIN_REGIONS else tuple(known_in_order()),
            children=tuple(hc.children or ()),
            health_threshold=int(hc.health_threshold or 0),
        )

    @property
    def endpoint(self) -> tuple[Any, ...]:
        return (self.type, self.ip_address, self.port, self.fqdn, self.resource_path,
                self.search_string)


def known_in_order() -> list[str]:
    return [region for region, _ in CHECKER_LOCATIONS]


def _flag(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return bool(value)


@dataclass
class Observation:
    region: str
    ip_address: str
    status: str
    checked_time: datetime
    success: bool

    def as_aws(self) -> dict[str, Any]:
        return {"Region": self.region, "IPAddress": self.ip_address,
                "StatusReport": {"Status": self.status, "CheckedTime": self.checked_time}}


@dataclass
class _Checker:
    region: str
    ip_address: str
    next_due: float
    verdict: bool = True  # a new health check is healthy until enough data
    streak: int = 0  # consecutive results that disagree with the verdict
    busy: bool = False
    last: Observation | None = None


@dataclass
class _Tracked:
    id: str
    config: HealthCheckConfig
    checkers: dict[str, _Checker] = field(default_factory=dict)
    history: collections.deque = field(default_factory=lambda: collections.deque(
        maxlen=HISTORY_LEN))
    last_status: bool | None = None
    last_sample: float = 0.0


class HealthCheckers:
    def __init__(self, ctx: SandboxContext) -> None:
        self.ctx = ctx
        self._lock = threading.RLock()
        self._tracked: dict[str, _Tracked] = {}
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._last_sync = 0.0
        self._rng = random.Random()

    # ------------------------------------------------------------ lifecycle

    def start(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=32, thread_name_prefix="hc-probe")
        self._sync()
        self._thread = threading.Thread(target=self._run, name="health-checkers", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread:
            self._thread.join(timeout=5)
        if self._pool:
            self._pool.shutdown(wait=False, cancel_futures=True)

    # --------------------------------------------------------------- public

    def is_healthy(self, health_check_id: str) -> bool:
        """Route 53's current verdict. An unknown id counts as healthy (like a missing check)."""
        return self._is_healthy(health_check_id, 0)

    def observations(self, health_check_id: str) -> list[dict[str, Any]]:
        """Each checker's last observation, in GetHealthCheckStatus's shape."""
        tracked = self._get(health_check_id)
        if tracked is None:
            return []
        with self._lock:
            return [c.last.as_aws() for c in tracked.checkers.values() if c.last is not None]

    def history(self, health_check_id: str) -> list[tuple[float, bool]]:
        """(unix time, healthy) samples: every change, and about one per request interval."""
        tracked = self._get(health_check_id)
        if tracked is None:
            return []
        with self._lock:
            return list(tracked.history)

    def summary(self, health_check_id: str) -> dict[str, Any] | None:
        """Everything the sandbox knows about one health check (for charts and tests)."""
        tracked = self._get(health_check_id)
        if tracked is None:
            return None
        healthy = self.is_healthy(health_check_id)
        with self._lock:
            cfg = tracked.config
            return {
                "HealthCheckId": tracked.id,
                "Healthy": healthy,
                "TimeScale": self.ctx.time_scale,
                "RequestIntervalSeconds": self._interval(cfg),
                "FailureThreshold": cfg.failure_threshold,
                "Checkers": [{"Region": c.region, "IPAddress": c.ip_address,
                              "Healthy": c.verdict,
                              "LastStatus": c.last.status if c.last else None,
                              "CheckedTime": c.last.checked_time.isoformat() if c.last else None}
                             for c in tracked.checkers.values()],
                "History": [{"Time": t, "Healthy": h} for t, h in tracked.history],
            }

    # ------------------------------------------------------------- internals

    def _get(self, health_check_id: str) -> _Tracked | None:
        with self._lock:
            tracked = self._tracked.get(health_check_id)
        if tracked is None:
            self._sync(force=True)  # created a moment ago: pick it up now
            with self._lock:
                tracked = self._tracked.get(health_check_id)
        return tracked

    def _is_healthy(self, health_check_id: str, depth: int) -> bool:
        tracked = self._get(health_check_id)
        if tracked is None or depth > 5:
            return True
        with self._lock:
            return self._status(tracked, depth)

    def _status(self, tracked: _Tracked, depth: int = 0) -> bool:
        cfg = tracked.config
        if cfg.disabled:
            healthy = True
        elif cfg.type == "CALCULATED":
            children = [self._is_healthy(child, depth + 1) for child in cfg.children]
            healthy = sum(children) >= cfg.health_threshold
        elif cfg.type in ENDPOINT_TYPES and tracked.checkers:
            verdicts = [c.verdict for c in tracked.checkers.values()]
            healthy = sum(verdicts) > HEALTHY_FRACTION * len(verdicts)
        else:  # CLOUDWATCH_METRIC, RECOVERY_CONTROL: not modelled
            healthy = True
        return healthy != cfg.inverted

    def _interval(self, cfg: HealthCheckConfig) -> float:
        return self.ctx.clock.seconds("health_check_interval", aws_s=cfg.request_interval)

    def _sync(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last_sync < SYNC_EVERY_S:
            return
        self._last_sync = now
        try:
            backend = self.ctx.global_backend("route53")
            current = dict(backend.health_checks)
        except RuntimeError:  # changed while copying
            return
        with self._lock:
            for hc_id in list(self._tracked):
                if hc_id not in current:
                    del self._tracked[hc_id]
            for hc_id, hc in current.items():
                try:
                    cfg = HealthCheckConfig.from_moto(hc)
                except (TypeError, ValueError):
                    log.warning("health check %s has a setting the sandbox cannot read", hc_id)
                    continue
                tracked = self._tracked.get(hc_id)
                if tracked is None:
                    tracked = _Tracked(hc_id, cfg)
                    self._tracked[hc_id] = tracked
                    self._place_checkers(tracked, now)
                    self._sample(tracked, force=True)
                elif cfg != tracked.config:
                    endpoint_changed = cfg.endpoint != tracked.config.endpoint
                    tracked.config = cfg
                    self._place_checkers(tracked, now)
                    if endpoint_changed:
                        for checker in tracked.checkers.values():
                            checker.streak = 0
                    self._sample(tracked, force=True)

    def _place_checkers(self, tracked: _Tracked, now: float) -> None:
        cfg = tracked.config
        if cfg.type not in ENDPOINT_TYPES:
            tracked.checkers.clear()
            return
        addresses = dict(CHECKER_LOCATIONS)
        for region in list(tracked.checkers):
            if region not in cfg.regions:
                del tracked.checkers[region]
        interval = self._interval(cfg)
        for region in cfg.regions:
            checker = tracked.checkers.get(region)
            if checker is None:
                # Independent checkers: each starts at a random phase of the interval.
                tracked.checkers[region] = _Checker(
                    region, addresses[region], now + self._rng.uniform(0.05, 1.0) * interval)
            elif checker.next_due > now + interval:
                checker.next_due = now + self._rng.uniform(0.05, 1.0) * interval

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._sync()
                delay = self._dispatch_due()
            except Exception:  # keep checking whatever one health check does
                log.exception("health checkers loop")
                delay = 0.5
            self._wake.wait(timeout=max(0.005, min(delay, SYNC_EVERY_S)))
            self._wake.clear()

    def _dispatch_due(self) -> float:
        now = time.monotonic()
        next_due = now + SYNC_EVERY_S
        with self._lock:
            for tracked in self._tracked.values():
                cfg = tracked.config
                if cfg.disabled:
                    continue
                interval = self._interval(cfg)
                for checker in tracked.checkers.values():
                    if checker.next_due <= now:
                        while checker.next_due <= now:  # a late checker skips missed slots
                            checker.next_due += interval
                        if not checker.busy and self._pool is not None:
                            checker.busy = True
                            self._pool.submit(self._probe_and_record, tracked, checker, cfg)
                    next_due = min(next_due, checker.next_due)
        return next_due - now

    def _probe_and_record(self, tracked: _Tracked, checker: _Checker,
                          cfg: HealthCheckConfig) -> None:
        try:
            success, status = self._probe(cfg, checker)
        except Exception as exc:  # a probe must never kill the checker
            log.exception("probe of health check %s failed", tracked.id)
            success, status = False, f"Failure: {exc}"
        observation = Observation(checker.region, checker.ip_address, status,
                                  datetime.now(UTC), success)
        with self._lock:
            checker.busy = False
            checker.last = observation
            if tracked.config.endpoint != cfg.endpoint:
                return  # the endpoint changed while probing: this result is about the old one
            if success == checker.verdict:
                checker.streak = 0
            else:
                checker.streak += 1
                if checker.streak >= tracked.config.failure_threshold:
                    checker.verdict = success
                    checker.streak = 0
            self._sample(tracked)

    def _sample(self, tracked: _Tracked, force: bool = False) -> None:
        healthy = self._status(tracked)
        now = time.time()
        changed = healthy != tracked.last_status
        if force or changed or now - tracked.last_sample >= self._interval(tracked.config):
            tracked.history.append((now, healthy))
            tracked.last_sample = now
            self._publish(tracked, healthy)
            if changed and tracked.last_status is not None:
                log.info("health check %s is now %s", tracked.id,
                         "healthy" if healthy else "unhealthy")
            tracked.last_status = healthy

    def _publish(self, tracked: _Tracked, healthy: bool) -> None:
        """CloudWatch metrics as Route 53 publishes them (namespace AWS/Route53, us-east-1)."""
        verdicts = [c.verdict for c in tracked.checkers.values()]
        dimensions = [{"Name": "HealthCheckId", "Value": tracked.id}]
        data = [{"MetricName": "HealthCheckStatus", "Value": 1.0 if healthy else 0.0,
                 "Unit": "None", "Dimensions": dimensions}]
        if verdicts:
            data.append({"MetricName": "HealthCheckPercentageHealthy", "Unit": "Percent",
                         "Value": 100.0 * sum(verdicts) / len(verdicts),
                         "Dimensions": dimensions})
        try:
            self.ctx.backend("cloudwatch", METRICS_REGION).put_metric_data("AWS/Route53", data)
        except Exception:  # metrics are a by-product; never let them stop the checkers
            log.debug("publishing health check metrics failed", exc_info=True)

    # ---------------------------------------------------------------- probes

    def _connect_timeout(self, cfg: HealthCheckConfig) -> float:
        return self.ctx.clock.seconds("health_check_tcp_connect_timeout" if cfg.type == "TCP"
                                      else "health_check_connect_timeout")

    def _response_timeout(self) -> float:
        return self.ctx.clock.seconds("health_check_response_timeout")

    def _target(self, cfg: HealthCheckConfig) -> tuple[str | None, str]:
        """(address to connect to, or None with the failure status)."""
        if cfg.ip_address:
            return cfg.ip_address, ""
        resolver = self.ctx.resolver
        if resolver is None or not cfg.fqdn:
            return None, "Failure: DNS resolution failed: no domain name"
        answer = resolver.resolve(cfg.fqdn, "A")
        if not answer.addresses:
            code = {"NXDOMAIN": "NXDomain(3)", "SERVFAIL": "ServFail(2)"}.get(answer.rcode,
                                                                             "NoError(0)")
            return None, f"Failure: DNS resolution failed: Rcode {code}"
        return answer.addresses[0], ""

    def _port(self, port: int) -> int:
        # The public HTTP(S) ports are the region listeners' shared port in the sandbox.
        if port in (80, 443) and self.ctx.http_port:
            return self.ctx.http_port
        return port

    def _probe(self, cfg: HealthCheckConfig, checker: _Checker) -> tuple[bool, str]:
        address, failure = self._target(cfg)
        if address is None:
            return False, failure
        port = self._port(cfg.port)
        try:
            offline = not ipaddress.ip_address(address).is_loopback
        except ValueError:
            return False, f"Failure: Invalid IP address {address}"
        if offline:  # the sandbox never leaves the machine: as if nothing answered
            time.sleep(self._connect_timeout(cfg))
            return False, TIMED_OUT
        try:
            sock = socket.create_connection((address, port), timeout=self._connect_timeout(cfg))
        except ConnectionRefusedError:
            return False, REFUSED
        except TimeoutError:
            return False, TIMED_OUT
        except OSError as exc:
            return False, f"Failure: {exc.strerror or exc}. {_FIREWALL_HINT}"
        if cfg.type == "TCP":
            sock.close()
            return True, "Success: TCP connection established"
        try:
            return self._http(cfg, checker, sock, address)
        finally:
            sock.close()

    def _http(self, cfg: HealthCheckConfig, checker: _Checker, sock: socket.socket,
              address: str) -> tuple[bool, str]:
        host = cfg.fqdn or cfg.ip_address or address
        if cfg.port not in (80, 443):
            host = f"{host}:{cfg.port}"
        path = cfg.resource_path if cfg.resource_path.startswith("/") else "/" + cfg.resource_path
        timeout = self._response_timeout()
        sock.settimeout(timeout)
        conn = http.client.HTTPConnection(address, self._port(cfg.port), timeout=timeout)
        conn.sock = sock
        try:
            conn.putrequest("GET", path, skip_host=True, skip_accept_encoding=True)
            conn.putheader("Host", host)
            conn.putheader("User-Agent", USER_AGENT.format(ref=uuid.uuid4()))
            conn.putheader("X-Forwarded-For", checker.ip_address)
            conn.putheader("Connection", "close")
            conn.endheaders()
            response = conn.getresponse()
            code = response.status
            reason = _reason(code, response.reason)
            if not 200 <= code < 400:
                return False, f"Failure: HTTP Status Code {code}, {reason}"
            if cfg.type.endswith("_STR_MATCH"):
                body = response.read(SEARCH_BYTES)
                if (cfg.search_string or "").encode() not in body:
                    return False, ("Failure: The string to search for was not found in the "
                                   f"first {SEARCH_BYTES} bytes of the response body.")
                return True, f"Success: HTTP Status Code {code}, {reason}. Search string found."
            return True, f"Success: HTTP Status Code {code}, {reason}"
        except TimeoutError:
            return False, (f"Failure: The endpoint did not respond within "
                           f"{timeout:g} seconds after the connection was established.")
        except (OSError, http.client.HTTPException) as exc:
            return False, f"Failure: The endpoint closed the connection ({type(exc).__name__})."
        finally:
            with contextlib.suppress(Exception):
                conn.close()


def _reason(code: int, given: str) -> str:
    with contextlib.suppress(ValueError):
        return HTTPStatus(code).phrase
    return given or "Unknown"
