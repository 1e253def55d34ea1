"""The failover drill: break the primary under load, measure RTO and RPO, fail back losing nothing.

On a workshop deployed through notebook 03.3, :func:`run`

1. starts a traffic generator: a background thread that, at ``rate`` requests
   a second, creates tickets, lists them and calls ``/health`` (as the web UI
   does) through ``https://api.<domain>/``, exactly like a browser: its DNS
   answer is cached for the answer's TTL (:func:`helpers.net.request`), and
   each answer's ``X-Workshop-Region`` says which region served it;
2. starts probes: the health check's verdict
   (:func:`helpers.failover.health_check_status`) and the authoritative DNS
   answer for ``api.<domain>`` (:func:`helpers.failover.dns_answer`);
3. injects one fault into the primary (:data:`SCENARIOS`), and measures

   * ``detection_seconds``: fault → the health check turns unhealthy;
   * ``dns_switch_seconds``: fault → DNS answers the secondary;
   * ``rto_seconds``: the first user request that failed → the first
     successful request served by the secondary;
   * ``rpo_items_at_switch``: writes the primary acknowledged that the
     secondary did not hold when DNS switched;
   * ``rpo_items_after_drain``: the same once replication has drained (must be 0);

4. reconciles: tickets written to the secondary during the failover are
   copied into the primary (items the primary lacks or holds an older version
   of, by the replicator's own rule), then restores the fault, watches health,
   DNS and traffic return, reconciles the last writes the secondary took while
   clients still held its address, and checks that every acknowledged write
   is in the primary (``lost_items``, must be 0).

The measured times are compared with the theoretical bound - the health
check's request interval x failure threshold, plus the DNS TTL a client
caches, on the sandbox clock (x :func:`helpers.net.time_scale`) - and with a
15-minute recovery time objective (on AWS's clock).

``run(..., live=True)`` in a notebook shows a timeline that redraws while the
drill runs; :func:`helpers.drill_charts.drill_timeline` draws the final one.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import requests

from helpers import failover, net, replication, settings, state, tickets
from helpers.config import WorkshopConfig
from helpers.deployment import stack_outputs
from helpers.errors import UsageError, WorkshopError
from helpers.session import client
from helpers.stacks import StackError

OBJECTIVE_SECONDS = 15 * 60  # the recovery time objective the workshop sets (AWS clock)
DEFAULT_RATE = 10.0  # requests per second
OPERATIONS = ("create", "list", "health")  # what the generator cycles through
API_FUNCTIONS = ("GetFunctionName", "PostFunctionName", "HealthFunctionName")
REQUEST_TIMEOUT_S = 5
DRAIN_TIMEOUT_S = 60  # replication runs at real speed whatever the time scale
LIVE_REDRAW_S = 1.0
# Once failed over, keep the traffic on the secondary a while (at least this long, and until
# it has taken this many new tickets), so there is something to reconcile before fail-back.
HOLD_MIN_S = 1.0
HOLD_WRITES = 3
COLD_START_NOTE_S = 0.25

Progress = Callable[[str], None] | None


class DrillNotReady(WorkshopError):
    """The workshop is not deployed far enough, or a fault is still in place."""


class DrillUnavailable(WorkshopError):
    """The scenario cannot be played in this mode (a region outage on AWS)."""


# ---------------------------------------------------------------- the faults


def throttle_primary(config: WorkshopConfig) -> None:
    """Reserved concurrency 0 on the primary's three API functions: every call is throttled.

    API Gateway then answers 429 (or 502), ``/health`` included. A reserved
    concurrency the learner had set is remembered and put back by :func:`unthrottle_primary`.
    """
    region = config.primary_region
    api = stack_outputs(config, "api", region)
    lam = client("lambda", region)
    previous = {}
    for output in API_FUNCTIONS:
        name = api[output]
        current = lam.get_function_concurrency(FunctionName=name).get(
            "ReservedConcurrentExecutions")
        if current not in (None, 0):
            previous[name] = current
    saved = state.load(config.prefix).get("drill", {}).get("reserved_concurrency")
    if saved is None:  # a second throttle must not record the zeros as "previous"
        state.update(config.prefix, drill={"reserved_concurrency": previous})
    for output in API_FUNCTIONS:
        lam.put_function_concurrency(FunctionName=api[output], ReservedConcurrentExecutions=0)


def unthrottle_primary(config: WorkshopConfig) -> None:
    """Undo :func:`throttle_primary` (idempotent)."""
    region = config.primary_region
    api = stack_outputs(config, "api", region)
    lam = client("lambda", region)
    saved = state.load(config.prefix).get("drill", {}).get("reserved_concurrency") or {}
    for output in API_FUNCTIONS:
        name = api[output]
        if saved.get(name):
            lam.put_function_concurrency(FunctionName=name,
                                         ReservedConcurrentExecutions=int(saved[name]))
        else:
            lam.delete_function_concurrency(FunctionName=name)
    state.update(config.prefix, drill={"reserved_concurrency": None})


def primary_outage(config: WorkshopConfig) -> None:
    """The whole primary region stops answering HTTP (sandbox only)."""
    from helpers.sandbox import admin

    admin.set_region_available(config.primary_region, False)


def end_primary_outage(config: WorkshopConfig) -> None:
    from helpers.sandbox import admin

    admin.set_region_available(config.primary_region, True)


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    inject: Callable[[WorkshopConfig], Any]
    restore: Callable[[WorkshopConfig], Any]
    sandbox_only: bool = False


SCENARIOS: dict[str, Scenario] = {s.name: s for s in (
    Scenario("bad-deploy", "a bad deploy: the primary's GET /health runs the wrong function "
             "and answers 400 (module 4)", failover.break_primary, failover.restore_primary),
    Scenario("throttle", "the primary's three API functions throttled to zero "
             "(reserved concurrency 0): every API call answers 429/502",
             throttle_primary, unthrottle_primary),
    Scenario("region-outage", "the whole primary region unreachable over HTTP (connections "
             "refused; its tables and the replicator keep running)",
             primary_outage, end_primary_outage, sandbox_only=True),
)}


def available(scenario: str, mode: str) -> bool:
    return not (SCENARIOS[scenario].sandbox_only and mode != "sandbox")


def restore(config: WorkshopConfig, progress: Progress = None) -> list[str]:
    """Undo every fault the drill can inject (safe to run any time); returns what was undone."""
    say = progress or (lambda _msg: None)
    undone = []
    if failover.restore_primary(config):
        undone.append("bad-deploy")
    saved = state.load(config.prefix).get("drill", {}).get("reserved_concurrency")
    if saved is not None or _throttled(config):
        unthrottle_primary(config)
        undone.append("throttle")
    if config.mode == "sandbox":
        from helpers.sandbox import admin

        if not admin.regions_available().get(config.primary_region, True):
            end_primary_outage(config)
            undone.append("region-outage")
    say(f"restored: {', '.join(undone)}" if undone else "no fault was in place")
    return undone


def _throttled(config: WorkshopConfig) -> bool:
    api = stack_outputs(config, "api", config.primary_region)
    lam = client("lambda", config.primary_region)
    return any(lam.get_function_concurrency(FunctionName=api[o]).get(
        "ReservedConcurrentExecutions") == 0 for o in API_FUNCTIONS)


# ---------------------------------------------------------------- readiness


def check_ready(config: WorkshopConfig, scenario: str) -> None:
    """Raise DrillUnavailable / DrillNotReady with what is missing; return quietly when ready."""
    if scenario not in SCENARIOS:
        raise UsageError(f"unknown scenario {scenario!r}: choose one of {', '.join(SCENARIOS)}")
    if not available(scenario, config.mode):
        raise DrillUnavailable(
            f"the {scenario} scenario ({SCENARIOS[scenario].description}) is played by the "
            f"sandbox's outage switch and is not available on AWS (mode {config.mode!r}): "
            "choose --scenario bad-deploy or throttle there")
    primary, secondary = config.regions
    missing = []
    for kind, region, notebook in (("api", primary, "01"), ("api", secondary, "03.1"),
                                   ("replication", primary, "03.2")):
        try:
            stack_outputs(config, kind, region)
        except StackError:
            missing.append(f"the {kind} stack {config.stack_name(kind)} in {region} "
                           f"(notebook {notebook})")
    if not missing and failover.find_health_check(config) is None:
        missing.append(f"the Route 53 health check of {config.regional_host(primary)} "
                       "(notebook 03.3)")
    dns_region = None
    if not missing:
        with contextlib.suppress(Exception):  # NXDOMAIN and friends: the records are missing
            dns_region = failover.answer_region(failover.dns_answer(config, "api"))
        if dns_region is None:
            missing.append(f"the failover records of {config.api_host()} (notebook 03.3)")
    if missing:
        raise DrillNotReady(
            f"the drill needs the workshop deployed through notebook 03.3 for participant "
            f"{config.prefix!r} ({config.mode} mode); missing: {'; '.join(missing)}. Run those "
            "notebooks (or `workshop run --until 03.3`) and start the drill again")
    healthy, _ = failover.health_check_status(config)
    if not healthy or dns_region != primary:
        raise DrillNotReady(
            f"the primary is not serving right now (health check "
            f"{'healthy' if healthy else 'unhealthy'}, DNS answers {dns_region}): a fault is "
            "still in place. Undo it with `workshop drill --restore` (drill.restore(config)), "
            "wait for the health check to turn healthy, then start the drill again")


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
    scale = net.time_scale()
    return {"request_interval": interval, "failure_threshold": threshold, "ttl": ttl,
            "time_scale": scale, "seconds": round((interval * threshold + ttl) * scale, 3)}


# ---------------------------------------------------------------- the result


@dataclass
class DrillResult:
    scenario: str
    description: str
    rate: float
    primary: str
    secondary: str
    time_scale: float
    theoretical_bound_seconds: float
    bound_inputs: dict[str, float]
    objective_seconds: float = OBJECTIVE_SECONDS
    detection_seconds: float | None = None
    dns_switch_seconds: float | None = None
    rto_seconds: float | None = None
    rpo_items_at_switch: int | None = None
    rpo_items_after_drain: int | None = None
    reconciled_items: int = 0
    reconciled_before_failback: int = 0
    lost_items: int | None = None
    secondary_first_request_seconds: float | None = None  # part of the RTO (a cold start?)
    failback: dict[str, float | None] = field(default_factory=dict)
    moments: dict[str, float] = field(default_factory=dict)  # seconds since the drill began
    requests: pd.DataFrame = field(default_factory=pd.DataFrame)
    probes: pd.DataFrame = field(default_factory=pd.DataFrame)
    phase: str = "done"
    notes: list[str] = field(default_factory=list)

    @property
    def rto_aws_seconds(self) -> float | None:
        """The RTO divided by the time scale: roughly what it would be on AWS's clock.

        Only health-check intervals and TTLs are scaled in the sandbox, so this
        overstates what does not scale (a cold start in the secondary, request
        latency); on AWS (scale 1) it is the RTO itself.
        """
        if self.rto_seconds is None:
            return None
        return round(self.rto_seconds / self.time_scale, 2)

    @property
    def meets_objective(self) -> bool | None:
        rto = self.rto_aws_seconds
        return None if rto is None else rto <= self.objective_seconds

    def counts(self) -> dict[str, int]:
        frame = self.requests
        if frame.empty:
            return {"requests": 0, "failed": 0, "writes_acknowledged": 0}
        acked = frame[(frame["op"] == "create") & frame["ok"]]
        return {"requests": len(frame), "failed": int((~frame["ok"]).sum()),
                "writes_acknowledged": len(acked),
                **{f"served_by_{r}": int(((frame["region"] == r) & frame["ok"]).sum())
                   for r in (self.primary, self.secondary)}}

    def as_dict(self) -> dict[str, Any]:
        """Every measured figure, JSON-ready (what ``workshop drill --json`` prints)."""
        return {
            "scenario": self.scenario, "description": self.description, "rate": self.rate,
            "primary": self.primary, "secondary": self.secondary,
            "time_scale": self.time_scale,
            "rto_seconds": self.rto_seconds,
            "theoretical_bound_seconds": self.theoretical_bound_seconds,
            "bound_inputs": self.bound_inputs,
            "rto_aws_seconds": self.rto_aws_seconds,
            "objective_seconds": self.objective_seconds,
            "meets_objective": self.meets_objective,
            "detection_seconds": self.detection_seconds,
            "dns_switch_seconds": self.dns_switch_seconds,
            "rpo_items_at_switch": self.rpo_items_at_switch,
            "rpo_items_after_drain": self.rpo_items_after_drain,
            "reconciled_items": self.reconciled_items,
            "reconciled_before_failback": self.reconciled_before_failback,
            "lost_items": self.lost_items,
            "secondary_first_request_seconds": self.secondary_first_request_seconds,
            "failback": self.failback,
            "moments": self.moments,
            "counts": self.counts(),
            "notes": self.notes,
        }

    def table(self) -> pd.DataFrame:
        """Measured figures beside what they are compared with (for a notebook or the CLI)."""
        bound = self.theoretical_bound_seconds
        rows = [
            ("detection (fault → health check unhealthy)", _s(self.detection_seconds), "", ""),
            ("DNS switch (fault → DNS answers the secondary)", _s(self.dns_switch_seconds),
             "", ""),
            ("RTO (first failed request → served by the secondary)", _s(self.rto_seconds),
             f"bound {bound:.2f} s", _verdict(self.rto_seconds, bound)),
            ("RTO ÷ time scale (≈ on AWS's clock)", _s(self.rto_aws_seconds),
             f"objective {self.objective_seconds / 60:.0f} min",
             _verdict(self.rto_aws_seconds, self.objective_seconds)),
            ("RPO at the switch (writes not yet in the secondary)",
             _n(self.rpo_items_at_switch), "", ""),
            ("RPO after replication drained", _n(self.rpo_items_after_drain), "0",
             _verdict(self.rpo_items_after_drain, 0)),
            ("reconciled into the primary before/at fail-back", _n(self.reconciled_items),
             "", ""),
            ("acknowledged writes missing from the primary after fail-back",
             _n(self.lost_items), "0", _verdict(self.lost_items, 0)),
        ]
        for name, key in (("fail-back: restore → healthy", "healthy_seconds"),
                          ("fail-back: restore → DNS answers the primary", "dns_seconds"),
                          ("fail-back: restore → served by the primary", "served_seconds")):
            rows.append((name, _s(self.failback.get(key)), "", ""))
        # The measure as the index: shown whole and in bold (a column would be cut at 50).
        return pd.DataFrame(rows, columns=["measure", "value", "compared with", "verdict"]
                            ).set_index("measure")

    def summary(self) -> str:
        rto = "n/a" if self.rto_seconds is None else f"{self.rto_seconds:.2f} s"
        return (f"drill {self.scenario}: RTO {rto} (bound {self.theoretical_bound_seconds:.2f} s, "
                f"time scale {self.time_scale:g}); RPO {self.rpo_items_at_switch} at the switch, "
                f"{self.rpo_items_after_drain} after drain; {self.reconciled_items} reconciled, "
                f"{self.lost_items} lost")


def _s(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f} s"


def _n(value: int | None) -> str:
    return "—" if value is None else str(value)


def _verdict(value: float | None, limit: float) -> str:
    if value is None:
        return ""
    return "ok" if value <= limit else "over"


# ---------------------------------------------------------------- running it


def run(config: WorkshopConfig | None = None, scenario: str = "bad-deploy",
        rate: float = DEFAULT_RATE, live: bool = False, progress: Progress = None) -> DrillResult:
    """Play one scenario under traffic and measure it; see the module's docstring."""
    config = config or settings.resolve()
    if rate <= 0 or rate > 100:
        raise UsageError(f"--rate is requests per second, between 0 and 100 (got {rate})")
    check_ready(config, scenario)
    return _Drill(config, SCENARIOS[scenario], rate, live, progress).run()


@dataclass
class _Request:
    t: float  # sent, seconds since the drill began
    t_done: float  # answered (or failed)
    op: str
    ok: bool
    status: int | None  # None: no HTTP answer at all
    region: str | None  # X-Workshop-Region of the answer
    sent_to: str | None  # the region the client's (cached) DNS answer pointed at
    ticket_id: str | None = None
    error: str | None = None


class _Drill:
    def __init__(self, config: WorkshopConfig, scenario: Scenario, rate: float, live: bool,
                 progress: Progress) -> None:
        self.config = config
        self.scenario = scenario
        self.rate = rate
        self.say = progress or (lambda _msg: None)
        self.primary, self.secondary = config.regions
        self.bound = theoretical_bound(config)
        self.time_scale = self.bound["time_scale"]
        self.api = failover.api_url(config)
        self.tables = {r: stack_outputs(config, "api", r)["TableName"] for r in config.regions}
        # Create the clients now: building one costs a burst of CPU that, mid-drill,
        # would stall the traffic and probe threads and show up as a gap in the timeline.
        for region in config.regions:
            client("dynamodb", region)
            client("lambda", region)
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.started = time.monotonic()
        self.requests: list[_Request] = []
        self.probes: list[dict[str, Any]] = []
        self.moments: dict[str, float] = {}
        self.phase = "starting"
        self.rpo_at_switch: int | None = None
        self.notes: list[str] = []
        # Probe often enough to see sub-second flips in the sandbox, at most once a second
        # on AWS (Route 53 allows a handful of API calls per second per account).
        self.probe_interval = min(1.0, max(0.1, 2 * self.time_scale))
        self.live = _LiveView() if live else None

    def now(self) -> float:
        return round(time.monotonic() - self.started, 3)

    def mark(self, name: str, at: float | None = None) -> float:
        with self.lock:
            self.moments.setdefault(name, self.now() if at is None else at)
            return self.moments[name]

    # -- the run
    def run(self) -> DrillResult:
        threads = [threading.Thread(target=self._traffic, name="drill-traffic", daemon=True),
                   threading.Thread(target=self._probe_loop, name="drill-probes", daemon=True)]
        for thread in threads:
            thread.start()
        injected = restored = False
        timeout = max(60.0, 5 * self.bound["seconds"] + 30)
        reconciled_before = reconciled_after = 0
        try:
            self._phase(f"baseline: {self.rate:g} requests/s through {self.api}")
            baseline = max(1.0, 4 * self.probe_interval, 6 / self.rate)
            self._wait(lambda: self.now() >= baseline and self._served_ok(self.primary, 0) >= 3
                       and self.probes, timeout=30,
                       what=f"the first requests to be served by {self.primary}")
            self._phase(f"fault: {self.scenario.description}")
            self.mark("fault_begin")
            self.scenario.inject(self.config)
            injected = True
            fault = self.mark("fault")
            self._wait(lambda: "dns_switch" in self.moments
                       and self._first_ok(self.secondary, fault) is not None,
                       timeout=timeout, what=f"requests to be served by {self.secondary}")
            self._phase(f"failed over: {self.secondary} serves and takes new tickets")
            held = self.now() + HOLD_MIN_S
            self._wait(lambda: self.now() >= held
                       and len(self._acknowledged(self.secondary)) >= HOLD_WRITES,
                       timeout=timeout, what=f"{HOLD_WRITES} tickets written to {self.secondary}")
            self._phase("drain: waiting for replication to deliver every acknowledged write")
            rpo_after = self._drain()
            self._phase("reconcile: copying the secondary's new tickets into the primary")
            reconciled_before = reconcile(self.config)
            self._phase("restore: undoing the fault; waiting for the fail-back")
            self.mark("restore_begin")
            self.scenario.restore(self.config)
            restored = True
            back = self.mark("restore")
            self._wait(lambda: self._first_ok(self.primary, back) is not None
                       and self._probe_after(back, "dns_region", self.primary) is not None
                       and self._probe_after(back, "healthy", True) is not None,
                       timeout=timeout, what=f"requests to be served by {self.primary} again")
            linger = self.now() + max(0.5, 3 / self.rate)
            self._wait(lambda: self.now() >= linger, timeout=10, what="the last requests")
        finally:
            self.stop.set()
            for thread in threads:
                thread.join(REQUEST_TIMEOUT_S + 2)
            if injected and not restored:
                with contextlib.suppress(Exception):  # the original error matters more
                    self.scenario.restore(self.config)
                self.say(f"the fault was undone ({self.scenario.name})")
        # Writes the secondary took while clients still held its address, after the first pass.
        reconciled_after = reconcile(self.config)
        lost = self._missing(self.primary, self._acknowledged())
        self._phase("done")
        result = self._result(final=True)
        result.rpo_items_after_drain = rpo_after
        result.reconciled_before_failback = reconciled_before
        result.reconciled_items = reconciled_before + reconciled_after
        result.lost_items = len(lost)
        if lost:
            result.notes.append(f"{len(lost)} acknowledged write(s) missing from the primary: "
                                + ", ".join(sorted(lost)[:5]))
        if self.live:
            self.live.update(result, force=True)
        self.say(result.summary())
        return result

    def _phase(self, text: str) -> None:
        self.phase = text
        self.say(f"[{self.now():6.2f} s] {text}")
        if self.live:
            self.live.update(self._result(final=False), force=True)

    def _wait(self, condition: Callable[[], Any], timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise TimeoutError(f"the drill waited {timeout:.0f} s for {what}; "
                                   f"last probe: {self.probes[-1] if self.probes else None}")
            if self.live and self.live.due():
                self.live.update(self._result(final=False))
            time.sleep(0.05)

    # -- traffic
    def _traffic(self) -> None:
        interval = 1 / self.rate
        next_at = time.monotonic()
        count = 0
        while not self.stop.is_set():
            op = OPERATIONS[count % len(OPERATIONS)]
            count += 1
            record = self._request(op, count)
            with self.lock:
                self.requests.append(record)
            next_at = max(next_at + interval, time.monotonic() - interval)
            self.stop.wait(max(0.0, next_at - time.monotonic()))

    def _request(self, op: str, count: int) -> _Request:
        host = self.config.api_host()
        sent_to = None
        with contextlib.suppress(Exception):
            sent_to = failover.answer_region(net.resolve_cached(host))
        t = self.now()
        try:
            if op == "create":
                response = net.request(
                    "POST", tickets.endpoint(self.api, "ticket"), timeout=REQUEST_TIMEOUT_S,
                    json={"description": f"drill {self.scenario.name} #{count}",
                          "createdBy": "drill", "priority": "low"})
            elif op == "list":
                response = net.request("GET", tickets.endpoint(self.api, "ticket"),
                                       params={"limit": 5}, timeout=REQUEST_TIMEOUT_S)
            else:
                response = net.request("GET", tickets.endpoint(self.api, "health"),
                                       timeout=REQUEST_TIMEOUT_S)
        except requests.RequestException as exc:
            return _Request(t, self.now(), op, False, None, None, sent_to,
                            error=type(exc).__name__)
        ok = 200 <= response.status_code < 300
        ticket_id = None
        if ok and op == "create":
            try:
                ticket_id = response.json()["id"]
            except (ValueError, KeyError, TypeError):
                ok = False
        return _Request(t, self.now(), op, ok, response.status_code,
                        response.headers.get(tickets.REGION_HEADER), sent_to, ticket_id,
                        None if ok else response.text[:120])

    # -- probes
    def _probe_loop(self) -> None:
        while not self.stop.is_set():
            sample: dict[str, Any] = {"healthy": None, "healthy_fraction": None,
                                      "dns_region": None}
            with contextlib.suppress(Exception):  # a failed probe is a gap, not a crash
                healthy, observations = failover.health_check_status(self.config)
                sample.update(healthy=healthy,
                              healthy_fraction=failover.healthy_fraction(observations))
            with contextlib.suppress(Exception):
                sample["dns_region"] = failover.answer_region(
                    failover.dns_answer(self.config, "api"))
            sample["t"] = self.now()
            with self.lock:
                self.probes.append(sample)
            self._on_probe(sample)
            self.stop.wait(self.probe_interval)

    def _on_probe(self, sample: dict[str, Any]) -> None:
        begin = self.moments.get("fault_begin")
        if begin is None or "restore_begin" in self.moments:
            return
        if sample["healthy"] is False:
            self.mark("detected", sample["t"])
        if sample["dns_region"] == self.secondary and "dns_switch" not in self.moments:
            switch = self.mark("dns_switch", sample["t"])
            # What a client switching now would miss: acknowledged by the primary, not yet
            # in the secondary. Measured here, on the probe's thread, so no later catch-up hides it.
            try:
                acked = self._acknowledged(self.primary, until=switch)
                self.rpo_at_switch = len(self._missing(self.secondary, acked))
            except Exception as exc:  # noqa: BLE001 - reported, not fatal
                self.notes.append(f"could not measure the RPO at the switch: {exc}")

    # -- data questions
    def _served_ok(self, region: str, since: float) -> int:
        with self.lock:
            return sum(r.ok and r.region == region and r.t >= since for r in self.requests)

    def _first_ok(self, region: str, since: float) -> float | None:
        with self.lock:
            return next((r.t_done for r in self.requests
                         if r.ok and r.region == region and r.t >= since), None)

    def _probe_after(self, since: float, column: str, value: Any) -> float | None:
        with self.lock:
            return next((p["t"] for p in self.probes if p["t"] >= since and p[column] == value),
                        None)

    def _acknowledged(self, region: str | None = None, until: float | None = None) -> list[str]:
        with self.lock:
            return [r.ticket_id for r in self.requests
                    if r.ticket_id and (region is None or r.region == region)
                    and (until is None or r.t_done <= until)]

    def _missing(self, region: str, ids: list[str]) -> set[str]:
        """Which of ``ids`` the region's table does not hold (consistent BatchGetItem)."""
        table, db = self.tables[region], client("dynamodb", region)
        found: set[str] = set()
        unique = list(dict.fromkeys(ids))
        for start in range(0, len(unique), 100):
            request = {table: {"Keys": [{"id": {"S": i}} for i in unique[start:start + 100]],
                               "ConsistentRead": True, "ProjectionExpression": "id"}}
            while request:
                answer = db.batch_get_item(RequestItems=request)
                found.update(item["id"]["S"] for item in answer["Responses"].get(table, []))
                request = answer.get("UnprocessedKeys") or {}
        return set(unique) - found

    def _drain(self) -> int:
        """Wait until the secondary holds every write the primary acknowledged; what is left."""
        pending = self._missing(self.secondary, self._acknowledged(self.primary))
        deadline = time.monotonic() + DRAIN_TIMEOUT_S
        while pending and time.monotonic() < deadline:
            time.sleep(0.1)
            pending = self._missing(self.secondary, sorted(pending))
        self.mark("drained")
        if pending:
            self.notes.append(f"{len(pending)} acknowledged write(s) still not replicated after "
                              f"{DRAIN_TIMEOUT_S} s: is the replication stack healthy?")
        return len(pending)

    # -- the figures
    def _result(self, final: bool) -> DrillResult:
        with self.lock:
            frame = pd.DataFrame([vars(r) for r in self.requests],
                                 columns=list(_Request.__dataclass_fields__))
            probes = pd.DataFrame(self.probes, columns=["t", "healthy", "healthy_fraction",
                                                        "dns_region"])
            moments = dict(self.moments)
        result = DrillResult(
            scenario=self.scenario.name, description=self.scenario.description,
            rate=self.rate, primary=self.primary, secondary=self.secondary,
            time_scale=self.time_scale, theoretical_bound_seconds=self.bound["seconds"],
            bound_inputs=self.bound, requests=frame, probes=probes,
            phase="done" if final else self.phase, notes=list(self.notes))
        fault = moments.get("fault")
        begin = moments.get("fault_begin", fault)
        if fault is not None:
            detected = moments.get("detected")
            switch = moments.get("dns_switch")
            result.detection_seconds = _since(detected, fault)
            result.dns_switch_seconds = _since(switch, fault)
            restore_at = moments.get("restore_begin", float("inf"))
            during = frame[(frame["t_done"] >= begin) & (frame["t"] < restore_at)]
            served = during[during["ok"] & (during["region"] == self.secondary)]
            if not served.empty:
                moments["recovered"] = float(served["t_done"].iloc[0])
                took = float(served["t_done"].iloc[0] - served["t"].iloc[0])
                result.secondary_first_request_seconds = round(took, 3)
                if final and took > COLD_START_NOTE_S:
                    result.notes.append(
                        f"the first request {self.secondary} served took {took:.2f} s of the "
                        "RTO (most likely a cold start: its functions had no traffic before)")
            # The outage a user sees: failures before the secondary first answered them.
            failed = during[~during["ok"] & (during["t"] < moments.get("recovered", restore_at))]
            if not failed.empty:
                moments["first_failure"] = max(float(failed["t"].iloc[0]), begin)
            if "recovered" in moments:
                start = moments.get("first_failure")
                result.rto_seconds = (round(moments["recovered"] - start, 3)
                                      if start is not None else 0.0)
                if start is None and final:
                    result.notes.append("no user request failed: the fault never reached a "
                                        "user (RTO 0)")
            result.rpo_items_at_switch = self.rpo_at_switch
        back = moments.get("restore")
        if back is not None:
            healthy = self._probe_after(back, "healthy", True)
            dns = self._probe_after(back, "dns_region", self.primary)
            served_back = self._first_ok(self.primary, back)
            for name, at in (("healthy_again", healthy), ("dns_back", dns),
                             ("served_back", served_back)):
                if at is not None:
                    moments[name] = at
            result.failback = {"healthy_seconds": _since(healthy, back),
                               "dns_seconds": _since(dns, back),
                               "served_seconds": _since(served_back, back)}
        result.moments = {k: round(v, 3) for k, v in sorted(moments.items(), key=lambda i: i[1])}
        return result


def _since(at: float | None, start: float) -> float | None:
    return None if at is None else round(max(0.0, at - start), 3)


# ---------------------------------------------------------------- reconciliation


def reconcile(config: WorkshopConfig) -> int:
    """Copy into the primary the tickets the secondary holds and the primary lacks or holds older.

    Replication runs primary → secondary only, so tickets created during a
    failover live in the secondary alone. This is :func:`helpers.replication.backfill`
    in the other direction, with the replicator's own rule (a newer
    ``updatedAt`` is never overwritten). Idempotent; returns how many items were copied.
    """
    primary, secondary = config.regions
    return replication.copy_newer(config, secondary, primary,
                                  retry_hint="run drill.reconcile(config) again")


# ---------------------------------------------------------------- live view


class _LiveView:
    """A timeline and a status line in the notebook, redrawn while the drill runs."""

    def __init__(self) -> None:
        self.chart: Any = None
        self.status: Any = None
        self.last = 0.0

    def due(self) -> bool:
        return time.monotonic() - self.last >= LIVE_REDRAW_S

    def update(self, result: DrillResult, force: bool = False) -> None:
        if not force and not self.due():
            return
        try:
            from IPython import get_ipython
            from IPython.display import HTML, display
        except ImportError:  # pragma: no cover - IPython ships with the kit
            return
        if get_ipython() is None:  # a script or the CLI: nothing to draw on
            return
        from helpers.drill_charts import drill_timeline

        self.last = time.monotonic()
        counts = result.counts()
        text = HTML(
            f"<b>{result.scenario}</b> · {result.phase} · {counts['requests']} requests, "
            f"{counts['failed']} failed, {counts['writes_acknowledged']} writes acknowledged")
        figure = drill_timeline(result)
        if self.chart is None:
            self.status = display(text, display_id=True)
            self.chart = display(figure, display_id=True)
        else:
            self.status.update(text)
            self.chart.update(figure)


# ---------------------------------------------------------------- command line


def command(config: WorkshopConfig, args: Any) -> int:
    """``workshop drill``: run one scenario and print its figures (table, or JSON with --json)."""
    import json

    say = None if args.json else print
    if args.restore:
        restore(config, progress=print)
        return 0
    # DrillNotReady / DrillUnavailable reach `workshop`, which prints their sentence.
    result = run(config, scenario=args.scenario, rate=args.rate, progress=say)
    if args.chart:
        from helpers.drill_charts import drill_timeline

        drill_timeline(result).savefig(args.chart, dpi=110)
    if args.json:
        print(json.dumps(result.as_dict(), indent=2, default=str))
    else:
        print(result.table().to_string())
        for note in result.notes:
            print(f"note: {note}")
        if args.chart:
            print(f"timeline saved to {args.chart}")
    ok = result.rpo_items_after_drain == 0 and result.lost_items == 0
    return 0 if ok else 1
